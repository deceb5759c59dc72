package mysql

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

var versionIdent = quote(sqlapply.VersionColumn)

// versioned reports whether statements on t maintain the version column
// and whether they guard writes with it.
func versioned(t *sqlapply.Table) (maintain, guard bool) {
	maintain = t.Version >= 0
	guard = maintain && (t.Strategy == sqlapply.NewerWins || t.Strategy == sqlapply.ErrorOnConflict)
	return
}

// Apply implements sqlapply.Applier.
func (c *conn) Apply(ctx context.Context, steps []*sqlapply.Step) ([]sqlapply.Counts, error) {
	counts := make([]sqlapply.Counts, len(steps))
	for i, st := range steps {
		var err error
		switch st.Kind {
		case sqlapply.StepTruncate:
			// TRUNCATE would commit the open transaction.
			_, err = c.run(ctx, "DELETE FROM "+qualified(st.Table.ID))
		case sqlapply.StepUpsert:
			err = c.upsert(ctx, st)
		default:
			counts[i].Deleted, err = c.delete(ctx, st)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", st.Table.ID, err)
		}
	}
	return counts, nil
}

// statement returns the cached text built by build for st's shape.
func statement(st *sqlapply.Step, kind string, build func() string) string {
	key := st.ShapeKey(kind)
	s, ok := st.Table.Cache[key]
	if !ok {
		s = build()
		st.Table.Cache[key] = s
	}
	return s
}

