package kafka

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// quietLogger drops everything below errors, unless CDCD_TEST_LOG is set.
func quietLogger() *slog.Logger {
	if os.Getenv("CDCD_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

var nameSeq atomic.Int64

// uniqueName returns a pipeline or topic name unique in this process.
func uniqueName(t testing.TB) string {
	n := strings.NewReplacer("/", "-", "_", "-", " ", "-", "#", "-").Replace(strings.ToLower(t.Name()))
	if len(n) > 60 {
		n = n[:60]
	}
	return fmt.Sprintf("%s-%d", n, nameSeq.Add(1))
}

// testOptions returns options for a sink of its own pipeline, whose topic
// template is unique to the test ("<name>.{namespace}.{table}") and whose
// offsets topic is shared by the package (as pipelines share it).
func testOptions(t testing.TB, k *testenv.KafkaServer) Options {
	name := uniqueName(t)
	return Options{
		Pipeline:           name,
		Brokers:            k.Brokers(),
		Topic:              name + ".{namespace}.{table}",
		Logger:             quietLogger(),
		TransactionTimeout: 30 * time.Second,
		DeliveryTimeout:    20 * time.Second,
	}
}

// open makes a sink, opens it and closes it at cleanup.
func open(t testing.TB, opts Options) (*Sink, event.Checkpoint, bool) {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cp, ok, err := s.Open(ctx)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, cp, ok
}

// crash drops the sink's connections without aborting anything, as a
// process killed with SIGKILL does: the open Kafka transaction is left to
// the next instance (or the transaction timeout).
func (s *Sink) crash() {
	if s.sess == nil {
		return
	}
	s.sess.cancel()
	s.sess.cl.Close()
	s.sess = nil
	s.inTxn = false
}

var testSchema = &event.TableSchema{
	Table: event.TableID{Namespace: "public", Name: "t"},
	Columns: []event.Column{
		{Name: "id", Type: "bigint", Kind: event.KindInt, Key: true},
		{Name: "v", Type: "text", Kind: event.KindString, Nullable: true},
	},
	Version: 2,
}

var testSource = &event.SourceInfo{Kind: "postgres", ServerID: "42", DB: "shop", Pipeline: "p"}

// txn returns the batch of source transaction commit (positions
// commit/0..n-1), inserting rows id = commit*1000 + index.
func txn(commit uint64, n int) event.Batch {
	b := event.Batch{Final: true, Checkpoint: event.Checkpoint{Pos: event.TxEnd(commit), State: []byte(fmt.Sprintf("state-%d", commit))}}
	for i := 0; i < n; i++ {
		id := int64(commit)*1000 + int64(i)
		row := event.Row{{Name: "id", Value: event.Int(id)}, {Name: "v", Value: event.String(fmt.Sprintf("row %d", id))}}
		b.Events = append(b.Events, event.Event{
			Op: event.OpInsert, Table: testSchema.Table, Schema: testSchema,
			Key: row[:1], After: row,
			Pos:    event.Position{Commit: commit, Index: uint32(i)},
			Tx:     event.TxInfo{ID: fmt.Sprint(700 + commit), CommitTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Index: uint32(i)},
			Source: testSource,
		})
	}
	return b
}

// chunks splits a transaction batch into batches of at most n events;
// only the last is final.
func chunks(b event.Batch, n int) []event.Batch {
	var out []event.Batch
	for start := 0; start < len(b.Events); start += n {
		end := min(start+n, len(b.Events))
		c := event.Batch{Events: b.Events[start:end], Final: end == len(b.Events)}
		if c.Final {
			c.Checkpoint = b.Checkpoint
		} else {
			c.Checkpoint = event.Checkpoint{Pos: b.Events[end-1].Pos}
		}
		out = append(out, c)
	}
	return out
}

func write(t testing.TB, s *Sink, bs ...event.Batch) {
	t.Helper()
	for i := range bs {
		if err := s.Write(context.Background(), &bs[i]); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
}

func flush(t testing.TB, s *Sink) event.Checkpoint {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cp, err := s.Flush(ctx)
	if err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return cp
}

// rec is a consumed record.
type rec struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       string
	Value     string
	Null      bool // the value is null (a tombstone)
	Headers   map[string]string
}

// readTopic returns the records of every partition of topic up to its
// current end, read with read_committed or read_uncommitted. With
// read_committed it waits for transactions open below the end to finish.
func readTopic(t testing.TB, k *testenv.KafkaServer, topic string, committed bool) []rec {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := kadm.NewClient(k.Client(t))
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	want := map[int32]int64{}
	offsets := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			t.Fatalf("end offset of %s/%d: %v", topic, o.Partition, o.Err)
		}
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
			offsets[o.Partition] = kgo.NewOffset().AtStart()
		}
	})
	if len(want) == 0 {
		return nil
	}
	iso := kgo.ReadUncommitted()
	if committed {
		iso = kgo.ReadCommitted()
	}
	cl := k.Client(t,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchIsolationLevel(iso),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(100*time.Millisecond),
	)
	var out []rec
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: still waiting for partitions %v", topic, want)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("reading %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := want[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			if r.Offset >= end-1 {
				delete(want, r.Partition)
			}
			if r.Attrs.IsControl() {
				return
			}
			h := map[string]string{}
			for _, x := range r.Headers {
				h[x.Key] = string(x.Value)
			}
			out = append(out, rec{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: string(r.Key),
				Value: string(r.Value), Null: r.Value == nil, Headers: h})
		})
	}
	return out
}

// ids returns the cdcd-id headers of rs, in order.
func ids(rs []rec) []string {
	var out []string
	for _, r := range rs {
		if !r.Null {
			out = append(out, r.Headers[headerID])
		}
	}
	return out
}

// wantIDs returns the event ids of the batches' events, in order.
func wantIDs(bs ...event.Batch) []string {
	var out []string
	for _, b := range bs {
		for i := range b.Events {
			out = append(out, b.Events[i].ID())
		}
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkFor polls cond until it holds or the deadline passes.
func checkFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
