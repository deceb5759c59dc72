package transform_test

import (
	"testing"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

func TestRouteTemplate(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeRoute, Tables: []string{"public.*"}, Topic: "{pipeline}.{db}.{namespace}.{table}.{op}"})
	for _, tt := range []struct {
		e    event.Event
		want string
	}{
		{insert(1, "x"), "orders-pipe.shop.public.orders.c"},
		{del(1), "orders-pipe.shop.public.orders.d"},
		{insert(2, "x"), "orders-pipe.shop.public.orders.c"},
	} {
		apply(t, c, &tt.e)
		if tt.e.Topic != tt.want {
			t.Errorf("topic %q, want %q", tt.e.Topic, tt.want)
		}
	}
	other := insert(1, "x")
	other.Table.Namespace = "audit"
	apply(t, c, &other)
	if other.Topic != "" {
		t.Errorf("an event of audit.orders was routed to %q", other.Topic)
	}
}

func TestRouteAfterRenameSeesTheNewName(t *testing.T) {
	c := build(t,
		transform.Spec{Type: transform.TypeRename, Tables: []string{"public.orders"}, To: "sales.orders"},
		transform.Spec{Type: transform.TypeRoute, Topic: "cdc.{namespace}.{table}"},
	)
	e := insert(1, "x")
	apply(t, c, &e)
	if e.Topic != "cdc.sales.orders" {
		t.Errorf("topic %q, want cdc.sales.orders", e.Topic)
	}
}

func TestRouteExpression(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeRoute, Topic: "='orders.' + (after.qty > 2 ? 'bulk' : 'retail')"})
	e := insert(1, "x")
	apply(t, c, &e)
	if e.Topic != "orders.bulk" {
		t.Errorf("topic %q, want orders.bulk", e.Topic)
	}
	// An empty result leaves the topic alone.
	c = build(t, transform.Spec{Type: transform.TypeRoute, Topic: "=op == 'd' ? 'gone' : ''"})
	e = insert(1, "x")
	e.Topic = "before"
	apply(t, c, &e)
	if e.Topic != "before" {
		t.Errorf("topic %q, want it unchanged", e.Topic)
	}
}

func TestRouteBuildErrors(t *testing.T) {
	for _, tt := range []struct{ topic, want string }{
		{"", "must not be empty"},
		{"cdc.{schema}", "unknown placeholder {schema}"},
		{"cdc.{routed_by}", "unknown placeholder {routed_by}"},
		{"cdc.{table", "'{' without '}'"},
		{"cdc.table}", "'}' without '{'"},
		{"=after.customer", ""},
		{"=1 + 1", "the expression is of type int; a topic is a string"},
	} {
		_, err := transform.Build([]transform.Spec{{Type: transform.TypeRoute, Line: 4, Topic: tt.topic}}, nil)
		if tt.want == "" {
			if err != nil { // dyn: checked at run time
				t.Errorf("%q: %v", tt.topic, err)
			}
			continue
		}
		wantSpecError(t, err, 4, "topic", tt.want)
	}
}
