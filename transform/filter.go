package transform

import (
	"github.com/google/cel-go/common/types"

	"github.com/cdcd-dev/cdcd/event"
)

// filter keeps the events of its tables whose op is in ops and for which
// where is true; events of other tables pass untouched.
type filter struct {
	site
	tables tableSet
	ops    uint32 // one bit per op letter; 0 keeps every op
	where  *compiled
	act    activation
}

// opBit returns op's bit in a filter's op set (0 for ops that are not a
// lower-case letter, which no valid op is not).
func opBit(op event.Op) uint32 {
	if op < 'a' || op > 'z' {
		return 0
	}
	return 1 << (op - 'a')
}

func (b *builder) filter(at site, tables tableSet, sp *Spec) (Transform, error) {
	if sp.Where == "" && len(sp.Ops) == 0 {
		return nil, at.failf("", "a filter needs where (an expression), ops or both")
	}
	f := &filter{site: at, tables: tables}
	for i, op := range sp.Ops {
		if _, err := event.ParseOp(op.String()); err != nil || opBit(op) == 0 {
			return nil, at.failf("ops", "ops[%d]: %v", i, err)
		}
		f.ops |= opBit(op)
	}
	if sp.Where != "" {
		env, err := b.celEnv()
		if err != nil {
			return nil, at.fail("where", err)
		}
		c, err := compile(env, sp.Where)
		if err != nil {
			return nil, at.fail("where", err)
		}
		if k := c.out.Kind(); k != types.BoolKind && k != types.DynKind {
			return nil, at.failf("where", "the expression is of type %s; a filter needs a bool", c.out)
		}
		f.where = &c
	}
	return f, nil
}

// Apply implements Transform. A where that yields null drops the event
// (as SQL's WHERE does); one that yields another non-bool value, or fails,
// is an error wrapping ErrEval.
func (f *filter) Apply(e *event.Event) (bool, error) {
	if !f.tables.match(e.Table) {
		return true, nil
	}
	if f.ops != 0 && f.ops&opBit(e.Op) == 0 {
		return false, nil
	}
	if f.where == nil {
		return true, nil
	}
	f.act.set(e)
	out, err := f.act.eval(f.where.prg)
	f.act.reset()
	if err != nil {
		return false, f.fail("where", err)
	}
	switch v := out.(type) {
	case types.Bool:
		return bool(v), nil
	case types.Null:
		return false, nil
	}
	return false, f.failf("where", "%w: the expression yielded a value of type %s, not a bool", ErrEval, out.Type().TypeName())
}
