package kafka

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/cdcd-dev/cdcd/pipeline"
)

// slotSource is a fake source over an in-memory change log of
// transactions that resumes after the checkpoint it is opened with, as a
// replication slot does. Transaction i commits at position i+1. Large
// transactions come in chunks of at most chunk events.
type slotSource struct {
	txs   [][]event.Event
	chunk int
	delay time.Duration // before reading each transaction, to pace the stream

	mu      sync.Mutex
	next    int
	pending []event.Batch
	acks    []event.Checkpoint
}

// newSlotLog builds n transactions of 1..maxSize updates of ten keys.
func newSlotLog(n, maxSize int, seed uint64) [][]event.Event {
	rnd := rand.New(rand.NewPCG(seed, seed))
	src := &event.SourceInfo{Kind: "postgres", ServerID: "s1", DB: "shop", Pipeline: "e2e"}
	txs := make([][]event.Event, n)
	for i := range txs {
		size := 1 + rnd.IntN(maxSize)
		for j := 0; j < size; j++ {
			id := event.Int(int64(rnd.IntN(10)))
			row := event.Row{{Name: "id", Value: id}, {Name: "v", Value: event.String(fmt.Sprintf("tx %d change %d", i, j))}}
			txs[i] = append(txs[i], event.Event{
				Op: event.OpUpdate, Table: testSchema.Table, Schema: testSchema,
				Key: row[:1], After: row,
				Pos:    event.Position{Commit: uint64(i + 1), Index: uint32(j)},
				Tx:     event.TxInfo{ID: fmt.Sprint(1000 + i), CommitTime: time.Unix(int64(1700000000+i), 0).UTC(), Index: uint32(j)},
				Source: src,
			})
		}
	}
	return txs
}

func (s *slotSource) Open(ctx context.Context, cp *event.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next, s.pending = 0, nil
	if cp != nil {
		s.next = int(cp.Pos.Commit) - 1 // the transaction holding cp…
		if cp.Pos.IsTxEnd() {
			s.next++ // …or the one after it
		}
	}
	return nil
}

func (s *slotSource) Read(ctx context.Context) (event.Batch, error) {
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return event.Batch{}, ctx.Err()
		}
	}
	s.mu.Lock()
	if len(s.pending) == 0 && s.next < len(s.txs) {
		tx := s.txs[s.next]
		s.next++
		commit := tx[0].Pos.Commit
		for start := 0; start < len(tx); start += s.chunk {
			end := min(start+s.chunk, len(tx))
			b := event.Batch{Events: append([]event.Event(nil), tx[start:end]...), Final: end == len(tx), CommitTime: time.Now()}
			if b.Final {
				b.Checkpoint.Pos = event.TxEnd(commit)
			} else {
				b.Checkpoint.Pos = tx[end-1].Pos
			}
			s.pending = append(s.pending, b)
		}
	}
	if len(s.pending) > 0 {
		b := s.pending[0]
		s.pending = s.pending[1:]
		s.mu.Unlock()
		return b, nil
	}
	s.mu.Unlock()
	<-ctx.Done() // caught up
	return event.Batch{}, ctx.Err()
}

func (s *slotSource) Ack(ctx context.Context, cp event.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.acks = append(s.acks, cp)
	return nil
}

func (s *slotSource) Close() error { return nil }

func (s *slotSource) lastAck() event.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.acks) == 0 {
		return event.Position{}
	}
	return s.acks[len(s.acks)-1].Pos
}

// killableSink passes calls to a Kafka sink until killed: then the sink's
// connections drop without aborting anything (a SIGKILL) and every later
// call fails.
type killableSink struct {
	*Sink
	writes   atomic.Int64
	killAt   int64 // kill after this many writes
	killed   atomic.Bool
	onKilled func()
}

var errKilled = errors.New("killed")

func (k *killableSink) Write(ctx context.Context, b *event.Batch) error {
	if k.killed.Load() {
		return errKilled
	}
	if err := k.Sink.Write(ctx, b); err != nil {
		return err
	}
	if k.writes.Add(1) == k.killAt {
		k.Sink.crash()
		k.killed.Store(true)
		k.onKilled()
	}
	return nil
}

func (k *killableSink) Flush(ctx context.Context) (event.Checkpoint, error) {
	if k.killed.Load() {
		return event.Checkpoint{}, errKilled
	}
	return k.Sink.Flush(ctx)
}

func (k *killableSink) Open(ctx context.Context) (event.Checkpoint, bool, error) {
	if k.killed.Load() {
		return event.Checkpoint{}, false, errKilled
	}
	return k.Sink.Open(ctx)
}

