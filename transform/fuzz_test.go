package transform_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

// FuzzMaskText checks partial and truncate on any text: partial keeps the
// length in characters and shows at most keepFirst+keep of them, truncate
// returns a prefix of at most keep characters; both stay valid UTF-8.
func FuzzMaskText(f *testing.F) {
	f.Add("4111111111111111", 4, 0)
	f.Add("Grüße!", 2, 1)
	f.Add("", 0, 0)
	f.Add("ab", 3, 3)
	f.Fuzz(func(t *testing.T, s string, keep, first int) {
		if !utf8.ValidString(s) || keep < 0 || first < 0 || keep > 1000 || first > 1000 {
			return
		}
		mask := func(spec transform.Spec) string {
			spec.Type, spec.Columns = transform.TypeMask, []string{"c"}
			c, err := transform.Build([]transform.Spec{spec}, nil)
			if err != nil {
				t.Fatal(err)
			}
			e := event.Event{Op: event.OpInsert, After: event.Row{{Name: "c", Value: event.String(s)}}}
			if _, err := c[0].Apply(&e); err != nil {
				t.Fatal(err)
			}
			out := e.After[0].Value.Str()
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 %q", out)
			}
			return out
		}
		p := mask(transform.Spec{Method: transform.MaskPartial, Keep: keep, KeepFirst: first})
		n := utf8.RuneCountInString(s)
		if utf8.RuneCountInString(p) != n {
			t.Fatalf("partial(%q) = %q changes the length", s, p)
		}
		in, out := []rune(s), []rune(p)
		for i := range out {
			visible := n > first+keep && (i < first || i >= n-keep)
			if (visible && out[i] != in[i]) || (!visible && out[i] != '*') {
				t.Fatalf("partial(%q, %d, %d) = %q", s, first, keep, p)
			}
		}
		if n <= first+keep && p != strings.Repeat("*", n) {
			t.Fatalf("partial(%q, %d, %d) = %q shows a short value", s, first, keep, p)
		}
		tr := mask(transform.Spec{Method: transform.MaskTruncate, Keep: keep})
		if !strings.HasPrefix(s, tr) || utf8.RuneCountInString(tr) != min(n, keep) {
			t.Fatalf("truncate(%q, %d) = %q", s, keep, tr)
		}
	})
}

// FuzzRouteTemplate checks that any topic template either fails to build
// or renders without panicking.
func FuzzRouteTemplate(f *testing.F) {
	f.Add("cdc.{namespace}.{table}")
	f.Add("{op}{db}{pipeline}")
	f.Add("a{b")
	f.Fuzz(func(t *testing.T, topic string) {
		if strings.HasPrefix(topic, "=") {
			return
		}
		c, err := transform.Build([]transform.Spec{{Type: transform.TypeRoute, Topic: topic}}, nil)
		if err != nil {
			return
		}
		e := insert(1, "x")
		if _, err := c[0].Apply(&e); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(e.Topic, "{}") {
			t.Fatalf("topic %q from %q holds braces", e.Topic, topic)
		}
	})
}
