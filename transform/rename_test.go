package transform_test

import (
	"slices"
	"testing"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

func TestRenameTableAndColumns(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeRename, Tables: []string{"public.orders"}, To: "crm.purchases",
		RenameColumns: map[string]string{"id": "order_id", "doc": "document"}})
	e := update(1, "a", "b")
	e.Unchanged = []string{"doc"}
	apply(t, c, &e)
	want := event.TableID{Namespace: "crm", Name: "purchases"}
	if e.Table != want || e.Schema.Table != want {
		t.Errorf("table %s, schema table %s, want %s", e.Table, e.Schema.Table, want)
	}
	for name, r := range map[string]event.Row{"key": e.Key, "before": e.Before, "after": e.After} {
		if _, ok := r.Get("order_id"); !ok {
			t.Errorf("%s lacks order_id: %v", name, names(r))
		}
		if _, ok := r.Get("id"); ok {
			t.Errorf("%s still has id", name)
		}
	}
	if !slices.Equal(e.Unchanged, []string{"document"}) {
		t.Errorf("unchanged = %v", e.Unchanged)
	}
	if col := e.Schema.Column("order_id"); col == nil || !col.Key {
		t.Errorf("schema lacks the key column order_id: %v", schemaNames(e.Schema))
	}
	if ordersSchema.Column("id") == nil || ordersSchema.Table.Name != "orders" {
		t.Fatal("the input schema was modified")
	}
}

func TestRenameToANameKeepsTheNamespace(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeRename, Tables: []string{"*.orders"}, To: "purchases"})
	e := insert(1, "x")
	e.Table.Namespace = "eu"
	apply(t, c, &e)
	if want := (event.TableID{Namespace: "eu", Name: "purchases"}); e.Table != want {
		t.Errorf("table %s, want %s", e.Table, want)
	}
}

func TestRenameColumnCollision(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeRename, Line: 6, RenameColumns: map[string]string{"email": "status"}})
	e := insert(1, "x")
	wantSpecError(t, applyErr(c, &e), 6, "rename_columns.email", "renaming email to status in public.orders collides with column status")
	// Swapping names is fine.
	c = build(t, transform.Spec{Type: transform.TypeRename, RenameColumns: map[string]string{"email": "status", "status": "email"}})
	e = insert(1, "x")
	apply(t, c, &e)
	if value(t, e.After, "email").Str() != "x" || value(t, e.After, "status").Str() != "ada@example.com" {
		t.Errorf("swap gave %v", e.After)
	}
}

func TestRenameBuildErrors(t *testing.T) {
	for _, tt := range []struct {
		spec      transform.Spec
		key, want string
	}{
		{transform.Spec{}, "", "a rename needs to"},
		{transform.Spec{To: "a.b"}, "tables", "needs the tables it renames"},
		{transform.Spec{Tables: []string{"a.b"}, To: "a.b.c"}, "to", "not a table name"},
		{transform.Spec{Tables: []string{"a.b"}, To: "a.*"}, "to", "not a table name"},
		{transform.Spec{RenameColumns: map[string]string{"a": "c", "b": "c"}}, "rename_columns.b", `renames to "c", as a does`},
	} {
		tt.spec.Type, tt.spec.Line = transform.TypeRename, 2
		_, err := transform.Build([]transform.Spec{tt.spec}, nil)
		wantSpecError(t, err, 2, tt.key, tt.want)
	}
}
