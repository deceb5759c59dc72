package pipeline

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

func quietOptions() Options {
	return Options{
		Name:         "test",
		RetryInitial: time.Millisecond,
		RetryMax:     5 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// checkFor polls cond until it holds or the deadline passes.
func checkFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// runInBackground starts p.Run and returns a function that cancels it and
// returns Run's result.
func runInBackground(t *testing.T, p *Pipeline) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("pipeline did not stop within 10s of cancellation")
			return nil
		}
	}
}

// assertExactlyOnce checks that the sink holds every event of the log once, in order.
func assertExactlyOnce(t *testing.T, txs [][]event.Event, got []event.Event) {
	t.Helper()
	var want []event.Event
	for _, tx := range txs {
		want = append(want, tx...)
	}
	if len(got) != len(want) {
		t.Fatalf("sink holds %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Pos != want[i].Pos {
			t.Fatalf("event %d: position %s, want %s (lost, duplicated or reordered)", i, got[i].Pos, want[i].Pos)
		}
	}
}

func TestSourceIsAcknowledgedOnlyAfterTheSinkCommits(t *testing.T) {
	txs := newLog(50, 3, 1)
	snk := &txSink{flushGate: make(chan struct{})}
	src := &logSource{txs: txs, durable: snk.durable}
	p, err := New(src, nil, snk, quietOptions())
	if err != nil {
		t.Fatal(err)
	}
	stop := runInBackground(t, p)

	// The sink has batches but cannot commit: nothing may be acknowledged.
	time.Sleep(50 * time.Millisecond) // give a wrong implementation the chance to ack early
	if cp, ok := src.lastAck(); ok {
		t.Fatalf("source acknowledged %s before the sink committed anything", cp.Pos)
	}
	close(snk.flushGate)
	checkFor(t, 5*time.Second, "all transactions acknowledged", func() bool {
		cp, ok := src.lastAck()
		return ok && cp.Pos == event.TxEnd(uint64(len(txs)))
	})
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run after cancel = %v, want context.Canceled", err)
	}
	if len(src.badAcks) > 0 {
		t.Fatalf("acks broke the rules: %v", src.badAcks)
	}
	assertExactlyOnce(t, txs, snk.committed)
}

func TestTransientFailuresAreRetriedWithoutLossOrDuplicates(t *testing.T) {
	for _, tc := range []struct {
		name                           string
		failRead, failWrite, failFlush float64
		chunk                          int
	}{
		{name: "sink writes fail", failWrite: 0.05},
		{name: "sink commits fail", failFlush: 0.1},
		{name: "source reads fail", failRead: 0.05},
		{name: "everything fails, big transactions in chunks", failRead: 0.02, failWrite: 0.02, failFlush: 0.05, chunk: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			txs := newLog(2000, 10, 2)
			snk := &txSink{failWrite: tc.failWrite, failFlush: tc.failFlush, rnd: rand.New(rand.NewPCG(3, 4))}
			src := &logSource{txs: txs, chunk: tc.chunk, failRead: tc.failRead,
				rnd: rand.New(rand.NewPCG(5, 6)), durable: snk.durable}
			opts := quietOptions()
			opts.MaxBatchEvents = 100
			p, _ := New(src, nil, snk, opts)
			stop := runInBackground(t, p)
			checkFor(t, 20*time.Second, "the sink holds the whole log", func() bool {
				return snk.durable().Pos == event.TxEnd(uint64(len(txs)))
			})
			stop()
			if src.opens < 2 {
				t.Fatalf("the source was opened %d times; the faults did not cause retries", src.opens)
			}
			if len(src.badAcks) > 0 {
				t.Fatalf("acks broke the rules: %v", src.badAcks[:min(3, len(src.badAcks))])
			}
			assertExactlyOnce(t, txs, snk.committed)
			t.Logf("%d sessions, %d events exactly once", src.opens, snk.committedCount())
		})
	}
}

// permanent is an error its component marks as not worth retrying.
type permanent struct{}

func (permanent) Error() string {
	return "wal_level is replica; run ALTER SYSTEM SET wal_level = logical"
}
func (permanent) Permanent() bool { return true }

type failingSource struct {
	logSource
	err error
}

func (s *failingSource) Read(ctx context.Context) (event.Batch, error) { return event.Batch{}, s.err }

