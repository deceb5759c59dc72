package mysql

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"github.com/cdcd-dev/cdcd/event"
)

// resumeState is the source's part of a checkpoint (Checkpoint.State):
// where to ask the server to start, and the schema of the captured tables
// at that point.
type resumeState struct {
	Flavor string // "mysql" or "mariadb"
	// GTID is the GTID set (MySQL: uuid:intervals; MariaDB: the last
	// domain-server-seq of each domain) of the transactions read before
	// the resume point. Empty when unknown.
	GTID string
	// File and Pos name the resume point: the start of the first
	// transaction not wholly delivered.
	File string
	Pos  uint32
	// Catalog is the schema of the captured tables at the resume point.
	Catalog *catalog
}

// stateV1 is the JSON form of resumeState.
//
//	{"v":1,"flavor":"mariadb","gtid":"0-1-42","file":"mysql-bin.000003","pos":1234,
//	 "schemas":{"dbs":{"shop":"utf8mb4"},"tables":[{"db":"shop","table":"orders","since":"…","version":2,"columns":[…]}]}}
type stateV1 struct {
	V       int             `json:"v"`
	Flavor  string          `json:"flavor"`
	GTID    string          `json:"gtid,omitempty"`
	File    string          `json:"file"`
	Pos     uint32          `json:"pos"`
	Schemas json.RawMessage `json:"schemas"`
}

type schemasV1 struct {
	DBs    map[string]string `json:"dbs,omitempty"` // default character set per database
	Tables []tableV1         `json:"tables"`
}

type tableV1 struct {
	DB    string `json:"db"`
	Table string `json:"table"`
	tableShape
}

// encodeSchemas renders the catalog's tables deterministically. The
// result is shared by every checkpoint until the next schema change.
func encodeSchemas(c *catalog) []byte {
	s := schemasV1{DBs: c.dbCharset, Tables: make([]tableV1, 0, len(c.tables))}
	for id, t := range c.tables {
		s.Tables = append(s.Tables, tableV1{DB: id.Namespace, Table: id.Name, tableShape: *t})
	}
	sort.Slice(s.Tables, func(i, j int) bool {
		a, b := s.Tables[i], s.Tables[j]
		if a.DB != b.DB {
			return a.DB < b.DB
		}
		return a.Table < b.Table
	})
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("mysql source: encode schemas: %v", err)) // strings, numbers and bools only
	}
	return b
}

// appendState renders a checkpoint state with the schemas already encoded.
func appendState(b []byte, flavor, gtid, file string, pos uint32, schemas []byte) []byte {
	b = append(b, `{"v":1,"flavor":`...)
	b = appendJSONString(b, []byte(flavor))
	if gtid != "" {
		b = append(b, `,"gtid":`...)
		b = appendJSONString(b, []byte(gtid))
	}
	b = append(b, `,"file":`...)
	b = appendJSONString(b, []byte(file))
	b = append(b, `,"pos":`...)
	b = strconv.AppendUint(b, uint64(pos), 10)
	b = append(b, `,"schemas":`...)
	b = append(b, schemas...)
	return append(b, '}')
}

// decodeState parses a checkpoint state into a catalog for pats.
func decodeState(b []byte, pats []tablePattern, lower bool) (*resumeState, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("the checkpoint has no source state (it was not written by the mysql source)")
	}
	var st stateV1
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode source state: %w", err)
	}
	if st.V != 1 {
		return nil, fmt.Errorf("decode source state: version %d, want 1", st.V)
	}
	if st.Flavor != flavorMySQL && st.Flavor != flavorMariaDB {
		return nil, fmt.Errorf("decode source state: flavor %q", st.Flavor)
	}
	if st.File == "" {
		return nil, fmt.Errorf("decode source state: no binlog file")
	}
	var sc schemasV1
	if err := json.Unmarshal(st.Schemas, &sc); err != nil {
		return nil, fmt.Errorf("decode source state schemas: %w", err)
	}
	c := newCatalog(pats, lower)
	for db, cs := range sc.DBs {
		c.dbCharset[db] = cs
	}
	for i := range sc.Tables {
		t := &sc.Tables[i]
		if t.Version == 0 {
			return nil, fmt.Errorf("decode source state: table %s.%s without a version", t.DB, t.Table)
		}
		t.tableShape.Table = event.TableID{Namespace: t.DB, Name: t.Table}
		c.tables[t.tableShape.Table] = &t.tableShape
	}
	return &resumeState{Flavor: st.Flavor, GTID: st.GTID, File: st.File, Pos: st.Pos, Catalog: c}, nil
}
