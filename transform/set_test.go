package transform_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

func TestSetConstantsAndExpressions(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeSet, Set: map[string]string{
		"tenant":     "eu-1",
		"updated_by": "=source.pipeline",
		"qty":        "=after.qty * 2",
		"status":     "=after.status.upperAscii()",
		"total":      "0.00",
		"day_text":   "=string(after.day)",
		"flag":       "=after.paid && op == 'c'",
	}})
	e := insert(1, "new")
	e.Unchanged = []string{"total"}
	apply(t, c, &e)
	for name, want := range map[string]event.Value{
		"tenant":     event.String("eu-1"),
		"updated_by": event.String("orders-pipe"),
		"qty":        event.Int(6),
		"status":     event.String("NEW"),
		"total":      event.Decimal("0.00"),
		"day_text":   event.String("2026-01-02"),
		"flag":       event.Bool(true),
	} {
		if got := value(t, e.After, name); !got.Equal(want) {
			t.Errorf("%s = %v %q, want %v %q", name, got.Kind(), got.Str(), want.Kind(), want.Str())
		}
	}
	if slices.Contains(e.Unchanged, "total") {
		t.Error("a set column is still listed as unchanged")
	}
	// New columns are appended to the schema, nullable, of the value's kind.
	want := append(schemaNames(ordersSchema), "day_text", "flag", "tenant", "updated_by")
	if got := schemaNames(e.Schema); !slices.Equal(got, want) {
		t.Errorf("schema %v, want %v", got, want)
	}
	if col := e.Schema.Column("flag"); col.Kind != event.KindBool || !col.Nullable {
		t.Errorf("flag column is %s nullable=%v", col.Kind, col.Nullable)
	}
	// Deletes have no after row: only the schema changes.
	d := del(1)
	apply(t, c, &d)
	if d.After != nil || d.Schema != e.Schema {
		t.Errorf("delete after=%v, schema %p want %p", d.After, d.Schema, e.Schema)
	}
}

func TestSetExpressionsSeeTheOriginalRow(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeSet, Set: map[string]string{"a_status": "=string(after.status)", "status": "changed"}})
	e := insert(1, "new")
	apply(t, c, &e)
	if got := value(t, e.After, "a_status").Str(); got != "new" {
		t.Errorf("a_status = %q, want the status before set changed it", got)
	}
}

func TestSetErrors(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeSet, Line: 3, Set: map[string]string{"id": "5"}})
	e := insert(1, "x")
	err := applyErr(c, &e)
	wantSpecError(t, err, 3, "values.id", "id is a key column of public.orders and cannot be set")
	if !errors.Is(err, transform.ErrKeyColumn) {
		t.Errorf("%v is not ErrKeyColumn", err)
	}

	c = build(t, transform.Spec{Type: transform.TypeSet, Line: 3, Set: map[string]string{"qty": "many"}})
	e = insert(1, "x")
	wantSpecError(t, applyErr(c, &e), 3, "values.qty", "the constant cannot be stored in column qty of public.orders, of kind int")

	c = build(t, transform.Spec{Type: transform.TypeSet, Line: 3, Set: map[string]string{"qty": "=after.customer + '!'"}})
	e = insert(1, "x")
	wantSpecError(t, applyErr(c, &e), 3, "values.qty", "a string result cannot be stored in column qty of kind int")

	_, err = transform.Build([]transform.Spec{{Type: transform.TypeSet, Line: 3, Set: map[string]string{"x": "=after.tags"}}}, nil)
	wantSpecError(t, err, 3, "values.x", "type dyn", "convert with string(…)")
	_, err = transform.Build([]transform.Spec{{Type: transform.TypeSet, Line: 3, Set: map[string]string{"x": "=[1]"}}}, nil)
	wantSpecError(t, err, 3, "values.x", "type list(int)")
	_, err = transform.Build([]transform.Spec{{Type: transform.TypeSet, Line: 3}}, nil)
	wantSpecError(t, err, 3, "values", "at least one column")
}
