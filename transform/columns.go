package transform

import (
	"fmt"

	"github.com/cdcd-dev/cdcd/event"
)

// columns implements include_columns (keep only the named columns and the
// key columns) and drop_columns (remove the named columns; naming a key
// column is an error wrapping ErrKeyColumn). It applies to Before, After,
// Unchanged and the schema; the key row is never touched.
type columns struct {
	site
	tables  tableSet
	include bool
	names   []string
	plans   planCache[columnsPlan]
}

// columnsPlan is what columns works out once per input schema.
type columnsPlan struct {
	out  *event.TableSchema // the schema without the removed columns
	keys []string           // the key columns of the input schema
}

func newColumns(at site, tables tableSet, sp *Spec) (Transform, error) {
	if err := checkColumns(at, sp.Columns); err != nil {
		return nil, err
	}
	return &columns{site: at, tables: tables, include: sp.Type == TypeIncludeColumns, names: sp.Columns}, nil
}

func (c *columns) plan(in *event.TableSchema) (*columnsPlan, error) {
	if in == nil {
		return &columnsPlan{}, nil
	}
	if err := c.checkKeys(in); err != nil {
		return nil, err
	}
	p := &columnsPlan{keys: in.KeyNames()}
	var cols []event.Column
	for _, col := range in.Columns {
		if c.keep(col.Name, p.keys) {
			cols = append(cols, col)
		}
	}
	if len(cols) == len(in.Columns) {
		p.out = in
	} else {
		out := *in
		out.Columns = cols
		p.out = &out
	}
	return p, nil
}

// checkKeys reports a drop of a key column of s.
func (c *columns) checkKeys(s *event.TableSchema) error {
	if c.include {
		return nil
	}
	for i, n := range c.names {
		if col := s.Column(n); col != nil && col.Key {
			return c.fail(fmt.Sprintf("columns[%d]", i), fmt.Errorf("%w: %s is a key column of %s and cannot be dropped", ErrKeyColumn, n, s.Table))
		}
	}
	return nil
}

// keep reports whether the column name stays.
func (c *columns) keep(name string, keys []string) bool {
	if c.include {
		return contains(c.names, name) || contains(keys, name)
	}
	return !contains(c.names, name)
}

// keepIn is keep for an event without a schema, whose key row names its
// key columns.
func (c *columns) keepIn(name string, key event.Row) bool {
	if c.include {
		if contains(c.names, name) {
			return true
		}
		_, isKey := key.Get(name)
		return isKey
	}
	return !contains(c.names, name)
}

// Apply implements Transform.
func (c *columns) Apply(e *event.Event) (bool, error) {
	if !c.tables.match(e.Table) {
		return true, nil
	}
	p, err := c.plans.get(e.Schema, c.plan)
	if err != nil {
		return false, err
	}
	if e.Schema == nil && !c.include {
		for i, n := range c.names {
			if _, isKey := e.Key.Get(n); isKey {
				return false, c.fail(fmt.Sprintf("columns[%d]", i), fmt.Errorf("%w: %s is a key column of %s and cannot be dropped", ErrKeyColumn, n, e.Table))
			}
		}
	}
	e.Before = c.filter(e, p, e.Before)
	e.After = c.filter(e, p, e.After)
	if len(e.Unchanged) > 0 {
		out := e.Unchanged[:0]
		for _, n := range e.Unchanged {
			if c.keepName(e, p, n) {
				out = append(out, n)
			}
		}
		clear(e.Unchanged[len(out):])
		e.Unchanged = out
	}
	e.Schema = p.out
	return true, nil
}

func (c *columns) keepName(e *event.Event, p *columnsPlan, name string) bool {
	if e.Schema == nil {
		return c.keepIn(name, e.Key)
	}
	return c.keep(name, p.keys)
}

// filter removes the fields that go from r, in place.
func (c *columns) filter(e *event.Event, p *columnsPlan, r event.Row) event.Row {
	if r == nil {
		return nil
	}
	out := r[:0]
	for _, f := range r {
		if c.keepName(e, p, f.Name) {
			out = append(out, f)
		}
	}
	clear(r[len(out):])
	return out
}

// schema implements schemaChecker.
func (c *columns) schema(s *event.TableSchema) (*event.TableSchema, error) {
	if s == nil || !c.tables.match(s.Table) {
		return s, nil
	}
	if c.tables.isExact(s.Table) {
		for i, n := range c.names {
			if s.Column(n) == nil {
				return nil, c.fail(fmt.Sprintf("columns[%d]", i), fmt.Errorf("%w: %s has no column %s", ErrUnknownColumn, s.Table, n))
			}
		}
	}
	p, err := c.plan(s)
	if err != nil {
		return nil, err
	}
	return p.out, nil
}
