// Package discard is a sink that writes nothing: it counts events and
// checkpoints, so a pipeline into it measures its source and transforms
// alone, and a slot can be advanced on purpose. Checkpoints are saved to a
// checkpoint.Store at most every CheckpointInterval, and on Close.
package discard

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/cdcd-dev/cdcd/checkpoint"
	"github.com/cdcd-dev/cdcd/event"
)

// Sink discards events. Write and Flush are called from one goroutine;
// Events may be read from any.
type Sink struct {
	pipeline string
	store    checkpoint.Store
	interval time.Duration
	events   atomic.Int64
	cp       event.Checkpoint // last written
	saved    event.Checkpoint
	savedAt  time.Time
}

// New returns a sink keeping its checkpoint in store. interval is the least
// time between two saves (0: 1s; negative: every Flush).
func New(pipeline string, store checkpoint.Store, interval time.Duration) (*Sink, error) {
	if pipeline == "" || store == nil {
		return nil, errors.New("discard sink: a pipeline name and a checkpoint store are required")
	}
	if interval == 0 {
		interval = time.Second
	}
	return &Sink{pipeline: pipeline, store: store, interval: interval}, nil
}

// Open returns the saved checkpoint.
func (s *Sink) Open(ctx context.Context) (event.Checkpoint, bool, error) {
	cp, ok, err := s.store.Load(ctx, s.pipeline)
	s.cp, s.saved, s.savedAt = cp, cp, time.Now()
	return cp, ok, err
}

// Write counts the batch's events.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	s.events.Add(int64(len(b.Events)))
	s.cp = b.Checkpoint
	return nil
}

// Flush saves the checkpoint when the interval has passed and returns the
// checkpoint last saved.
func (s *Sink) Flush(ctx context.Context) (event.Checkpoint, error) {
	if s.cp.Pos != s.saved.Pos && time.Since(s.savedAt) >= s.interval {
		if err := s.store.Save(ctx, s.pipeline, s.cp); err != nil {
			return event.Checkpoint{}, err
		}
		s.saved, s.savedAt = s.cp, time.Now()
	}
	return s.saved, nil
}

// Close saves the last checkpoint: everything written is "durable".
func (s *Sink) Close() error {
	if s.cp.Pos == s.saved.Pos {
		return nil
	}
	err := s.store.Save(context.Background(), s.pipeline, s.cp)
	if err == nil {
		s.saved = s.cp
	}
	return err
}

// Events returns how many events the sink has discarded.
func (s *Sink) Events() int64 { return s.events.Load() }