// upsert runs INSERT … VALUES (…), … ON DUPLICATE KEY UPDATE, cut at
// maxStatement bytes. Under newer_wins and error each assignment is
// guarded by IF(the event's version is newer, new value, old value), the
// version column last, since MySQL assigns left to right and the guard
// must read the row's old version.
func (c *conn) upsert(ctx context.Context, st *sqlapply.Step) error {
	t := st.Table
	maintain, guard := versioned(t)
	prefix := statement(st, "ui", func() string {
		names := make([]string, 0, len(st.Cols)+1)
		for _, ci := range st.Cols {
			names = append(names, quote(t.Columns[ci].Name))
		}
		if maintain {
			names = append(names, versionIdent)
		}
		return "INSERT INTO " + qualified(t.ID) + " (" + strings.Join(names, ", ") + ") VALUES "
	})
	suffix := statement(st, "uu", func() string {
		isKey := map[int]bool{}
		for _, k := range t.Key {
			isKey[k] = true
		}
		firstKey := quote(t.Columns[t.Key[0]].Name)
		if t.Strategy == sqlapply.TargetWins {
			return " ON DUPLICATE KEY UPDATE " + firstKey + " = " + firstKey
		}
		g := "(" + versionIdent + " IS NULL OR VALUES(" + versionIdent + ") > " + versionIdent + ")"
		var sets []string
		set := func(q string) {
			if guard {
				sets = append(sets, q+" = IF("+g+", VALUES("+q+"), "+q+")")
			} else {
				sets = append(sets, q+" = VALUES("+q+")")
			}
		}
		for _, ci := range st.Cols {
			if !isKey[ci] {
				set(quote(t.Columns[ci].Name))
			}
		}
		if maintain {
			set(versionIdent)
		}
		if len(sets) == 0 {
			sets = append(sets, firstKey+" = "+firstKey)
		}
		return " ON DUPLICATE KEY UPDATE " + strings.Join(sets, ", ")
	})
	b := append(c.buf[:0], prefix...)
	rows := 0
	flush := func() error {
		b = append(b, suffix...)
		_, err := c.run(ctx, string(b))
		b = append(b[:0], prefix...)
		rows = 0
		return err
	}
	for _, r := range st.Rows {
		if rows > 0 {
			b = append(b, ", "...)
		}
		b = append(b, '(')
		for j, v := range r.Vals {
			if j > 0 {
				b = append(b, ", "...)
			}
			b = appendLiteral(b, v)
		}
		if maintain {
			b = append(b, ", "...)
			b = appendString(b, r.Version)
		}
		b = append(b, ')')
		rows++
		if len(b) >= maxStatement {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if rows > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	c.buf = b
	return nil
}

// keyLiteral appends a row's key as "(a, b)" (or "a" for one column).
func keyLiteral(b []byte, key []event.Value) []byte {
	if len(key) == 1 {
		return appendLiteral(b, key[0])
	}
	b = append(b, '(')
	for j, v := range key {
		if j > 0 {
			b = append(b, ", "...)
		}
		b = appendLiteral(b, v)
	}
	return append(b, ')')
}

// keyColumns returns "`k`" or "(`k1`, `k2`)".
func keyColumns(t *sqlapply.Table) string {
	names := t.KeyNames()
	for i, n := range names {
		names[i] = quote(n)
	}
	if len(names) == 1 {
		return names[0]
	}
	return "(" + strings.Join(names, ", ") + ")"
}

// keyEquals appends "`k1` = a AND `k2` = b".
func keyEquals(b []byte, t *sqlapply.Table, key []event.Value) []byte {
	for j, ci := range t.Key {
		if j > 0 {
			b = append(b, " AND "...)
		}
		b = append(b, quote(t.Columns[ci].Name)...)
		b = append(b, " = "...)
		b = appendLiteral(b, key[j])
	}
	return b
}

// delete deletes st's rows by key: "key IN (…)", or under newer_wins and
// error "(key = … AND (version IS NULL OR version < …)) OR …"; under
// newer_wins it records the deletes' versions as tombstones.
func (c *conn) delete(ctx context.Context, st *sqlapply.Step) (int, error) {
	t := st.Table
	_, guard := versioned(t)
	head := "DELETE FROM " + qualified(t.ID) + " WHERE "
	if !guard {
		head += keyColumns(t) + " IN ("
	}
	b := append(c.buf[:0], head...)
	rows, deleted := 0, 0
	flush := func() error {
		if !guard {
			b = append(b, ')')
		}
		n, err := c.run(ctx, string(b))
		deleted += int(n)
		b = append(b[:0], head...)
		rows = 0
		return err
	}
	for _, r := range st.Rows {
		if guard {
			if rows > 0 {
				b = append(b, " OR "...)
			}
			b = append(b, '(')
			b = keyEquals(b, t, r.Key)
			b = append(b, " AND ("+versionIdent+" IS NULL OR "+versionIdent+" < "...)
			b = appendString(b, r.Version)
			b = append(b, "))"...)
		} else {
			if rows > 0 {
				b = append(b, ", "...)
			}
			b = keyLiteral(b, r.Key)
		}
		rows++
		if len(b) >= maxStatement {
			if err := flush(); err != nil {
				return deleted, err
			}
		}
	}
	if rows > 0 {
		if err := flush(); err != nil {
			return deleted, err
		}
	}
	c.buf = b
	if t.Strategy == sqlapply.NewerWins && t.Version >= 0 {
		return deleted, c.bury(ctx, st)
	}
	return deleted, nil
}

// keyHash is the tombstone key of a row: SHA-256 of its key text.
func keyHash(r *sqlapply.Row) [32]byte { return sha256.Sum256([]byte(r.KeyText())) }

// bury records the versions of st's deletes in the tombstone table,
// keeping the newest per key.
func (c *conn) bury(ctx context.Context, st *sqlapply.Step) error {
	b := []byte("INSERT INTO " + c.names.tombstones + " (tbl, key_hash, `key`, version) VALUES ")
	tbl := appendString(nil, st.Table.ID.String())
	for i, r := range st.Rows {
		if i > 0 {
			b = append(b, ", "...)
		}
		h := keyHash(r)
		b = append(b, '(')
		b = append(b, tbl...)
		b = append(b, ", "...)
		b = appendLiteral(b, event.Bytes(h[:]))
		b = append(b, ", "...)
		b = appendString(b, r.KeyText())
		b = append(b, ", "...)
		b = appendString(b, r.Version)
		b = append(b, ')')
	}
	b = append(b, " ON DUPLICATE KEY UPDATE at = IF(VALUES(version) > version, UTC_TIMESTAMP(6), at), "+
		"version = IF(VALUES(version) > version, VALUES(version), version)"...)
	_, err := c.run(ctx, string(b))
	return err
}

// Probe implements sqlapply.Applier: SELECT … FOR UPDATE of the rows of
// st that exist, each found row numbered by a CASE over the step's keys
// (so that the server's own comparison, collation included, matches rows
// to keys), and under newer_wins the tombstones of an upsert's keys.
func (c *conn) Probe(ctx context.Context, st *sqlapply.Step) ([]sqlapply.Found, error) {
	t := st.Table
	out := make([]sqlapply.Found, len(st.Rows))
	b := append(c.buf[:0], "SELECT CASE"...)
	for i, r := range st.Rows {
		b = append(b, " WHEN "...)
		b = keyEquals(b, t, r.Key)
		b = fmt.Appendf(b, " THEN %d", i)
	}
	b = append(b, " END, "...)
	if t.Version >= 0 {
		b = append(b, versionIdent...)
	} else {
		b = append(b, "NULL"...)
	}
	b = append(b, " FROM "+qualified(t.ID)+" WHERE "+keyColumns(t)+" IN ("...)
	for i, r := range st.Rows {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = keyLiteral(b, r.Key)
	}
	b = append(b, ") FOR UPDATE"...)
	c.buf = b
	res, err := c.exec(ctx, string(b))
	if err != nil {
		return nil, err
	}
	for i := 0; i < res.RowNumber(); i++ {
		if null, _ := res.IsNull(i, 0); null {
			continue
		}
		o, err := res.GetInt(i, 0)
		if err != nil || o < 0 || int(o) >= len(out) {
			res.Close()
			return nil, fmt.Errorf("probe of %s: row number %d: %v", t.ID, o, err)
		}
		out[o].Exists = true
		if null, _ := res.IsNull(i, 1); !null {
			out[o].Version, _ = getString(res, i, 1)
		}
	}
	res.Close()
	if st.Kind != sqlapply.StepUpsert || t.Strategy != sqlapply.NewerWins || t.Version < 0 {
		return out, nil
	}
	byHash := make(map[[32]byte]int, len(st.Rows))
	q := []byte("SELECT key_hash, version FROM " + c.names.tombstones + " WHERE tbl = ")
	q = appendString(q, t.ID.String())
	q = append(q, " AND key_hash IN ("...)
	for i, r := range st.Rows {
		h := keyHash(r)
		byHash[h] = i
		if i > 0 {
			q = append(q, ", "...)
		}
		q = appendLiteral(q, event.Bytes(h[:]))
	}
	q = append(q, ')')
	res, err = c.exec(ctx, string(q))
	if err != nil {
		return nil, err
	}
	defer res.Close()
	for i := 0; i < res.RowNumber(); i++ {
		h, _ := getString(res, i, 0)
		v, _ := getString(res, i, 1)
		var k [32]byte
		copy(k[:], h)
		if j, ok := byHash[k]; ok {
			out[j].Tomb = v
		}
	}
	return out, nil
}
