package postgres

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"

	"github.com/cdcd-dev/cdcd/event"
)

// versionEntry is a table's current schema version and the hash of the
// shape it stands for.
type versionEntry struct {
	Version uint64
	Shape   uint64
}

// stateV1 is the checkpoint state of the source: the schema versions, so
// that Schema.Version keeps increasing across restarts.
type stateV1 struct {
	V      int          `json:"v"`
	Tables []stateTable `json:"tables"`
}

type stateTable struct {
	Namespace string `json:"ns"`
	Name      string `json:"name"`
	Version   uint64 `json:"version"`
	Shape     string `json:"shape"`
}

// encodeState renders the versions deterministically.
func encodeState(m map[event.TableID]versionEntry) []byte {
	st := stateV1{V: 1, Tables: make([]stateTable, 0, len(m))}
	for id, e := range m {
		st.Tables = append(st.Tables, stateTable{id.Namespace, id.Name, e.Version, fmt.Sprintf("%016x", e.Shape)})
	}
	sort.Slice(st.Tables, func(i, j int) bool {
		a, b := st.Tables[i], st.Tables[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	b, _ := json.Marshal(st) // cannot fail: strings and numbers only
	return b
}

// decodeState parses encodeState's output; empty input is an empty map.
func decodeState(b []byte) (map[event.TableID]versionEntry, error) {
	m := map[event.TableID]versionEntry{}
	if len(b) == 0 {
		return m, nil
	}
	var st stateV1
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode source state: %w", err)
	}
	if st.V != 1 {
		return nil, fmt.Errorf("decode source state: version %d, want 1", st.V)
	}
	for _, t := range st.Tables {
		var h uint64
		if _, err := fmt.Sscanf(t.Shape, "%x", &h); err != nil {
			return nil, fmt.Errorf("decode source state: shape of %s.%s: %w", t.Namespace, t.Name, err)
		}
		m[event.TableID{Namespace: t.Namespace, Name: t.Name}] = versionEntry{Version: t.Version, Shape: h}
	}
	return m, nil
}

// shapeHash hashes what a Relation message says about a table's shape.
func shapeHash(r *relationMsg) uint64 {
	h := fnv.New64a()
	var b [9]byte
	h.Write([]byte(r.namespace))
	h.Write([]byte{0})
	h.Write([]byte(r.name))
	h.Write([]byte{0, r.identity})
	for _, c := range r.columns {
		h.Write([]byte(c.name))
		binary.BigEndian.PutUint32(b[:], c.typeID)
		binary.BigEndian.PutUint32(b[4:], uint32(c.typmod))
		b[8] = 0
		if c.key {
			b[8] = 1
		}
		h.Write([]byte{0})
		h.Write(b[:])
	}
	return h.Sum64()
}
