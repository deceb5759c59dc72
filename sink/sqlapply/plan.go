package sqlapply

import (
	"fmt"

	"github.com/cdcd-dev/cdcd/event"
)

// Table is a target table as the dialect's catalog describes it.
type Table struct {
	// ID is the target table.
	ID event.TableID
	// Columns are the table's columns in table order.
	Columns []Column
	// Key holds the indexes in Columns of the primary key (or of the
	// unique index used instead), in key order.
	Key []int
	// Version is the index of VersionColumn in Columns, or -1.
	Version int
	// Strategy is the table's conflict strategy (set by the engine).
	Strategy Strategy
	// Cache is the dialect's per-table cache (statement texts); the engine
	// does not touch it.
	Cache map[string]string

	byName  map[string]int
	checked map[*event.TableSchema]bool
	label   string
}

// Column is one column of a target table.
type Column struct {
	Name string
	// Type is the column's type as the target declares it, e.g.
	// "numeric(10,2)" or "varchar(20)".
	Type string
	// Cast is the dialect's type to convert values to (Postgres: the type
	// without modifiers, e.g. "numeric"; "" when no cast is needed).
	Cast string
	// Generated columns are never written.
	Generated bool
	// Identity marks a Postgres GENERATED ALWAYS AS IDENTITY column,
	// written with OVERRIDING SYSTEM VALUE.
	Identity bool
	// JSON marks a json/jsonb (MySQL: JSON) column: arrays are written to
	// it as JSON text.
	JSON bool
	// Collation is the MySQL collation of a string column, "" otherwise.
	Collation string
}

// NewTable returns a table with the given columns and key column names
// (which must be among the columns).
func NewTable(id event.TableID, cols []Column, key []string) (*Table, error) {
	t := &Table{ID: id, Columns: cols, Version: -1, Cache: map[string]string{},
		byName: make(map[string]int, len(cols)), checked: map[*event.TableSchema]bool{}, label: id.String()}
	for i, c := range cols {
		t.byName[c.Name] = i
		if c.Name == VersionColumn {
			t.Version = i
		}
	}
	for _, k := range key {
		i, ok := t.byName[k]
		if !ok {
			return nil, fmt.Errorf("key column %q is not a column of %s", k, id)
		}
		t.Key = append(t.Key, i)
	}
	return t, nil
}

// Column returns the index of the column named name, or -1.
func (t *Table) Column(name string) int {
	if i, ok := t.byName[name]; ok {
		return i
	}
	return -1
}

// KeyNames returns the names of the key columns.
func (t *Table) KeyNames() []string {
	ns := make([]string, len(t.Key))
	for i, k := range t.Key {
		ns[i] = t.Columns[k].Name
	}
	return ns
}

// Class is what the first event of a row operation did; it decides how a
// missing or present target row is treated (see decide).
type Class uint8

// The classes.
const (
	ClassInsert Class = iota + 1 // an insert: the row should be absent
	ClassRead                    // a snapshot read: the row may be present or not
	ClassUpdate                  // an update: the row should be present
	ClassDelete                  // a delete: the row should be present
)

func classOf(op event.Op) Class {
	switch op {
	case event.OpInsert:
		return ClassInsert
	case event.OpRead:
		return ClassRead
	case event.OpUpdate:
		return ClassUpdate
	}
	return ClassDelete
}

// StepKind is the kind of a step.
type StepKind uint8

// The step kinds.
const (
	StepUpsert   StepKind = iota + 1 // insert rows, or update them where the key exists
	StepDelete                       // delete rows by key
	StepTruncate                     // empty the table
)

// Row is one row operation of a step: the net effect on one key of one or
// more consecutive events of a window.
type Row struct {
	// Key holds the values of Table.Key, in that order.
	Key []event.Value
	// Vals holds the upserted values, aligned with Step.Cols.
	Vals []event.Value
	// Version is the version (Version) of the last event; set only for
	// tables that keep versions or whose strategy compares them.
	Version string
	// Event is the last event applied to the key; First the first.
	Event, First *event.Event

	class   Class
	del     bool
	keyText string
	full    []event.Value // values by table column, valid where set
	set     []bool
}

// KeyText returns the canonical text of the row's key (KeyText).
func (r *Row) KeyText() string { return r.keyText }

// Step is one set operation on one table.
type Step struct {
	Kind  StepKind
	Table *Table
	// Class is the class shared by the rows' first events. For deletes,
	// ClassInsert stands for rows inserted earlier in the window, whose
	// absence is no conflict.
	Class Class
	// Cols holds the indexes in Table.Columns written by an upsert, in
	// table order; they include the key and never a generated column or
	// the version column.
	Cols []int
	// Rows are the step's rows, one per key.
	Rows []*Row
	// Event is the truncate event of a StepTruncate.
	Event *event.Event
}

