package transform

import (
	"slices"

	"github.com/cdcd-dev/cdcd/event"
)

// planCache maps the schema an event arrives with to what a transform
// worked out for it once: the schema it leaves with and any per-schema
// lookups. Schemas are shared by all events of a table version, so the
// plan is computed once per version and found again by pointer: a
// comparison with the last schema seen, else a map lookup. The nil schema
// (messages, hand-made events) has a plan too. Not safe for concurrent use.
type planCache[P any] struct {
	lastIn *event.TableSchema
	last   *P
	m      map[*event.TableSchema]*P
}

// get returns the plan for in, computing it with plan the first time.
// Errors are not cached: the pipeline stops on them.
func (c *planCache[P]) get(in *event.TableSchema, plan func(*event.TableSchema) (*P, error)) (*P, error) {
	if c.last != nil && in == c.lastIn {
		return c.last, nil
	}
	p, ok := c.m[in]
	if !ok {
		var err error
		if p, err = plan(in); err != nil {
			return nil, err
		}
		if c.m == nil || len(c.m) >= maxCache {
			c.m = make(map[*event.TableSchema]*P)
		}
		c.m[in] = p
	}
	c.lastIn, c.last = in, p
	return p, nil
}

// cloneSchema returns a copy of s whose columns can be changed.
func cloneSchema(s *event.TableSchema) *event.TableSchema {
	c := *s
	c.Columns = slices.Clone(s.Columns)
	return &c
}

// contains reports whether names holds name. Lists are short (the columns
// a transform names), so a scan beats a map.
func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}
