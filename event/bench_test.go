package event_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

// benchEvent is a realistic insert of a ten-column row: bigint id, text,
// numeric, timestamptz, bool, jsonb, bytea, date, float8 and a NULL.
func benchEvent() *event.Event {
	schema := &event.TableSchema{
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
	after := event.Row{
		{Name: "id", Value: event.Int(1234567890)},
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
	return &event.Event{
		Op: event.OpInsert, Table: schema.Table, Schema: schema,
		Key: after[:1], After: after,
		Pos:    event.Position{Commit: 0x1A2B3C4D, Index: 3},
		Tx:     event.TxInfo{ID: "771", CommitTime: time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC), Index: 3},
		Source: &event.SourceInfo{Kind: "postgres", ServerID: "7301234567890123456", DB: "shop", Pipeline: "orders-to-kafka"},
	}
}

func BenchmarkEventAppendJSON(b *testing.B) {
	e := benchEvent()
	buf := make([]byte, 0, 4096)
	buf = e.AppendJSON(buf)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendJSON(buf[:0])
	}
}

// BenchmarkEncodingJSONMarshal encodes the same event as a map with
// encoding/json, for comparison.
func BenchmarkEncodingJSONMarshal(b *testing.B) {
	e := benchEvent()
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		row := make(map[string]any, len(e.After))
		for _, f := range e.After {
			v := f.Value
			var x any
			switch v.Kind() {
			case event.KindInt:
				x = v.Int()
			case event.KindString, event.KindDecimal:
				x = v.Str()
			case event.KindTimestamp:
				t, _ := v.Time()
				x = t.Format("2006-01-02T15:04:05.000000Z")
			case event.KindBool:
				x = v.Bool()
			case event.KindJSON:
				x = json.RawMessage(v.Str())
			case event.KindBytes:
				x = v.BytesView()
			case event.KindDate:
				y, m, d := event.CivilFromDays(v.Days())
				x = time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
			case event.KindFloat:
				x = v.Float()
			}
			row[f.Name] = x
		}
		m := map[string]any{
			"v":  1,
			"id": e.ID(),
			"op": e.Op.String(),
			"source": map[string]any{
				"kind": e.Source.Kind, "pipeline": e.Source.Pipeline, "db": e.Source.DB,
				"namespace": e.Table.Namespace, "table": e.Table.Name, "pos": e.Pos.String(),
				"txid": e.Tx.ID, "commit_ts": e.Tx.CommitTime.Format("2006-01-02T15:04:05.000000Z"),
			},
			"schema_version": e.Schema.Version,
			"key":            map[string]any{"id": e.Key[0].Value.Int()},
			"before":         nil,
			"after":          row,
			"unchanged":      []string{},
		}
		out, err := json.Marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		n = int64(len(out))
	}
	b.SetBytes(n)
}

func BenchmarkDecodeJSON(b *testing.B) {
	e := benchEvent()
	data := e.AppendJSON(nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := event.DecodeJSON(data, e.Schema); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStringEscape(b *testing.B) {
	v := event.String("The quick brown fox jumps over the lazy dog — «Grüße» \"quoted\"\n")
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(v.Str())))
	for b.Loop() {
		buf = v.AppendJSON(buf[:0])
	}
}

func BenchmarkJSONDocCompact(b *testing.B) {
	v := event.JSON(`{"sku": "A-1", "qty": 2, "tags": ["red", "large"], "price": {"amount": "12.50", "currency": "EUR"}}`)
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(v.Str())))
	for b.Loop() {
		buf = v.AppendJSON(buf[:0])
	}
}
