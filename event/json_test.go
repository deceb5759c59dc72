package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

// micros returns the KindTimestamp/KindDateTime microseconds of a UTC wall clock.
func micros(y, mo, d, h, mi, s, us int) int64 {
	return event.DaysFromCivil(y, mo, d)*86_400_000_000 +
		int64(h)*3_600_000_000 + int64(mi)*60_000_000 + int64(s)*1_000_000 + int64(us)
}

func hms(h, m, s, us int64) int64 {
	return h*3_600_000_000 + m*60_000_000 + s*1_000_000 + us
}

// valueCase is one value and its exact native JSON rendering. roundTrip is
// false for the values whose decoding is documented not to give them back.
type valueCase struct {
	name      string
	v         event.Value
	want      string
	roundTrip bool
}

func valueCases() []valueCase {
	return []valueCase{
		{"null", event.Null(), `null`, true},
		{"true", event.Bool(true), `true`, true},
		{"false", event.Bool(false), `false`, true},

		{"int zero", event.Int(0), `0`, true},
		{"int negative", event.Int(-42), `-42`, true},
		{"int64 max", event.Int(math.MaxInt64), `9223372036854775807`, true},
		{"int64 min", event.Int(math.MinInt64), `-9223372036854775808`, true},
		{"uint zero", event.Uint(0), `0`, true},
		{"uint64 max", event.Uint(math.MaxUint64), `18446744073709551615`, true},
		{"uint above int64", event.Uint(1 << 63), `9223372036854775808`, true},

		{"float", event.Float(1.5), `1.5`, true},
		{"float tenth", event.Float(0.1), `0.1`, true},
		{"float integral", event.Float(3), `3`, true},
		{"float negative zero", event.Float(math.Copysign(0, -1)), `-0`, true},
		{"float large", event.Float(1e21), `1e+21`, true},
		{"float million", event.Float(1234567), `1.234567e+06`, true},
		{"float small", event.Float(1e-7), `1e-07`, true},
		{"float last plain integer", event.Float(100000), `100000`, true},
		{"float last plain fraction", event.Float(0.0001), `0.0001`, true},
		{"float first small exponent", event.Float(0.00001), `1e-05`, true},
		{"float max", event.Float(math.MaxFloat64), `1.7976931348623157e+308`, true},
		{"float smallest denormal", event.Float(5e-324), `5e-324`, true},
		{"float NaN", event.Float(math.NaN()), `"NaN"`, true},
		{"float +Inf", event.Float(math.Inf(1)), `"Infinity"`, true},
		{"float -Inf", event.Float(math.Inf(-1)), `"-Infinity"`, true},

		{"decimal", event.Decimal("-12.3400"), `"-12.3400"`, true},
		{"decimal long", event.Decimal("123456789012345678901234567890.000000000000000000001"), `"123456789012345678901234567890.000000000000000000001"`, true},
		{"decimal zero", event.Decimal("0"), `"0"`, true},
		{"decimal NaN", event.Decimal("NaN"), `"NaN"`, true},
		{"decimal Infinity", event.Decimal("Infinity"), `"Infinity"`, true},
		{"decimal -Infinity", event.Decimal("-Infinity"), `"-Infinity"`, true},

		{"string empty", event.String(""), `""`, true},
		{"string plain", event.String("hello, world"), `"hello, world"`, true},
		{"string quotes and backslash", event.String(`a"b\c/d`), `"a\"b\\c/d"`, true},
		{"string short escapes", event.String("\n\r\t\b\f"), `"\n\r\t\b\f"`, true},
		{"string other controls", event.String("\x00\x01\x1f\x7f"), `"\u0000\u0001\u001f` + "\x7f" + `"`, true},
		{"string non-ASCII", event.String("Grüße, 東京 😀"), `"Grüße, 東京 😀"`, true},
		{"string line separators", event.String("a\u2028b\u2029c"), `"a\u2028b\u2029c"`, true},
		{"string HTML kept", event.String("<a href='x'>&</a>"), `"<a href='x'>&</a>"`, true},
		// The source guarantees UTF-8; should it fail, each invalid byte
		// becomes \ufffd so the output stays valid JSON.
		{"string invalid byte", event.String("a\xffb"), `"a\ufffdb"`, false},
		{"string truncated sequence", event.String("x\xe2\x82"), `"x\ufffd\ufffd"`, false},
		{"string surrogate half", event.String("\xed\xa0\x80"), `"\ufffd\ufffd\ufffd"`, false},

		{"bytes empty", event.Bytes(nil), `""`, true},
		{"bytes", event.Bytes([]byte{0, 1, 2, 0xff}), `"AAEC/w=="`, true},
		{"bytes one", event.Bytes([]byte{'a'}), `"YQ=="`, true},

		{"timestamp epoch", event.Timestamp(0), `"1970-01-01T00:00:00.000000Z"`, true},
		{"timestamp before epoch", event.Timestamp(-1), `"1969-12-31T23:59:59.999999Z"`, true},
		{"timestamp", event.Timestamp(micros(2026, 1, 2, 3, 4, 5, 123456)), `"2026-01-02T03:04:05.123456Z"`, true},
		{"timestamp leap day", event.Timestamp(micros(2024, 2, 29, 23, 59, 59, 0)), `"2024-02-29T23:59:59.000000Z"`, true},
		{"timestamp year 1", event.Timestamp(micros(1, 1, 1, 0, 0, 0, 0)), `"0001-01-01T00:00:00.000000Z"`, true},
		{"timestamp year 9999", event.Timestamp(micros(9999, 12, 31, 23, 59, 59, 999999)), `"9999-12-31T23:59:59.999999Z"`, true},
		{"timestamp year 10000", event.Timestamp(micros(10000, 1, 1, 0, 0, 0, 0)), `"+010000-01-01T00:00:00.000000Z"`, true},
		{"timestamp 1 BC", event.Timestamp(micros(0, 6, 15, 12, 0, 0, 0)), `"0000-06-15T12:00:00.000000Z"`, true},
		{"timestamp 2 BC", event.Timestamp(micros(-1, 1, 1, 0, 0, 0, 1)), `"-000001-01-01T00:00:00.000001Z"`, true},
		{"timestamp 4714 BC", event.Timestamp(micros(-4713, 11, 24, 0, 0, 0, 0)), `"-004713-11-24T00:00:00.000000Z"`, true},
		{"timestamp infinity", event.Timestamp(event.PosInfinity), `"infinity"`, true},
		{"timestamp -infinity", event.Timestamp(event.NegInfinity), `"-infinity"`, true},
		{"timestamp max finite", event.Timestamp(math.MaxInt64 - 1), `"+294247-01-10T04:00:54.775806Z"`, true},
		{"timestamp min finite", event.Timestamp(math.MinInt64 + 1), `"-290308-12-21T19:59:05.224193Z"`, true},

		{"datetime epoch", event.DateTime(0), `"1970-01-01T00:00:00.000000"`, true},
		{"datetime", event.DateTime(micros(1999, 12, 31, 23, 59, 59, 500000)), `"1999-12-31T23:59:59.500000"`, true},
		{"datetime before epoch", event.DateTime(micros(1900, 3, 1, 0, 0, 0, 0)), `"1900-03-01T00:00:00.000000"`, true},
		{"datetime 2 BC", event.DateTime(micros(-1, 12, 31, 23, 59, 59, 999999)), `"-000001-12-31T23:59:59.999999"`, true},
		{"datetime infinity", event.DateTime(event.PosInfinity), `"infinity"`, true},
		{"datetime -infinity", event.DateTime(event.NegInfinity), `"-infinity"`, true},

		{"date epoch", event.Date(0), `"1970-01-01"`, true},
		{"date before epoch", event.Date(-1), `"1969-12-31"`, true},
		{"date", event.Date(event.DaysFromCivil(2026, 1, 2)), `"2026-01-02"`, true},
		{"date year 1", event.Date(event.DaysFromCivil(1, 1, 1)), `"0001-01-01"`, true},
		{"date year 9999", event.Date(event.DaysFromCivil(9999, 12, 31)), `"9999-12-31"`, true},
		{"date 44 BC", event.Date(event.DaysFromCivil(-43, 3, 15)), `"-000043-03-15"`, true},
		{"date Postgres max", event.Date(event.DaysFromCivil(5874897, 12, 31)), `"+5874897-12-31"`, true},
		{"date infinity", event.Date(event.PosInfinity), `"infinity"`, true},
		{"date -infinity", event.Date(event.NegInfinity), `"-infinity"`, true},
		{"date max finite", event.Date(math.MaxInt64 - 1), `"+25252734927768524-07-26"`, true},
		{"date min finite", event.Date(math.MinInt64 + 1), `"-25252734927764585-06-08"`, true},

		{"time midnight", event.Time(0), `"00:00:00.000000"`, true},
		{"time", event.Time(hms(13, 14, 15, 500000)), `"13:14:15.500000"`, true},
		{"time 24:00", event.Time(hms(24, 0, 0, 0)), `"24:00:00.000000"`, true},
		{"time MySQL max", event.Time(hms(838, 59, 59, 0)), `"838:59:59.000000"`, true},
		{"time MySQL min", event.Time(-hms(838, 59, 59, 0)), `"-838:59:59.000000"`, true},
		{"time negative small", event.Time(-1), `"-00:00:00.000001"`, true},
		{"time negative", event.Time(-hms(1, 2, 3, 0)), `"-01:02:03.000000"`, true},
		{"time max", event.Time(math.MaxInt64), `"2562047788:00:54.775807"`, true},
		{"time min", event.Time(math.MinInt64), `"-2562047788:00:54.775808"`, true},

		{"json object", event.JSON(`{"a":[1,2.50,"x\n"],"b":null}`), `{"a":[1,2.50,"x\n"],"b":null}`, true},
		{"json scalar", event.JSON(`42`), `42`, true},
		{"json string", event.JSON(`"s"`), `"s"`, true},
		{"json big number kept exact", event.JSON(`[1e400,123456789012345678901234567890]`), `[1e400,123456789012345678901234567890]`, true},
		{"json empty containers", event.JSON(`{"a":{},"b":[]}`), `{"a":{},"b":[]}`, true},
		{"json escapes kept", event.JSON(`"\u00e9\"\\\/"`), `"\u00e9\"\\\/"`, true},
		{"json whitespace dropped", event.JSON("{\"a\" : [1, 2],\n \"b\":\t{ }}\n"), `{"a":[1,2],"b":{}}`, false},
		{"json line separator escaped", event.JSON("[\"\u2028\"]"), `["\u2028"]`, false},
		{"json invalid UTF-8 replaced", event.JSON("[\"\xff\"]"), `["\ufffd"]`, false},
		// Not JSON: rendered as a string so the envelope stays valid.
		{"json invalid", event.JSON(`{"a":`), `"{\"a\":"`, false},
		{"json two values", event.JSON(`1 2`), `"1 2"`, false},
		{"json empty", event.JSON(``), `""`, false},
		{"json raw newline in string", event.JSON("\"a\nb\""), `"\"a\nb\""`, false},

		{"array empty", event.Array(nil), `[]`, true},
		{"array ints", event.Array([]event.Value{event.Int(1), event.Int(-2)}), `[1,-2]`, true},
		{"array nested with nulls", event.Array([]event.Value{
			event.Array([]event.Value{event.String("a"), event.Null()}),
			event.Null(),
			event.Array([]event.Value{event.Array(nil), event.Bool(true)}),
		}), `[["a",null],null,[[],true]]`, true},
		{"array of other kinds", event.Array([]event.Value{event.Date(0), event.Decimal("1.50")}), `["1970-01-01","1.50"]`, false},

		{"text", event.Text("(1,2),(3,4)"), `"(1,2),(3,4)"`, true},
		{"text interval", event.Text("1 year 2 mons"), `"1 year 2 mons"`, true},
	}
}

