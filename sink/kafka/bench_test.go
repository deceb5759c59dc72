package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// benchSchema and benchRow are a realistic ten-column row (as in package
// event's benchmarks): about 350 bytes of native JSON value.
var benchSchema = &event.TableSchema{
	Table: event.TableID{Namespace: "public", Name: "orders"},
	Columns: []event.Column{
		{Name: "id", Type: "bigint", Kind: event.KindInt, Key: true},
		{Name: "customer", Type: "text", Kind: event.KindString},
		{Name: "total", Type: "numeric(12,2)", Kind: event.KindDecimal},
		{Name: "placed_at", Type: "timestamp with time zone", Kind: event.KindTimestamp},
		{Name: "paid", Type: "boolean", Kind: event.KindBool},
		{Name: "items", Type: "jsonb", Kind: event.KindJSON},
		{Name: "receipt", Type: "bytea", Kind: event.KindBytes},
		{Name: "ship_on", Type: "date", Kind: event.KindDate},
		{Name: "weight", Type: "double precision", Kind: event.KindFloat},
		{Name: "note", Type: "text", Kind: event.KindString, Nullable: true},
	},
	Version: 3,
}

// benchBatch returns a source transaction of n inserts committed at commit.
func benchBatch(commit uint64, n int) event.Batch {
	src := &event.SourceInfo{Kind: "postgres", ServerID: "7301234567890123456", DB: "shop", Pipeline: "bench"}
	b := event.Batch{Final: true, Checkpoint: event.Checkpoint{Pos: event.TxEnd(commit)}}
	for i := 0; i < n; i++ {
		row := event.Row{
			{Name: "id", Value: event.Int(int64(commit)*100000 + int64(i))},
			{Name: "customer", Value: event.String("Ada Lovelace <ada@example.com>")},
			{Name: "total", Value: event.Decimal("1299.95")},
			{Name: "placed_at", Value: event.Timestamp(1767323045123456)},
			{Name: "paid", Value: event.Bool(true)},
			{Name: "items", Value: event.JSON(`[{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}]`)},
			{Name: "receipt", Value: event.Bytes([]byte("\x00\x01binary receipt payload\xff"))},
			{Name: "ship_on", Value: event.Date(20460)},
			{Name: "weight", Value: event.Float(12.75)},
			{Name: "note", Value: event.Null()},
		}
		b.Events = append(b.Events, event.Event{
			Op: event.OpInsert, Table: benchSchema.Table, Schema: benchSchema, Key: row[:1], After: row,
			Pos:    event.Position{Commit: commit, Index: uint32(i)},
			Tx:     event.TxInfo{ID: fmt.Sprint(commit), CommitTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Index: uint32(i)},
			Source: src,
		})
	}
	return b
}

// benchSink writes b.N events into a private kfake, in source
// transactions of 100 events and Kafka transactions of 10000 events (the
// pipeline's default max_batch_events), and reports events/s. allocs/op is
// per event and includes franz-go's and kfake's allocations (the broker
// runs in the same process); BenchmarkRecordEncoding isolates the sink's.
func benchSink(b *testing.B, configure func(*Options)) {
	k, err := testenv.StartKafka()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(k.Close)
	opts := testOptions(b, k)
	configure(&opts)
	s, _, _ := open(b, opts)
	const txSize, perFlush = 100, 10000
	// Warm up: topics exist, the producer id is set.
	warm := benchBatch(1, txSize)
	write(b, s, warm)
	flush(b, s)
	batches := make([]event.Batch, 64)
	for i := range batches {
		batches[i] = benchBatch(uint64(i+2), txSize)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	commit := uint64(len(batches) + 2)
	for n := 0; n < b.N; {
		bt := batches[(n/txSize)%len(batches)]
		bt.Events = bt.Events[:min(txSize, b.N-n)]
		bt.Checkpoint.Pos = event.TxEnd(commit)
		commit++
		if err := s.Write(ctx, &bt); err != nil {
			b.Fatal(err)
		}
		n += len(bt.Events)
		if n%perFlush == 0 || n == b.N {
			if _, err := s.Flush(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkSinkNative: exactly once, native JSON, lz4.
func BenchmarkSinkNative(b *testing.B) { benchSink(b, func(*Options) {}) }

// BenchmarkSinkNativeAtLeastOnce: the same without transactions, for the
// cost of exactly once.
func BenchmarkSinkNativeAtLeastOnce(b *testing.B) {
	benchSink(b, func(o *Options) { o.AtLeastOnce = true })
}

// BenchmarkSinkDebezium: exactly once, Debezium envelope.
func BenchmarkSinkDebezium(b *testing.B) {
	benchSink(b, func(o *Options) { o.Format = FormatDebezium })
}

// BenchmarkRecordEncoding measures what the sink itself does per event:
// topic lookup, encoding key, value and headers, building the record.
func BenchmarkRecordEncoding(b *testing.B) {
	for _, f := range []Format{FormatNative, FormatDebezium} {
		b.Run(string(f), func(b *testing.B) {
			s, err := New(Options{Pipeline: "bench", Brokers: []string{"127.0.0.1:1"}, Format: f})
			if err != nil {
				b.Fatal(err)
			}
			bt := benchBatch(1, 1000)
			var bytes int64
			for i := range bt.Events {
				r, _ := s.records(&bt.Events[i], s.topicFor(&bt.Events[i]))
				bytes += int64(len(r.Key) + len(r.Value))
			}
			b.SetBytes(bytes / int64(len(bt.Events)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e := &bt.Events[i%len(bt.Events)]
				s.records(e, s.topicFor(e))
			}
		})
	}
}
