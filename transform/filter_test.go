package transform_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

func TestFilterExpressionSeesTheEvent(t *testing.T) {
	upd := update(7, "draft", "paid")
	msg := event.Event{Op: event.OpMessage, Source: testSource, Message: &event.Message{Prefix: "p"}}
	tests := []struct {
		where string
		e     event.Event
		keep  bool
	}{
		// op, table, namespace, source
		{`op == 'c'`, insert(1, "new"), true},
		{`op == 'c'`, upd, false},
		{`op in ['u', 'd']`, upd, true},
		{`table == 'public.orders'`, insert(1, "new"), true},
		{`source.namespace == 'public' && source.table == 'orders' && table.endsWith('.orders')`, insert(1, "new"), true},
		{`source.pipeline == 'orders-pipe' && source.kind == 'postgres' && source.db == 'shop'`, insert(1, "new"), true},
		// after, by kind
		{`after.status != 'draft'`, insert(1, "draft"), false},
		{`after.status != 'draft'`, insert(1, "new"), true},
		{`after.id == 1`, insert(1, "new"), true},
		{`after.qty > 2 && after.qty < 4`, insert(1, "new"), true},
		{`after.big == 18446744073709551615u`, insert(1, "new"), true},
		{`after.ratio == 0.25`, insert(1, "new"), true},
		{`after.paid`, insert(1, "new"), true},
		{`after.total == '19.90'`, insert(1, "new"), true},
		{`after.placed_at == timestamp('2026-01-02T03:04:05Z')`, insert(1, "new"), true},
		{`after.placed_at.getFullYear() == 2026`, insert(1, "new"), true},
		{`after.doc.a.b[1] == 2.0 && after.doc.s == 'x'`, insert(1, "new"), true},
		{`after.blob == b'\x00\x01\x02'`, insert(1, "new"), true},
		{`after.day == '2026-01-02'`, insert(1, "new"), true},
		{`'vip' in after.tags`, insert(1, "new"), true},
		{`after.customer.lowerAscii() == 'ada'`, insert(1, "new"), true},
		// before and key
		{`before.status == 'draft' && after.status == 'paid'`, upd, true},
		{`key.id == 7`, upd, true},
		// presence: has() and 'in' test the row; a column the row lacks
		// but the schema has reads as null.
		{`has(after.status)`, del(3), false},
		{`!has(after.status) && after.status == null`, del(3), true},
		{`'status' in before`, del(3), false},
		{`before.status == null`, del(3), true},
		{`after.status != 'draft'`, del(3), true},
		{`size(after) == 14`, insert(1, "new"), true},
		{`after.exists(c, c == 'email')`, insert(1, "new"), true},
		{`after['status'] == 'new' && after.all(c, c == 'email' || after[c] != 'ada@example.com')`, insert(1, "new"), true},
		// without a schema (messages) every column reads as null
		{`op == 'm' && after.anything == null`, msg, true},
		// null drops, like SQL's WHERE
		{`after.status`, del(3), false},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			c := build(t, transform.Spec{Type: transform.TypeFilter, Where: tt.where})
			e := tt.e
			if got := apply(t, c, &e); got != tt.keep {
				t.Errorf("keep = %v, want %v", got, tt.keep)
			}
		})
	}
}

func TestFilterOps(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeFilter, Ops: []event.Op{event.OpInsert, event.OpUpdate}})
	for _, tt := range []struct {
		e    event.Event
		keep bool
	}{{insert(1, "x"), true}, {update(1, "x", "y"), true}, {del(1), false}} {
		if got := apply(t, c, &tt.e); got != tt.keep {
			t.Errorf("%s: keep = %v, want %v", tt.e.Op.Name(), got, tt.keep)
		}
	}
}

func TestFilterOpsAndWhereBothHold(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeFilter, Ops: []event.Op{event.OpUpdate}, Where: "after.status == 'paid'"})
	for _, tt := range []struct {
		e    event.Event
		keep bool
	}{{insert(1, "paid"), false}, {update(1, "x", "paid"), true}, {update(1, "paid", "x"), false}} {
		if got := apply(t, c, &tt.e); got != tt.keep {
			t.Errorf("%s to %v: keep = %v, want %v", tt.e.Op.Name(), value(t, tt.e.After, "status"), got, tt.keep)
		}
	}
}

func TestFilterLeavesOtherTablesAlone(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeFilter, Tables: []string{"public.cust*"}, Where: "false"})
	e := insert(1, "x")
	if !apply(t, c, &e) {
		t.Error("an event of public.orders was dropped by a filter of public.cust*")
	}
	e.Table.Name = "customers"
	if apply(t, c, &e) {
		t.Error("an event of public.customers was kept by where: false")
	}
}

func TestFilterBuildErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		where string
		want  string
	}{
		{`aftr.status == 'x'`, "undeclared reference to 'aftr'"},
		{`after.status ==`, "Syntax error"},
		{`op + 'x'`, "the expression is of type string; a filter needs a bool"},
		{`source.pipeline > 1`, "no matching overload"},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			_, err := transform.Build([]transform.Spec{
				{Type: transform.TypeFilter, Ops: []event.Op{event.OpInsert}},
				{Type: transform.TypeFilter, File: "p.yaml", Line: 9, Where: tt.where},
			}, nil)
			se := wantSpecError(t, err, 9, "where", "p.yaml:9: transforms[1].where: filter: ", tt.want)
			if se.Index != 1 {
				t.Errorf("index %d, want 1", se.Index)
			}
		})
	}
}

func TestFilterEvalErrorsHideValues(t *testing.T) {
	tests := []struct {
		where string
		want  string
	}{
		{`after.statos == 'x'`, "no such column statos in public.orders"},
		{`int(after.email) > 0`, "type conversion error from string to int"},
		{`timestamp(after.email) > now`, ""},
		{`after.qty`, "yielded a value of type int, not a bool"},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			c, err := transform.Build([]transform.Spec{{Type: transform.TypeFilter, File: "p.yaml", Line: 4, Where: tt.where}}, nil)
			if tt.want == "" {
				// now is not a variable: caught at build.
				wantSpecError(t, err, 4, "where", "undeclared reference to 'now'")
				return
			}
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			e := insert(1, "new")
			err = applyErr(c, &e)
			wantSpecError(t, err, 4, "where", tt.want, "p.yaml:4", "public.orders")
			if !errors.Is(err, transform.ErrEval) {
				t.Errorf("error %v is not ErrEval", err)
			}
			if strings.Contains(err.Error(), "ada@example.com") {
				t.Errorf("error %q shows a column value", err)
			}
		})
	}
}