// shapeKey identifies the statement shape of a step, for statement caches.
func (s *Step) shapeKey(prefix string) string {
	b := make([]byte, 0, 16+2*len(s.Cols))
	b = append(b, prefix...)
	b = append(b, byte(s.Kind), byte(s.Class), ':')
	for _, c := range s.Cols {
		b = append(b, byte(c>>8), byte(c))
	}
	return string(b)
}

// ShapeKey returns a string identifying the SQL shape of the step
// (kind, class and columns) prefixed by prefix, for statement caches.
func (s *Step) ShapeKey(prefix string) string { return s.shapeKey(prefix) }

// Rejected is an event the planner cannot apply (a key value is missing).
type Rejected struct {
	Event *event.Event
	Table *Table
	Err   error
}

// planner turns a window of events into steps, preserving per-key order.
type planner struct {
	maxRows   int
	truncates bool
	steps     []*Step
	rejected  []Rejected
	tables    []*tablePlan // in order of first appearance since their last emission
	byTable   map[*Table]*tablePlan

	// Slabs the rows' slices are carved from, and a buffer for key texts.
	vals []event.Value
	sets []bool
	rows []Row
	kbuf []byte
}

// slab returns n values and n flags from the planner's slabs.
func (p *planner) slab(n int) ([]event.Value, []bool) {
	if len(p.vals) < n {
		size := max(n, 4096)
		p.vals, p.sets = make([]event.Value, size), make([]bool, size)
	}
	v, s := p.vals[:n:n], p.sets[:n:n]
	p.vals, p.sets = p.vals[n:], p.sets[n:]
	return v, s
}

func (p *planner) newRow() *Row {
	if len(p.rows) == 0 {
		p.rows = make([]Row, 256)
	}
	r := &p.rows[0]
	p.rows = p.rows[1:]
	return r
}

// keeps reports whether rows of t carry versions.
func keeps(t *Table) bool {
	return t.Version >= 0 || t.Strategy == NewerWins || t.Strategy == ErrorOnConflict
}

// tablePlan holds the pending row operations of one table.
type tablePlan struct {
	t     *Table
	rows  []*Row // in order of creation
	byKey map[string]*Row
}

func newPlanner(maxRows int, truncates bool) *planner {
	if maxRows <= 0 {
		maxRows = 1000
	}
	return &planner{maxRows: maxRows, truncates: truncates, byTable: map[*Table]*tablePlan{}}
}

// plan returns the steps for events; tables[i] is the target table of
// events[i] (nil for an event that is not applied, such as a message).
func plan(events []*event.Event, tables []*Table, maxRows int, truncates bool) ([]*Step, []Rejected) {
	p := newPlanner(maxRows, truncates)
	for i, e := range events {
		if t := tables[i]; t != nil {
			p.add(e, t)
		}
	}
	p.emitAll()
	return p.steps, p.rejected
}

func (p *planner) tablePlan(t *Table) *tablePlan {
	tp := p.byTable[t]
	if tp == nil {
		tp = &tablePlan{t: t, byKey: map[string]*Row{}}
		p.byTable[t] = tp
		p.tables = append(p.tables, tp)
	}
	return tp
}

func (p *planner) add(e *event.Event, t *Table) {
	switch e.Op {
	case event.OpTruncate:
		if !p.truncates {
			return
		}
		// Whatever is pending for the table is erased by the truncate.
		if tp := p.byTable[t]; tp != nil {
			tp.rows, tp.byKey = nil, map[string]*Row{}
		}
		p.steps = append(p.steps, &Step{Kind: StepTruncate, Table: t, Event: e})
		return
	case event.OpInsert, event.OpRead, event.OpUpdate, event.OpDelete:
	default:
		return
	}
	if e.Op == event.OpDelete {
		key, err := p.keyOf(t, e.Key, e.Before)
		if err != nil {
			p.rejected = append(p.rejected, Rejected{Event: e, Table: t, Err: err})
			return
		}
		p.put(t, e, key, ClassDelete, true)
		return
	}
	key, err := p.keyOf(t, e.After, e.Key)
	if err != nil {
		p.rejected = append(p.rejected, Rejected{Event: e, Table: t, Err: err})
		return
	}
	if e.Op == event.OpUpdate && e.Before != nil {
		// A key change is a delete of the old key and an insert of the new.
		if old, err := p.keyOf(t, e.Before, nil); err == nil && !sameKey(old, key) {
			p.put(t, e, old, ClassDelete, true)
			p.put(t, e, key, ClassInsert, false)
			return
		}
	}
	p.put(t, e, key, classOf(e.Op), false)
}

// keyOf returns the values of t's key columns from row, or from fallback
// for the ones row lacks.
func (p *planner) keyOf(t *Table, row, fallback event.Row) ([]event.Value, error) {
	key, _ := p.slab(len(t.Key))
	for i, k := range t.Key {
		name := t.Columns[k].Name
		v, ok := row.Get(name)
		if !ok {
			v, ok = fallback.Get(name)
		}
		if !ok {
			return nil, fmt.Errorf("the event carries no value for key column %q", name)
		}
		if v.IsNull() {
			return nil, fmt.Errorf("key column %q is NULL", name)
		}
		key[i] = v
	}
	return key, nil
}

