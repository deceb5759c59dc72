// Package source defines what the pipeline needs from a change source.
// Backends live below it (source/postgres, source/mysql).
package source

import (
	"context"

	"github.com/cdcd-dev/cdcd/event"
)

// Source reads a database's change log as batches of events in commit order.
//
// Lifecycle: a backend's constructor validates its options and connects to
// nothing; Open connects; Read is called from one goroutine; Ack may be
// called from another, concurrently with Read; Close is idempotent.
//
// Errors: an error whose chain holds a value with a `Permanent() bool`
// method returning true (a source not set up for CDC, a slot that vanished)
// stops the pipeline; any other error is treated as transient, and the
// pipeline reopens the source from the last durable checkpoint after a
// backoff.
type Source interface {
	// Open connects, checks the source is set up for change capture, and
	// positions the stream just after cp; cp is nil when nothing has been
	// delivered yet.
	Open(ctx context.Context, cp *event.Checkpoint) error
	// Read blocks until the next batch is ready or ctx is done. Batches of
	// one transaction come in order; only the last has Final set. A source
	// whose work is finished (a snapshot-only run) returns io.EOF.
	Read(ctx context.Context) (event.Batch, error)
	// Ack reports that every event up to cp is durable, so the source may
	// let go of it upstream (confirm a Postgres slot position). Acks come in
	// increasing order; Ack does not block on the network.
	Ack(ctx context.Context, cp event.Checkpoint) error
	// Close releases connections. It is safe to call more than once.
	Close() error
}