func TestValueAppendJSON(t *testing.T) {
	for _, tt := range valueCases() {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.v.AppendJSON([]byte("prefix:"))
			if string(got) != "prefix:"+tt.want {
				t.Fatalf("%s.AppendJSON = %s, want %s", tt.v.Kind(), got[len("prefix:"):], tt.want)
			}
			if !json.Valid(got[len("prefix:"):]) {
				t.Fatalf("%s is not valid JSON", got)
			}
		})
	}
}

// TestValueRoundTrip decodes every value with its kind from a schema and
// expects the value back.
func TestValueRoundTrip(t *testing.T) {
	for _, tt := range valueCases() {
		if !tt.roundTrip {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			kind := tt.v.Kind()
			if kind == event.KindNull {
				kind = event.KindInt // NULL decodes as NULL for every kind
			}
			got := roundTripValue(t, tt.v, kind)
			if !got.Equal(tt.v) {
				t.Fatalf("decoded %s %s, want %s", got.Kind(), got.AppendJSON(nil), tt.want)
			}
		})
	}
}

// roundTripValue encodes v as column "c" of an event and decodes it back
// with a schema that gives "c" the kind k.
func roundTripValue(t testing.TB, v event.Value, k event.Kind) event.Value {
	t.Helper()
	schema := &event.TableSchema{
		Table:   event.TableID{Namespace: "s", Name: "t"},
		Columns: []event.Column{{Name: "c", Kind: k}},
		Version: 1,
	}
	e := event.Event{
		Op: event.OpInsert, Table: schema.Table, Schema: schema,
		After:  event.Row{{Name: "c", Value: v}},
		Source: &event.SourceInfo{ServerID: "1"},
	}
	data := e.AppendJSON(nil)
	if !json.Valid(data) {
		t.Fatalf("invalid JSON: %s", data)
	}
	d, err := event.DecodeJSON(data, schema)
	if err != nil {
		t.Fatalf("DecodeJSON(%s): %v", data, err)
	}
	got, ok := d.After.Get("c")
	if !ok || len(d.After) != 1 {
		t.Fatalf("DecodeJSON(%s): after = %v", data, d.After)
	}
	return got
}

