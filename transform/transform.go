// Package transform defines per-event transformations and the chain that
// runs them in config order between source and sink.
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
	kept := b.Events[:0]
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
			kept = append(kept, *e)
		}
	}
	clear(b.Events[len(kept):])
	b.Events = kept
	return nil
}
