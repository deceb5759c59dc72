package event

import (
	"math"
	"time"
	"unsafe"
)

// Kind is the normalized type of a Value. It fixes how the value renders in
// JSON and how replica sinks write it.
type Kind uint8

// The value kinds. The JSON rendering of each is documented in docs/events.md.
const (
	KindNull      Kind = iota
	KindBool           // true/false
	KindInt            // signed 64-bit integer, exact
	KindUint           // unsigned 64-bit integer, exact
	KindFloat          // IEEE 754 double; NaN and ±Inf render as strings
	KindDecimal        // exact decimal as text: "-12.3400", "NaN", "Infinity", "-Infinity"
	KindString         // UTF-8 text
	KindBytes          // raw bytes, rendered base64
	KindTimestamp      // an instant: microseconds since the Unix epoch, UTC; ±infinity allowed
	KindDateTime       // a wall-clock date and time without zone, microseconds since 1970-01-01T00:00:00
	KindDate           // a calendar date: days since 1970-01-01; ±infinity allowed
	KindTime           // a time of day or a duration: microseconds, may be negative or ≥ 24h (MySQL TIME)
	KindJSON           // a JSON document, embedded as is
	KindArray          // a list of values (any nesting)
	KindText           // a type without a normalized form, carried as its source text form
)

var kindNames = [...]string{
	KindNull: "null", KindBool: "bool", KindInt: "int", KindUint: "uint", KindFloat: "float",
	KindDecimal: "decimal", KindString: "string", KindBytes: "bytes", KindTimestamp: "timestamp",
	KindDateTime: "datetime", KindDate: "date", KindTime: "time", KindJSON: "json",
	KindArray: "array", KindText: "text",
}

// String returns the kind's name as used in docs/events.md.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(?)"
}

// ParseKind is the inverse of Kind.String.
func ParseKind(s string) (Kind, bool) {
	for k, n := range kindNames {
		if n == s {
			return Kind(k), true
		}
	}
	return 0, false
}

// Value is one normalized column value. The zero Value is SQL NULL.
// Values are immutable and cheap to copy; constructing one never allocates
// except where noted (Bytes copies).
type Value struct {
	kind Kind
	n    int64   // Bool (0/1), Int, Uint (bits), Float (bits), Timestamp/DateTime/Time (µs), Date (days)
	s    string  // Decimal, String, Bytes, JSON, Text
	arr  []Value // Array
}

// Infinity markers for KindTimestamp, KindDateTime and KindDate.
const (
	PosInfinity int64 = math.MaxInt64
	NegInfinity int64 = math.MinInt64
)

// Null returns the NULL value.
func Null() Value { return Value{} }

// Bool returns a boolean value.
func Bool(b bool) Value {
	var n int64
	if b {
		n = 1
	}
	return Value{kind: KindBool, n: n}
}

// Int returns a signed integer value.
func Int(i int64) Value { return Value{kind: KindInt, n: i} }

// Uint returns an unsigned integer value.
func Uint(u uint64) Value { return Value{kind: KindUint, n: int64(u)} }

// Float returns a floating-point value.
func Float(f float64) Value { return Value{kind: KindFloat, n: int64(math.Float64bits(f))} }

// Decimal returns an exact decimal from its canonical text ("-1.50", "NaN",
// "Infinity", "-Infinity"). The caller guarantees the text is a decimal.
func Decimal(text string) Value { return Value{kind: KindDecimal, s: text} }

// String returns a text value. The caller guarantees valid UTF-8.
func String(s string) Value { return Value{kind: KindString, s: s} }

// Bytes returns a binary value; b is copied.
func Bytes(b []byte) Value { return Value{kind: KindBytes, s: string(b)} }

// BytesString returns a binary value whose bytes are s (no copy).
func BytesString(s string) Value { return Value{kind: KindBytes, s: s} }

// JSON returns a JSON document value from its text. The caller guarantees
// it is valid JSON.
func JSON(doc string) Value { return Value{kind: KindJSON, s: doc} }

// Text returns a value carried as its source text form, for types without a
// normalized kind (intervals, network addresses, geometry, extension types).
func Text(s string) Value { return Value{kind: KindText, s: s} }

// Timestamp returns an instant as microseconds since the Unix epoch (UTC).
// PosInfinity and NegInfinity stand for ±infinity.
func Timestamp(micros int64) Value { return Value{kind: KindTimestamp, n: micros} }

// TimestampOf returns the instant t, truncated to microseconds.
func TimestampOf(t time.Time) Value { return Timestamp(t.UnixMicro()) }

// DateTime returns a wall-clock date-time without zone, as microseconds
// since 1970-01-01T00:00:00 of that wall clock.
func DateTime(micros int64) Value { return Value{kind: KindDateTime, n: micros} }

// Date returns a calendar date as days since 1970-01-01.
func Date(days int64) Value { return Value{kind: KindDate, n: days} }

// Time returns a time of day or duration in microseconds.
func Time(micros int64) Value { return Value{kind: KindTime, n: micros} }

// Array returns a list value; the slice is kept, not copied.
func Array(elems []Value) Value { return Value{kind: KindArray, arr: elems} }

// Kind returns the value's kind.
func (v Value) Kind() Kind { return v.kind }

// IsNull reports whether v is NULL.
func (v Value) IsNull() bool { return v.kind == KindNull }

// Bool returns the boolean (false unless KindBool).
func (v Value) Bool() bool { return v.n != 0 }

// Int returns the signed integer of a KindInt value.
func (v Value) Int() int64 { return v.n }

// Uint returns the unsigned integer of a KindUint value.
func (v Value) Uint() uint64 { return uint64(v.n) }

// Float returns the float of a KindFloat value.
func (v Value) Float() float64 { return math.Float64frombits(uint64(v.n)) }

// Micros returns the microseconds of a KindTimestamp, KindDateTime or KindTime value.
func (v Value) Micros() int64 { return v.n }

// Days returns the days of a KindDate value.
func (v Value) Days() int64 { return v.n }

// Str returns the text of a KindDecimal, KindString, KindBytes, KindJSON or
// KindText value (for KindBytes, the raw bytes as a string).
func (v Value) Str() string { return v.s }

// BytesView returns the bytes of a KindBytes value without copying; the
// caller must not modify them.
func (v Value) BytesView() []byte { return unsafe.Slice(unsafe.StringData(v.s), len(v.s)) }

// Elems returns the elements of a KindArray value.
func (v Value) Elems() []Value { return v.arr }

// Time returns the instant of a KindTimestamp value, or the wall clock (as
// UTC) of a KindDateTime value. Infinite values return the zero time and false.
func (v Value) Time() (time.Time, bool) {
	if v.n == PosInfinity || v.n == NegInfinity {
		return time.Time{}, false
	}
	return time.UnixMicro(v.n).UTC(), true
}

// Equal reports whether v and w are the same value of the same kind.
// Floats compare by bits, so NaN equals NaN.
func (v Value) Equal(w Value) bool {
	if v.kind != w.kind || v.n != w.n || v.s != w.s || len(v.arr) != len(w.arr) {
		return false
	}
	for i := range v.arr {
		if !v.arr[i].Equal(w.arr[i]) {
			return false
		}
	}
	return true
}