// TestValueDecodeByJSONType decodes values without a schema.
func TestValueDecodeByJSONType(t *testing.T) {
	tests := []struct {
		json string
		want event.Value
	}{
		{`null`, event.Null()},
		{`true`, event.Bool(true)},
		{`0`, event.Int(0)},
		{`-0`, event.Int(0)},
		{`-9223372036854775808`, event.Int(math.MinInt64)},
		{`9223372036854775807`, event.Int(math.MaxInt64)},
		{`9223372036854775808`, event.Uint(1 << 63)},
		{`18446744073709551615`, event.Uint(math.MaxUint64)},
		{`18446744073709551616`, event.Decimal("18446744073709551616")},
		{`-9223372036854775809`, event.Decimal("-9223372036854775809")},
		{`1.5`, event.Float(1.5)},
		{`1e+21`, event.Float(1e21)},
		{`1e21`, event.Decimal("1000000000000000000000")}, // not how a float renders: kept exact
		{`1.50`, event.Decimal("1.50")},
		{`0.1000000000000000000001`, event.Decimal("0.1000000000000000000001")},
		{`"text"`, event.String("text")},
		{`"NaN"`, event.String("NaN")},
		{`[1,"a",[null]]`, event.Array([]event.Value{event.Int(1), event.String("a"), event.Array([]event.Value{event.Null()})})},
		{`[]`, event.Array(nil)},
		{`{"a": [1, 2]}`, event.JSON(`{"a":[1,2]}`)},
	}
	for _, tt := range tests {
		data := `{"v":1,"id":":0000000000000001/00000000","op":"c","source":{"pos":"0000000000000001/00000000"},"after":{"c":` + tt.json + `}}`
		e, err := event.DecodeJSON([]byte(data), nil)
		if err != nil {
			t.Errorf("DecodeJSON(%s): %v", tt.json, err)
			continue
		}
		if got, _ := e.After.Get("c"); !got.Equal(tt.want) {
			t.Errorf("DecodeJSON(%s) = %s %s, want %s %s", tt.json, got.Kind(), got.AppendJSON(nil), tt.want.Kind(), tt.want.AppendJSON(nil))
		}
	}
}

