package event

import (
	"encoding/base64"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// The native JSON encoding: one object per event, keys in a fixed order, no
// whitespace. docs/events.md is its specification; the appenders below are
// hand-written (no reflection, no time.Format) so that encoding an event
// costs no allocation beyond growing the destination slice.

const (
	usPerSecond = 1_000_000
	usPerMinute = 60 * usPerSecond
	usPerHour   = 60 * usPerMinute
	usPerDay    = 24 * usPerHour
)

const hexDigits = "0123456789abcdef"

// jsonSafe[c] reports whether the byte c stands for itself inside a JSON
// string and needs no UTF-8 check: ASCII except the control characters, '"'
// and '\'.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendJSON appends the native JSON encoding of e to b, without a trailing
// newline, and returns the extended slice. It uses no reflection and
// allocates only when b must grow. e is only read, so several goroutines may
// encode the same event at once.
//
// The keys, in this order: v, id, op, source (kind, pipeline, db, namespace,
// table, pos, txid, commit_ts), schema_version, key, before, after,
// unchanged, then message for OpMessage events and topic when Topic is set.
// A nil Source renders as empty strings, a zero Tx.CommitTime as null.
func (e *Event) AppendJSON(b []byte) []byte {
	var src SourceInfo
	if e.Source != nil {
		src = *e.Source
	}
	b = append(b, `{"v":1,"id":"`...)
	b = appendStringBody(b, src.ServerID)
	b = append(b, ':')
	b = e.Pos.AppendText(b)
	b = append(b, `","op":`...)
	switch e.Op {
	case OpInsert, OpUpdate, OpDelete, OpRead, OpTruncate, OpMessage:
		b = append(b, '"', byte(e.Op), '"')
	default:
		b = appendString(b, e.Op.String())
	}
	b = append(b, `,"source":{"kind":`...)
	b = appendString(b, src.Kind)
	b = append(b, `,"pipeline":`...)
	b = appendString(b, src.Pipeline)
	b = append(b, `,"db":`...)
	b = appendString(b, src.DB)
	b = append(b, `,"namespace":`...)
	b = appendString(b, e.Table.Namespace)
	b = append(b, `,"table":`...)
	b = appendString(b, e.Table.Name)
	b = append(b, `,"pos":"`...)
	b = e.Pos.AppendText(b)
	b = append(b, `","txid":`...)
	b = appendString(b, e.Tx.ID)
	b = append(b, `,"commit_ts":`...)
	if e.Tx.CommitTime.IsZero() {
		b = append(b, "null"...)
	} else {
		b = appendInstant(b, e.Tx.CommitTime.UnixMicro(), true)
	}
	b = append(b, `},"schema_version":`...)
	var version uint64
	if e.Schema != nil {
		version = e.Schema.Version
	}
	b = strconv.AppendUint(b, version, 10)
	b = append(b, `,"key":`...)
	b = e.Key.AppendJSON(b)
	b = append(b, `,"before":`...)
	b = e.Before.AppendJSON(b)
	b = append(b, `,"after":`...)
	b = e.After.AppendJSON(b)
	b = append(b, `,"unchanged":[`...)
	for i, name := range e.Unchanged {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, name)
	}
	b = append(b, ']')
	if e.Op == OpMessage {
		b = append(b, `,"message":`...)
		if m := e.Message; m == nil {
			b = append(b, "null"...)
		} else {
			b = append(b, `{"prefix":`...)
			b = appendString(b, m.Prefix)
			b = append(b, `,"content":"`...)
			b = base64.StdEncoding.AppendEncode(b, m.Content)
			b = append(b, `","transactional":`...)
			b = strconv.AppendBool(b, m.Transactional)
			b = append(b, '}')
		}
	}
	if e.Topic != "" {
		b = append(b, `,"topic":`...)
		b = appendString(b, e.Topic)
	}
	return append(b, '}')
}

// AppendJSON appends r as a JSON object, {"column":value,…} in row order, to
// b and returns the extended slice; a nil row appends null (an empty non-nil
// row appends {}).
func (r Row) AppendJSON(b []byte) []byte {
	if r == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i := range r {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, r[i].Name)
		b = append(b, ':')
		b = appendValue(b, &r[i].Value)
	}
	return append(b, '}')
}

