package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/checkpoint"
	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/cdcd-dev/cdcd/pipeline"
	"github.com/cdcd-dev/cdcd/sink/discard"
	"github.com/cdcd-dev/cdcd/source/postgres"
)

// flakySink fails every third Flush with a transient error, like a sink
// whose connection drops, and records every event it made durable.
type flakySink struct {
	*discard.Sink
	mu      sync.Mutex
	flushes int
	pending []int64
	durable map[int64]int
	retries int
}

func (s *flakySink) Write(ctx context.Context, b *event.Batch) error {
	for _, e := range b.Events {
		if v, ok := e.After.Get("id"); ok {
			s.pending = append(s.pending, v.Int())
		}
	}
	return s.Sink.Write(ctx, b)
}

func (s *flakySink) Flush(ctx context.Context) (event.Checkpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes++
	if s.flushes%3 == 0 && s.retries < 5 {
		s.retries++
		s.pending = nil
		return event.Checkpoint{}, errors.New("sink connection reset")
	}
	for _, id := range s.pending {
		s.durable[id]++
	}
	s.pending = nil
	return s.Sink.Flush(ctx)
}

// Close does not reach the discard sink, whose Close checkpoints all it was
// given: here, what a failed Flush held was lost, as with a real sink.
func (s *flakySink) Close() error { return nil }

func (s *flakySink) Open(ctx context.Context) (event.Checkpoint, bool, error) {
	s.pending = nil
	return s.Sink.Open(ctx)
}

// TestTheRealSourceIsRetriedAfterATransientSinkFailure runs the Postgres
// source in the pipeline with a sink that fails now and then: each failure
// closes the session and opens source and sink again from the checkpoint,
// and every change still arrives.
func TestTheRealSourceIsRetriedAfterATransientSinkFailure(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE items (id bigint PRIMARY KEY)`)
	src, err := postgres.New(postgres.Options{DSN: pg.DSN(db), Pipeline: "retry", Tables: []string{"public.items"},
		CreateSlot: true, CreatePublication: true})
	if err != nil {
		t.Fatal(err)
	}
	store, _ := checkpoint.NewFile(t.TempDir())
	d, _ := discard.New("retry", store, -1)
	snk := &flakySink{Sink: d, durable: map[int64]int{}}
	p, _ := pipeline.New(src, nil, snk, pipeline.Options{Name: "retry", RetryInitial: 10 * time.Millisecond,
		RetryMax: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	conn := pg.Connect(t, db)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) { // the slot exists once the first session opened
		var n int
		conn.QueryRow(ctx, `SELECT count(*) FROM pg_replication_slots WHERE active`).Scan(&n)
		if n == 1 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	const rows = 300
	for i := 1; i <= rows; i++ {
		if _, err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO items VALUES (%d)`, i)); err != nil {
			t.Fatal(err)
		}
		if i%20 == 0 {
			time.Sleep(30 * time.Millisecond) // several flushes, so several failures
		}
	}
	for time.Now().Before(deadline) {
		snk.mu.Lock()
		n := len(snk.durable)
		snk.mu.Unlock()
		if n == rows {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the pipeline stopped: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	snk.mu.Lock()
	defer snk.mu.Unlock()
	if len(snk.durable) != rows {
		t.Fatalf("%d of %d rows delivered after %d sink failures", len(snk.durable), rows, snk.retries)
	}
	if snk.retries == 0 {
		t.Fatal("no failure was injected")
	}
	t.Logf("%d rows delivered through %d transient sink failures", rows, snk.retries)
}
