package postgres

import (
	"fmt"
	"slices"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/jackc/pgx/v5"
)

// captures reports whether t matches one of the configured patterns.
func (s *Source) captures(t event.TableID) bool {
	for _, p := range s.pats {
		if p.match(t.Namespace, t.Name) {
			return true
		}
	}
	return false
}

// relation handles a Relation message: it (re)builds the table's schema,
// bumping Schema.Version when the shape differs from the last one seen
// (also across restarts, through the checkpoint state).
func (st *stream) relation(b []byte) error {
	m, err := parseRelation(b)
	if err != nil {
		return err
	}
	id := event.TableID{Namespace: m.namespace, Name: m.name}
	shape := shapeHash(&m)
	if old := st.rels[m.id]; old != nil && old.shape == shape && old.table == id {
		return nil // resent after a cache invalidation, same shape
	}
	rel := &relation{table: id, captured: st.s.captures(id), shape: shape}
	if !rel.captured {
		st.rels[m.id] = rel
		return nil
	}
	cols, decs, err := st.describe(&m)
	if err != nil {
		return err
	}
	ve, ok := st.versions[id]
	switch {
	case !ok:
		ve = versionEntry{Version: 1, Shape: shape}
	case ve.Shape != shape:
		ve = versionEntry{Version: ve.Version + 1, Shape: shape}
	}
	if !ok || st.versions[id] != ve {
		st.versions[id] = ve
		st.state = encodeState(st.versions)
	}
	rel.schema = &event.TableSchema{Table: id, Columns: cols, Version: ve.Version}
	rel.decs = decs
	rel.ident = make([]bool, len(m.columns))
	for i, c := range m.columns {
		rel.ident[i] = c.key
	}
	st.rels[m.id] = rel
	return nil
}

// describe builds the columns of a Relation message: type names from
// format_type, kinds and decoders from the type cache, nullability and the
// primary key from the catalog (as of now; the Relation message carries
// neither).
func (st *stream) describe(m *relationMsg) ([]event.Column, []decoder, error) {
	n := len(m.columns)
	oids := make([]uint32, n)
	mods := make([]int32, n)
	for i, c := range m.columns {
		oids[i], mods[i] = c.typeID, c.typmod
	}
	names := make([]string, n)
	notNull := map[string]bool{}
	pk := map[string]bool{}
	err := st.s.withMeta(func(c *pgx.Conn) error {
		if err := st.types.load(st.ctx, c, oids); err != nil {
			return err
		}
		rows, err := c.Query(st.ctx, `SELECT format_type(t, m) FROM unnest($1::oid[], $2::int4[]) WITH ORDINALITY AS u(t, m, i) ORDER BY i`, oids, mods)
		if err != nil {
			return err
		}
		i := 0
		for rows.Next() {
			if i < n {
				if err := rows.Scan(&names[i]); err != nil {
					rows.Close()
					return err
				}
			}
			i++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		rows, err = c.Query(st.ctx, `SELECT a.attname, a.attnotnull, COALESCE(a.attnum = ANY(pk.indkey), false)
			FROM pg_catalog.pg_attribute a
			LEFT JOIN pg_catalog.pg_index pk ON pk.indrelid = a.attrelid AND pk.indisprimary
			WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped`, m.id)
		if err != nil {
			return err
		}
		for rows.Next() {
			var name string
			var nn, key bool
			if err := rows.Scan(&name, &nn, &key); err != nil {
				rows.Close()
				return err
			}
			notNull[name], pk[name] = nn, key
		}
		rows.Close()
		return rows.Err()
	})
	if err != nil {
		return nil, nil, &catalogError{fmt.Errorf("postgres source: describe table %s.%s: %w", m.namespace, m.name, err)}
	}
	// The key: the replica identity columns, except that REPLICA IDENTITY
	// FULL flags every column, where the primary key (if any) is the key.
	usePK := m.identity == 'f' && slices.ContainsFunc(m.columns, func(c relationColumn) bool { return pk[c.name] })
	cols := make([]event.Column, n)
	decs := make([]decoder, n)
	for i, c := range m.columns {
		t := st.types.get(c.typeID)
		key := c.key
		if usePK {
			key = pk[c.name]
		}
		cols[i] = event.Column{Name: c.name, Type: names[i], Kind: t.kind, Nullable: !notNull[c.name], Key: key}
		decs[i] = t.dec
	}
	return cols, decs, nil
}

// catalogError marks a failed catalog lookup, which is transient, unlike
// the decoding errors around it.
type catalogError struct{ err error }

func (e *catalogError) Error() string { return e.err.Error() }
func (e *catalogError) Unwrap() error { return e.err }