// goldenEvent is the example event of docs/events.md.
func goldenEvent() (event.Event, *event.TableSchema) {
	schema := &event.TableSchema{
		Table: event.TableID{Namespace: "public", Name: "orders"},
		Columns: []event.Column{
			{Name: "id", Type: "bigint", Kind: event.KindInt, Key: true},
			{Name: "customer", Type: "text", Kind: event.KindString, Nullable: true},
			{Name: "total", Type: "numeric(10,2)", Kind: event.KindDecimal},
			{Name: "placed_at", Type: "timestamp with time zone", Kind: event.KindTimestamp},
			{Name: "paid", Type: "boolean", Kind: event.KindBool},
			{Name: "items", Type: "jsonb", Kind: event.KindJSON},
			{Name: "note", Type: "text", Kind: event.KindString, Nullable: true},
			{Name: "doc", Type: "bytea", Kind: event.KindBytes, Nullable: true},
		},
		Version: 3,
	}
	e := event.Event{
		Op:     event.OpUpdate,
		Table:  schema.Table,
		Schema: schema,
		Key:    event.Row{{Name: "id", Value: event.Int(42)}},
		Before: event.Row{
			{Name: "id", Value: event.Int(42)},
			{Name: "customer", Value: event.String("Ada")},
			{Name: "total", Value: event.Decimal("19.90")},
			{Name: "placed_at", Value: event.Timestamp(micros(2026, 1, 2, 3, 0, 0, 0))},
			{Name: "paid", Value: event.Bool(false)},
			{Name: "items", Value: event.JSON(`[{"sku":"A-1","qty":2}]`)},
			{Name: "note", Value: event.Null()},
		},
		After: event.Row{
			{Name: "id", Value: event.Int(42)},
			{Name: "customer", Value: event.String("Ada \"the first\" Lovelace")},
			{Name: "total", Value: event.Decimal("19.90")},
			{Name: "placed_at", Value: event.Timestamp(micros(2026, 1, 2, 3, 0, 0, 0))},
			{Name: "paid", Value: event.Bool(true)},
			{Name: "items", Value: event.JSON(`[{"sku":"A-1","qty":2}]`)},
			{Name: "note", Value: event.Null()},
		},
		Unchanged: []string{"doc"},
		Pos:       event.Position{Commit: 0x1A2B3C4D, Index: 3},
		Tx: event.TxInfo{
			ID:         "771",
			CommitTime: time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC), // nanoseconds are truncated
			Index:      3,
		},
		Source: &event.SourceInfo{Kind: "postgres", ServerID: "7301234567890123456", DB: "shop", Pipeline: "orders-to-kafka"},
	}
	return e, schema
}

const goldenJSON = `{"v":1,"id":"7301234567890123456:000000001A2B3C4D/00000003","op":"u",` +
	`"source":{"kind":"postgres","pipeline":"orders-to-kafka","db":"shop","namespace":"public","table":"orders",` +
	`"pos":"000000001A2B3C4D/00000003","txid":"771","commit_ts":"2026-01-02T03:04:05.123456Z"},` +
	`"schema_version":3,"key":{"id":42},` +
	`"before":{"id":42,"customer":"Ada","total":"19.90","placed_at":"2026-01-02T03:00:00.000000Z","paid":false,"items":[{"sku":"A-1","qty":2}],"note":null},` +
	`"after":{"id":42,"customer":"Ada \"the first\" Lovelace","total":"19.90","placed_at":"2026-01-02T03:00:00.000000Z","paid":true,"items":[{"sku":"A-1","qty":2}],"note":null},` +
	`"unchanged":["doc"]}`

func TestEventAppendJSONGolden(t *testing.T) {
	e, _ := goldenEvent()
	got := e.AppendJSON(nil)
	if string(got) != goldenJSON {
		t.Fatalf("AppendJSON:\n got %s\nwant %s", got, goldenJSON)
	}
	if !json.Valid(got) {
		t.Fatal("golden event is not valid JSON")
	}
	// The docs show the same event.
	doc, err := readDoc()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc, string(got)) {
		t.Errorf("docs/events.md does not contain the golden event line %s", got)
	}
}

func readDoc() (string, error) {
	b, err := os.ReadFile("../docs/events.md")
	return string(b), err
}