func TestPermanentErrorStopsThePipelineWithoutRetrying(t *testing.T) {
	src := &failingSource{err: permanent{}}
	p, _ := New(src, nil, &txSink{}, quietOptions())
	err := p.Run(context.Background())
	if !errors.As(err, new(permanent)) {
		t.Fatalf("Run = %v, want the permanent error", err)
	}
	if src.opens != 1 {
		t.Fatalf("source opened %d times, want 1 (no retry)", src.opens)
	}
}

func TestSourceEndFlushesAndReturnsNil(t *testing.T) {
	txs := newLog(10, 3, 7)
	src := &endingSource{logSource: logSource{txs: txs}}
	snk := &txSink{}
	p, _ := New(src, nil, snk, quietOptions())
	if err := p.Run(context.Background()); err != nil {
		t.Fatalf("Run = %v, want nil when the source is finished", err)
	}
	assertExactlyOnce(t, txs, snk.committed)
}

// endingSource returns io.EOF once its log is read, like a snapshot-only run.
type endingSource struct{ logSource }

func (s *endingSource) Read(ctx context.Context) (event.Batch, error) {
	s.mu.Lock()
	done := s.next >= len(s.txs) && len(s.pendingC) == 0
	s.mu.Unlock()
	if done {
		return event.Batch{}, io.EOF
	}
	return s.logSource.Read(ctx)
}

func TestCancellationMidBatchFlushesAndTheNextRunResumesExactly(t *testing.T) {
	txs := newLog(3000, 5, 8)
	// 200µs per batch: the ~9,000 events take well over a second, and the
	// stop comes after the first 100, so it always lands mid-stream.
	snk := &txSink{writeDelay: 200 * time.Microsecond}
	src := &logSource{txs: txs, durable: snk.durable}
	opts := quietOptions()
	opts.MaxBatchEvents = 500
	p, _ := New(src, nil, snk, opts)
	stop := runInBackground(t, p)
	checkFor(t, 10*time.Second, "some events durable", func() bool { return snk.committedCount() > 100 })
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run = %v, want context.Canceled (the CLI exits 0 on it)", err)
	}
	// What was acknowledged is exactly what is durable: the in-flight batch
	// was flushed and acknowledged on the way out.
	ack, ok := src.lastAck()
	if !ok || ack.Pos != snk.durable().Pos {
		t.Fatalf("last ack %v (ok=%v), durable %s: the final flush was not acknowledged", ack.Pos, ok, snk.durable().Pos)
	}
	stoppedAt := snk.committedCount()
	if stoppedAt == len(txs) {
		t.Fatal("the whole log was delivered before cancellation: the test did not stop mid-stream")
	}

	// Restart: a new pipeline over the same source log and sink state.
	src2 := &logSource{txs: txs, durable: snk.durable}
	p2, _ := New(src2, nil, snk, opts)
	stop2 := runInBackground(t, p2)
	checkFor(t, 10*time.Second, "the rest of the log delivered", func() bool {
		return snk.durable().Pos == event.TxEnd(uint64(len(txs)))
	})
	stop2()
	assertExactlyOnce(t, txs, snk.committed)
	t.Logf("stopped after %d events, resumed and finished at %d", stoppedAt, len(snk.committed))
}

func TestFilteredTransactionsStillAdvanceTheCheckpoint(t *testing.T) {
	txs := newLog(100, 4, 9)
	snk := &txSink{}
	src := &logSource{txs: txs, durable: snk.durable}
	dropAll := transform.Chain{dropEverything{}}
	p, _ := New(src, dropAll, snk, quietOptions())
	stop := runInBackground(t, p)
	checkFor(t, 5*time.Second, "the source acknowledged the last transaction", func() bool {
		cp, ok := src.lastAck()
		return ok && cp.Pos == event.TxEnd(uint64(len(txs)))
	})
	stop()
	if n := snk.committedCount(); n != 0 {
		t.Fatalf("sink holds %d events; the filter drops all", n)
	}
}

type dropEverything struct{}

func (dropEverything) Apply(*event.Event) (bool, error) { return false, nil }

