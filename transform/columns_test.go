package transform_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

func TestDropColumns(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeDropColumns, Tables: []string{"public.orders"}, Columns: []string{"email", "doc"}})
	e := update(1, "a", "b")
	e.Unchanged = []string{"doc", "blob"}
	apply(t, c, &e)
	for _, r := range []event.Row{e.Before, e.After} {
		if _, ok := r.Get("email"); ok {
			t.Errorf("email still in row %v", names(r))
		}
		if len(r) != 12 {
			t.Errorf("row has %d columns, want 12: %v", len(r), names(r))
		}
	}
	if !slices.Equal(e.Unchanged, []string{"blob"}) {
		t.Errorf("unchanged = %v, want [blob]", e.Unchanged)
	}
	if e.Schema == ordersSchema || e.Schema.Column("email") != nil || e.Schema.Column("doc") != nil || len(e.Schema.Columns) != 12 {
		t.Errorf("schema columns %v, want the original without email and doc", schemaNames(e.Schema))
	}
	if len(ordersSchema.Columns) != 14 {
		t.Fatal("the input schema was modified")
	}
	if e.Schema.Version != ordersSchema.Version || e.Schema.Table != ordersSchema.Table {
		t.Errorf("schema version/table changed: %d %s", e.Schema.Version, e.Schema.Table)
	}
	// The derived schema is shared by every event of the same input schema.
	e2 := insert(2, "x")
	apply(t, c, &e2)
	if e2.Schema != e.Schema {
		t.Error("two events of one schema version got different derived schemas")
	}
}

func TestIncludeColumnsKeepsKeyColumns(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeIncludeColumns, Columns: []string{"status", "total"}})
	e := insert(1, "x")
	apply(t, c, &e)
	if got := names(e.After); !slices.Equal(got, []string{"id", "status", "total"}) {
		t.Errorf("after = %v, want [id status total]", got)
	}
	if got := schemaNames(e.Schema); !slices.Equal(got, []string{"id", "status", "total"}) {
		t.Errorf("schema = %v, want [id status total]", got)
	}
	if got := names(e.Key); !slices.Equal(got, []string{"id"}) {
		t.Errorf("key = %v, want [id]", got)
	}
	// Without a schema, the key row says which columns are keys.
	e = insert(1, "x")
	e.Schema = nil
	apply(t, c, &e)
	if got := names(e.After); !slices.Equal(got, []string{"id", "status", "total"}) {
		t.Errorf("schemaless after = %v, want [id status total]", got)
	}
}

func TestDropKeyColumnFailsOnFirstEvent(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeDropColumns, File: "p.yaml", Line: 12, Columns: []string{"note", "id"}})
	e := insert(1, "x")
	err := applyErr(c, &e)
	wantSpecError(t, err, 12, "columns[1]", "p.yaml:12", "id is a key column of public.orders")
	if !errors.Is(err, transform.ErrKeyColumn) {
		t.Errorf("%v is not ErrKeyColumn", err)
	}
	e.Schema = nil
	wantSpecError(t, applyErr(c, &e), 12, "columns[1]", "id is a key column")
}

func TestColumnsBuildErrors(t *testing.T) {
	_, err := transform.Build([]transform.Spec{{Type: transform.TypeDropColumns, Line: 3}}, nil)
	wantSpecError(t, err, 3, "columns", "at least one column")
	_, err = transform.Build([]transform.Spec{{Type: transform.TypeDropColumns, Line: 3, Columns: []string{"a", "a"}}}, nil)
	wantSpecError(t, err, 3, "columns[1]", "listed twice")
	_, err = transform.Build([]transform.Spec{{Type: transform.TypeDropColumns, Line: 3, Tables: []string{"orders"}, Columns: []string{"a"}}}, nil)
	wantSpecError(t, err, 3, "", `"orders" is not a "namespace.table" pattern`)
}
