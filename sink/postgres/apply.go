package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unsafe"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

// Statements carry each column of a step as one text[] parameter and
// unnest them into rows, casting each to its column's type: one round
// trip and one prepared statement per step shape, whatever the number of
// rows.

var versionIdent = pgx.Identifier{sqlapply.VersionColumn}.Sanitize()

// Apply implements sqlapply.Applier: the prelude and every step go in
// one round trip.
func (c *conn) Apply(ctx context.Context, steps []*sqlapply.Step) ([]sqlapply.Counts, error) {
	c.buf = c.buf[:0]
	b, n, err := c.batch(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range steps {
		t := st.Table
		switch st.Kind {
		case sqlapply.StepTruncate:
			b.Queue("TRUNCATE TABLE " + qualified(t.ID))
		case sqlapply.StepUpsert:
			b.Queue(c.statement(st, "u", c.upsertSQL), c.args(st, st.Cols, true)...)
		default:
			b.Queue(c.statement(st, "d", c.deleteSQL), c.args(st, t.Key, true)...)
		}
	}
	counts := make([]sqlapply.Counts, len(steps))
	err = c.send(ctx, b, n, func(br pgx.BatchResults) error {
		for i, st := range steps {
			var err error
			switch st.Kind {
			case sqlapply.StepTruncate:
				_, err = br.Exec()
			case sqlapply.StepUpsert:
				err = br.QueryRow().Scan(&counts[i].Inserted, &counts[i].Written)
			default:
				err = br.QueryRow().Scan(&counts[i].Deleted, &counts[i].Existing)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", st.Table.ID, err)
			}
		}
		return nil
	})
	return counts, err
}

// statement returns the cached SQL of st's shape, building it the first
// time.
func (c *conn) statement(st *sqlapply.Step, kind string, build func(*sqlapply.Step) string) string {
	key := st.ShapeKey(kind)
	sql, ok := st.Table.Cache[key]
	if !ok {
		sql = build(st)
		st.Table.Cache[key] = sql
	}
	return sql
}

// versioned reports whether statements on t maintain the version column
// and whether they guard writes with it.
func versioned(t *sqlapply.Table) (maintain, guard bool) {
	maintain = t.Version >= 0
	guard = maintain && (t.Strategy == sqlapply.NewerWins || t.Strategy == sqlapply.ErrorOnConflict)
	return
}

// tombstones reports whether statements on t consult the tombstones.
func tombstones(t *sqlapply.Table) bool {
	return t.Strategy == sqlapply.NewerWins && t.Version >= 0
}

// args returns the parameters of a statement over st's rows: one text[]
// per column of cols (values of the rows' Vals for upserts, of their Key
// for deletes and probes), then, when withMeta, the versions (if the
// table keeps them) and, under newer_wins, the key texts and the table
// name for the tombstones.
func (c *conn) args(st *sqlapply.Step, cols []int, withMeta bool) []any {
	t := st.Table
	n := len(st.Rows)
	args := make([]any, 0, len(cols)+3)
	for j, ci := range cols {
		arr := make([]pgtype.Text, n)
		json := t.Columns[ci].JSON
		for i, r := range st.Rows {
			var v event.Value
			if st.Kind == sqlapply.StepUpsert && withMeta {
				v = r.Vals[j]
			} else {
				v = r.Key[j]
			}
			if v.IsNull() {
				continue
			}
			arr[i] = pgtype.Text{String: c.text(v, json), Valid: true}
		}
		args = append(args, arr)
	}
	if !withMeta {
		return args
	}
	if maintain, _ := versioned(t); maintain {
		arr := make([]pgtype.Text, n)
		for i, r := range st.Rows {
			arr[i] = pgtype.Text{String: r.Version, Valid: true}
		}
		args = append(args, arr)
	}
	if tombstones(t) {
		arr := make([]pgtype.Text, n)
		for i, r := range st.Rows {
			arr[i] = pgtype.Text{String: r.KeyText(), Valid: true}
		}
		args = append(args, arr, t.ID.String())
	}
	return args
}

// text renders v into the arena and returns it as a string that shares
// the arena's bytes; the arena is only appended to until the next
// statement, so earlier strings stay intact.
func (c *conn) text(v event.Value, json bool) string {
	switch v.Kind() {
	case event.KindString, event.KindDecimal, event.KindJSON, event.KindText:
		return v.Str()
	}
	mark := len(c.buf)
	c.buf = appendText(c.buf, v, json)
	if len(c.buf) == mark {
		return ""
	}
	return unsafe.String(&c.buf[mark], len(c.buf)-mark)
}

// sqlWriter builds a statement.
type sqlWriter struct {
	strings.Builder
	n int // parameters used
}

func (w *sqlWriter) param() string {
	w.n++
	return "$" + strconv.Itoa(w.n)
}

// unnest writes "unnest($1::text[], …) AS s(c0, …, v, kt)" for cols and
// the metadata args adds, and returns the names of the version and
// key-text columns ("" when absent) and the table-name parameter.
func (w *sqlWriter) unnest(t *sqlapply.Table, cols int, withMeta, ordinality bool) (v, kt, tbl string) {
	names := make([]string, 0, cols+3)
	w.WriteString("unnest(")
	for j := 0; j < cols; j++ {
		if j > 0 {
			w.WriteString(", ")
		}
		w.WriteString(w.param() + "::text[]")
		names = append(names, "c"+strconv.Itoa(j))
	}
	if withMeta {
		if maintain, _ := versioned(t); maintain {
			w.WriteString(", " + w.param() + "::text[]")
			names = append(names, "v")
			v = "s.v"
		}
		if tombstones(t) {
			w.WriteString(", " + w.param() + "::text[]")
			names = append(names, "kt")
			kt = "s.kt"
			tbl = w.param() + "::text"
		}
	}
	w.WriteString(")")
	if ordinality {
		w.WriteString(" WITH ORDINALITY")
		names = append(names, "o")
	}
	w.WriteString(" AS s(" + strings.Join(names, ", ") + ")")
	return v, kt, tbl
}

// value returns "s.cJ" cast to column ci's type.
func value(t *sqlapply.Table, j, ci int) string {
	s := "s.c" + strconv.Itoa(j)
	if cast := t.Columns[ci].Cast; cast != "" {
		s += "::" + cast
	}
	return s
}

// keyMatch returns "t.k0 = s.c0::int AND …" over t's key columns,
// which are s's first columns.
func keyMatch(t *sqlapply.Table, alias string) string {
	parts := make([]string, len(t.Key))
	for j, ci := range t.Key {
		parts[j] = alias + "." + pgx.Identifier{t.Columns[ci].Name}.Sanitize() + " = " + value(t, j, ci)
	}
	return strings.Join(parts, " AND ")
}

const collateC = ` COLLATE "C"`

// upsertSQL builds the upsert of st's shape:
//
//	WITH w AS (
//	  INSERT INTO T AS t (cols, _cdcd_version) SELECT s.c0::type, …, s.v FROM unnest(…) AS s(…)
//	  [WHERE NOT EXISTS (newer tombstone)]
//	  ON CONFLICT (key) DO UPDATE SET col = excluded.col, … [WHERE t.version < excluded.version]
//	  RETURNING (xmax = 0) AS ins)
//	SELECT count(*) FILTER (WHERE ins), count(*) FROM w
//
// xmax is 0 in rows the statement inserted and not in rows it updated.
func (c *conn) upsertSQL(st *sqlapply.Step) string {
	t := st.Table
	maintain, guard := versioned(t)
	var w sqlWriter
	w.WriteString("WITH w AS (INSERT INTO " + qualified(t.ID) + " AS t (")
	identity := false
	for j, ci := range st.Cols {
		if j > 0 {
			w.WriteString(", ")
		}
		w.WriteString(pgx.Identifier{t.Columns[ci].Name}.Sanitize())
		identity = identity || t.Columns[ci].Identity
	}
	if maintain {
		w.WriteString(", " + versionIdent)
	}
	w.WriteString(")")
	if identity {
		w.WriteString(" OVERRIDING SYSTEM VALUE")
	}
	w.WriteString(" SELECT ")
	for j, ci := range st.Cols {
		if j > 0 {
			w.WriteString(", ")
		}
		w.WriteString(value(t, j, ci))
	}
	var sel sqlWriter
	sel.n = w.n
	v, kt, tbl := sel.unnest(t, len(st.Cols), true, false)
	w.n = sel.n
	if maintain {
		w.WriteString(", " + v)
	}
	w.WriteString(" FROM " + sel.String())
	if kt != "" {
		w.WriteString(" WHERE NOT EXISTS (SELECT 1 FROM " + c.names.tombstones + " AS tb WHERE tb.tbl = " + tbl +
			" AND tb.key = " + kt + " AND tb.version" + collateC + " >= " + v + collateC + ")")
	}
	keys := make([]string, len(t.Key))
	isKey := map[int]bool{}
	for j, ci := range t.Key {
		keys[j] = pgx.Identifier{t.Columns[ci].Name}.Sanitize()
		isKey[ci] = true
	}
	w.WriteString(" ON CONFLICT (" + strings.Join(keys, ", ") + ") DO ")
	if t.Strategy == sqlapply.TargetWins {
		w.WriteString("NOTHING")
	} else {
		var sets []string
		for _, ci := range st.Cols {
			if !isKey[ci] {
				q := pgx.Identifier{t.Columns[ci].Name}.Sanitize()
				sets = append(sets, q+" = excluded."+q)
			}
		}
		if maintain {
			sets = append(sets, versionIdent+" = excluded."+versionIdent)
		}
		if len(sets) == 0 {
			// Nothing but the key: a no-op update, so that the row counts
			// as written.
			sets = append(sets, keys[0]+" = excluded."+keys[0])
		}
		w.WriteString("UPDATE SET " + strings.Join(sets, ", "))
		if guard {
			w.WriteString(" WHERE t." + versionIdent + " IS NULL OR t." + versionIdent + collateC + " < excluded." + versionIdent + collateC)
		}
	}
	w.WriteString(" RETURNING (xmax = 0) AS ins) SELECT count(*) FILTER (WHERE ins)::int, count(*)::int FROM w")
	return w.String()
}

// deleteSQL builds the delete of st's shape:
//
//	WITH s AS (SELECT * FROM unnest(…) AS s(…)),
//	d AS (DELETE FROM T AS t USING s WHERE key matches [AND t.version < s.v] RETURNING 1)
//	[, tb AS (INSERT INTO tombstones … ON CONFLICT … DO UPDATE … WHERE older)]
//	SELECT (SELECT count(*) FROM d), [count of rows that existed | 0]
func (c *conn) deleteSQL(st *sqlapply.Step) string {
	t := st.Table
	_, guard := versioned(t)
	var w sqlWriter
	w.WriteString("WITH s AS (SELECT * FROM ")
	v, kt, tbl := w.unnest(t, len(t.Key), true, false)
	w.WriteString("), d AS (DELETE FROM " + qualified(t.ID) + " AS t USING s WHERE " + keyMatch(t, "t"))
	if guard {
		w.WriteString(" AND (t." + versionIdent + " IS NULL OR t." + versionIdent + collateC + " < " + v + collateC + ")")
	}
	w.WriteString(" RETURNING 1)")
	existing := "0"
	if kt != "" {
		w.WriteString(", tb AS (INSERT INTO " + c.names.tombstones + " AS tb (tbl, key, version) SELECT " + tbl + ", " + kt + ", " + v +
			" FROM s ON CONFLICT (tbl, key) DO UPDATE SET version = excluded.version, at = now() WHERE tb.version" + collateC +
			" < excluded.version" + collateC + ")")
		existing = "(SELECT count(*) FROM s JOIN " + qualified(t.ID) + " AS t ON " + keyMatch(t, "t") + ")::int"
	}
	w.WriteString(" SELECT (SELECT count(*) FROM d)::int, " + existing)
	return w.String()
}

// Probe implements sqlapply.Applier: it locks the rows of st that exist
// (FOR UPDATE) and reads their versions, and under newer_wins the
// tombstones of the keys of an upsert.
func (c *conn) Probe(ctx context.Context, st *sqlapply.Step) ([]sqlapply.Found, error) {
	t := st.Table
	if err := c.sync(ctx); err != nil {
		return nil, err
	}
	c.buf = c.buf[:0]
	out := make([]sqlapply.Found, len(st.Rows))
	sql := c.statement(st, "p", func(st *sqlapply.Step) string {
		var w sqlWriter
		ver := "NULL::text"
		if t.Version >= 0 {
			ver = "t." + versionIdent
		}
		w.WriteString("SELECT s.o, " + ver + " FROM ")
		w.unnest(t, len(t.Key), false, true)
		w.WriteString(" JOIN " + qualified(t.ID) + " AS t ON " + keyMatch(t, "t") + " FOR UPDATE OF t")
		return w.String()
	})
	rows, err := c.c.Query(ctx, sql, c.args(st, t.Key, false)...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var (
			o   int64
			ver *string
		)
		if err := rows.Scan(&o, &ver); err != nil {
			rows.Close()
			return nil, err
		}
		if o < 1 || int(o) > len(out) {
			rows.Close()
			return nil, fmt.Errorf("probe of %s returned row %d of %d", t.ID, o, len(out))
		}
		f := &out[o-1]
		f.Exists = true
		if ver != nil {
			f.Version = *ver
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if st.Kind != sqlapply.StepUpsert || !tombstones(t) {
		return out, nil
	}
	keys := make([]pgtype.Text, len(st.Rows))
	for i, r := range st.Rows {
		keys[i] = pgtype.Text{String: r.KeyText(), Valid: true}
	}
	rows, err = c.c.Query(ctx, `SELECT s.o, tb.version FROM unnest($1::text[]) WITH ORDINALITY AS s(kt, o)
		JOIN `+c.names.tombstones+` AS tb ON tb.tbl = $2 AND tb.key = s.kt`, keys, t.ID.String())
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var (
			o   int64
			ver string
		)
		if err := rows.Scan(&o, &ver); err != nil {
			rows.Close()
			return nil, err
		}
		if o >= 1 && int(o) <= len(out) {
			out[o-1].Tomb = ver
		}
	}
	return out, rows.Err()
}
