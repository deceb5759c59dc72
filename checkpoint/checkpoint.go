// Package checkpoint stores a pipeline's resume point for sinks that have
// no transactional place of their own to keep it (stdout/file sinks). The
// Kafka and replica sinks keep their checkpoint next to their data instead.
package checkpoint

import (
	"context"

	"github.com/cdcd-dev/cdcd/event"
)

// Store loads and saves one checkpoint per pipeline name.
type Store interface {
	// Load returns the pipeline's checkpoint, with ok false if none was saved.
	Load(ctx context.Context, pipeline string) (cp event.Checkpoint, ok bool, err error)
	// Save makes cp durable before returning.
	Save(ctx context.Context, pipeline string, cp event.Checkpoint) error
}