func sameKey(a, b []event.Value) bool {
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// put records one row operation of e on key, merging it with the pending
// operation on the same key when that keeps the sequential result, and
// emitting the table's pending steps first when it does not.
func (p *planner) put(t *Table, e *event.Event, key []event.Value, c Class, del bool) {
	tp := p.tablePlan(t)
	p.kbuf = appendKeyText(p.kbuf[:0], key)
	if r := tp.byKey[string(p.kbuf)]; r != nil {
		if p.merge(t, r, e, del) {
			return
		}
		p.emit(tp)
		tp.rows, tp.byKey = nil, map[string]*Row{}
	}
	r := p.newRow()
	*r = Row{Key: key, keyText: string(p.kbuf), Event: e, First: e, class: c, del: del}
	if keeps(t) {
		r.Version = Version(e)
	}
	if !del {
		r.full, r.set = p.slab(len(t.Columns))
		r.overlay(t, e, key)
	}
	tp.rows = append(tp.rows, r)
	tp.byKey[r.keyText] = r
}

// overlay sets the row's values from e's After (and its key).
func (r *Row) overlay(t *Table, e *event.Event, key []event.Value) {
	for _, f := range e.After {
		i, ok := t.byName[f.Name]
		if !ok || t.Columns[i].Generated || i == t.Version {
			continue
		}
		r.full[i], r.set[i] = f.Value, true
	}
	for j, k := range t.Key {
		r.full[k], r.set[k] = key[j], true
	}
}

// merge folds e into the pending operation r on the same key, if the
// result equals applying them one after the other under the table's
// strategy. A pending delete is never merged (a later write after it must
// see the row gone), nor anything under the error strategy.
func (p *planner) merge(t *Table, r *Row, e *event.Event, del bool) bool {
	if r.del || t.Strategy == ErrorOnConflict {
		return false
	}
	var v string
	if keeps(t) {
		v = Version(e)
	}
	if t.Strategy == NewerWins && v <= r.Version {
		// Applied after r, e would find the row at least as new as itself
		// (or kept newer still): it is skipped either way.
		return true
	}
	if del {
		// Upsert then delete: the row ends deleted; whether its absence is
		// a conflict depends on the first event.
		r.del = true
		r.full, r.set, r.Vals = nil, nil, nil
		r.Event, r.Version = e, v
		return true
	}
	if t.Strategy == TargetWins {
		// The first write wins; later ones would find the row present.
		return true
	}
	r.overlay(t, e, r.Key)
	r.Event, r.Version = e, v
	return true
}

func (p *planner) emitAll() {
	for _, tp := range p.tables {
		p.emit(tp)
	}
	p.tables = nil
	p.byTable = map[*Table]*tablePlan{}
}

// emit appends the pending operations of a table as steps: deletes first,
// then upserts grouped by class and column set, each chunked to maxRows.
func (p *planner) emit(tp *tablePlan) {
	if len(tp.rows) == 0 {
		return
	}
	var order []*Step
	groups := map[string]*Step{}
	var delMissingOK, delOther *Step
	for _, r := range tp.rows {
		if r.del {
			ok := r.class == ClassInsert || r.class == ClassRead
			s := delOther
			if ok {
				s = delMissingOK
			}
			if s == nil {
				c := ClassDelete
				if ok {
					c = ClassInsert
				}
				s = &Step{Kind: StepDelete, Table: tp.t, Class: c}
				if ok {
					delMissingOK = s
				} else {
					delOther = s
				}
			}
			s.Rows = append(s.Rows, r)
			continue
		}
		b := make([]byte, 0, 1+len(r.set))
		b = append(b, byte(r.class))
		for _, ok := range r.set {
			if ok {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
		s := groups[string(b)]
		if s == nil {
			s = &Step{Kind: StepUpsert, Table: tp.t, Class: r.class}
			for i, ok := range r.set {
				if ok {
					s.Cols = append(s.Cols, i)
				}
			}
			groups[string(b)] = s
			order = append(order, s)
		}
		r.Vals, _ = p.slab(len(s.Cols))
		for j, i := range s.Cols {
			r.Vals[j] = r.full[i]
		}
		s.Rows = append(s.Rows, r)
	}
	for _, s := range []*Step{delOther, delMissingOK} {
		if s != nil {
			p.chunk(s)
		}
	}
	for _, s := range order {
		p.chunk(s)
	}
}

// chunk appends s split into steps of at most maxRows rows.
func (p *planner) chunk(s *Step) {
	for len(s.Rows) > p.maxRows {
		c := *s
		c.Rows = s.Rows[:p.maxRows:p.maxRows]
		p.steps = append(p.steps, &c)
		s.Rows = s.Rows[p.maxRows:]
	}
	p.steps = append(p.steps, s)
}
