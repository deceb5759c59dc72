package kafka

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// debeziumNow is the processing time of the golden envelopes.
var debeziumNow = time.Date(2026, 3, 4, 5, 6, 7, 890123000, time.UTC)

// debeziumSink returns a sink that encodes, never opened.
func debeziumSink(t *testing.T, schemas bool) *Sink {
	t.Helper()
	s, err := New(Options{Pipeline: "shop", Brokers: []string{"127.0.0.1:1"}, Format: FormatDebezium, Schemas: schemas, Version: "1.2.3",
		now: func() time.Time { return debeziumNow }})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var pgCustomers = &event.TableSchema{
	Table: event.TableID{Namespace: "public", Name: "customers"},
	Columns: []event.Column{
		{Name: "id", Type: "integer", Kind: event.KindInt, Key: true},
		{Name: "name", Type: "text", Kind: event.KindString, Nullable: true},
		{Name: "balance", Type: "numeric(10,2)", Kind: event.KindDecimal, Nullable: true},
		{Name: "created", Type: "timestamp with time zone", Kind: event.KindTimestamp, Nullable: true},
		{Name: "seen", Type: "timestamp without time zone", Kind: event.KindDateTime, Nullable: true},
		{Name: "birthday", Type: "date", Kind: event.KindDate, Nullable: true},
		{Name: "wake", Type: "time without time zone", Kind: event.KindTime, Nullable: true},
		{Name: "tags", Type: "text[]", Kind: event.KindArray, Nullable: true},
		{Name: "scores", Type: "integer[]", Kind: event.KindArray, Nullable: true},
		{Name: "doc", Type: "jsonb", Kind: event.KindJSON, Nullable: true},
		{Name: "raw", Type: "bytea", Kind: event.KindBytes, Nullable: true},
		{Name: "ratio", Type: "double precision", Kind: event.KindFloat, Nullable: true},
		{Name: "vip", Type: "boolean", Kind: event.KindBool, Nullable: true},
		{Name: "span", Type: "interval", Kind: event.KindText, Nullable: true},
	},
	Version: 1,
}

var myOrders = &event.TableSchema{
	Table: event.TableID{Namespace: "shop", Name: "orders"},
	Columns: []event.Column{
		{Name: "id", Type: "bigint unsigned", Kind: event.KindUint, Key: true},
		{Name: "note", Type: "varchar(64)", Kind: event.KindString, Nullable: true},
		{Name: "total", Type: "decimal(12,2)", Kind: event.KindDecimal},
		{Name: "placed", Type: "datetime(6)", Kind: event.KindDateTime},
		{Name: "stamp", Type: "timestamp(3)", Kind: event.KindTimestamp, Nullable: true},
		{Name: "due", Type: "date", Kind: event.KindDate, Nullable: true},
		{Name: "took", Type: "time", Kind: event.KindTime, Nullable: true},
		{Name: "qty", Type: "smallint", Kind: event.KindInt},
	},
	Version: 4,
}

func pgRow(id int64, name string) event.Row {
	return event.Row{
		{Name: "id", Value: event.Int(id)},
		{Name: "name", Value: event.String(name)},
		{Name: "balance", Value: event.Decimal("-12.50")},
		{Name: "created", Value: event.TimestampOf(time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC))},
		{Name: "seen", Value: event.DateTime(1767323045123456)},
		{Name: "birthday", Value: event.Date(20460)},
		{Name: "wake", Value: event.Time(7*3600e6 + 30*60e6)},
		{Name: "tags", Value: event.Array([]event.Value{event.String("a"), event.Null()})},
		{Name: "scores", Value: event.Array([]event.Value{event.Int(1), event.Int(2)})},
		{Name: "doc", Value: event.JSON(`{"a": [1, 2.50]}`)},
		{Name: "raw", Value: event.Bytes([]byte{0, 1, 2, 255})},
		{Name: "ratio", Value: event.Float(0.25)},
		{Name: "vip", Value: event.Bool(true)},
		{Name: "span", Value: event.Text("1 day 02:00:00")},
	}
}

func myRow(id uint64, note string) event.Row {
	return event.Row{
		{Name: "id", Value: event.Uint(id)},
		{Name: "note", Value: event.String(note)},
		{Name: "total", Value: event.Decimal("1299.95")},
		{Name: "placed", Value: event.DateTime(1767323045000000)},
		{Name: "stamp", Value: event.TimestampOf(time.Date(2026, 1, 2, 3, 4, 5, 678000000, time.UTC))},
		{Name: "due", Value: event.Null()},
		{Name: "took", Value: event.Time(-(838*3600e6 + 59*60e6 + 59e6))},
		{Name: "qty", Value: event.Int(3)},
	}
}