// TestPipelineExactlyOnceAcrossKillsAndFaults streams 200 source
// transactions (some in chunks) through the pipeline into Kafka, killing
// the sink three times without warning (as kill -9 would) and failing
// some commits on the broker meanwhile. A read_committed consumer then
// sees every change exactly once, and each key's changes in commit order.
func TestPipelineExactlyOnceAcrossKillsAndFaults(t *testing.T) {
	k, err := testenv.StartKafka()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	opts := testOptions(t, k)
	opts.Partitions = 3
	topic := opts.Pipeline + ".public.t"
	txs := newSlotLog(200, 8, 7)
	src := &slotSource{txs: txs, chunk: 3}
	last := event.TxEnd(uint64(len(txs)))

	// Every 4th commit of this pipeline fails on the broker.
	var commits atomic.Int64
	k.Cluster.ControlKey(int16(kmsg.EndTxn), func(req kmsg.Request) (kmsg.Response, error, bool) {
		k.Cluster.KeepControl()
		r := req.(*kmsg.EndTxnRequest)
		if !r.Commit || r.TransactionalID != opts.transactionalID() || commits.Add(1)%4 != 0 {
			return nil, nil, false
		}
		resp := r.ResponseKind().(*kmsg.EndTxnResponse)
		resp.ErrorCode = kerr.UnknownServerError.Code
		return resp, nil, true
	})

	rnd := rand.New(rand.NewPCG(3, 3))
	run := func(killAt int64) {
		snk, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		ks := &killableSink{Sink: snk, killAt: killAt}
		p, err := pipeline.New(src, nil, ks, pipeline.Options{
			Name: opts.Pipeline, RetryInitial: time.Millisecond, RetryMax: 10 * time.Millisecond,
			MaxBatchEvents: 20, Logger: quietLogger(),
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ks.onKilled = cancel
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		if killAt == 0 { // the last run: until everything is acknowledged
			checkFor(t, 60*time.Second, "the source is acknowledged up to the end", func() bool { return src.lastAck() == last })
			cancel()
		}
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("pipeline: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("the pipeline did not stop")
		}
		snk.Close()
		t.Logf("run killed after %d writes; source acknowledged up to %s", ks.writes.Load(), src.lastAck())
	}
	for range 3 {
		run(20 + rnd.Int64N(100))
	}
	run(0)
	if commits.Load() < 4 {
		t.Fatalf("only %d commits: the broker fault never fired", commits.Load())
	}

	var want []string
	for _, tx := range txs {
		for i := range tx {
			want = append(want, tx[i].ID())
		}
	}
	// Both franz-go and kcat (librdkafka) see every change once, each
	// key's in commit order.
	checkOnceInOrder(t, "franz-go", want, readTopic(t, k, topic, true))
	checkOnceInOrder(t, "kcat", want, kcatRead(t, k, topic))
	raw := len(readTopic(t, k, topic, false))
	t.Logf("%d events; %d records in the log, the rest aborted", len(want), raw)
	if raw <= len(want) {
		t.Fatal("no record was aborted: the kills and faults did not bite")
	}

	// Every position acknowledged to the source is a committed checkpoint.
	committed := map[string]bool{}
	for _, r := range readTopic(t, k, "cdcd.offsets", true) {
		if r.Key == opts.Pipeline {
			cp, err := decodeCheckpoint(opts.Pipeline, []byte(r.Value))
			if err != nil {
				t.Fatal(err)
			}
			committed[cp.Pos.String()] = true
		}
	}
	for _, a := range src.acks {
		if !committed[a.Pos.String()] {
			t.Errorf("%s was acknowledged to the source but never committed", a.Pos)
		}
	}
}

// checkOnceInOrder checks that got holds each id of want once, and each
// key's records in increasing position order.
func checkOnceInOrder(t *testing.T, reader string, want []string, got []rec) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range got {
		seen[r.Headers[headerID]]++
	}
	for _, id := range want {
		if n := seen[id]; n != 1 {
			t.Errorf("%s: event %s seen %d times", reader, id, n)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%s: read_committed sees %d records, want %d", reader, len(got), len(want))
	}
	lastPos := map[string]string{}
	for _, r := range got {
		pos := r.Headers[headerPos]
		if prev, ok := lastPos[r.Key]; ok && pos <= prev {
			t.Fatalf("%s: key %s: %s after %s", reader, r.Key, pos, prev)
		}
		lastPos[r.Key] = pos
	}
}

// TestPipelineSurvivesBrokerRestart restarts the broker (on the same port
// and data directory) in the middle of a stream: the pipeline rides it out
// or retries, and every change arrives exactly once.
func TestPipelineSurvivesBrokerRestart(t *testing.T) {
	dir := t.TempDir()
	k, err := testenv.StartKafka(kfake.DataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	_, port, err := net.SplitHostPort(k.Brokers()[0])
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(t, k)
	opts.ClientOpts = []kgo.Opt{kgo.RetryBackoffFn(func(int) time.Duration { return 20 * time.Millisecond }), kgo.MetadataMinAge(50 * time.Millisecond)}
	topic := opts.Pipeline + ".public.t"
	txs := newSlotLog(120, 4, 11)
	src := &slotSource{txs: txs, chunk: 3, delay: time.Millisecond}
	snk, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(src, nil, snk, pipeline.Options{Name: opts.Pipeline, RetryInitial: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stop := func() error {
		cancel()
		return <-done
	}
	defer func() {
		if ctx.Err() == nil { // a Fatal before the end
			stop()
		}
	}()

	checkFor(t, 30*time.Second, "a third of the stream is acknowledged", func() bool { return src.lastAck().Commit >= 40 })
	k.Close()
	time.Sleep(200 * time.Millisecond) // the broker is down for a while
	pn, _ := strconv.Atoi(port)
	k, err = testenv.StartKafka(kfake.DataDir(dir), kfake.Ports(pn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	last := event.TxEnd(uint64(len(txs)))
	checkFor(t, 60*time.Second, "the whole stream is acknowledged", func() bool { return src.lastAck() == last })
	if err := stop(); !errors.Is(err, context.Canceled) {
		t.Fatalf("pipeline: %v", err)
	}
	snk.Close()

	var want []string
	for _, tx := range txs {
		for i := range tx {
			want = append(want, tx[i].ID())
		}
	}
	if got := ids(readTopic(t, k, topic, true)); !equalStrings(got, want) {
		t.Fatalf("read_committed sees %d events, want %d:\n%v", len(got), len(want), got)
	}
}
