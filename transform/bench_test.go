package transform_test

import (
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

// benchSchema is a 10-column table.
var benchSchema = &event.TableSchema{
	Table: event.TableID{Namespace: "public", Name: "customers"},
	Columns: []event.Column{
		{Name: "id", Type: "bigint", Kind: event.KindInt, Key: true},
		{Name: "email", Type: "text", Kind: event.KindString},
		{Name: "name", Type: "text", Kind: event.KindString},
		{Name: "status", Type: "text", Kind: event.KindString},
		{Name: "balance", Type: "numeric(12,2)", Kind: event.KindDecimal},
		{Name: "visits", Type: "integer", Kind: event.KindInt},
		{Name: "score", Type: "double precision", Kind: event.KindFloat},
		{Name: "active", Type: "boolean", Kind: event.KindBool},
		{Name: "created_at", Type: "timestamptz", Kind: event.KindTimestamp},
		{Name: "note", Type: "text", Kind: event.KindString, Nullable: true},
	},
	Version: 1,
}

var benchSource = &event.SourceInfo{Kind: "postgres", ServerID: "7301", DB: "shop", Pipeline: "bench"}

// benchEvent returns a fresh insert of a 10-column row.
func benchEvent(i int) event.Event {
	return event.Event{
		Op:     event.OpInsert,
		Table:  benchSchema.Table,
		Schema: benchSchema,
		Key:    event.Row{{Name: "id", Value: event.Int(int64(i))}},
		After: event.Row{
			{Name: "id", Value: event.Int(int64(i))},
			{Name: "email", Value: event.String("ada@example.com")},
			{Name: "name", Value: event.String("Ada Lovelace")},
			{Name: "status", Value: event.String("active")},
			{Name: "balance", Value: event.Decimal("19.90")},
			{Name: "visits", Value: event.Int(42)},
			{Name: "score", Value: event.Float(0.5)},
			{Name: "active", Value: event.Bool(true)},
			{Name: "created_at", Value: event.TimestampOf(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))},
			{Name: "note", Value: event.Null()},
		},
		Pos:    event.Position{},
		Source: benchSource,
	}
}

// benchChain is the reference chain: filter + mask + rename +
// route.
var benchChain = []transform.Spec{
	{Type: transform.TypeFilter, Tables: []string{"public.*"}, Where: "after.status != 'draft' && op in ['c', 'u', 'r']"},
	{Type: transform.TypeMask, Tables: []string{"public.customers"}, Columns: []string{"email"}, Method: transform.MaskSHA256, Salt: "pepper"},
	{Type: transform.TypeRename, Tables: []string{"public.customers"}, To: "crm.customers", RenameColumns: map[string]string{"name": "full_name"}},
	{Type: transform.TypeRoute, Topic: "cdc.{namespace}.{table}"},
}

// BenchmarkChain measures benchChain on batches of 256 inserts of a
// 10-column row. Restoring the events between rounds is included; see
// BenchmarkChainRestore for its share.
func BenchmarkChain(b *testing.B) {
	chain, err := transform.Build(benchChain, nil)
	if err != nil {
		b.Fatal(err)
	}
	benchRounds(b, chain)
}

// BenchmarkChainRestore measures the restoring of events alone.
func BenchmarkChainRestore(b *testing.B) {
	benchRounds(b, nil)
}

func benchRounds(b *testing.B, chain transform.Chain) {
	const n = 256
	batch := event.Batch{Events: make([]event.Event, n)}
	pristine := make([]event.Event, n)
	rows := make([]event.Row, n)
	for i := range pristine {
		pristine[i] = benchEvent(i)
		rows[i] = make(event.Row, len(pristine[i].After))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += n {
		batch.Events = batch.Events[:n]
		for i := range batch.Events {
			batch.Events[i] = pristine[i]
			copy(rows[i], pristine[i].After)
			batch.Events[i].After = rows[i]
		}
		if err := chain.ApplyBatch(&batch); err != nil {
			b.Fatal(err)
		}
		if len(batch.Events) != n {
			b.Fatalf("kept %d events, want %d", len(batch.Events), n)
		}
	}
}

// BenchmarkEachTransform measures the transforms of benchChain one by one.
func BenchmarkEachTransform(b *testing.B) {
	for i, sp := range benchChain {
		b.Run(string(sp.Type), func(b *testing.B) {
			chain, err := transform.Build(benchChain[i:i+1], nil)
			if err != nil {
				b.Fatal(err)
			}
			benchRounds(b, chain)
		})
	}
}
