package transform

import (
	"fmt"
	"strings"

	"github.com/google/cel-go/common/types"

	"github.com/cdcd-dev/cdcd/event"
)

// placeholder is a variable of a topic template.
type placeholder uint8

const (
	phNone placeholder = iota
	phNamespace
	phTable
	phOp
	phPipeline
	phDB
	phRoutedBy // outbox only: the value of the routing column
)

var placeholders = map[string]placeholder{
	"namespace": phNamespace, "table": phTable, "op": phOp, "pipeline": phPipeline, "db": phDB, "routed_by": phRoutedBy,
}

// template is a parsed topic template: literal text and placeholders.
type template struct {
	parts []tmplPart
	uses  uint32 // bit per placeholder
}

type tmplPart struct {
	lit string
	ph  placeholder
}

// parseTemplate parses t; routedBy allows {routed_by}.
func parseTemplate(t string, routedBy bool) (template, error) {
	var tm template
	if t == "" {
		return tm, fmt.Errorf("must not be empty")
	}
	for rest := t; rest != ""; {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			tm.parts = append(tm.parts, tmplPart{lit: rest})
			break
		}
		if rest[i] == '}' {
			return tm, fmt.Errorf("%q has a '}' without '{'", t)
		}
		if i > 0 {
			tm.parts = append(tm.parts, tmplPart{lit: rest[:i]})
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return tm, fmt.Errorf("%q has a '{' without '}'", t)
		}
		name := rest[i+1 : i+j]
		ph, ok := placeholders[name]
		if !ok || (ph == phRoutedBy && !routedBy) {
			known := "{namespace}, {table}, {op}, {pipeline}, {db}"
			if routedBy {
				known += ", {routed_by}"
			}
			return tm, fmt.Errorf("%q has an unknown placeholder {%s}; placeholders are %s", t, name, known)
		}
		tm.parts = append(tm.parts, tmplPart{ph: ph})
		tm.uses |= 1 << ph
		rest = rest[i+j+1:]
	}
	return tm, nil
}

func (t *template) has(ph placeholder) bool { return t.uses&(1<<ph) != 0 }

// expand renders the template for e; routed is the {routed_by} value.
func (t *template) expand(e *event.Event, routed string) string {
	if len(t.parts) == 1 && t.parts[0].ph == phNone {
		return t.parts[0].lit
	}
	var src event.SourceInfo
	if e.Source != nil {
		src = *e.Source
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch p.ph {
		case phNone:
			b.WriteString(p.lit)
		case phNamespace:
			b.WriteString(e.Table.Namespace)
		case phTable:
			b.WriteString(e.Table.Name)
		case phOp:
			b.WriteString(e.Op.String())
		case phPipeline:
			b.WriteString(src.Pipeline)
		case phDB:
			b.WriteString(src.DB)
		case phRoutedBy:
			b.WriteString(routed)
		}
	}
	return b.String()
}

// topicKey identifies the inputs of a template's rendering other than the
// routing value; parts the template does not use are left zero, so they
// do not split the cache.
type topicKey struct {
	table event.TableID
	op    event.Op
	src   *event.SourceInfo
}

// topicCache renders a template once per distinct input.
type topicCache struct {
	tmpl   template
	last   topicKey
	lastT  string
	primed bool
	m      map[topicKey]string
}

func (c *topicCache) topic(e *event.Event) string {
	k := topicKey{src: e.Source}
	if c.tmpl.has(phNamespace) || c.tmpl.has(phTable) {
		k.table = e.Table
	}
	if c.tmpl.has(phOp) {
		k.op = e.Op
	}
	if c.primed && k == c.last {
		return c.lastT
	}
	t, ok := c.m[k]
	if !ok {
		t = c.tmpl.expand(e, "")
		if c.m == nil || len(c.m) >= maxCache {
			c.m = make(map[topicKey]string)
		}
		c.m[k] = t
	}
	c.last, c.lastT, c.primed = k, t, true
	return t
}

// route sets the destination (Event.Topic) of its tables' events from a
// template, or from a CEL expression when the topic starts with '='.
type route struct {
	site
	tables tableSet
	cache  topicCache
	expr   *compiled
	act    activation
}

func (b *builder) route(at site, tables tableSet, sp *Spec) (Transform, error) {
	r := &route{site: at, tables: tables}
	if expr, ok := strings.CutPrefix(sp.Topic, "="); ok {
		env, err := b.celEnv()
		if err != nil {
			return nil, at.fail("topic", err)
		}
		c, err := compile(env, expr)
		if err != nil {
			return nil, at.fail("topic", err)
		}
		if k := c.out.Kind(); k != types.StringKind && k != types.DynKind {
			return nil, at.failf("topic", "the expression is of type %s; a topic is a string", c.out)
		}
		r.expr = &c
		return r, nil
	}
	tm, err := parseTemplate(sp.Topic, false)
	if err != nil {
		return nil, at.fail("topic", err)
	}
	r.cache.tmpl = tm
	return r, nil
}

// Apply implements Transform. An expression that yields an empty string
// leaves the topic as it was; one that yields a non-string is an error
// wrapping ErrEval.
func (r *route) Apply(e *event.Event) (bool, error) {
	if !r.tables.match(e.Table) {
		return true, nil
	}
	if r.expr == nil {
		e.Topic = r.cache.topic(e)
		return true, nil
	}
	r.act.set(e)
	out, err := r.act.eval(r.expr.prg)
	r.act.reset()
	if err != nil {
		return false, r.fail("topic", err)
	}
	s, ok := out.(types.String)
	if !ok {
		return false, r.failf("topic", "%w: the expression yielded a value of type %s, not a string", ErrEval, out.Type().TypeName())
	}
	if s != "" {
		e.Topic = string(s)
	}
	return true, nil
}
