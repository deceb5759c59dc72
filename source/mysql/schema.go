package mysql

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
)

// column is what the source knows of one column of a captured table at one
// point of the binlog. It is stored in the checkpoint state, hence the
// JSON tags.
type column struct {
	Name string `json:"name"`
	// Type is the column type as declared, lower case, as
	// information_schema.COLUMNS.COLUMN_TYPE shows it: "int(10) unsigned",
	// "decimal(12,2)", "enum('a','b')".
	Type string `json:"type"`
	// Data is the data type without parameters, as
	// information_schema.COLUMNS.DATA_TYPE shows it ("int", "varchar",
	// "enum"), except that MariaDB's JSON (a LONGTEXT with a json_valid
	// check) is "json".
	Data     string `json:"data"`
	Unsigned bool   `json:"unsigned,omitempty"`
	// Charset is the character set of a text column, "binary" for binary
	// strings, empty for other types.
	Charset string `json:"charset,omitempty"`
	// Length is n of CHAR(n), BINARY(n) and BIT(n).
	Length   int      `json:"length,omitempty"`
	Elems    []string `json:"elems,omitempty"` // ENUM and SET members in order
	Nullable bool     `json:"nullable,omitempty"`
	Key      bool     `json:"key,omitempty"` // part of the primary key
}

// equal reports whether c and d describe the same column.
func (c *column) equal(d *column) bool {
	return c.Name == d.Name && c.Type == d.Type && c.Data == d.Data && c.Unsigned == d.Unsigned &&
		c.Charset == d.Charset && c.Length == d.Length && slices.Equal(c.Elems, d.Elems) &&
		c.Nullable == d.Nullable && c.Key == d.Key
}

// kind returns the event kind the column's values take, and false for a
// type the source cannot decode.
func (c *column) kind() (event.Kind, bool) {
	switch c.Data {
	case "tinyint", "smallint", "mediumint", "int", "integer", "year":
		return event.KindInt, true
	case "bigint":
		if c.Unsigned {
			return event.KindUint, true
		}
		return event.KindInt, true
	case "decimal", "numeric":
		return event.KindDecimal, true
	case "float", "double", "real":
		return event.KindFloat, true
	case "bit":
		if c.Length == 1 {
			return event.KindBool, true
		}
		return event.KindUint, true
	case "date":
		return event.KindDate, true
	case "datetime":
		return event.KindDateTime, true
	case "timestamp":
		return event.KindTimestamp, true
	case "time":
		return event.KindTime, true
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set",
		"inet4", "inet6", "uuid":
		if c.Charset == "binary" {
			return event.KindBytes, true
		}
		return event.KindString, true
	case "binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob", "vector",
		"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
		"multipolygon", "geometrycollection", "geomcollection":
		return event.KindBytes, true
	case "json":
		return event.KindJSON, true
	}
	return event.KindText, false
}

// isText reports whether the column holds characters in a character set
// (its charset follows CONVERT TO CHARACTER SET).
func (c *column) isText() bool {
	switch c.Data {
	case "char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set":
		return true
	}
	return false
}

// tableShape is the shape of a captured table at one point of the binlog.
// A shape is never modified once built: a DDL statement makes a new one.
type tableShape struct {
	Table event.TableID `json:"-"`
	// Since is the position of the DDL that made this version (zero for
	// a shape read from information_schema).
	Since   event.Position `json:"since"`
	Version uint64         `json:"version"`
	// Charset is the table's default character set, which columns added
	// without one get.
	Charset string   `json:"charset,omitempty"`
	Columns []column `json:"columns,omitempty"`
	// Dropped marks a table that was dropped (or renamed away); its
	// Version is kept so that a table created again under the name
	// continues the sequence.
	Dropped bool `json:"dropped,omitempty"`

	schema *event.TableSchema // built on first use
	keyIdx []int
}

// eventSchema returns the event model's view of the shape, shared by all
// events of the shape.
func (t *tableShape) eventSchema() *event.TableSchema {
	if t.schema != nil {
		return t.schema
	}
	s := &event.TableSchema{Table: t.Table, Version: t.Version, Columns: make([]event.Column, len(t.Columns))}
	hasKey := false
	for i := range t.Columns {
		hasKey = hasKey || t.Columns[i].Key
	}
	for i := range t.Columns {
		c := &t.Columns[i]
		k, _ := c.kind()
		key := c.Key || !hasKey // without a primary key, every column identifies the row
		s.Columns[i] = event.Column{Name: c.Name, Type: c.Type, Kind: k, Nullable: c.Nullable, Key: key}
		if key {
			t.keyIdx = append(t.keyIdx, i)
		}
	}
	t.schema = s
	return s
}

// column returns the index of the column named name (case-insensitively,
// as MySQL compares column names), or -1.
func (t *tableShape) column(name string) int {
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			return i
		}
	}
	return -1
}