func TestEventAppendJSONShapes(t *testing.T) {
	src := &event.SourceInfo{Kind: "mysql", ServerID: "3e11fa47-71ca-11e1-9e33-c80aa9429562", DB: "shop", Pipeline: "p"}
	pos := event.Position{Commit: 0x0000000300000400, Index: 0}
	const head = `{"v":1,"id":"3e11fa47-71ca-11e1-9e33-c80aa9429562:0000000300000400/00000000",`
	const source = `"source":{"kind":"mysql","pipeline":"p","db":"shop","namespace":"shop","table":"t","pos":"0000000300000400/00000000","txid":"3e11fa47-71ca-11e1-9e33-c80aa9429562:23","commit_ts":"2026-01-02T03:04:05.000000Z"}`
	tx := event.TxInfo{ID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23", CommitTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	table := event.TableID{Namespace: "shop", Name: "t"}
	schema := &event.TableSchema{Table: table, Version: 1, Columns: []event.Column{{Name: "id", Kind: event.KindUint, Key: true}}}
	tests := []struct {
		name string
		e    event.Event
		want string
	}{
		{"insert", event.Event{Op: event.OpInsert, Table: table, Schema: schema, Pos: pos, Tx: tx, Source: src,
			Key: event.Row{{Name: "id", Value: event.Uint(7)}}, After: event.Row{{Name: "id", Value: event.Uint(7)}}},
			head + `"op":"c",` + source + `,"schema_version":1,"key":{"id":7},"before":null,"after":{"id":7},"unchanged":[]}`},
		{"delete", event.Event{Op: event.OpDelete, Table: table, Schema: schema, Pos: pos, Tx: tx, Source: src,
			Key: event.Row{{Name: "id", Value: event.Uint(7)}}, Before: event.Row{{Name: "id", Value: event.Uint(7)}}},
			head + `"op":"d",` + source + `,"schema_version":1,"key":{"id":7},"before":{"id":7},"after":null,"unchanged":[]}`},
		{"truncate", event.Event{Op: event.OpTruncate, Table: table, Schema: schema, Pos: pos, Tx: tx, Source: src},
			head + `"op":"t",` + source + `,"schema_version":1,"key":null,"before":null,"after":null,"unchanged":[]}`},
		{"snapshot read, routed", event.Event{Op: event.OpRead, Table: table, Schema: schema, Pos: pos, Tx: tx, Source: src,
			Key: event.Row{{Name: "id", Value: event.Uint(7)}}, After: event.Row{{Name: "id", Value: event.Uint(7)}}, Topic: "cdc.orders"},
			head + `"op":"r",` + source + `,"schema_version":1,"key":{"id":7},"before":null,"after":{"id":7},"unchanged":[],"topic":"cdc.orders"}`},
		{"message", event.Event{Op: event.OpMessage, Table: table, Pos: pos, Tx: tx, Source: src,
			Message: &event.Message{Prefix: "outbox", Content: []byte(`{"x":1}`), Transactional: true}},
			head + `"op":"m",` + source + `,"schema_version":0,"key":null,"before":null,"after":null,"unchanged":[],"message":{"prefix":"outbox","content":"eyJ4IjoxfQ==","transactional":true}}`},
		{"message without payload", event.Event{Op: event.OpMessage, Table: table, Pos: pos, Tx: tx, Source: src, Topic: "x"},
			head + `"op":"m",` + source + `,"schema_version":0,"key":null,"before":null,"after":null,"unchanged":[],"message":null,"topic":"x"}`},
		{"empty rows and several unchanged", event.Event{Op: event.OpUpdate, Table: table, Schema: schema, Pos: pos, Tx: tx, Source: src,
			Key: event.Row{}, After: event.Row{}, Unchanged: []string{"a", "b\"c"}},
			head + `"op":"u",` + source + `,"schema_version":1,"key":{},"before":null,"after":{},"unchanged":["a","b\"c"]}`},
		{"zero event", event.Event{},
			`{"v":1,"id":":0000000000000000/00000000","op":"Op(0)","source":{"kind":"","pipeline":"","db":"","namespace":"","table":"","pos":"0000000000000000/00000000","txid":"","commit_ts":null},"schema_version":0,"key":null,"before":null,"after":null,"unchanged":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.e.AppendJSON(nil)
			if string(got) != tt.want {
				t.Fatalf("AppendJSON:\n got %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Fatal("not valid JSON")
			}
			if tt.e.Op == 0 {
				return
			}
			s := tt.e.Schema
			d, err := event.DecodeJSON(got, s)
			if err != nil {
				t.Fatalf("DecodeJSON: %v", err)
			}
			assertEventsEqual(t, d, tt.e)
		})
	}
}

// TestStringEscapeAtEveryOffset moves each kind of special byte through
// the 8-byte blocks the escaper tests at once, comparing with encoding/json.
func TestStringEscapeAtEveryOffset(t *testing.T) {
	for _, special := range []string{"\x00", "\x1f", "\"", "\\", "é", "\xff", "\u2028", "\x7f", " ", "~"} {
		for pos := 0; pos < 24; pos++ {
			s := strings.Repeat("a", pos) + special + strings.Repeat("b", 17)
			want, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := event.String(s).AppendJSON(nil); !bytes.Equal(got, want) {
				t.Fatalf("String(%q) = %s, want %s", s, got, want)
			}
		}
	}
}

func TestRowAppendJSON(t *testing.T) {
	if got := event.Row(nil).AppendJSON(nil); string(got) != "null" {
		t.Errorf("nil row = %s", got)
	}
	if got := (event.Row{}).AppendJSON(nil); string(got) != "{}" {
		t.Errorf("empty row = %s", got)
	}
	r := event.Row{{Name: "b", Value: event.Int(1)}, {Name: "a\n", Value: event.Null()}, {Name: "b", Value: event.String("x")}}
	if got := r.AppendJSON(nil); string(got) != `{"b":1,"a\n":null,"b":"x"}` {
		t.Errorf("row = %s", got)
	}
}

// assertEventsEqual compares everything the native encoding carries.
func assertEventsEqual(t testing.TB, got, want event.Event) {
	t.Helper()
	a, b := got.AppendJSON(nil), want.AppendJSON(nil)
	if !bytes.Equal(a, b) {
		t.Errorf("re-encoded event differs:\n got %s\nwant %s", a, b)
	}
	switch {
	case got.Op != want.Op, got.Table != want.Table, got.Pos != want.Pos, got.Topic != want.Topic:
		t.Errorf("op/table/pos/topic: got %s %s %s %q, want %s %s %s %q", got.Op, got.Table, got.Pos, got.Topic, want.Op, want.Table, want.Pos, want.Topic)
	case !got.Key.Equal(want.Key) || (got.Key == nil) != (want.Key == nil):
		t.Errorf("key: got %v, want %v", got.Key, want.Key)
	case !got.Before.Equal(want.Before) || (got.Before == nil) != (want.Before == nil):
		t.Errorf("before: got %v, want %v", got.Before, want.Before)
	case !got.After.Equal(want.After) || (got.After == nil) != (want.After == nil):
		t.Errorf("after: got %v, want %v", got.After, want.After)
	case strings.Join(got.Unchanged, ",") != strings.Join(want.Unchanged, ","):
		t.Errorf("unchanged: got %q, want %q", got.Unchanged, want.Unchanged)
	case got.Tx.ID != want.Tx.ID || !got.Tx.CommitTime.Equal(want.Tx.CommitTime.Truncate(time.Microsecond)) || got.Tx.Index != want.Pos.Index:
		t.Errorf("tx: got %+v, want %+v", got.Tx, want.Tx)
	case got.Source == nil || want.Source != nil && *got.Source != *want.Source:
		t.Errorf("source: got %+v, want %+v", got.Source, want.Source)
	case got.Schema != want.Schema:
		t.Errorf("schema: got %p, want %p", got.Schema, want.Schema)
	case (got.Message == nil) != (want.Message == nil):
		t.Errorf("message: got %+v, want %+v", got.Message, want.Message)
	case got.Message != nil && (got.Message.Prefix != want.Message.Prefix || !bytes.Equal(got.Message.Content, want.Message.Content) || got.Message.Transactional != want.Message.Transactional):
		t.Errorf("message: got %+v, want %+v", got.Message, want.Message)
	}
}

func TestEventRoundTrip(t *testing.T) {
	e, schema := goldenEvent()
	d, err := event.DecodeJSON([]byte(goldenJSON), schema)
	if err != nil {
		t.Fatal(err)
	}
	assertEventsEqual(t, d, e)

	// Without a schema the values decode by JSON type, and the event has no schema.
	d, err = event.DecodeJSON([]byte(goldenJSON), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Schema != nil {
		t.Errorf("schema = %v, want nil", d.Schema)
	}
	if v, _ := d.After.Get("total"); !v.Equal(event.String("19.90")) {
		t.Errorf("after.total without schema = %s %s", v.Kind(), v.AppendJSON(nil))
	}
	if !bytes.Equal(d.AppendJSON(nil), []byte(strings.Replace(goldenJSON, `"schema_version":3`, `"schema_version":0`, 1))) {
		t.Errorf("re-encoding without schema: %s", d.AppendJSON(nil))
	}
}

// TestEventRoundTripEveryKind puts one value of every kind in a row.
func TestEventRoundTripEveryKind(t *testing.T) {
	schema := &event.TableSchema{Table: event.TableID{Namespace: "n", Name: "all"}, Version: 9}
	var row event.Row
	for i, tt := range valueCases() {
		if !tt.roundTrip || tt.v.Kind() == event.KindNull {
			continue
		}
		name := "c" + string(rune('a'+i%26)) + strings.Repeat("x", i/26)
		schema.Columns = append(schema.Columns, event.Column{Name: name, Kind: tt.v.Kind()})
		row = append(row, event.Field{Name: name, Value: tt.v})
	}
	e := event.Event{Op: event.OpRead, Table: schema.Table, Schema: schema, After: row, Key: row[:1],
		Pos: event.Position{Commit: math.MaxUint64, Index: 0xFFFFFFFE}, Source: &event.SourceInfo{ServerID: "a:b"}}
	data := e.AppendJSON(nil)
	if !json.Valid(data) {
		t.Fatalf("not valid JSON: %s", data)
	}
	d, err := event.DecodeJSON(data, schema)
	if err != nil {
		t.Fatal(err)
	}
	assertEventsEqual(t, d, e)
	if d.Source.ServerID != "a:b" {
		t.Errorf("server id %q, want a:b", d.Source.ServerID)
	}
}

func TestDecodeJSONAcceptsWhitespaceOrderAndUnknownKeys(t *testing.T) {
	data := " {\n \"future\": {\"x\": [1, {\"y\": null}]}, \"after\" : { \"id\" : 1 } ,\"op\":\"insert\",\n" +
		" \"source\": {\"pos\": \"0000000000000010/00000002\", \"commit_ts\": null, \"extra\": 1},\n" +
		" \"id\": \"srv:0000000000000010/00000002\", \"v\": 1, \"topic\": \"t\\u00e9\"}\n"
	e, err := event.DecodeJSON([]byte(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	if e.Op != event.OpInsert || e.Pos != (event.Position{Commit: 16, Index: 2}) || e.Source.ServerID != "srv" ||
		e.Topic != "té" || !e.Tx.CommitTime.IsZero() || len(e.After) != 1 {
		t.Fatalf("decoded %+v", e)
	}
}

func TestDecodeJSONStrings(t *testing.T) {
	tests := []struct{ json, want string }{
		{`"plain"`, "plain"},
		{`"\"\\\/\b\f\n\r\t"`, "\"\\/\b\f\n\r\t"},
		{`"\u00e9\u6771\ud83d\ude00"`, "é東😀"},
		{`"\ud83d"`, "\ufffd"},        // lone high surrogate
		{`"\ude00x"`, "\ufffdx"},      // lone low surrogate
		{`"\ud83d\u0041"`, "\ufffdA"}, // high surrogate then not a low one
		{"\"a\xffb\"", "a\ufffdb"},
		{`"\u2028"`, "\u2028"},
	}
	for _, tt := range tests {
		data := `{"v":1,"id":":0000000000000001/00000000","op":"c","source":{"pos":"0000000000000001/00000000"},"after":{"c":` + tt.json + `}}`
		e, err := event.DecodeJSON([]byte(data), nil)
		if err != nil {
			t.Errorf("DecodeJSON(%s): %v", tt.json, err)
			continue
		}
		if got, _ := e.After.Get("c"); got.Str() != tt.want {
			t.Errorf("DecodeJSON(%s) = %q, want %q", tt.json, got.Str(), tt.want)
		}
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	schema := &event.TableSchema{
		Table:   event.TableID{Namespace: "s", Name: "t"},
		Version: 2,
		Columns: []event.Column{
			{Name: "i", Kind: event.KindInt}, {Name: "u", Kind: event.KindUint}, {Name: "f", Kind: event.KindFloat},
			{Name: "d", Kind: event.KindDecimal}, {Name: "b", Kind: event.KindBytes}, {Name: "ts", Kind: event.KindTimestamp},
			{Name: "dt", Kind: event.KindDateTime}, {Name: "da", Kind: event.KindDate}, {Name: "tm", Kind: event.KindTime},
			{Name: "j", Kind: event.KindJSON}, {Name: "a", Kind: event.KindArray}, {Name: "bo", Kind: event.KindBool},
		},
	}
	const pos = "0000000000000001/00000000"
	ok := `{"v":1,"id":"x:` + pos + `","op":"c","source":{"namespace":"s","table":"t","pos":"` + pos + `"},"schema_version":2,"after":{%s}}`
	with := func(after string) string { return strings.Replace(ok, "%s", after, 1) }
	if _, err := event.DecodeJSON([]byte(with(`"i":1`)), schema); err != nil {
		t.Fatalf("the base case must decode: %v", err)
	}
	tests := []struct {
		name, data, path string
	}{
		{"empty", ``, ""},
		{"not an object", `[]`, ""},
		{"truncated", with(`"i":1`)[:40], "id"},
		{"trailing data", with(`"i":1`) + `{}`, ""},
		{"trailing NUL", with(`"i":1`) + "\x00", ""},
		{"missing v", strings.Replace(with(`"i":1`), `"v":1,`, ``, 1), "v"},
		{"v as string", strings.Replace(with(`"i":1`), `"v":1`, `"v":"1"`, 1), "v"},
		{"missing id", strings.Replace(with(`"i":1`), `"id":"x:`+pos+`",`, ``, 1), "id"},
		{"id without position", strings.Replace(with(`"i":1`), `"id":"x:`+pos+`"`, `"id":"x"`, 1), "id"},
		{"id of another position", strings.Replace(with(`"i":1`), `"id":"x:`+pos+`"`, `"id":"x:0000000000000002/00000000"`, 1), "id"},
		{"bad op", strings.Replace(with(`"i":1`), `"op":"c"`, `"op":"x"`, 1), "op"},
		{"bad pos", strings.Replace(with(`"i":1`), `"pos":"`+pos+`"`, `"pos":"1/2"`, 1), "source.pos"},
		{"bad commit_ts", strings.Replace(with(`"i":1`), `"pos":`, `"commit_ts":"2026-01-02","pos":`, 1), "source.commit_ts"},
		{"infinite commit_ts", strings.Replace(with(`"i":1`), `"pos":`, `"commit_ts":"infinity","pos":`, 1), "source.commit_ts"},
		{"schema version differs", strings.Replace(with(`"i":1`), `"schema_version":2`, `"schema_version":3`, 1), "schema_version"},
		{"table differs", strings.Replace(with(`"i":1`), `"table":"t"`, `"table":"u"`, 1), "source.table"},
		{"bad unchanged", strings.Replace(with(`"i":1`), `}}`, `},"unchanged":[1]}`, 1), "unchanged"},
		{"bad message content", strings.Replace(with(`"i":1`), `}}`, `},"message":{"content":"!"}}`, 1), "message.content"},
		{"int fraction", with(`"i":1.5`), "after.i"},
		{"int exponent", with(`"i":1e3`), "after.i"},
		{"int too big", with(`"i":9223372036854775808`), "after.i"},
		{"int as string", with(`"i":"1"`), "after.i"},
		{"uint negative", with(`"u":-1`), "after.u"},
		{"uint too big", with(`"u":18446744073709551616`), "after.u"},
		{"float out of range", with(`"f":1e400`), "after.f"},
		{"float bad string", with(`"f":"nan"`), "after.f"},
		{"decimal not a number", with(`"d":"12,5"`), "after.d"},
		{"bytes not base64", with(`"b":"%%%"`), "after.b"},
		{"bytes unpadded", with(`"b":"YQ"`), "after.b"},
		{"timestamp without Z", with(`"ts":"2026-01-02T03:04:05.000000"`), "after.ts"},
		{"timestamp short fraction", with(`"ts":"2026-01-02T03:04:05.123Z"`), "after.ts"},
		{"timestamp hour 24", with(`"ts":"2026-01-02T24:00:00.000000Z"`), "after.ts"},
		{"timestamp February 30", with(`"ts":"2026-02-30T00:00:00.000000Z"`), "after.ts"},
		{"timestamp 2023 leap day", with(`"ts":"2023-02-29T00:00:00.000000Z"`), "after.ts"},
		{"timestamp five-digit year", with(`"ts":"10000-01-01T00:00:00.000000Z"`), "after.ts"},
		{"timestamp out of range", with(`"ts":"+294247-01-10T04:00:54.775807Z"`), "after.ts"}, // would be the infinity marker
		{"timestamp far out of range", with(`"ts":"+999999-01-01T00:00:00.000000Z"`), "after.ts"},
		{"datetime with Z", with(`"dt":"2026-01-02T03:04:05.000000Z"`), "after.dt"},
		{"date with time", with(`"da":"2026-01-02T00:00:00.000000"`), "after.da"},
		{"date month 13", with(`"da":"2026-13-01"`), "after.da"},
		{"date out of range", with(`"da":"+99999999999999999-01-01"`), "after.da"},
		{"time minutes 60", with(`"tm":"00:60:00.000000"`), "after.tm"},
		{"time one hour digit", with(`"tm":"1:00:00.000000"`), "after.tm"},
		{"time out of range", with(`"tm":"2562047788:00:54.775808"`), "after.tm"},
		{"json invalid", with(`"j":{"a":}`), "after.j"},
		{"array not an array", with(`"a":1`), "after.a"},
		{"bool as number", with(`"bo":1`), "after.bo"},
		{"untyped bad literal", with(`"zz":nul`), "after.zz"},
		{"untyped bad number", with(`"zz":01`), "after"}, // "0" is a number, then '1' is unexpected
		{"untyped huge exponent", with(`"zz":1e999999999`), "after.zz"},
		{"untyped deep array", with(`"zz":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000)), "after.zz"},
		{"control character in string", with("\"zz\":\"a\x01\""), "after.zz"},
		{"bad escape", with(`"zz":"\x"`), "after.zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := event.DecodeJSON([]byte(tt.data), schema)
			var je *event.JSONError
			if !errors.As(err, &je) {
				t.Fatalf("DecodeJSON(%s) = %v, want a *JSONError", tt.data, err)
			}
			if je.Path != tt.path {
				t.Errorf("DecodeJSON(%s): path %q, want %q (%v)", tt.data, je.Path, tt.path, err)
			}
			if je.Offset < 0 || je.Offset > len(tt.data) {
				t.Errorf("offset %d out of the input", je.Offset)
			}
		})
	}
}