// goldenEvents are one event of each kind per source.
func goldenEvents() map[string]event.Event {
	pgSrc := &event.SourceInfo{Kind: "postgres", ServerID: "7301234567890123456", DB: "shopdb", Pipeline: "shop"}
	mySrc := &event.SourceInfo{Kind: "mysql", ServerID: "223344", DB: "shop", Pipeline: "shop"}
	commit := time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)
	pg := func(op event.Op, index uint32, key, before, after event.Row) event.Event {
		return event.Event{Op: op, Table: pgCustomers.Table, Schema: pgCustomers, Key: key, Before: before, After: after,
			Pos: event.Position{Commit: 0x16B3748, Index: index}, Tx: event.TxInfo{ID: "771", CommitTime: commit, Index: index}, Source: pgSrc}
	}
	my := func(op event.Op, index uint32, key, before, after event.Row) event.Event {
		return event.Event{Op: op, Table: myOrders.Table, Schema: myOrders, Key: key, Before: before, After: after,
			Pos: event.Position{Commit: 3<<32 | 484, Index: index}, Tx: event.TxInfo{ID: "3e11fa47-71ca-11e1-9e33-c80aa9429562:23", CommitTime: commit, Index: index}, Source: mySrc}
	}
	pgIns, pgOld, pgNew := pgRow(1, "Ada"), pgRow(1, "Ada"), pgRow(1, "Ada \"the first\"")
	myIns, myOld, myNew := myRow(18446744073709551615, "first"), myRow(18446744073709551615, "first"), myRow(18446744073709551615, "second")
	pgToast := pg(event.OpUpdate, 1, pgNew[:1], nil, slices.Delete(slices.Clone(pgNew), 9, 10))
	pgToast.Unchanged = []string{"doc"}
	snap := pg(event.OpRead, 0, pgIns[:1], nil, pgIns)
	snap.Tx = event.TxInfo{}
	msg := event.Event{Op: event.OpMessage, Pos: event.Position{Commit: 0x16B3748, Index: 5}, Tx: event.TxInfo{ID: "771", CommitTime: commit},
		Source: pgSrc, Message: &event.Message{Prefix: "audit", Content: []byte("hello"), Transactional: true}}
	return map[string]event.Event{
		"postgres-insert":       pg(event.OpInsert, 0, pgIns[:1], nil, pgIns),
		"postgres-update":       pg(event.OpUpdate, 1, pgNew[:1], pgOld, pgNew),
		"postgres-update-toast": pgToast,
		"postgres-delete":       pg(event.OpDelete, 2, pgOld[:1], pgOld, nil),
		"postgres-truncate":     pg(event.OpTruncate, 3, nil, nil, nil),
		"postgres-snapshot":     snap,
		"postgres-message":      msg,
		"mysql-insert":          my(event.OpInsert, 0, myIns[:1], nil, myIns),
		"mysql-update":          my(event.OpUpdate, 1, myNew[:1], myOld, myNew),
		"mysql-delete":          my(event.OpDelete, 2, myOld[:1], myOld, nil),
		"mysql-truncate":        my(event.OpTruncate, 3, nil, nil, nil),
	}
}

