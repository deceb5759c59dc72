package event_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cdcd-dev/cdcd/event"
)

// fuzzValue builds a value of the kind picked by k from the fuzz inputs and
// returns it with the value DecodeJSON must give back for it.
func fuzzValue(k uint8, n int64, s string) (v, want event.Value) {
	switch event.Kind(k % 15) {
	case event.KindNull:
		return event.Null(), event.Null()
	case event.KindBool:
		v = event.Bool(n&1 == 1)
	case event.KindInt:
		v = event.Int(n)
	case event.KindUint:
		v = event.Uint(uint64(n))
	case event.KindFloat:
		v = event.Float(math.Float64frombits(uint64(n)))
		if math.IsNaN(v.Float()) { // every NaN renders as "NaN"
			return v, event.Float(math.NaN())
		}
	case event.KindDecimal:
		c, ok := event.CanonicalDecimal(s)
		if !ok {
			c = "0"
		}
		v = event.Decimal(c)
	case event.KindString:
		return event.String(s), event.String(validUTF8(s))
	case event.KindBytes:
		v = event.Bytes([]byte(s))
	case event.KindTimestamp:
		v = event.Timestamp(n)
	case event.KindDateTime:
		v = event.DateTime(n)
	case event.KindDate:
		v = event.Date(n)
	case event.KindTime:
		v = event.Time(n)
	case event.KindJSON:
		if !json.Valid([]byte(s)) {
			// Not JSON: rendered as a string, which decodes as a JSON
			// document that is that string.
			return event.JSON(s), event.JSON(string(event.String(s).AppendJSON(nil)))
		}
		var c bytes.Buffer
		if err := json.Compact(&c, []byte(s)); err != nil {
			panic(err)
		}
		doc := validUTF8JSON(c.String())
		return event.JSON(s), event.JSON(doc)
	case event.KindArray:
		v = event.Array([]event.Value{
			event.Int(n), event.String(validUTF8(s)), event.Null(),
			event.Array([]event.Value{event.Bool(n < 0), event.Uint(uint64(n) | 1<<63)}),
		})
	case event.KindText:
		return event.Text(s), event.Text(validUTF8(s))
	}
	return v, v
}

// validUTF8 replaces each byte of s that is not valid UTF-8 with U+FFFD, as
// the encoder does.
func validUTF8(s string) string {
	var b strings.Builder
	for _, r := range s { // range yields RuneError once per invalid byte
		b.WriteRune(r)
	}
	return b.String()
}

