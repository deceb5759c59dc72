// Package stdout is the jsonl sink: one native JSON event per line, to
// standard output or appended to a file. It is at-least-once: events are
// written and synced before the checkpoint is saved, so a crash between
// the two repeats the events after the last checkpoint, with the same ids.
package stdout

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/cdcd-dev/cdcd/checkpoint"
	"github.com/cdcd-dev/cdcd/event"
)

// Options configure the sink.
type Options struct {
	// Pipeline names the checkpoint. Required.
	Pipeline string
	// Path is the file to append to; "" or "-" means standard output.
	Path string
	// Fsync syncs the file before each checkpoint (ignored for stdout).
	Fsync bool
	// Store keeps the checkpoint. Required.
	Store checkpoint.Store
	// Stdout replaces os.Stdout when Path is "-" (tests, the demo).
	Stdout io.Writer
	// CheckpointInterval is the least time between two checkpoint saves.
	// Data is written (and synced) at every Flush; saving the checkpoint
	// costs two fsyncs and a rename, so under a trickle of small
	// transactions it is saved at most this often, and Flush reports the
	// checkpoint last saved. Close saves the checkpoint of everything
	// synced. Default 1s; negative saves at every Flush.
	CheckpointInterval time.Duration
}

// Sink writes events as JSON lines. Write and Flush are called from one
// goroutine.
type Sink struct {
	opts    Options
	f       *os.File
	w       *bufio.Writer
	buf     []byte
	cp      event.Checkpoint // of the last batch written
	dirty   bool             // cp was written but not yet synced
	synced  event.Checkpoint // of the data made durable, maybe not saved yet
	saved   event.Checkpoint // the checkpoint last saved
	savedAt time.Time
	closed  bool
}

// New validates opts; it opens nothing.
func New(opts Options) (*Sink, error) {
	if opts.Pipeline == "" || opts.Store == nil {
		return nil, errors.New("stdout sink: a pipeline name and a checkpoint store are required")
	}
	if opts.Path == "" {
		opts.Path = "-"
	}
	if opts.CheckpointInterval == 0 {
		opts.CheckpointInterval = time.Second
	}
	return &Sink{opts: opts}, nil
}

// Open opens the output and returns the saved checkpoint.
func (s *Sink) Open(ctx context.Context) (event.Checkpoint, bool, error) {
	s.closed = false
	cp, ok, err := s.opts.Store.Load(ctx, s.opts.Pipeline)
	if err != nil {
		return event.Checkpoint{}, false, err
	}
	s.cp, s.synced, s.saved, s.dirty = cp, cp, cp, false
	s.savedAt = time.Now()
	out := s.opts.Stdout
	if out == nil {
		out = os.Stdout
	}
	if s.opts.Path != "-" {
		f, err := os.OpenFile(s.opts.Path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
		if err != nil {
			return event.Checkpoint{}, false, fmt.Errorf("opening %s: %w", s.opts.Path, err)
		}
		if err := trimTornLine(f); err != nil {
			f.Close()
			return event.Checkpoint{}, false, fmt.Errorf("repairing %s: %w", s.opts.Path, err)
		}
		s.f, out = f, f
	}
	s.w = bufio.NewWriterSize(out, 256<<10)
	return cp, ok, nil
}

// Write encodes the batch's events into the output buffer.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	for i := range b.Events {
		s.buf = b.Events[i].AppendJSON(s.buf[:0])
		s.buf = append(s.buf, '\n')
		// Only whole lines reach the file, so a crash leaves at most one
		// torn line (repaired on Open) instead of a line split by a
		// buffer boundary.
		if s.w.Available() < len(s.buf) && s.w.Buffered() > 0 {
			if err := s.w.Flush(); err != nil {
				return fmt.Errorf("writing %s: %w", s.name(), err)
			}
		}
		if _, err := s.w.Write(s.buf); err != nil {
			return fmt.Errorf("writing %s: %w", s.name(), err)
		}
	}
	s.cp, s.dirty = b.Checkpoint, true
	return nil
}

// Flush writes out the buffer, syncs the file and, at most every
// CheckpointInterval, saves the checkpoint; it returns the checkpoint saved.
func (s *Sink) Flush(ctx context.Context) (event.Checkpoint, error) {
	if s.dirty {
		if err := s.w.Flush(); err != nil {
			return event.Checkpoint{}, fmt.Errorf("writing %s: %w", s.name(), err)
		}
		if s.f != nil && s.opts.Fsync {
			if err := s.f.Sync(); err != nil {
				return event.Checkpoint{}, fmt.Errorf("syncing %s: %w", s.name(), err)
			}
		}
		s.synced, s.dirty = s.cp, false
	}
	if s.synced.Pos != s.saved.Pos && time.Since(s.savedAt) >= s.opts.CheckpointInterval {
		if err := s.save(ctx); err != nil {
			return event.Checkpoint{}, err
		}
	}
	return s.saved, nil
}

func (s *Sink) save(ctx context.Context) error {
	if err := s.opts.Store.Save(ctx, s.opts.Pipeline, s.synced); err != nil {
		return err
	}
	s.saved, s.savedAt = s.synced, time.Now()
	return nil
}

// Close saves the checkpoint of the data already synced, then closes the
// file, dropping what was not flushed.
func (s *Sink) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var err error
	if s.synced.Pos != s.saved.Pos {
		err = s.save(context.Background())
	}
	if s.f != nil {
		err = errors.Join(err, s.f.Close())
		s.f = nil
	}
	return err
}

func (s *Sink) name() string {
	if s.opts.Path == "-" {
		return "standard output"
	}
	return s.opts.Path
}

// trimTornLine cuts a last line left without its newline by a crash. Its
// events were not checkpointed, so they are written again.
func trimTornLine(f *os.File) error {
	st, err := f.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	const chunk = 64 << 10
	buf := make([]byte, chunk)
	end := st.Size()
	for off := end; off > 0; {
		n := int64(chunk)
		if off < n {
			n = off
		}
		off -= n
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			return err
		}
		for i := n - 1; i >= 0; i-- {
			if buf[i] == '\n' {
				if off+i+1 == end {
					return nil
				}
				return f.Truncate(off + i + 1)
			}
		}
	}
	return f.Truncate(0)
}
