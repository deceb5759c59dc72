// Package transform defines per-event transformations and the chain that
// runs them in config order between source and sink, and builds the
// built-in ones (filter, include_columns, drop_columns, mask, rename,
// route, set, outbox) from typed Specs with Build. docs/transforms.md
// describes what each does.
//
// Built transforms keep per-table and per-schema caches (table matches,
// derived schemas, rendered topics), so the work that depends only on a
// table's shape is done once per schema version, not per event. A Chain is
// used by one goroutine, the pipeline's reader.
package transform

import (
	"fmt"

	"github.com/cdcd-dev/cdcd/event"
)

// Transform changes one event in place and reports whether to keep it.
// Transforms never reorder events; a dropped event still advances the
// checkpoint, because checkpoints travel with batches, not events.
// Apply is called from one goroutine.
type Transform interface {
	Apply(e *event.Event) (keep bool, err error)
}

// Chain runs transforms in order. The empty chain keeps every event.
type Chain []Transform

// ApplyBatch runs the chain over every event of b, removing the events a
// transform dropped. The batch's checkpoint and Final flag are unchanged.
func (c Chain) ApplyBatch(b *event.Batch) error {
	if len(c) == 0 {
		return nil
	}
	kept := 0
	for i := range b.Events {
		e := &b.Events[i]
		keep := true
		for j, t := range c {
			ok, err := t.Apply(e)
			if err != nil {
				return fmt.Errorf("transform %d on %s at %s: %w", j+1, e.Table, e.Pos, err)
			}
			if !ok {
				keep = false
				break
			}
		}
		if keep {
			if kept != i {
				b.Events[kept] = *e
			}
			kept++
		}
	}
	clear(b.Events[kept:])
	b.Events = b.Events[:kept]
	return nil
}