// validUTF8JSON is validUTF8 for compact JSON text, whose strings may also
// hold U+2028 and U+2029, which the encoder escapes.
func validUTF8JSON(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			b.WriteString(`\ufffd`)
		case r == '\u2028':
			b.WriteString(`\u2028`)
		case r == '\u2029':
			b.WriteString(`\u2029`)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func FuzzValueRoundTrip(f *testing.F) {
	seeds := []struct {
		k uint8
		n int64
		s string
	}{
		{0, 0, ""}, {1, 1, ""}, {2, math.MinInt64, ""}, {3, -1, ""},
		{4, int64(math.Float64bits(math.Copysign(0, -1))), ""}, {4, int64(math.Float64bits(math.Inf(-1))), ""},
		{5, 0, "-12.3400"}, {5, 0, "1.5e-3"}, {6, 0, "a\"\\\n\x00\u2028😀\xff"}, {7, 0, "\x00\xff"},
		{8, math.MaxInt64 - 1, ""}, {8, math.MinInt64, ""}, {9, -1, ""}, {10, math.MinInt64 + 1, ""},
		{11, math.MinInt64, ""}, {11, -3020399000000, ""}, {12, 0, `{"a": [1, "\u2028", null]}`}, {12, 0, "{\"a\":"},
		{12, 0, "[\"\xff\u2029\"]"}, {13, 5, "x"}, {14, 0, "(1,2)"},
	}
	for _, s := range seeds {
		f.Add(s.k, s.n, s.s)
	}
	f.Fuzz(func(t *testing.T, k uint8, n int64, s string) {
		v, want := fuzzValue(k, n, s)
		enc := v.AppendJSON(nil)
		if !json.Valid(enc) {
			t.Fatalf("%s value encodes as invalid JSON %q", v.Kind(), enc)
		}
		if !utf8.Valid(enc) {
			t.Fatalf("%s value encodes as invalid UTF-8 %q", v.Kind(), enc)
		}
		kind := want.Kind()
		if kind == event.KindNull {
			kind = event.KindString
		}
		got := roundTripValue(t, v, kind)
		if want.Kind() == event.KindFloat && math.IsNaN(want.Float()) {
			if got.Kind() != event.KindFloat || !math.IsNaN(got.Float()) {
				t.Fatalf("NaN decoded as %s %s", got.Kind(), got.AppendJSON(nil))
			}
			return
		}
		if !got.Equal(want) {
			t.Fatalf("%s %q: decoded %s %q, want %q", v.Kind(), enc, got.Kind(), got.AppendJSON(nil), want.AppendJSON(nil))
		}
	})
}

// fuzzSchema gives a column of every kind, named after the kind.
func fuzzSchema() *event.TableSchema {
	s := &event.TableSchema{Table: event.TableID{Namespace: "s", Name: "t"}, Version: 2}
	for k := event.KindNull; k <= event.KindText; k++ {
		s.Columns = append(s.Columns, event.Column{Name: k.String(), Kind: k})
	}
	return s
}

func FuzzDecodeJSON(f *testing.F) {
	schema := fuzzSchema()
	f.Add([]byte(goldenJSON), false)
	f.Add([]byte(benchEvent().AppendJSON(nil)), false)
	all := event.Row{}
	for _, tt := range valueCases() {
		if tt.v.Kind() != event.KindNull {
			all = append(all, event.Field{Name: tt.v.Kind().String(), Value: tt.v})
		}
	}
	e := event.Event{Op: event.OpUpdate, Table: schema.Table, Schema: schema, After: all, Before: all[:3], Key: all[:1],
		Unchanged: []string{"x"}, Topic: "t", Source: &event.SourceInfo{ServerID: "s"}}
	f.Add(e.AppendJSON(nil), true)
	m := event.Event{Op: event.OpMessage, Message: &event.Message{Prefix: "p", Content: []byte{1, 2}}, Source: &event.SourceInfo{}}
	f.Add(m.AppendJSON(nil), false)
	f.Add([]byte(`{"v":1}`), false)
	f.Add([]byte(`{"v":1,"id":":0000000000000001/00000000","op":"c","source":{"pos":"0000000000000001/00000000"},"after":{"a":[[[1e5,-0.5,"\ud800"]]],"b":{"c":[]}}}`), false)

	f.Fuzz(func(t *testing.T, data []byte, withSchema bool) {
		var s *event.TableSchema
		if withSchema {
			s = schema
		}
		e, err := event.DecodeJSON(data, s)
		if err != nil {
			return
		}
		// Whatever decodes re-encodes as valid JSON, and the encoding is a
		// fixed point of decode-then-encode.
		enc := e.AppendJSON(nil)
		if !json.Valid(enc) || !utf8.Valid(enc) {
			t.Fatalf("re-encoding %q gives invalid JSON %q", data, enc)
		}
		e2, err := event.DecodeJSON(enc, s)
		if err != nil {
			t.Fatalf("decoding the re-encoding %q: %v", enc, err)
		}
		if enc2 := e2.AppendJSON(nil); !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}

func FuzzCanonicalDecimal(f *testing.F) {
	for _, s := range []string{"0", "-12.3400", "1e3", ".5", "-0.0e-2", "NaN", "+inf", "1e99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, ok := event.CanonicalDecimal(s)
		if !ok {
			return
		}
		if again, ok := event.CanonicalDecimal(c); !ok || again != c {
			t.Fatalf("CanonicalDecimal(%q) = %q, not a fixed point (%q, %v)", s, c, again, ok)
		}
		switch c {
		case "NaN", "Infinity", "-Infinity":
			return
		}
		// Same value as the input, as far as float64 can tell.
		if in, out := parseFloat(s), parseFloat(c); in != out && !(math.IsInf(in, 0) || in == 0) {
			t.Fatalf("CanonicalDecimal(%q) = %q: %v != %v", s, c, in, out)
		}
	})
}

func parseFloat(s string) float64 {
	var f float64
	_ = json.Unmarshal([]byte(strings.TrimPrefix(normalizeLeading(s), "+")), &f)
	return f
}

// normalizeLeading turns ".5" into "0.5" and "5." into "5" so encoding/json
// accepts the literal.
func normalizeLeading(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(s, "+-")
	s = strings.TrimLeft(s, "0")
	if s == "" || s[0] == '.' || s[0] == 'e' || s[0] == 'E' {
		s = "0" + s
	}
	s = strings.Replace(s, ".e", "e", 1)
	s = strings.Replace(s, ".E", "E", 1)
	s = strings.TrimSuffix(s, ".")
	if neg {
		s = "-" + s
	}
	return s
}
