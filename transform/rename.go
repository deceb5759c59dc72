package transform

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
)

// rename renames the table and/or columns of its tables' events: the
// table (Event.Table and the schema's), and the columns in the key,
// before and after rows, Unchanged and the schema.
type rename struct {
	site
	tables tableSet
	to     event.TableID // Name is "" when the table keeps its name
	keepNS bool          // to gives only the name: the namespace stays
	cols   []renamePair  // in the order of the old names
	plans  planCache[renamePlan]
}

type renamePair struct{ from, to string }

// renamePlan is what rename works out once per input schema.
type renamePlan struct {
	out *event.TableSchema
}

func newRename(at site, tables tableSet, sp *Spec) (Transform, error) {
	if sp.To == "" && len(sp.RenameColumns) == 0 {
		return nil, at.failf("", "a rename needs to (a new table name), rename_columns or both")
	}
	r := &rename{site: at, tables: tables}
	if sp.To != "" {
		if len(sp.Tables) == 0 {
			return nil, at.failf("tables", "a rename with to: needs the tables it renames")
		}
		parts := strings.Split(sp.To, ".")
		if len(parts) > 2 || slices.Contains(parts, "") || strings.ContainsAny(sp.To, "*?") {
			return nil, at.failf("to", "%q is not a table name: write \"table\" or \"namespace.table\"", sp.To)
		}
		if len(parts) == 1 {
			r.to, r.keepNS = event.TableID{Name: parts[0]}, true
		} else {
			r.to = event.TableID{Namespace: parts[0], Name: parts[1]}
		}
	}
	targets := make(map[string]string, len(sp.RenameColumns))
	for _, from := range slices.Sorted(maps.Keys(sp.RenameColumns)) {
		to := sp.RenameColumns[from]
		switch {
		case from == "" || to == "":
			return nil, at.failf("rename_columns", "column names must not be empty")
		case targets[to] != "":
			return nil, at.failf("rename_columns."+from, "renames to %q, as %s does", to, targets[to])
		}
		targets[to] = from
		r.cols = append(r.cols, renamePair{from, to})
	}
	return r, nil
}

// table returns the new name of table t.
func (r *rename) table(t event.TableID) event.TableID {
	if r.to.Name == "" {
		return t
	}
	if r.keepNS {
		return event.TableID{Namespace: t.Namespace, Name: r.to.Name}
	}
	return r.to
}

// column returns the new name of column name.
func (r *rename) column(name string) string {
	for _, p := range r.cols {
		if p.from == name {
			return p.to
		}
	}
	return name
}

func (r *rename) plan(in *event.TableSchema) (*renamePlan, error) {
	if in == nil {
		return &renamePlan{}, nil
	}
	out := cloneSchema(in)
	out.Table = r.table(in.Table)
	for i := range out.Columns {
		out.Columns[i].Name = r.column(out.Columns[i].Name)
	}
	for _, p := range r.cols {
		if in.Column(p.from) == nil {
			continue
		}
		for i, c := range out.Columns {
			if c.Name == p.to && in.Columns[i].Name != p.from {
				return nil, r.failf("rename_columns."+p.from, "renaming %s to %s in %s collides with column %s", p.from, p.to, in.Table, in.Columns[i].Name)
			}
		}
	}
	return &renamePlan{out: out}, nil
}

// Apply implements Transform.
func (r *rename) Apply(e *event.Event) (bool, error) {
	if !r.tables.match(e.Table) {
		return true, nil
	}
	p, err := r.plans.get(e.Schema, r.plan)
	if err != nil {
		return false, err
	}
	e.Table = r.table(e.Table)
	if len(r.cols) > 0 {
		r.renameRow(e.Key)
		r.renameRow(e.Before)
		r.renameRow(e.After)
		for i, n := range e.Unchanged {
			e.Unchanged[i] = r.column(n)
		}
	}
	e.Schema = p.out
	return true, nil
}

func (r *rename) renameRow(row event.Row) {
	for i := range row {
		row[i].Name = r.column(row[i].Name)
	}
}

// schema implements schemaChecker.
func (r *rename) schema(s *event.TableSchema) (*event.TableSchema, error) {
	if s == nil || !r.tables.match(s.Table) {
		return s, nil
	}
	if r.tables.isExact(s.Table) {
		for _, p := range r.cols {
			if s.Column(p.from) == nil {
				return nil, r.fail("rename_columns."+p.from, fmt.Errorf("%w: %s has no column %s", ErrUnknownColumn, s.Table, p.from))
			}
		}
	}
	p, err := r.plan(s)
	if err != nil {
		return nil, err
	}
	return p.out, nil
}
