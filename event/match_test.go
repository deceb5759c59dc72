package event

import "testing"

func TestMatchTable(t *testing.T) {
	for _, tc := range []struct {
		pattern, ns, name string
		want              bool
	}{
		{"public.orders", "public", "orders", true},
		{"public.order*", "public", "orders_2026", true},
		{"public.order*", "public", "customers", false},
		{"*.orders", "shop", "orders", true},
		{"public.t?", "public", "t1", true},
		{"public.t?", "public", "t12", false},
		{"public.[ab]", "public", "a", false}, // no character classes: '[' is itself
		{"public.[ab]", "public", "[ab]", true},
		{"public.Orders", "public", "orders", false},
		{"orders", "public", "orders", false},
		{"a.b.c", "a", "b.c", false},
		{"public.*", "public", "", true},
		{"public.ø*", "public", "ørders", true},
	} {
		if got := MatchTable(tc.pattern, TableID{tc.ns, tc.name}); got != tc.want {
			t.Errorf("MatchTable(%q, %s.%s) = %v, want %v", tc.pattern, tc.ns, tc.name, got, tc.want)
		}
	}
}