// AppendJSON appends the JSON rendering of v to b and returns the extended
// slice. Each kind's rendering is specified in docs/events.md: integers as
// exact numbers, floats as shortest round-trip numbers (NaN and infinities as
// the strings "NaN", "Infinity", "-Infinity"), decimals, strings and text as
// strings, bytes as padded standard base64, timestamps, date-times, dates
// and times as fixed-width ISO 8601 strings, JSON documents embedded with
// insignificant whitespace removed, arrays as arrays. A KindJSON value whose
// text is not valid JSON is rendered as a JSON string holding that text, so
// the output stays valid whatever the value holds.
func (v Value) AppendJSON(b []byte) []byte { return appendValue(b, &v) }

// appendValue is Value.AppendJSON without copying the value.
func appendValue(b []byte, v *Value) []byte {
	switch v.kind {
	case KindBool:
		if v.n != 0 {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case KindInt:
		return strconv.AppendInt(b, v.n, 10)
	case KindUint:
		return strconv.AppendUint(b, uint64(v.n), 10)
	case KindFloat:
		return appendFloat(b, math.Float64frombits(uint64(v.n)))
	case KindDecimal, KindString, KindText:
		return appendString(b, v.s)
	case KindBytes:
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, unsafe.Slice(unsafe.StringData(v.s), len(v.s)))
		return append(b, '"')
	case KindTimestamp:
		return appendInstant(b, v.n, true)
	case KindDateTime:
		return appendInstant(b, v.n, false)
	case KindDate:
		return appendDate(b, v.n)
	case KindTime:
		return appendDuration(b, v.n)
	case KindJSON:
		return appendJSONDoc(b, v.s)
	case KindArray:
		b = append(b, '[')
		for i := range v.arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, &v.arr[i])
		}
		return append(b, ']')
	}
	return append(b, "null"...)
}

// appendFloat renders f as the shortest JSON number that parses back to f,
// or as "NaN", "Infinity", "-Infinity" (every NaN payload renders as "NaN").
func appendFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendString appends s as a quoted JSON string.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendStringBody(b, s)
	return append(b, '"')
}

