// Package sink defines what the pipeline needs from a destination. Backends
// live below it (sink/stdout, sink/kafka, sink/postgres, sink/mysql).
package sink

import (
	"context"

	"github.com/cdcd-dev/cdcd/event"
)

// Sink makes batches durable together with the pipeline's checkpoint, so a
// restart resumes exactly where the durable data ends.
//
// Lifecycle: a backend's constructor validates its options and connects to
// nothing; Open connects and returns the checkpoint; Write and Flush are
// called from one goroutine; Close is idempotent.
//
// Errors follow the rule of package source: an error whose chain has a
// `Permanent() bool` method returning true stops the pipeline; any other
// error makes the pipeline reopen source and sink from the last durable
// checkpoint and replay, so a sink must never report as durable what it
// has not made durable.
type Sink interface {
	// Open connects and returns the last checkpoint this pipeline made
	// durable in the sink, with ok false when there is none.
	Open(ctx context.Context) (cp event.Checkpoint, ok bool, err error)
	// Write hands over one batch. The sink may send it at once or hold it
	// until Flush; it may keep references to the batch until Flush returns.
	Write(ctx context.Context, b *event.Batch) error
	// Flush makes everything written so far durable, as far as the sink's
	// guarantee allows (an exactly-once sink never makes part of a source
	// transaction visible), and returns the checkpoint that is now durable.
	Flush(ctx context.Context) (event.Checkpoint, error)
	// Close releases connections without flushing. It is safe to call more
	// than once.
	Close() error
}
