package transform

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
)

// set sets columns of the after row of its tables' events, to constants
// or to the results of CEL expressions (values starting with '='). Every
// expression sees the event as it was before any column was set. A column
// the schema has keeps its kind (the value is converted, or the event
// fails); a new column is added to the schema, nullable, with the value's
// kind. Key columns cannot be set. Events without an after row (deletes,
// truncates) are left as they are, but for their schema.
type set struct {
	site
	tables tableSet
	cols   []setColumn // sorted by name
	act    activation
	vals   []event.Value // scratch: the values of one event
	plans  planCache[setPlan]
}

type setColumn struct {
	name  string
	konst event.Value // a constant (KindString) when expr is nil
	expr  *compiled
	kind  event.Kind // the kind of the values produced
}

// setPlan is what set works out once per input schema.
type setPlan struct {
	out   *event.TableSchema
	kinds []event.Kind  // per column: the kind stored
	konst []event.Value // per column: the constant, converted to the kind
}

func (b *builder) set(at site, tables tableSet, sp *Spec) (Transform, error) {
	if len(sp.Set) == 0 {
		return nil, at.failf("values", "must set at least one column")
	}
	s := &set{site: at, tables: tables}
	for _, name := range slices.Sorted(maps.Keys(sp.Set)) {
		if name == "" {
			return nil, at.failf("values", "column names must not be empty")
		}
		raw := sp.Set[name]
		col := setColumn{name: name, konst: event.String(raw), kind: event.KindString}
		if expr, ok := strings.CutPrefix(raw, "="); ok {
			env, err := b.celEnv()
			if err != nil {
				return nil, at.fail("values."+name, err)
			}
			c, err := compile(env, expr)
			if err != nil {
				return nil, at.fail("values."+name, err)
			}
			k, ok := kindOfType(c.out)
			if !ok {
				return nil, at.failf("values."+name, "the expression is of type %s; a column takes bool, int, uint, double, string, bytes, timestamp or duration (convert with string(…), int(…), …)", c.out)
			}
			col.expr, col.kind, col.konst = &c, k, event.Value{}
		}
		s.cols = append(s.cols, col)
	}
	s.vals = make([]event.Value, len(s.cols))
	return s, nil
}

func (s *set) plan(in *event.TableSchema) (*setPlan, error) {
	p := &setPlan{kinds: make([]event.Kind, len(s.cols)), konst: make([]event.Value, len(s.cols))}
	var added []event.Column
	for i, c := range s.cols {
		p.kinds[i], p.konst[i] = c.kind, c.konst
		var col *event.Column
		if in != nil {
			col = in.Column(c.name)
		}
		if col == nil {
			added = append(added, event.Column{Name: c.name, Type: c.kind.String(), Kind: c.kind, Nullable: true})
			continue
		}
		if col.Key {
			return nil, s.fail("values."+c.name, fmt.Errorf("%w: %s is a key column of %s and cannot be set", ErrKeyColumn, c.name, in.Table))
		}
		p.kinds[i] = col.Kind
		if c.expr == nil {
			v, ok := coerce(c.konst, col.Kind)
			if !ok {
				return nil, s.failf("values."+c.name, "the constant cannot be stored in column %s of %s, of kind %s", c.name, in.Table, col.Kind)
			}
			p.konst[i] = v
		}
	}
	switch {
	case in == nil:
	case len(added) == 0:
		p.out = in
	default:
		out := cloneSchema(in)
		out.Columns = append(out.Columns, added...)
		p.out = out
	}
	return p, nil
}