// appendStringBody appends s escaped for the inside of a JSON string: '"',
// '\' and the control characters are escaped (\n, \r, \t, \b, \f or \u00XX),
// U+2028 and U+2029 become \u2028 and \u2029 (so the output is also valid
// JavaScript), and each byte that is not part of valid UTF-8 becomes \ufffd.
// Everything else is copied as is.
func appendStringBody(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		if len(s)-i >= 16 {
			i = skipPlain(s, i)
		}
		for i < len(s) && jsonSafe[s[i]] {
			i++
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if size == 1 || r == '\u2028' || r == '\u2029' { // size 1 here means an invalid byte
			b = append(b, s[start:i]...)
			if size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// skipPlain returns i advanced over whole 8-byte blocks of plain ASCII, the
// bytes a JSON string holds as themselves (no control character, '"', '\'
// or byte at or above 0x80). It tests eight bytes at once with the classic
// SWAR byte tests, and leaves the rest to a byte-by-byte loop.
func skipPlain(s string, i int) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for ; len(s)-i >= 8; i += 8 {
		w := s[i : i+8]
		x := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
			uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
		q := x ^ (ones * '"')
		bs := x ^ (ones * '\\')
		special := (x - ones*0x20) & ^x // a byte below 0x20
		special |= (q - ones) & ^q      // a '"'
		special |= (bs - ones) & ^bs    // a '\\'
		special |= x                    // a byte at or above 0x80
		if special&highs != 0 {
			break
		}
	}
	return i
}

// appendInstant renders microseconds since 1970-01-01T00:00:00 as
// "YYYY-MM-DDTHH:MM:SS.ffffff" followed by 'Z' when zulu is set (a
// timestamp) and not when it is not (a date-time), or "infinity" /
// "-infinity" for the markers.
func appendInstant(b []byte, micros int64, zulu bool) []byte {
	switch micros {
	case PosInfinity:
		return append(b, `"infinity"`...)
	case NegInfinity:
		return append(b, `"-infinity"`...)
	}
	days := floorDiv(micros, usPerDay)
	tod := micros - days*usPerDay // [0, usPerDay); exact even when days*usPerDay wraps
	b = append(b, '"')
	b = appendCivil(b, days)
	b = append(b, 'T')
	b = appendClock(b, uint64(tod))
	if zulu {
		b = append(b, 'Z')
	}
	return append(b, '"')
}

// appendDate renders days since 1970-01-01 as "YYYY-MM-DD", or "infinity" /
// "-infinity" for the markers.
func appendDate(b []byte, days int64) []byte {
	switch days {
	case PosInfinity:
		return append(b, `"infinity"`...)
	case NegInfinity:
		return append(b, `"-infinity"`...)
	}
	b = append(b, '"')
	b = appendCivil(b, days)
	return append(b, '"')
}

// appendDuration renders a KindTime value as "HH:MM:SS.ffffff", with at
// least two hour digits (more when it is 100 hours or longer) and a leading
// '-' when negative.
func appendDuration(b []byte, micros int64) []byte {
	b = append(b, '"')
	u := uint64(micros)
	if micros < 0 {
		b = append(b, '-')
		u = -u // two's complement: exact for math.MinInt64 too
	}
	h := u / usPerHour
	if h < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendUint(b, h, 10)
	b = append(b, ':')
	b = appendMinSecFrac(b, u%usPerHour)
	return append(b, '"')
}

// appendCivil renders the date days days after 1970-01-01 as YYYY-MM-DD,
// years outside 0000–9999 in the expanded form ±YYYYYY (at least six digits).
func appendCivil(b []byte, days int64) []byte {
	y, m, d := CivilFromDays(days)
	if 0 <= y && y <= 9999 {
		b = append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
	} else {
		u := uint64(y)
		if y < 0 {
			b = append(b, '-')
			u = -u
		} else {
			b = append(b, '+')
		}
		for p := uint64(100000); p > u; p /= 10 {
			b = append(b, '0')
		}
		b = strconv.AppendUint(b, u, 10)
	}
	return append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

// appendClock renders a time of day in [0, 24h) as HH:MM:SS.ffffff.
func appendClock(b []byte, tod uint64) []byte {
	h := tod / usPerHour
	b = append(b, byte('0'+h/10), byte('0'+h%10), ':')
	return appendMinSecFrac(b, tod%usPerHour)
}

// appendMinSecFrac renders a duration in [0, 1h) as MM:SS.ffffff.
func appendMinSecFrac(b []byte, us uint64) []byte {
	m := us / usPerMinute
	s := us / usPerSecond % 60
	f := us % usPerSecond
	return append(b,
		byte('0'+m/10), byte('0'+m%10), ':',
		byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+f/100000), byte('0'+f/10000%10), byte('0'+f/1000%10),
		byte('0'+f/100%10), byte('0'+f/10%10), byte('0'+f%10))
}

// appendJSONDoc embeds the JSON document doc with its insignificant
// whitespace removed (see appendJSONValue), or, when doc is not exactly one
// valid JSON value, appends it as a JSON string instead.
func appendJSONDoc(b []byte, doc string) []byte {
	mark := len(b)
	b, end, ok := appendJSONValue(b, doc, 0)
	if ok && skipSpace(doc, end) == len(doc) {
		return b
	}
	return appendString(b[:mark], doc)
}

// appendJSONValue validates the JSON value that starts at s[i] (after
// optional whitespace), appends it to b without insignificant whitespace and
// returns the index just after it. Inside strings, escapes are kept as
// written, U+2028 and U+2029 are escaped and each byte that is not valid
// UTF-8 becomes \ufffd, as appendStringBody does. ok is false when s[i:]
// does not start with a valid JSON value; b then holds a partial copy that
// the caller must discard. Nesting is tracked on a small explicit stack, so
// deep documents cost memory, not Go stack.
func appendJSONValue(b []byte, s string, i int) (_ []byte, end int, ok bool) {
	var stackBuf [32]byte
	stack := stackBuf[:0] // '{' or '[' per open container
	for {
		// A value is expected at s[i:].
		i = skipSpace(s, i)
		if i >= len(s) {
			return b, i, false
		}
		switch c := s[i]; c {
		case '{':
			b = append(b, '{')
			i = skipSpace(s, i+1)
			if i < len(s) && s[i] == '}' {
				b = append(b, '}')
				i++
				break
			}
			stack = append(stack, '{')
			if b, i, ok = appendJSONKey(b, s, i); !ok {
				return b, i, false
			}
			continue
		case '[':
			b = append(b, '[')
			i = skipSpace(s, i+1)
			if i < len(s) && s[i] == ']' {
				b = append(b, ']')
				i++
				break
			}
			stack = append(stack, '[')
			continue
		case '"':
			if b, i, ok = appendJSONString(b, s, i); !ok {
				return b, i, false
			}
		case 't', 'f', 'n':
			lit := "null"
			if c == 't' {
				lit = "true"
			} else if c == 'f' {
				lit = "false"
			}
			if len(s)-i < len(lit) || s[i:i+len(lit)] != lit {
				return b, i, false
			}
			b = append(b, lit...)
			i += len(lit)
		default:
			j, ok := scanNumber(s, i)
			if !ok {
				return b, i, false
			}
			b = append(b, s[i:j]...)
			i = j
		}
		// A value ended: close containers, or go on to the next element.
		for {
			if len(stack) == 0 {
				return b, i, true
			}
			i = skipSpace(s, i)
			if i >= len(s) {
				return b, i, false
			}
			top, c := stack[len(stack)-1], s[i]
			if c == ',' {
				b = append(b, ',')
				i++
				if top == '{' {
					if b, i, ok = appendJSONKey(b, s, skipSpace(s, i)); !ok {
						return b, i, false
					}
				}
				break
			}
			if (top == '{' && c == '}') || (top == '[' && c == ']') {
				b = append(b, c)
				i++
				stack = stack[:len(stack)-1]
				continue
			}
			return b, i, false
		}
	}
}

// appendJSONKey copies an object key at s[i] and the ':' after it.
func appendJSONKey(b []byte, s string, i int) ([]byte, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return b, i, false
	}
	b, i, ok := appendJSONString(b, s, i)
	if !ok {
		return b, i, false
	}
	i = skipSpace(s, i)
	if i >= len(s) || s[i] != ':' {
		return b, i, false
	}
	return append(b, ':'), i + 1, true
}

// appendJSONString copies the JSON string token at s[i] (s[i] == '"'),
// validating its escapes and normalizing it as appendJSONValue describes.
func appendJSONString(b []byte, s string, i int) ([]byte, int, bool) {
	b = append(b, '"')
	i++
	start := i
	for i < len(s) {
		if len(s)-i >= 16 {
			i = skipPlain(s, i)
		}
		for i < len(s) && jsonSafe[s[i]] {
			i++
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b = append(b, s[start:i]...)
				return append(b, '"'), i + 1, true
			case c == '\\':
				if i+1 >= len(s) {
					return b, i, false
				}
				switch s[i+1] {
				case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
					i += 2
				case 'u':
					if len(s)-i < 6 || !isHex4(s[i+2:i+6]) {
						return b, i, false
					}
					i += 6
				default:
					return b, i, false
				}
			case c < 0x20:
				return b, i, false
			default:
				i++
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if size == 1 || r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			if size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			}
			start = i + size
		}
		i += size
	}
	return b, i, false
}

// scanNumber returns the end of the JSON number at s[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(s string, i int) (int, bool) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i >= len(s) || !isDigit(s[i]):
		return i, false
	case s[i] == '0':
		i++
	default:
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return i, false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return i, false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i, true
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		if unhex(s[i]) < 0 {
			return false
		}
	}
	return true
}

// unhex returns the value of the hex digit c, or -1.
func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return rune(c-'A') + 10
	}
	return -1
}