// envelope encodes e's Debezium key and value as one indented document.
func envelope(t *testing.T, s *Sink, e *event.Event) []byte {
	t.Helper()
	key, hasKey := s.appendDebeziumKey(nil, e)
	value := s.appendDebezium(nil, e)
	if !json.Valid(value) || hasKey && !json.Valid(key) {
		t.Fatalf("invalid JSON:\nkey %s\nvalue %s", key, value)
	}
	if !hasKey {
		key = []byte("null")
	}
	var out bytes.Buffer
	doc := fmt.Sprintf(`{"key":%s,"value":%s}`, key, value)
	if err := json.Indent(&out, []byte(doc), "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "debezium", name+".json")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

func TestDebeziumGolden(t *testing.T) {
	s := debeziumSink(t, false)
	for name, e := range goldenEvents() {
		t.Run(name, func(t *testing.T) { golden(t, name, envelope(t, s, &e)) })
	}
	withSchemas := debeziumSink(t, true)
	for _, name := range []string{"postgres-insert", "mysql-update", "postgres-message"} {
		e := goldenEvents()[name]
		t.Run(name+"-schemas", func(t *testing.T) { golden(t, name+"-schemas", envelope(t, withSchemas, &e)) })
	}
}

// TestDebeziumEnvelopeFields checks the envelopes field by field against
// Debezium's documented change event structure (PostgreSQL and MySQL
// connector docs, "Change event values" and "source metadata").
func TestDebeziumEnvelopeFields(t *testing.T) {
	s := debeziumSink(t, false)
	nowMs := debeziumNow.UnixMilli()
	commitMs := time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC).UnixMilli()
	for name, e := range goldenEvents() {
		t.Run(name, func(t *testing.T) {
			var v map[string]any
			dec := json.NewDecoder(bytes.NewReader(s.appendDebezium(nil, &e)))
			dec.UseNumber()
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			num := func(x any) int64 {
				n, err := x.(json.Number).Int64()
				if err != nil {
					t.Fatalf("%v is not an integer", x)
				}
				return n
			}
			src := v["source"].(map[string]any)
			if v["op"] != string(byte(e.Op)) {
				t.Errorf("op = %v", v["op"])
			}
			if num(v["ts_ms"]) != nowMs || num(v["ts_us"]) != debeziumNow.UnixMicro() || num(v["ts_ns"]) != debeziumNow.UnixMicro()*1000 {
				t.Errorf("ts_ms/us/ns = %v %v %v, want the processing time", v["ts_ms"], v["ts_us"], v["ts_ns"])
			}
			common := []string{"version", "connector", "name", "ts_ms", "snapshot", "db", "sequence", "ts_us", "ts_ns", "table"}
			var specific []string
			if e.Source.Kind == "postgres" {
				specific = []string{"schema", "txId", "lsn", "xmin"}
				if src["connector"] != "postgresql" {
					t.Errorf("connector %v", src["connector"])
				}
			} else {
				specific = []string{"server_id", "gtid", "file", "pos", "row", "thread", "query"}
				if src["connector"] != "mysql" {
					t.Errorf("connector %v", src["connector"])
				}
			}
			for _, f := range append(common, specific...) {
				if _, ok := src[f]; !ok {
					t.Errorf("source.%s missing", f)
				}
			}
			if len(src) != len(common)+len(specific) {
				t.Errorf("source has extra fields: %v", src)
			}
			if src["version"] != "cdcd-1.2.3" || src["name"] != "shop" || src["db"] != e.Source.DB {
				t.Errorf("source version/name/db: %v %v %v", src["version"], src["name"], src["db"])
			}
			wantSnap := "false"
			wantTs := commitMs
			if e.Op == event.OpRead {
				wantSnap, wantTs = "true", nowMs
			}
			if src["snapshot"] != wantSnap || num(src["ts_ms"]) != wantTs {
				t.Errorf("source.snapshot %v ts_ms %v, want %s %d", src["snapshot"], src["ts_ms"], wantSnap, wantTs)
			}
			if e.Op == event.OpMessage {
				m := v["message"].(map[string]any)
				if m["prefix"] != "audit" || m["content"] != "aGVsbG8=" {
					t.Errorf("message %v", m)
				}
				return
			}
			for _, f := range []string{"before", "after", "transaction"} {
				if _, ok := v[f]; !ok {
					t.Errorf("%s missing", f)
				}
			}
			if v["transaction"] != nil {
				t.Errorf("transaction = %v, want null", v["transaction"])
			}
			if (v["before"] == nil) != (e.Before == nil) || (v["after"] == nil) != (e.After == nil) {
				t.Errorf("before/after presence: %v %v", v["before"], v["after"])
			}
			if e.Source.Kind == "postgres" {
				if src["schema"] != e.Table.Namespace || src["table"] != e.Table.Name || num(src["lsn"]) != int64(e.Pos.Commit) {
					t.Errorf("source schema/table/lsn %v %v %v", src["schema"], src["table"], src["lsn"])
				}
				if e.Tx.ID != "" && num(src["txId"]) != 771 || e.Tx.ID == "" && src["txId"] != nil {
					t.Errorf("txId %v", src["txId"])
				}
			} else {
				if src["table"] != "orders" || num(src["server_id"]) != 223344 || src["gtid"] != e.Tx.ID ||
					src["file"] != "000003" || num(src["pos"]) != 484 || num(src["row"]) != int64(e.Pos.Index) {
					t.Errorf("mysql source %v", src)
				}
			}
			if e.After != nil {
				after := v["after"].(map[string]any)
				if e.Source.Kind == "postgres" {
					// Debezium's encodings: Date = days, MicroTimestamp and
					// MicroTime = µs, ZonedTimestamp = ISO string, Json =
					// string; decimals as decimal.handling.mode=string.
					checks := map[string]string{
						"birthday": "20460", "seen": "1767323045123456", "wake": "27000000000",
						"created": "2026-01-02T03:04:05.123456Z", "balance": "-12.50", "raw": "AAEC/w==",
					}
					for col, want := range checks {
						if got := fmt.Sprint(after[col]); got != want {
							t.Errorf("after.%s = %v, want %s", col, got, want)
						}
					}
					if name == "postgres-update-toast" {
						if after["doc"] != unavailablePlaceholder {
							t.Errorf("unchanged TOAST column: %v", after["doc"])
						}
					} else if after["doc"] != `{"a": [1, 2.50]}` {
						t.Errorf("json column: %#v", after["doc"])
					}
				} else if fmt.Sprint(after["id"]) != "18446744073709551615" || fmt.Sprint(after["took"]) != "-3020399000000" || after["due"] != nil {
					t.Errorf("mysql after %v", after)
				}
			}
		})
	}
}

// TestDebeziumSchemasDescribePayloads checks that with Schemas every
// payload conforms to its Kafka Connect schema, as JsonConverter requires.
func TestDebeziumSchemasDescribePayloads(t *testing.T) {
	s := debeziumSink(t, true)
	for name, e := range goldenEvents() {
		t.Run(name, func(t *testing.T) {
			key, hasKey := s.appendDebeziumKey(nil, &e)
			docs := [][]byte{s.appendDebezium(nil, &e)}
			if hasKey {
				docs = append(docs, key)
			}
			for _, doc := range docs {
				var v struct {
					Schema  map[string]any `json:"schema"`
					Payload any            `json:"payload"`
				}
				dec := json.NewDecoder(bytes.NewReader(doc))
				dec.UseNumber()
				if err := dec.Decode(&v); err != nil {
					t.Fatalf("%v: %s", err, doc)
				}
				if err := conforms(v.Schema, v.Payload, "$"); err != nil {
					t.Errorf("%v\n%s", err, doc)
				}
			}
		})
	}
}

// conforms checks a JsonConverter payload against its schema.
func conforms(schema map[string]any, v any, path string) error {
	if v == nil {
		if schema["optional"] != true {
			return fmt.Errorf("%s: null for a required %v", path, schema["type"])
		}
		return nil
	}
	switch typ := schema["type"]; typ {
	case "struct":
		obj, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %T for a struct", path, v)
		}
		names := map[string]bool{}
		for _, f := range schema["fields"].([]any) {
			fs := f.(map[string]any)
			name := fs["field"].(string)
			names[name] = true
			if err := conforms(fs, obj[name], path+"."+name); err != nil {
				return err
			}
		}
		for k := range obj {
			if !names[k] {
				return fmt.Errorf("%s.%s: not in the schema", path, k)
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%s: %T for an array", path, v)
		}
		for i, x := range arr {
			if err := conforms(schema["items"].(map[string]any), x, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case "int16", "int32", "int64":
		if _, ok := v.(json.Number); !ok || strings.ContainsAny(v.(json.Number).String(), ".eE") {
			return fmt.Errorf("%s: %v for an %s", path, v, typ)
		}
	case "float32", "float64":
		if _, ok := v.(json.Number); !ok {
			return fmt.Errorf("%s: %v for a %s", path, v, typ)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Errorf("%s: %v for a boolean", path, v)
		}
	case "string", "bytes":
		if _, ok := v.(string); !ok {
			return fmt.Errorf("%s: %v for a %s", path, v, typ)
		}
	default:
		return fmt.Errorf("%s: unknown schema type %v", path, typ)
	}
	return nil
}

// TestDebeziumRecordsInKafka checks the Debezium format end to end: the
// key is the key struct, the value the envelope, the headers as native.
func TestDebeziumRecordsInKafka(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	opts.Format = FormatDebezium
	s, _, _ := open(t, opts)
	b := txn(1, 2)
	write(t, s, b)
	flush(t, s)
	got := readTopic(t, k, opts.Pipeline+".public.t", true)
	if len(got) != 2 {
		t.Fatalf("%d records", len(got))
	}
	for i, r := range got {
		var v map[string]any
		if err := json.Unmarshal([]byte(r.Value), &v); err != nil {
			t.Fatal(err)
		}
		if r.Key != fmt.Sprintf(`{"id":%d}`, 1000+i) || v["op"] != "c" || v["before"] != nil || r.Headers[headerID] != b.Events[i].ID() {
			t.Errorf("record %d: key %s value %s headers %v", i, r.Key, r.Value, r.Headers)
		}
	}
}
