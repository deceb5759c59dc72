package postgres

import (
	"context"
	"fmt"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/jackc/pgx/v5"
)

// pgType is how values of one type OID are decoded.
type pgType struct {
	kind event.Kind
	dec  decoder
}

// builtinTypes maps the OIDs of built-in types with a normalized kind.
// Every other type is looked up in pg_type (enums, domains, arrays,
// extension types) and falls back to its text form (KindText).
var builtinTypes = map[uint32]pgType{
	16:   {event.KindBool, decodeBool},          // bool
	21:   {event.KindInt, decodeInt},            // int2
	23:   {event.KindInt, decodeInt},            // int4
	20:   {event.KindInt, decodeInt},            // int8
	26:   {event.KindUint, decodeUint},          // oid
	28:   {event.KindUint, decodeUint},          // xid
	29:   {event.KindUint, decodeUint},          // cid
	5069: {event.KindUint, decodeUint},          // xid8
	700:  {event.KindFloat, decodeFloat4},       // float4
	701:  {event.KindFloat, decodeFloat8},       // float8
	1700: {event.KindDecimal, decodeNumeric},    // numeric
	25:   {event.KindString, decodeString},      // text
	1043: {event.KindString, decodeString},      // varchar
	1042: {event.KindString, decodeString},      // bpchar
	19:   {event.KindString, decodeString},      // name
	2950: {event.KindString, decodeString},      // uuid
	17:   {event.KindBytes, decodeBytea},        // bytea
	1082: {event.KindDate, decodeDate},          // date
	1114: {event.KindDateTime, decodeTimestamp}, // timestamp
	1184: {event.KindTimestamp, decodeTimestamptz},
	1083: {event.KindTime, decodeTime}, // time
	114:  {event.KindJSON, decodeJSON}, // json
	3802: {event.KindJSON, decodeJSON}, // jsonb
}

// extensionStrings names extension types whose text form is plain text.
var extensionStrings = map[string]bool{"citext": true}

var textType = pgType{event.KindText, decodeText}

// catalogType is one row of pg_type.
type catalogType struct {
	name     string
	typtype  byte // b base, d domain, e enum, c composite, r range, m multirange, p pseudo
	base     uint32
	elem     uint32
	category byte
	delim    byte
}

// typeCache resolves type OIDs to decoders, querying pg_type once per OID.
// It is used by the stream goroutine only.
type typeCache struct {
	resolved map[uint32]pgType
	catalog  map[uint32]catalogType
}

func newTypeCache() *typeCache {
	return &typeCache{resolved: map[uint32]pgType{}, catalog: map[uint32]catalogType{}}
}

// querier is what typeCache needs from a connection.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// load fetches the pg_type rows of oids and, transitively, of the element
// and base types they refer to.
func (c *typeCache) load(ctx context.Context, q querier, oids []uint32) error {
	for len(oids) > 0 {
		var missing []uint32
		seen := map[uint32]bool{}
		for _, o := range oids {
			if _, ok := builtinTypes[o]; ok {
				continue
			}
			if _, ok := c.catalog[o]; ok || seen[o] || o == 0 {
				continue
			}
			seen[o] = true
			missing = append(missing, o)
		}
		if len(missing) == 0 {
			return nil
		}
		rows, err := q.Query(ctx, `SELECT oid, typname, typtype, typbasetype, typelem, typcategory, typdelim
			FROM pg_catalog.pg_type WHERE oid = ANY($1)`, missing)
		if err != nil {
			return fmt.Errorf("look up types %v: %w", missing, err)
		}
		oids = oids[:0:0]
		for rows.Next() {
			var (
				oid, base, elem         uint32
				name                    string
				typtype, cat, delimiter string
			)
			if err := rows.Scan(&oid, &name, &typtype, &base, &elem, &cat, &delimiter); err != nil {
				rows.Close()
				return fmt.Errorf("look up types: %w", err)
			}
			ct := catalogType{name: name, base: base, elem: elem, delim: ','}
			if typtype != "" {
				ct.typtype = typtype[0]
			}
			if cat != "" {
				ct.category = cat[0]
			}
			if delimiter != "" {
				ct.delim = delimiter[0]
			}
			c.catalog[oid] = ct
			if ct.typtype == 'd' {
				oids = append(oids, base)
			}
			if ct.category == 'A' && elem != 0 {
				oids = append(oids, elem)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("look up types: %w", err)
		}
		for _, o := range missing {
			if _, ok := c.catalog[o]; !ok {
				// Dropped meanwhile: decode as text.
				c.catalog[o] = catalogType{name: fmt.Sprintf("oid %d", o), typtype: 'b', delim: ','}
			}
		}
	}
	return nil
}

// get returns the decoder of oid; load must have been called for it.
func (c *typeCache) get(oid uint32) pgType {
	return c.resolve(oid, 0)
}

func (c *typeCache) resolve(oid uint32, depth int) pgType {
	if t, ok := builtinTypes[oid]; ok {
		return t
	}
	if t, ok := c.resolved[oid]; ok {
		return t
	}
	t := textType
	ct, ok := c.catalog[oid]
	switch {
	case !ok || depth > 16:
	case ct.typtype == 'd':
		t = c.resolve(ct.base, depth+1)
	case ct.typtype == 'e' || extensionStrings[ct.name]:
		t = pgType{event.KindString, decodeString}
	case ct.category == 'A' && ct.elem != 0:
		elem := c.resolve(ct.elem, depth+1)
		// The delimiter belongs to the element type (';' for box).
		delim := byte(',')
		if ec, ok := c.catalog[ct.elem]; ok {
			delim = ec.delim
		}
		t = pgType{event.KindArray, arrayDecoder(elem.dec, delim)}
	}
	c.resolved[oid] = t
	return t
}
