package transform_test

import (
	"testing"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

// TestDocExamples runs the examples of docs/transforms.md.
func TestDocExamples(t *testing.T) {
	c := build(t,
		transform.Spec{Type: transform.TypeSet, Tables: []string{"public.*"}, Set: map[string]string{
			"tenant": "eu-1", "updated_by": "=source.pipeline",
			"total_cents": "=int(double(after.total) * 100.0)", "email_domain": "=after.email.split('@')[1]",
			"literal": "='=x'"}},
		transform.Spec{Type: transform.TypeRoute, Topic: "='orders.' + (double(after.total) > 1000.0 ? 'large' : 'small')"},
		transform.Spec{Type: transform.TypeFilter, Where: "after.n != null ? int(after.n) > 3 : true"},
		transform.Spec{Type: transform.TypeFilter, Where: "!(table in ['public.audit_log', 'public.sessions'])"},
		transform.Spec{Type: transform.TypeFilter, Tables: []string{"public.*"}, Where: "op != 'd' && double(after.total) > 100.0"},
	)
	s := *ordersSchema
	s.Columns = append(append([]event.Column(nil), ordersSchema.Columns...), event.Column{Name: "n", Kind: event.KindString, Nullable: true})
	e := insert(1, "x")
	e.Schema = &s
	e.After[4].Value = event.Decimal("190.50")
	if !apply(t, c, &e) {
		t.Fatal("dropped")
	}
	for name, want := range map[string]event.Value{
		"tenant": event.String("eu-1"), "updated_by": event.String("orders-pipe"),
		"total_cents": event.Int(19050), "email_domain": event.String("example.com"), "literal": event.String("=x"),
	} {
		if got := value(t, e.After, name); !got.Equal(want) {
			t.Errorf("%s = %v %q, want %q", name, got.Kind(), got.Str(), want.Str())
		}
	}
	if e.Topic != "orders.small" {
		t.Errorf("topic %q", e.Topic)
	}
}