// Apply implements Transform.
func (s *set) Apply(e *event.Event) (bool, error) {
	if !s.tables.match(e.Table) {
		return true, nil
	}
	p, err := s.plans.get(e.Schema, s.plan)
	if err != nil {
		return false, err
	}
	if e.Schema == nil {
		for _, c := range s.cols {
			if _, isKey := e.Key.Get(c.name); isKey {
				return false, s.fail("values."+c.name, fmt.Errorf("%w: %s is a key column of %s and cannot be set", ErrKeyColumn, c.name, e.Table))
			}
		}
	}
	e.Schema = p.out
	if e.After == nil {
		return true, nil
	}
	s.act.set(e)
	for i, c := range s.cols {
		if c.expr == nil {
			s.vals[i] = p.konst[i]
			continue
		}
		out, err := s.act.eval(c.expr.prg)
		if err != nil {
			s.act.reset()
			return false, s.fail("values."+c.name, err)
		}
		v, err := eventValue(out)
		if err != nil {
			s.act.reset()
			return false, s.fail("values."+c.name, err)
		}
		cv, ok := coerce(v, p.kinds[i])
		if !ok {
			s.act.reset()
			return false, s.failf("values."+c.name, "%w: a %s result cannot be stored in column %s of kind %s", ErrEval, v.Kind(), c.name, p.kinds[i])
		}
		s.vals[i] = cv
	}
	s.act.reset()
	for i, c := range s.cols {
		e.After = setField(e.After, c.name, s.vals[i])
		if len(e.Unchanged) > 0 {
			e.Unchanged = slices.DeleteFunc(e.Unchanged, func(n string) bool { return n == c.name })
		}
	}
	return true, nil
}

// setField sets the field name of r to v, appending it when r lacks it.
func setField(r event.Row, name string, v event.Value) event.Row {
	for i := range r {
		if r[i].Name == name {
			r[i].Value = v
			return r
		}
	}
	return append(r, event.Field{Name: name, Value: v})
}

// coerce converts v to kind k when that loses nothing: numbers between
// integer, unsigned, float and decimal kinds when exact, text into the
// kinds parsed from text (decimal, numbers, bool, JSON, bytes), and
// anything but arrays into string or text. NULL fits every kind.
func coerce(v event.Value, k event.Kind) (event.Value, bool) {
	if v.Kind() == k || v.IsNull() {
		return v, true
	}
	if k == event.KindString || k == event.KindText {
		if v.Kind() == event.KindArray || v.Kind() == event.KindBytes {
			return v, false
		}
		t := string(textOf(nil, v))
		if k == event.KindText {
			return event.Text(t), true
		}
		return event.String(t), true
	}
	const maxExact = 1 << 53
	switch v.Kind() {
	case event.KindString, event.KindText:
		s := v.Str()
		switch k {
		case event.KindDecimal:
			if d, ok := event.CanonicalDecimal(s); ok {
				return event.Decimal(d), true
			}
		case event.KindInt:
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return event.Int(i), true
			}
		case event.KindUint:
			if u, err := strconv.ParseUint(s, 10, 64); err == nil {
				return event.Uint(u), true
			}
		case event.KindFloat:
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return event.Float(f), true
			}
		case event.KindBool:
			if b, err := strconv.ParseBool(s); err == nil {
				return event.Bool(b), true
			}
		case event.KindJSON:
			if json.Valid([]byte(s)) {
				return event.JSON(s), true
			}
		case event.KindBytes:
			return event.BytesString(s), true
		}
	case event.KindInt:
		i := v.Int()
		switch k {
		case event.KindUint:
			if i >= 0 {
				return event.Uint(uint64(i)), true
			}
		case event.KindFloat:
			if -maxExact <= i && i <= maxExact {
				return event.Float(float64(i)), true
			}
		case event.KindDecimal:
			return event.Decimal(strconv.FormatInt(i, 10)), true
		}
	case event.KindUint:
		u := v.Uint()
		switch k {
		case event.KindInt:
			if u <= math.MaxInt64 {
				return event.Int(int64(u)), true
			}
		case event.KindFloat:
			if u <= maxExact {
				return event.Float(float64(u)), true
			}
		case event.KindDecimal:
			return event.Decimal(strconv.FormatUint(u, 10)), true
		}
	case event.KindFloat:
		f := v.Float()
		if k == event.KindDecimal && !math.IsNaN(f) && !math.IsInf(f, 0) {
			if d, ok := event.CanonicalDecimal(strconv.FormatFloat(f, 'f', -1, 64)); ok {
				return event.Decimal(d), true
			}
		}
	}
	return v, false
}

// schema implements schemaChecker.
func (s *set) schema(in *event.TableSchema) (*event.TableSchema, error) {
	if in == nil || !s.tables.match(in.Table) {
		return in, nil
	}
	p, err := s.plan(in)
	if err != nil {
		return nil, err
	}
	return p.out, nil
}
