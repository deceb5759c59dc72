package transform_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

func TestChainRunsInOrderAndKeepsTheCheckpoint(t *testing.T) {
	c := build(t,
		transform.Spec{Type: transform.TypeFilter, Where: "after.status != 'draft'"},
		transform.Spec{Type: transform.TypeSet, Set: map[string]string{"seen": "=string(after.status)"}},
		transform.Spec{Type: transform.TypeRename, Tables: []string{"public.orders"}, To: "sales.orders"},
		// Runs after the rename: matches the new name only.
		transform.Spec{Type: transform.TypeFilter, Tables: []string{"public.orders"}, Where: "false"},
	)
	cp := event.Checkpoint{Pos: event.TxEnd(0x1000), State: []byte("s")}
	b := event.Batch{Events: []event.Event{insert(1, "a"), insert(2, "draft"), insert(3, "b"), insert(4, "draft")},
		Checkpoint: cp, Final: true}
	if err := c.ApplyBatch(&b); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range b.Events {
		ids = append(ids, value(t, e.After, "id").Int())
		if e.Table.Namespace != "sales" || value(t, e.After, "seen").Str() != value(t, e.After, "status").Str() {
			t.Errorf("event %d not fully transformed", ids[len(ids)-1])
		}
	}
	if len(ids) != 2 || ids[0] != 1 || ids[1] != 3 {
		t.Errorf("kept ids %v, want [1 3] in order", ids)
	}
	if b.Checkpoint.Pos != cp.Pos || string(b.Checkpoint.State) != "s" || !b.Final {
		t.Errorf("checkpoint changed: %+v final=%v", b.Checkpoint, b.Final)
	}
}

func TestChainDroppingEverythingStillCheckpoints(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeFilter, Ops: []event.Op{event.OpDelete}})
	b := event.Batch{Events: []event.Event{insert(1, "a"), insert(2, "b")}, Checkpoint: event.Checkpoint{Pos: event.TxEnd(7)}, Final: true}
	if err := c.ApplyBatch(&b); err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 0 || b.Checkpoint.Pos != event.TxEnd(7) || !b.Final {
		t.Errorf("batch %d events, checkpoint %v: want an empty batch that still checkpoints", len(b.Events), b.Checkpoint.Pos)
	}
}

func TestBuildReportsEveryFaultySpec(t *testing.T) {
	_, err := transform.Build([]transform.Spec{
		{Type: transform.TypeFilter, File: "p.yaml", Line: 5, Where: "after.x =="},
		{Type: transform.TypeDropColumns, File: "p.yaml", Line: 6, Columns: []string{"a"}},
		{Type: "flter", File: "p.yaml", Line: 7},
	}, nil)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"p.yaml:5: transforms[0].where: filter: ", `p.yaml:7: transforms[2].type: unknown transform type "flter"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, "p.yaml:6") {
		t.Errorf("error %q blames the valid spec", msg)
	}
	if !errors.Is(err, transform.ErrUnknownType) {
		t.Errorf("%v is not ErrUnknownType", err)
	}
}

func TestCheckSchema(t *testing.T) {
	tests := []struct {
		name string
		spec transform.Spec
		want string
		is   error
	}{
		{"unknown column of an exact table", transform.Spec{Type: transform.TypeDropColumns, Tables: []string{"public.orders"}, Columns: []string{"pasword"}},
			"transforms[1].columns[0]: drop_columns: unknown column: public.orders has no column pasword", transform.ErrUnknownColumn},
		{"unknown column through a glob is fine", transform.Spec{Type: transform.TypeDropColumns, Tables: []string{"public.*"}, Columns: []string{"pasword"}}, "", nil},
		{"key column", transform.Spec{Type: transform.TypeDropColumns, Columns: []string{"id"}}, "id is a key column", transform.ErrKeyColumn},
		{"mask of an unknown column", transform.Spec{Type: transform.TypeMask, Tables: []string{"public.orders"}, Columns: []string{"mail"}, Method: transform.MaskNull}, "has no column mail", transform.ErrUnknownColumn},
		{"rename of an unknown column", transform.Spec{Type: transform.TypeRename, Tables: []string{"public.orders"}, RenameColumns: map[string]string{"mail": "m"}}, "has no column mail", transform.ErrUnknownColumn},
		{"set of a key column", transform.Spec{Type: transform.TypeSet, Set: map[string]string{"id": "1"}}, "id is a key column of public.orders and cannot be set", transform.ErrKeyColumn},
		{"checks use earlier renames", transform.Spec{Type: transform.TypeDropColumns, Tables: []string{"public.orders"}, Columns: []string{"status"}}, "has no column status", transform.ErrUnknownColumn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first := transform.Spec{Type: transform.TypeRename, RenameColumns: map[string]string{"customer": "client"}}
			if tt.name == "checks use earlier renames" {
				first.RenameColumns = map[string]string{"status": "state"}
			}
			c := build(t, first, tt.spec)
			err := c.CheckSchema(ordersSchema)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, tt.is) {
				t.Errorf("CheckSchema = %v, want %q (%v)", err, tt.want, tt.is)
			}
		})
	}
}