func TestDecodeJSONUnsupportedVersion(t *testing.T) {
	data := strings.Replace(goldenJSON, `"v":1`, `"v":2`, 1)
	_, err := event.DecodeJSON([]byte(data), nil)
	if !errors.Is(err, event.ErrUnsupportedVersion) {
		t.Fatalf("DecodeJSON(v 2) = %v, want ErrUnsupportedVersion", err)
	}
}

// TestTimestampsAgreeWithTime checks the manual calendar formatting against
// package time over a spread of instants, including before 1970.
func TestTimestampsAgreeWithTime(t *testing.T) {
	for i, us := 0, int64(-62135596800000000); us < 253402300800000000; i, us = i+1, us+9876543219873 {
		got := event.Timestamp(us).AppendJSON(nil)
		want := `"` + time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.000000Z") + `"`
		if string(got) != want {
			t.Fatalf("Timestamp(%d) = %s, want %s", us, got, want)
		}
		if i%16 != 0 {
			continue
		}
		if back := roundTripValue(t, event.Timestamp(us), event.KindTimestamp); back.Micros() != us {
			t.Fatalf("Timestamp(%d) decoded as %d", us, back.Micros())
		}
	}
}

func TestEventAppendJSONDoesNotAllocate(t *testing.T) {
	e := benchEvent()
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = e.AppendJSON(buf[:0]) }); n != 0 {
		t.Fatalf("Event.AppendJSON allocated %v times per event", n)
	}
}