// clone returns a deep copy that can be changed, without the cached event
// schema.
func (t *tableShape) clone() *tableShape {
	n := &tableShape{Table: t.Table, Since: t.Since, Version: t.Version, Charset: t.Charset, Dropped: t.Dropped,
		Columns: make([]column, len(t.Columns))}
	for i, c := range t.Columns {
		c.Elems = slices.Clone(c.Elems)
		n.Columns[i] = c
	}
	return n
}

// sameShape reports whether t and u have the same columns.
func (t *tableShape) sameShape(u *tableShape) bool {
	if t.Dropped != u.Dropped || len(t.Columns) != len(u.Columns) {
		return false
	}
	for i := range t.Columns {
		if !t.Columns[i].equal(&u.Columns[i]) {
			return false
		}
	}
	return true
}

// unsupported returns the columns whose type the source cannot decode.
func (t *tableShape) unsupported() []string {
	var out []string
	for _, c := range t.Columns {
		if _, ok := c.kind(); !ok {
			out = append(out, fmt.Sprintf("%s.%s (%s)", t.Table, c.Name, c.Type))
		} else if c.isText() && c.Charset != "" && c.Charset != "binary" {
			if _, err := newTextDecoder(c.Charset); err != nil {
				out = append(out, fmt.Sprintf("%s.%s (%s CHARACTER SET %s)", t.Table, c.Name, c.Type, c.Charset))
			}
		}
	}
	return out
}

// catalog is the schema the stream tracks: the shape of every captured
// table as of the current binlog position, and the default character set
// of the databases that hold them. The stream goroutine owns it.
type catalog struct {
	pats  []tablePattern
	lower bool // lower_case_table_names != 0: names compare in lower case

	tables    map[event.TableID]*tableShape
	dbCharset map[string]string
}

func newCatalog(pats []tablePattern, lower bool) *catalog {
	c := &catalog{lower: lower, tables: map[event.TableID]*tableShape{}, dbCharset: map[string]string{}}
	for _, p := range pats {
		if lower {
			p.db, p.name = strings.ToLower(p.db), strings.ToLower(p.name)
		}
		c.pats = append(c.pats, p)
	}
	return c
}

// id returns the catalog's key for db.name.
func (c *catalog) id(db, name string) event.TableID {
	if c.lower {
		return event.TableID{Namespace: strings.ToLower(db), Name: strings.ToLower(name)}
	}
	return event.TableID{Namespace: db, Name: name}
}

// captured reports whether the table id (from c.id) matches a pattern.
func (c *catalog) captured(id event.TableID) bool {
	for _, p := range c.pats {
		if p.match(id.Namespace, id.Name) {
			return true
		}
	}
	return false
}

// capturedDB reports whether a pattern may match tables of db.
func (c *catalog) capturedDB(db string) bool {
	if c.lower {
		db = strings.ToLower(db)
	}
	for _, p := range c.pats {
		if p.dbMatch(db) {
			return true
		}
	}
	return false
}

// live returns the shape of a captured table that exists, or nil.
func (c *catalog) live(id event.TableID) *tableShape {
	if t := c.tables[id]; t != nil && !t.Dropped {
		return t
	}
	return nil
}

// put installs shape t for its table, with the next version after the one
// the table had (if any). It returns false when t has the same columns as
// the current shape, in which case only the default charset is updated.
func (c *catalog) put(t *tableShape) bool {
	old := c.tables[t.Table]
	t.schema, t.keyIdx = nil, nil
	if old != nil {
		if !old.Dropped && old.sameShape(t) {
			if old.Charset != t.Charset {
				n := old.clone()
				n.Charset = t.Charset
				c.tables[t.Table] = n
			}
			return false
		}
		t.Version = old.Version + 1
	} else if t.Version == 0 {
		t.Version = 1
	}
	c.tables[t.Table] = t
	return true
}

// drop marks the table dropped at position since, keeping its version.
func (c *catalog) drop(id event.TableID, since event.Position) bool {
	old := c.tables[id]
	if old == nil || old.Dropped {
		return false
	}
	c.tables[id] = &tableShape{Table: id, Since: since, Version: old.Version, Dropped: true}
	return true
}

// defaultCharset returns the character set a new text column of table id
// gets when its definition names none.
func (c *catalog) defaultCharset(id event.TableID) string {
	if t := c.tables[id]; t != nil && t.Charset != "" {
		return t.Charset
	}
	if cs := c.dbCharset[id.Namespace]; cs != "" {
		return cs
	}
	return "utf8mb4"
}

// elemsType renders an ENUM or SET type from its members, each a string
// literal with its quotes doubled and nothing else escaped:
// enum('a','it”s','back\slash'). That is the form a session with
// NO_BACKSLASH_ESCAPES (as the MySQL replica sink runs) reads back as the
// same members; information_schema escapes backslashes, which such a
// session would read as two.
func elemsType(data string, elems []string) string {
	var b strings.Builder
	b.WriteString(data)
	b.WriteByte('(')
	for i, e := range elems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(e, "'", "''"))
		b.WriteByte('\'')
	}
	b.WriteByte(')')
	return b.String()
}