func TestMemoryStaysBoundedWithASlowSink(t *testing.T) {
	// A fast source with an endless backlog of 256 KiB transactions and a
	// sink that takes 2ms per batch: the queue must throttle the source.
	big := strings.Repeat("x", 64<<10)
	src := &logSource{infinite: func(i int) []event.Event {
		evs := make([]event.Event, 4)
		for j := range evs {
			evs[j] = event.Event{Op: event.OpInsert, Pos: event.Position{Commit: uint64(i + 1), Index: uint32(j)},
				After: event.Row{{Name: "blob", Value: event.String(big + string(rune('a'+j)))}}, Source: fakeSource}
		}
		return evs
	}}
	snk := &txSink{discard: true, writeDelay: 2 * time.Millisecond}
	opts := quietOptions()
	opts.QueueBytes = 8 << 20
	p, _ := New(src, nil, snk, opts)
	stop := runInBackground(t, p)

	var peak uint64
	var ms runtime.MemStats
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	src.mu.Lock()
	read := src.next
	src.mu.Unlock()
	t.Logf("source read %d transactions (%d MiB); sink took %d events; peak heap in use %d MiB",
		read, read/4, snk.count, peak>>20)
	if peak > 64<<20 {
		t.Fatalf("peak heap in use %d MiB with an 8 MiB queue budget: the slow sink is not throttling the source", peak>>20)
	}
	// The source was held back to roughly what the sink consumed plus the budget.
	if ahead := read*4 - snk.count; int64(ahead)*(64<<10) > 2*opts.QueueBytes+opts.MaxBatchBytes {
		t.Fatalf("the source ran %d events (%d MiB) ahead of the sink", ahead, ahead*(64<<10)>>20)
	}
}

func TestSkipDurableDropsWhatTheSinkHolds(t *testing.T) {
	mk := func(commit uint64, n int) event.Batch {
		b := event.Batch{Checkpoint: event.Checkpoint{Pos: event.TxEnd(commit)}, Final: true}
		for i := 0; i < n; i++ {
			b.Events = append(b.Events, event.Event{Pos: event.Position{Commit: commit, Index: uint32(i)}})
		}
		return b
	}
	b := mk(5, 4)
	if skipDurable(&b, event.TxEnd(5)) {
		t.Fatal("a transaction the checkpoint covers must be skipped")
	}
	b = mk(5, 4)
	if !skipDurable(&b, event.Position{Commit: 5, Index: 1}) || len(b.Events) != 2 || b.Events[0].Pos.Index != 2 {
		t.Fatalf("a partly durable transaction must keep only events after the checkpoint, got %d", len(b.Events))
	}
	b = mk(6, 2)
	if !skipDurable(&b, event.TxEnd(5)) || len(b.Events) != 2 {
		t.Fatal("a later transaction must be kept whole")
	}
}

func TestRetryableClassification(t *testing.T) {
	if IsRetryable(context.Canceled) {
		t.Error("cancellation is not retryable")
	}
	if IsRetryable(Permanent(errors.New("x"))) || IsRetryable(errors.Join(errors.New("ctx"), permanent{})) {
		t.Error("permanent errors are not retryable")
	}
	if !IsRetryable(errTransient) {
		t.Error("an unmarked error is retryable")
	}
	for i := 0; i < 100; i++ {
		if j := jitter(time.Second); j < 500*time.Millisecond || j > time.Second {
			t.Fatalf("jitter(1s) = %s, want within [0.5s, 1s]", j)
		}
	}
}

func TestErrorsNameTheirStage(t *testing.T) {
	src := &failingSource{err: permanent{}}
	p, _ := New(src, nil, &txSink{}, quietOptions())
	if got := ErrorStage(p.Run(context.Background())); got != StageSource {
		t.Fatalf("stage %q, want %q", got, StageSource)
	}
}

func TestAQuietSourceStillGetsItsLastTransactionsAcknowledged(t *testing.T) {
	// The sink commits at most every 300ms; the source sends a few
	// transactions and then nothing: the pipeline must come back to flush.
	txs := newLog(5, 2, 10)
	snk := &txSink{saveEvery: 300 * time.Millisecond, lastSave: time.Now()}
	src := &logSource{txs: txs, durable: snk.durable}
	p, _ := New(src, nil, snk, quietOptions())
	stop := runInBackground(t, p)
	defer stop()
	checkFor(t, 3*time.Second, "the last transaction durable and acknowledged", func() bool {
		cp, ok := src.lastAck()
		return ok && cp.Pos == event.TxEnd(uint64(len(txs)))
	})
}
