package postgres

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The values of Options.Toast.
const (
	// ToastKeep lists unchanged TOASTed columns in Event.Unchanged.
	ToastKeep = "keep"
	// ToastReselect reads unchanged TOASTed columns back by key.
	ToastReselect = "reselect"
)

// fillUnchanged implements Options.Toast "reselect" for an update event
// whose After lacks the columns in ev.Unchanged. Values the old row holds
// (REPLICA IDENTITY FULL sends it whole) are taken from Before: they are
// exact. The others are read from the table by the row's key on the normal
// connection, in the text form the walsender would have sent, and decoded
// by the same decoders: they are the row's values at the time of the read,
// not of the update. A column that cannot be read back (the row is gone,
// the key is not known, the table changed) stays in Unchanged.
//
// cols are the update's new tuple, old its old tuple (nil if none).
func (st *stream) fillUnchanged(rel *relation, ev *event.Event, cols, old []tupleCol, size *int) error {
	missing := map[string]bool{}
	for _, name := range ev.Unchanged {
		missing[name] = true
	}
	got := map[string]event.Value{}
	for _, name := range ev.Unchanged {
		if v, ok := ev.Before.Get(name); ok {
			got[name] = v
			*size += fieldSize + len(v.Str())
		}
	}
	if len(got) < len(missing) {
		if err := st.reselect(rel, ev, cols, old, missing, got, size); err != nil {
			return err
		}
	}
	if len(got) == 0 {
		return nil
	}
	after := make(event.Row, 0, len(rel.schema.Columns))
	var still []string
	for _, c := range rel.schema.Columns {
		if v, ok := ev.After.Get(c.Name); ok {
			after = append(after, event.Field{Name: c.Name, Value: v})
		} else if v, ok := got[c.Name]; ok {
			after = append(after, event.Field{Name: c.Name, Value: v})
		} else if missing[c.Name] {
			still = append(still, c.Name)
		}
	}
	ev.After, ev.Unchanged = after, still
	return nil
}

// reselect reads the columns of missing that got lacks by the row's key.
func (st *stream) reselect(rel *relation, ev *event.Event, cols, old []tupleCol, missing map[string]bool, got map[string]event.Value, size *int) error {
	var want []int // column indexes to read
	var where []string
	var params [][]byte
	for i, c := range rel.schema.Columns {
		if missing[c.Name] {
			if _, ok := got[c.Name]; !ok {
				want = append(want, i)
			}
		}
		if !c.Key {
			continue
		}
		raw, ok := keyText(i, cols, old)
		if !ok {
			st.s.log.Warn("cannot read unchanged TOAST values back: the update lacks the key", "table", rel.table.String(), "column", c.Name, "pos", ev.Pos.String())
			return nil
		}
		params = append(params, raw)
		where = append(where, pgx.Identifier{c.Name}.Sanitize()+" = $"+strconv.Itoa(len(params)))
	}
	if len(where) == 0 {
		st.s.log.Warn("cannot read unchanged TOAST values back: the table has no key", "table", rel.table.String(), "pos", ev.Pos.String())
		return nil
	}
	names := make([]string, len(want))
	for j, i := range want {
		names[j] = pgx.Identifier{rel.schema.Columns[i].Name}.Sanitize()
	}
	sql := "SELECT " + strings.Join(names, ", ") + " FROM " + quoteTable(rel.table) + " WHERE " + strings.Join(where, " AND ")

	var raws [][]byte
	found := false
	err := st.s.withMeta(func(c *pgx.Conn) error {
		// Parameters of unknown type in text form: the server parses them
		// with the key columns' own input functions; results in text form,
		// exactly as the walsender renders values.
		rr := c.PgConn().ExecParams(st.ctx, sql, params, nil, nil, []int16{pgx.TextFormatCode})
		for rr.NextRow() {
			if !found {
				found = true
				for _, v := range rr.Values() {
					raws = append(raws, slices.Clone(v))
				}
			}
		}
		_, err := rr.Close()
		return err
	})
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe):
		st.s.log.Warn("cannot read unchanged TOAST values back", "table", rel.table.String(), "pos", ev.Pos.String(), "err", err)
		return nil
	case err != nil:
		return &catalogError{fmt.Errorf("postgres source: read back unchanged TOAST values of %s: %w", rel.table, err)}
	case !found:
		return nil // deleted since: its delete follows in the stream
	}
	for j, i := range want {
		col := &rel.schema.Columns[i]
		v := event.Null()
		if raws[j] != nil {
			var err error
			if v, err = rel.decs[i](raws[j]); err != nil {
				return &DecodeError{Table: rel.table, Column: col.Name, Type: col.Type, Pos: ev.Pos, Err: err}
			}
		}
		*size += fieldSize + len(raws[j])
		got[col.Name] = v
	}
	return nil
}

// keyText returns the text form of column i from the new tuple, or from
// the old one when the new tuple does not carry it.
func keyText(i int, cols, old []tupleCol) ([]byte, bool) {
	if cols[i].kind == 't' {
		return cols[i].data, true
	}
	if i < len(old) && old[i].kind == 't' {
		return old[i].data, true
	}
	return nil, false
}
