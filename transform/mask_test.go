package transform_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/transform"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func hmacHex(key, s string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

func TestMaskMethods(t *testing.T) {
	tests := []struct {
		name string
		spec transform.Spec
		in   event.Value
		want event.Value
	}{
		{"sha256 with salt", transform.Spec{Method: transform.MaskSHA256, Salt: "pepper"},
			event.String("ada@example.com"), event.String(sha256Hex("pepperada@example.com"))},
		{"sha256 without salt", transform.Spec{Method: transform.MaskSHA256},
			event.String("ada@example.com"), event.String(sha256Hex("ada@example.com"))},
		{"sha256 of an integer hashes its text", transform.Spec{Method: transform.MaskSHA256, Salt: "s"},
			event.Int(-42), event.String(sha256Hex("s-42"))},
		{"sha256 of a timestamp hashes its JSON text", transform.Spec{Method: transform.MaskSHA256},
			event.TimestampOf(placedAt), event.String(sha256Hex("2026-01-02T03:04:05.000000Z"))},
		{"sha256 of bytes hashes the raw bytes", transform.Spec{Method: transform.MaskSHA256},
			event.Bytes([]byte{0, 255}), event.String(sha256Hex("\x00\xff"))},
		{"hmac", transform.Spec{Method: transform.MaskHMAC, Salt: "k3y"},
			event.String("ada@example.com"), event.String(hmacHex("k3y", "ada@example.com"))},
		{"redact", transform.Spec{Method: transform.MaskRedact}, event.String("secret"), event.String("***")},
		{"redact a number", transform.Spec{Method: transform.MaskRedact}, event.Int(7), event.String("***")},
		{"null", transform.Spec{Method: transform.MaskNull}, event.String("secret"), event.Null()},
		{"partial keeps the last characters", transform.Spec{Method: transform.MaskPartial, Keep: 4},
			event.String("4111111111111111"), event.String("************1111")},
		{"partial keeps first and last", transform.Spec{Method: transform.MaskPartial, Keep: 2, KeepFirst: 1},
			event.String("Grüße!"), event.String("G***e!")},
		{"partial hides a value no longer than what it keeps", transform.Spec{Method: transform.MaskPartial, Keep: 4},
			event.String("1234"), event.String("****")},
		{"partial of a number", transform.Spec{Method: transform.MaskPartial, Keep: 2},
			event.Int(123456), event.String("****56")},
		{"truncate counts characters", transform.Spec{Method: transform.MaskTruncate, Keep: 3},
			event.String("Grüße"), event.String("Grü")},
		{"truncate a short value", transform.Spec{Method: transform.MaskTruncate, Keep: 10},
			event.String("abc"), event.String("abc")},
		{"truncate bytes counts bytes", transform.Spec{Method: transform.MaskTruncate, Keep: 2},
			event.Bytes([]byte{1, 2, 3}), event.Bytes([]byte{1, 2})},
		{"truncate a decimal gives text", transform.Spec{Method: transform.MaskTruncate, Keep: 2},
			event.Decimal("19.90"), event.String("19")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Type, tt.spec.Columns = transform.TypeMask, []string{"secret"}
			c := build(t, tt.spec)
			e := event.Event{Op: event.OpInsert, Table: event.TableID{Namespace: "a", Name: "b"},
				Key:   event.Row{{Name: "id", Value: event.Int(1)}},
				After: event.Row{{Name: "id", Value: event.Int(1)}, {Name: "secret", Value: tt.in}}}
			apply(t, c, &e)
			if got := value(t, e.After, "secret"); !got.Equal(tt.want) {
				t.Errorf("masked to %v %q, want %v %q", got.Kind(), got.Str(), tt.want.Kind(), tt.want.Str())
			}
			if got := value(t, e.After, "id"); !got.Equal(event.Int(1)) {
				t.Error("an unnamed column was changed")
			}
		})
	}
}

func TestMaskKeepsNullAndMasksEveryRow(t *testing.T) {
	c := build(t, transform.Spec{Type: transform.TypeMask, Columns: []string{"email", "doc"}, Method: transform.MaskRedact})
	e := update(1, "a", "b")
	e.Before[2].Value = event.Null() // email
	apply(t, c, &e)
	if v := value(t, e.Before, "email"); !v.IsNull() {
		t.Errorf("null email masked to %q", v.Str())
	}
	if v := value(t, e.After, "email"); v.Str() != "***" {
		t.Errorf("after.email = %q", v.Str())
	}
	if v := value(t, e.Before, "doc"); v.Str() != "***" {
		t.Errorf("before.doc = %q", v.Str())
	}
}

