package transform_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

var outboxSchema = &event.TableSchema{
	Table: event.TableID{Namespace: "public", Name: "outbox"},
	Columns: []event.Column{
		{Name: "id", Type: "uuid", Kind: event.KindString, Key: true},
		{Name: "aggregatetype", Type: "text", Kind: event.KindString},
		{Name: "aggregateid", Type: "text", Kind: event.KindString},
		{Name: "type", Type: "text", Kind: event.KindString},
		{Name: "payload", Type: "jsonb", Kind: event.KindJSON, Nullable: true},
	},
	Version: 1,
}

func outboxEvent(op event.Op, payload event.Value) event.Event {
	row := event.Row{
		{Name: "id", Value: event.String("4d47e190-0402-4048-bc2c-89dd54343cdc")},
		{Name: "aggregatetype", Value: event.String("Order")},
		{Name: "aggregateid", Value: event.String("1")},
		{Name: "type", Value: event.String("OrderCreated")},
		{Name: "payload", Value: payload},
	}
	e := event.Event{Op: op, Table: outboxSchema.Table, Schema: outboxSchema, Source: testSource,
		Key: event.Row{row[0]}, Pos: event.Position{Commit: 9, Index: 0}}
	switch op {
	case event.OpDelete:
		e.Before = event.Row{row[0]}
	case event.OpUpdate:
		e.Before, e.After = row, row
	default:
		e.After = row
	}
	return e
}

func TestOutboxRoutesInsertsLikeDebezium(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeOutbox, Tables: []string{"public.outbox"}})
	e := outboxEvent(event.OpInsert, event.JSON(`{"id":1,"lineItems":[]}`))
	if !apply(t, c, &e) {
		t.Fatal("insert dropped")
	}
	if e.Op != event.OpMessage || e.Topic != "outbox.event.Order" {
		t.Errorf("op %s topic %q, want m outbox.event.Order", e.Op, e.Topic)
	}
	if len(e.Key) != 1 || e.Key[0].Name != "aggregateid" || e.Key[0].Value.Str() != "1" {
		t.Errorf("key %v, want aggregateid 1", e.Key)
	}
	if m := e.Message; m == nil || string(m.Content) != `{"id":1,"lineItems":[]}` ||
		m.Prefix != "4d47e190-0402-4048-bc2c-89dd54343cdc" || !m.Transactional {
		t.Errorf("message %+v", e.Message)
	}
	if e.Schema != nil || e.After != nil || e.Before != nil {
		t.Error("schema and rows left on the message")
	}
	// The native encoding carries it all.
	js := string(e.AppendJSON(nil))
	for _, want := range []string{`"op":"m"`, `"key":{"aggregateid":"1"}`, `"topic":"outbox.event.Order"`, `"prefix":"4d47e190-`} {
		if !strings.Contains(js, want) {
			t.Errorf("JSON %s lacks %s", js, want)
		}
	}
}

func TestOutboxDropsDeletesAndWarnsOnUpdates(t *testing.T) {
	var logs bytes.Buffer
	c, err := transform.Build([]transform.Spec{{Type: transform.TypeOutbox, Tables: []string{"public.outbox"}}},
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	b := event.Batch{Events: []event.Event{
		outboxEvent(event.OpInsert, event.JSON(`{}`)),
		outboxEvent(event.OpDelete, event.Null()),
		outboxEvent(event.OpUpdate, event.JSON(`{"secret":1}`)),
		outboxEvent(event.OpRead, event.JSON(`{}`)),
		{Op: event.OpTruncate, Table: outboxSchema.Table, Schema: outboxSchema},
		insert(1, "x"),
	}, Checkpoint: event.Checkpoint{Pos: event.TxEnd(9)}}
	if err := c.ApplyBatch(&b); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range b.Events {
		ops = append(ops, e.Op.String())
	}
	if got := strings.Join(ops, ","); got != "m,m,c" {
		t.Errorf("ops %s, want m,m,c (insert, snapshot read, other table)", got)
	}
	if !strings.Contains(logs.String(), "update of an outbox row ignored") {
		t.Errorf("no warning for the update: %q", logs.String())
	}
	if strings.Contains(logs.String(), "secret") {
		t.Errorf("warning shows the row: %q", logs.String())
	}
}

func TestOutboxCustomColumnsAndTopic(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeOutbox, Tables: []string{"public.outbox"},
		Topic:  "{pipeline}.{routed_by}.events",
		Outbox: transform.OutboxColumns{ID: "type", Key: "id", Payload: "payload", RouteBy: "type"}})
	e := outboxEvent(event.OpInsert, event.Null())
	apply(t, c, &e)
	if e.Topic != "orders-pipe.OrderCreated.events" {
		t.Errorf("topic %q", e.Topic)
	}
	if e.Key[0].Name != "id" || e.Message.Prefix != "OrderCreated" || e.Message.Content != nil {
		t.Errorf("key %v message %+v; want key id, prefix OrderCreated, nil content for a NULL payload", e.Key, e.Message)
	}
}

func TestOutboxErrors(t *testing.T) {
	_, err := transform.Build([]transform.Spec{{Type: transform.TypeOutbox, Line: 2}}, nil)
	wantSpecError(t, err, 2, "tables", "needs the outbox tables")
	_, err = transform.Build([]transform.Spec{{Type: transform.TypeOutbox, Line: 2, Tables: []string{"a.b"}, Topic: "x.{aggregate}"}}, nil)
	wantSpecError(t, err, 2, "topic", "unknown placeholder {aggregate}")

	c := build(t, transform.Spec{Type: transform.TypeOutbox, Line: 2, Tables: []string{"public.outbox"}})
	e := outboxEvent(event.OpInsert, event.JSON(`{}`))
	e.After[1].Value = event.Null()
	wantSpecError(t, applyErr(c, &e), 2, "", "the routing column aggregatetype of public.outbox is missing or null")

	c = build(t, transform.Spec{Type: transform.TypeOutbox, Line: 2, Tables: []string{"public.outbox"}, Outbox: transform.OutboxColumns{Payload: "body"}})
	e = outboxEvent(event.OpInsert, event.JSON(`{}`))
	wantSpecError(t, applyErr(c, &e), 2, "", "public.outbox has no payload column body")
}
