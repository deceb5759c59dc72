package transform_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

// ordersSchema is public.orders: id (key), customer, email, status,
// total, qty, big, ratio, paid, placed_at, doc, blob, day, tags.
var ordersSchema = &event.TableSchema{
	Table: event.TableID{Namespace: "public", Name: "orders"},
	Columns: []event.Column{
		{Name: "id", Type: "bigint", Kind: event.KindInt, Key: true},
		{Name: "customer", Type: "text", Kind: event.KindString},
		{Name: "email", Type: "varchar(100)", Kind: event.KindString, Nullable: true},
		{Name: "status", Type: "text", Kind: event.KindString},
		{Name: "total", Type: "numeric(10,2)", Kind: event.KindDecimal},
		{Name: "qty", Type: "integer", Kind: event.KindInt},
		{Name: "big", Type: "bigint unsigned", Kind: event.KindUint},
		{Name: "ratio", Type: "double precision", Kind: event.KindFloat},
		{Name: "paid", Type: "boolean", Kind: event.KindBool},
		{Name: "placed_at", Type: "timestamptz", Kind: event.KindTimestamp},
		{Name: "doc", Type: "jsonb", Kind: event.KindJSON, Nullable: true},
		{Name: "blob", Type: "bytea", Kind: event.KindBytes, Nullable: true},
		{Name: "day", Type: "date", Kind: event.KindDate},
		{Name: "tags", Type: "text[]", Kind: event.KindArray, Nullable: true},
	},
	Version: 3,
}

var testSource = &event.SourceInfo{Kind: "postgres", ServerID: "42", DB: "shop", Pipeline: "orders-pipe"}

var placedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// orderRow is a full row of public.orders with id and status.
func orderRow(id int64, status string) event.Row {
	return event.Row{
		{Name: "id", Value: event.Int(id)},
		{Name: "customer", Value: event.String("Ada")},
		{Name: "email", Value: event.String("ada@example.com")},
		{Name: "status", Value: event.String(status)},
		{Name: "total", Value: event.Decimal("19.90")},
		{Name: "qty", Value: event.Int(3)},
		{Name: "big", Value: event.Uint(18446744073709551615)},
		{Name: "ratio", Value: event.Float(0.25)},
		{Name: "paid", Value: event.Bool(true)},
		{Name: "placed_at", Value: event.TimestampOf(placedAt)},
		{Name: "doc", Value: event.JSON(`{"a":{"b":[1,2]},"s":"x"}`)},
		{Name: "blob", Value: event.Bytes([]byte{0, 1, 2})},
		{Name: "day", Value: event.Date(event.DaysFromCivil(2026, 1, 2))},
		{Name: "tags", Value: event.Array([]event.Value{event.String("new"), event.String("vip")})},
	}
}

// insert returns an insert into public.orders.
func insert(id int64, status string) event.Event {
	return event.Event{
		Op: event.OpInsert, Table: ordersSchema.Table, Schema: ordersSchema,
		Key:    event.Row{{Name: "id", Value: event.Int(id)}},
		After:  orderRow(id, status),
		Pos:    event.Position{Commit: 0x1000, Index: uint32(id)},
		Source: testSource,
	}
}

// update returns an update of public.orders from one status to another.
func update(id int64, from, to string) event.Event {
	e := insert(id, to)
	e.Op = event.OpUpdate
	e.Before = orderRow(id, from)
	return e
}

// del returns a delete from public.orders (before is the key only).
func del(id int64) event.Event {
	return event.Event{
		Op: event.OpDelete, Table: ordersSchema.Table, Schema: ordersSchema,
		Key:    event.Row{{Name: "id", Value: event.Int(id)}},
		Before: event.Row{{Name: "id", Value: event.Int(id)}},
		Pos:    event.Position{Commit: 0x1000, Index: uint32(id)},
		Source: testSource,
	}
}

// build builds specs, failing the test on error.
func build(t *testing.T, specs ...transform.Spec) transform.Chain {
	t.Helper()
	c, err := transform.Build(specs, nil)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return c
}

// apply runs the chain over one event and returns whether it was kept.
func apply(t *testing.T, c transform.Chain, e *event.Event) bool {
	t.Helper()
	for _, tr := range c {
		keep, err := tr.Apply(e)
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		if !keep {
			return false
		}
	}
	return true
}

// applyErr runs the chain over one event and returns its error.
func applyErr(c transform.Chain, e *event.Event) error {
	b := event.Batch{Events: []event.Event{*e}}
	return c.ApplyBatch(&b)
}

// wantSpecError checks that err is a *SpecError at file:line with index
// and key, whose message holds every fragment in want.
func wantSpecError(t *testing.T, err error, line int, key string, want ...string) *transform.SpecError {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one at line %d", line)
	}
	var se *transform.SpecError
	if !errors.As(err, &se) {
		t.Fatalf("error %q (%T) is not a *SpecError", err, err)
	}
	if se.Line != line || se.Key != key {
		t.Errorf("error at line %d key %q, want line %d key %q: %v", se.Line, se.Key, line, key, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	return se
}

// value returns the value of column name in r, failing if absent.
func value(t *testing.T, r event.Row, name string) event.Value {
	t.Helper()
	v, ok := r.Get(name)
	if !ok {
		t.Fatalf("row has no column %s: %v", name, names(r))
	}
	return v
}

// names returns the column names of r.
func names(r event.Row) []string {
	var out []string
	for _, f := range r {
		out = append(out, f.Name)
	}
	return out
}

// schemaNames returns the column names of s.
func schemaNames(s *event.TableSchema) []string {
	var out []string
	for _, c := range s.Columns {
		out = append(out, c.Name)
	}
	return out
}