func TestMaskChangesTheSchema(t *testing.T) {
	c := build(t,
		transform.Spec{Type: transform.TypeMask, Columns: []string{"qty"}, Method: transform.MaskSHA256},
		transform.Spec{Type: transform.TypeMask, Columns: []string{"total"}, Method: transform.MaskNull},
		transform.Spec{Type: transform.TypeMask, Columns: []string{"customer"}, Method: transform.MaskPartial, Keep: 1},
	)
	e := insert(1, "x")
	apply(t, c, &e)
	qty, total, cust := e.Schema.Column("qty"), e.Schema.Column("total"), e.Schema.Column("customer")
	if qty.Kind != event.KindString || qty.Type != "text" {
		t.Errorf("hashed qty column is %s %s, want string text", qty.Kind, qty.Type)
	}
	if !total.Nullable || total.Kind != event.KindDecimal {
		t.Errorf("nulled total column is %s nullable=%v", total.Kind, total.Nullable)
	}
	if cust.Kind != event.KindString || cust.Type != "text" {
		t.Errorf("partial customer column is %s %s, want unchanged string text", cust.Kind, cust.Type)
	}
	if ordersSchema.Column("qty").Kind != event.KindInt {
		t.Fatal("the input schema was modified")
	}
}

func TestMaskKeyColumns(t *testing.T) {
	// A hash keeps keys distinct: the key row is masked too.
	c := build(t, transform.Spec{Type: transform.TypeMask, Columns: []string{"id"}, Method: transform.MaskHMAC, Salt: "k"})
	e := insert(7, "x")
	apply(t, c, &e)
	if got, want := value(t, e.Key, "id").Str(), hmacHex("k", "7"); got != want {
		t.Errorf("key.id = %q, want %q", got, want)
	}
	if got := value(t, e.After, "id").Str(); got != hmacHex("k", "7") {
		t.Errorf("after.id = %q, not masked like the key", got)
	}
	// Other methods would merge keys.
	for _, m := range []transform.MaskMethod{transform.MaskRedact, transform.MaskNull, transform.MaskPartial, transform.MaskTruncate} {
		c := build(t, transform.Spec{Type: transform.TypeMask, File: "p.yaml", Line: 5, Columns: []string{"id"}, Method: m, Keep: 2})
		e := insert(7, "x")
		err := applyErr(c, &e)
		wantSpecError(t, err, 5, "columns[0]", "id is a key column of public.orders", string(m))
		if !errors.Is(err, transform.ErrKeyColumn) {
			t.Errorf("%s: %v is not ErrKeyColumn", m, err)
		}
	}
}

func TestMaskErrorsNeverShowValues(t *testing.T) {
	// Filters after a mask fail on the masked value; their errors must
	// show neither the value nor its mask.
	for _, where := range []string{"int(after.email) > 1", "timestamp(after.email) > timestamp(0)", "after.customer.matches(after.email)"} {
		c := build(t,
			transform.Spec{Type: transform.TypeMask, Columns: []string{"email"}, Method: transform.MaskPartial, Keep: 3},
			transform.Spec{Type: transform.TypeFilter, Where: where},
		)
		e := insert(1, "x")
		err := applyErr(c, &e)
		if err == nil {
			t.Fatalf("%s: no error", where)
		}
		for _, leak := range []string{"ada@", "com", "**"} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("error %q shows %q", err, leak)
			}
		}
	}
}

func TestMaskBuildErrors(t *testing.T) {
	for _, tt := range []struct {
		spec      transform.Spec
		key, want string
	}{
		{transform.Spec{Columns: []string{"a"}, Method: transform.MaskHMAC}, "salt", "hmac needs a key"},
		{transform.Spec{Columns: []string{"a"}, Method: "rot13"}, "method", `unknown mask method "rot13"`},
		{transform.Spec{Columns: []string{"a"}}, "method", "missing"},
		{transform.Spec{Columns: []string{"a"}, Method: transform.MaskTruncate, Keep: -1}, "keep", "negative"},
	} {
		tt.spec.Type, tt.spec.Line = transform.TypeMask, 8
		_, err := transform.Build([]transform.Spec{tt.spec}, nil)
		wantSpecError(t, err, 8, tt.key, tt.want)
	}
}
