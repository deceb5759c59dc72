package event

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// maxArrayDepth bounds the nesting of arrays decoded as KindArray values.
const maxArrayDepth = 1000

// DecodeJSON parses one event in the native JSON encoding (what
// Event.AppendJSON produces; whitespace around tokens, envelope keys in any
// order and unknown keys are accepted, and the last of duplicate envelope keys
// wins).
//
// When schema is given, each column's value is decoded as the Kind of the
// schema column of the same name, and the event's table and schema_version
// must match schema's; the decoded event refers to schema. Without a schema
// (and for columns the schema does not have) values decode by their JSON
// type: an integer literal that fits int64 becomes KindInt, else one that
// fits uint64 KindUint, else KindDecimal; another number becomes KindFloat
// when it is the shortest rendering of a float64 (as AppendJSON writes
// floats) and KindDecimal otherwise; strings become KindString, booleans
// KindBool, arrays KindArray and objects KindJSON. Array elements always
// decode by their JSON type, since a schema has no element kinds.
//
// The event gets a new SourceInfo (Kind, Pipeline, DB from "source", ServerID
// from "id"), Pos from source.pos, Tx.ID and Tx.CommitTime from txid and
// commit_ts, Tx.Index from Pos.Index (Tx.Count is not encoded and stays 0).
// Errors are *JSONError, wrapping ErrUnsupportedVersion when "v" is not 1.
// DecodeJSON is not in cdcd's hot path: it copies data once and allocates
// freely.
func DecodeJSON(data []byte, schema *TableSchema) (Event, error) {
	d := decoder{s: string(data), schema: schema}
	e, err := d.event()
	if err != nil {
		return Event{}, err
	}
	return e, nil
}

// decoder is a small recursive-descent JSON parser over one event.
type decoder struct {
	s       string
	i       int
	schema  *TableSchema
	scratch []byte
}

func (d *decoder) errAt(off int, path string, format string, args ...any) error {
	return &JSONError{Offset: off, Path: path, Err: fmt.Errorf(format, args...)}
}

func (d *decoder) err(path string, format string, args ...any) error {
	return d.errAt(d.i, path, format, args...)
}

// peek skips whitespace and returns the next byte, or 0 at the end.
func (d *decoder) peek() byte {
	d.i = skipSpace(d.s, d.i)
	if d.i >= len(d.s) {
		return 0
	}
	return d.s[d.i]
}

// want consumes c, after whitespace.
func (d *decoder) want(c byte, path string) error {
	if d.peek() != c {
		return d.unexpected(path, fmt.Sprintf("%q", c))
	}
	d.i++
	return nil
}

func (d *decoder) unexpected(path, want string) error {
	if d.i >= len(d.s) {
		return d.err(path, "unexpected end of input, want %s", want)
	}
	return d.err(path, "unexpected %q, want %s", d.s[d.i], want)
}

// null consumes a null literal if one is next.
func (d *decoder) null() bool {
	if d.peek() == 'n' && len(d.s)-d.i >= 4 && d.s[d.i:d.i+4] == "null" {
		d.i += 4
		return true
	}
	return false
}

// object parses an object, calling field for each key with d positioned at
// its value; field must consume the value.
func (d *decoder) object(path string, field func(key string) error) error {
	if err := d.want('{', path); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.unexpected(path, "an object key")
		}
		key, err := d.str(path)
		if err != nil {
			return err
		}
		if err := d.want(':', path); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.unexpected(path, "',' or '}'")
		}
	}
}

// array parses an array, calling elem with d positioned at each element.
func (d *decoder) array(path string, elem func() error) error {
	if err := d.want('[', path); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return d.unexpected(path, "',' or ']'")
		}
	}
}

// str parses a string token, resolving escapes. A lone UTF-16 surrogate
// escape and each byte that is not valid UTF-8 become U+FFFD.
func (d *decoder) str(path string) (string, error) {
	if d.peek() != '"' {
		return "", d.unexpected(path, "a string")
	}
	start := d.i + 1
	i := start
	for i < len(d.s) { // fast path: nothing to resolve
		c := d.s[i]
		if c == '"' {
			d.i = i + 1
			return d.s[start:i], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		i++
	}
	buf := []byte(d.s[start:i])
	for i < len(d.s) {
		c := d.s[i]
		switch {
		case c == '"':
			d.i = i + 1
			return string(buf), nil
		case c < 0x20:
			d.i = i
			return "", d.err(path, "control character %#02x in string", c)
		case c == '\\':
			if i+1 >= len(d.s) {
				d.i = i
				return "", d.err(path, "unterminated string")
			}
			switch e := d.s[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := d.hex4(i + 2)
				if !ok {
					d.i = i
					return "", d.err(path, "bad \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2, ok := rune(-1), false
					if len(d.s)-i >= 6 && d.s[i] == '\\' && d.s[i+1] == 'u' {
						r2, ok = d.hex4(i + 2)
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				buf = utf8.AppendRune(buf, r)
				continue
			default:
				d.i = i
				return "", d.err(path, "bad escape \\%c", e)
			}
			i += 2
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(d.s[i:])
			buf = utf8.AppendRune(buf, r) // RuneError for an invalid byte
			i += size
		}
	}
	d.i = i
	return "", d.err(path, "unterminated string")
}

func (d *decoder) hex4(i int) (rune, bool) {
	if len(d.s)-i < 4 || !isHex4(d.s[i:i+4]) {
		return 0, false
	}
	return unhex(d.s[i])<<12 | unhex(d.s[i+1])<<8 | unhex(d.s[i+2])<<4 | unhex(d.s[i+3]), true
}

// number returns the text of a number token.
func (d *decoder) number(path string) (string, error) {
	d.peek()
	end, ok := scanNumber(d.s, d.i)
	if !ok {
		return "", d.unexpected(path, "a number")
	}
	n := d.s[d.i:end]
	d.i = end
	return n, nil
}

// boolean parses true or false.
func (d *decoder) boolean(path string) (bool, error) {
	switch d.peek() {
	case 't':
		if len(d.s)-d.i >= 4 && d.s[d.i:d.i+4] == "true" {
			d.i += 4
			return true, nil
		}
	case 'f':
		if len(d.s)-d.i >= 5 && d.s[d.i:d.i+5] == "false" {
			d.i += 5
			return false, nil
		}
	}
	return false, d.unexpected(path, "true or false")
}

// raw returns the next value's text with insignificant whitespace removed.
func (d *decoder) raw(path string) (string, error) {
	d.peek()
	b, end, ok := appendJSONValue(d.scratch[:0], d.s, d.i)
	d.scratch = b
	if !ok {
		d.i = end
		return "", d.err(path, "invalid JSON value")
	}
	d.i = end
	return string(b), nil
}

// event parses the envelope.
func (d *decoder) event() (Event, error) {
	var (
		e          Event
		src        = new(SourceInfo)
		id         string
		idOff      = -1
		version    uint64
		versionOff = -1
		haveV      bool
		haveOp     bool
		havePos    bool
	)
	e.Source = src
	err := d.object("", func(key string) error {
		var err error
		switch key {
		case "v":
			d.peek()
			vOff := d.i
			var n string
			if n, err = d.number("v"); err == nil && n != "1" {
				return &JSONError{Offset: vOff, Path: "v", Err: fmt.Errorf("%w: %s", ErrUnsupportedVersion, n)}
			}
			haveV = true
		case "id":
			d.peek()
			idOff = d.i
			id, err = d.str("id")
		case "op":
			d.peek()
			off := d.i
			var s string
			if s, err = d.str("op"); err == nil {
				if e.Op, err = ParseOp(s); err != nil {
					return &JSONError{Offset: off, Path: "op", Err: err}
				}
				haveOp = true
			}
		case "source":
			err = d.source(&e, src, &havePos)
		case "schema_version":
			d.peek()
			versionOff = d.i
			var n string
			if n, err = d.number("schema_version"); err == nil {
				if version, err = strconv.ParseUint(n, 10, 64); err != nil {
					return d.errAt(versionOff, "schema_version", "want an unsigned integer, got %s", n)
				}
			}
		case "key":
			e.Key, err = d.row("key")
		case "before":
			e.Before, err = d.row("before")
		case "after":
			e.After, err = d.row("after")
		case "unchanged":
			e.Unchanged, err = d.unchanged()
		case "message":
			e.Message, err = d.message()
		case "topic":
			e.Topic, err = d.str("topic")
		default:
			_, err = d.raw(key)
		}
		return err
	})
	if err != nil {
		return Event{}, err
	}
	if d.peek(); d.i < len(d.s) {
		return Event{}, d.err("", "data after the event object")
	}
	switch {
	case !haveV:
		return Event{}, d.errAt(0, "v", "missing")
	case idOff < 0:
		return Event{}, d.errAt(0, "id", "missing")
	case !haveOp:
		return Event{}, d.errAt(0, "op", "missing")
	case !havePos:
		return Event{}, d.errAt(0, "source.pos", "missing")
	}
	// id is "<server id>:<pos>" and its position must be source.pos.
	const posLen = positionLen + 1
	if len(id) < posLen || id[len(id)-posLen] != ':' {
		return Event{}, d.errAt(idOff, "id", "%q is not <server id>:<position>", id)
	}
	if p, err := ParsePosition(id[len(id)-positionLen:]); err != nil || p != e.Pos {
		return Event{}, d.errAt(idOff, "id", "%q does not end with source.pos %s", id, e.Pos)
	}
	src.ServerID = id[:len(id)-posLen]
	e.Tx.Index = e.Pos.Index
	if s := d.schema; s != nil {
		if s.Table != e.Table {
			return Event{}, d.errAt(0, "source.table", "event is for table %s, the schema given is for %s", e.Table, s.Table)
		}
		if s.Version != version {
			return Event{}, d.errAt(max(versionOff, 0), "schema_version", "event has schema version %d, the schema given is version %d", version, s.Version)
		}
		e.Schema = s
	}
	return e, nil
}

// source parses the "source" object into e and src.
func (d *decoder) source(e *Event, src *SourceInfo, havePos *bool) error {
	return d.object("source", func(key string) error {
		var err error
		path := "source." + key
		switch key {
		case "kind":
			src.Kind, err = d.str(path)
		case "pipeline":
			src.Pipeline, err = d.str(path)
		case "db":
			src.DB, err = d.str(path)
		case "namespace":
			e.Table.Namespace, err = d.str(path)
		case "table":
			e.Table.Name, err = d.str(path)
		case "pos":
			d.peek()
			off := d.i
			var s string
			if s, err = d.str(path); err == nil {
				if e.Pos, err = ParsePosition(s); err != nil {
					return &JSONError{Offset: off, Path: path, Err: err}
				}
				*havePos = true
			}
		case "txid":
			e.Tx.ID, err = d.str(path)
		case "commit_ts":
			if d.null() {
				e.Tx.CommitTime = time.Time{}
				return nil
			}
			d.peek()
			off := d.i
			var s string
			if s, err = d.str(path); err == nil {
				us, perr := parseInstant(s, true)
				if perr != nil || us == PosInfinity || us == NegInfinity {
					return d.errAt(off, path, "%q is not a timestamp", s)
				}
				e.Tx.CommitTime = time.UnixMicro(us).UTC()
			}
		default:
			_, err = d.raw(path)
		}
		return err
	})
}

// row parses null or a row object, taking column kinds from the schema.
func (d *decoder) row(path string) (Row, error) {
	if d.null() {
		return nil, nil
	}
	r := Row{}
	err := d.object(path, func(name string) error {
		var col *Column
		if d.schema != nil {
			col = d.schema.Column(name)
		}
		var v Value
		var err error
		if col != nil {
			v, err = d.value(col.Kind, path+"."+name)
		} else {
			v, err = d.untyped(path+"."+name, 0)
		}
		r = append(r, Field{Name: name, Value: v})
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// unchanged parses the list of unchanged column names; [] and null give nil.
func (d *decoder) unchanged() ([]string, error) {
	if d.null() {
		return nil, nil
	}
	var names []string
	err := d.array("unchanged", func() error {
		s, err := d.str("unchanged")
		names = append(names, s)
		return err
	})
	return names, err
}

// message parses null or the message object.
func (d *decoder) message() (*Message, error) {
	if d.null() {
		return nil, nil
	}
	m := new(Message)
	err := d.object("message", func(key string) error {
		var err error
		path := "message." + key
		switch key {
		case "prefix":
			m.Prefix, err = d.str(path)
		case "content":
			d.peek()
			off := d.i
			var s string
			if s, err = d.str(path); err == nil {
				if m.Content, err = base64.StdEncoding.Strict().DecodeString(s); err != nil {
					return &JSONError{Offset: off, Path: path, Err: fmt.Errorf("bad base64: %w", err)}
				}
			}
		case "transactional":
			m.Transactional, err = d.boolean(path)
		default:
			_, err = d.raw(path)
		}
		return err
	})
	return m, err
}

// value parses a value of the given kind (null is NULL for every kind).
func (d *decoder) value(kind Kind, path string) (Value, error) {
	if d.null() {
		return Null(), nil
	}
	if d.peek(); d.i >= len(d.s) {
		return Value{}, d.unexpected(path, "a value")
	}
	off := d.i
	bad := func(text string, why string) (Value, error) {
		return Value{}, d.errAt(off, path, "%s is not a %s value: %s", text, kind, why)
	}
	switch kind {
	case KindBool:
		b, err := d.boolean(path)
		return Bool(b), err
	case KindInt:
		n, err := d.number(path)
		if err != nil {
			return Value{}, err
		}
		i, err := strconv.ParseInt(n, 10, 64)
		if err != nil {
			return bad(n, "want an integer in the int64 range")
		}
		return Int(i), nil
	case KindUint:
		n, err := d.number(path)
		if err != nil {
			return Value{}, err
		}
		u, err := strconv.ParseUint(n, 10, 64)
		if err != nil {
			return bad(n, "want an integer in the uint64 range")
		}
		return Uint(u), nil
	case KindFloat:
		if d.s[d.i] == '"' {
			s, err := d.str(path)
			if err != nil {
				return Value{}, err
			}
			switch s {
			case "NaN":
				return Float(math.NaN()), nil
			case "Infinity":
				return Float(math.Inf(1)), nil
			case "-Infinity":
				return Float(math.Inf(-1)), nil
			}
			return bad(strconv.Quote(s), `want a number, "NaN", "Infinity" or "-Infinity"`)
		}
		n, err := d.number(path)
		if err != nil {
			return Value{}, err
		}
		f, err := strconv.ParseFloat(n, 64)
		if err != nil {
			return bad(n, "out of the float64 range")
		}
		return Float(f), nil
	case KindDecimal:
		var s string
		var err error
		if d.s[d.i] == '"' {
			s, err = d.str(path)
		} else {
			s, err = d.number(path)
		}
		if err != nil {
			return Value{}, err
		}
		c, ok := CanonicalDecimal(s)
		if !ok {
			return bad(strconv.Quote(s), "want a decimal literal")
		}
		return Decimal(c), nil
	case KindString, KindText:
		s, err := d.str(path)
		if err != nil {
			return Value{}, err
		}
		if kind == KindText {
			return Text(s), nil
		}
		return String(s), nil
	case KindBytes:
		s, err := d.str(path)
		if err != nil {
			return Value{}, err
		}
		b, err := base64.StdEncoding.Strict().DecodeString(s)
		if err != nil {
			return bad(strconv.Quote(s), "want standard padded base64")
		}
		return BytesString(string(b)), nil
	case KindTimestamp, KindDateTime, KindDate, KindTime:
		s, err := d.str(path)
		if err != nil {
			return Value{}, err
		}
		var n int64
		switch kind {
		case KindTimestamp:
			n, err = parseInstant(s, true)
		case KindDateTime:
			n, err = parseInstant(s, false)
		case KindDate:
			n, err = parseDate(s)
		case KindTime:
			n, err = parseDuration(s)
		}
		if err != nil {
			return bad(strconv.Quote(s), err.Error())
		}
		return Value{kind: kind, n: n}, nil
	case KindJSON:
		s, err := d.raw(path)
		return JSON(s), err
	case KindArray:
		if d.s[d.i] != '[' {
			return Value{}, d.unexpected(path, "an array")
		}
	}
	return d.untyped(path, 0)
}

// untyped parses a value by its JSON type.
func (d *decoder) untyped(path string, depth int) (Value, error) {
	switch d.peek() {
	case 'n':
		if d.null() {
			return Null(), nil
		}
	case 't', 'f':
		b, err := d.boolean(path)
		return Bool(b), err
	case '"':
		s, err := d.str(path)
		return String(s), err
	case '{':
		s, err := d.raw(path)
		return JSON(s), err
	case '[':
		if depth >= maxArrayDepth {
			return Value{}, d.err(path, "arrays nested deeper than %d", maxArrayDepth)
		}
		elems := []Value{}
		err := d.array(path, func() error {
			v, err := d.untyped(path, depth+1)
			elems = append(elems, v)
			return err
		})
		return Array(elems), err
	default:
		off := d.i
		n, err := d.number(path)
		if err != nil {
			return Value{}, err
		}
		if v, ok := numberValue(n); ok {
			return v, nil
		}
		return Value{}, d.errAt(off, path, "number %.40s… is too long for a decimal", n)
	}
	return Value{}, d.unexpected(path, "a JSON value")
}

// numberValue converts a JSON number literal exactly: an integer to KindInt
// or KindUint when it fits, a float's shortest rendering to KindFloat, and
// anything else to KindDecimal.
func numberValue(n string) (Value, bool) {
	isInt := true
	for i := 0; i < len(n); i++ {
		if c := n[i]; c == '.' || c == 'e' || c == 'E' {
			isInt = false
			break
		}
	}
	if isInt {
		if i, err := strconv.ParseInt(n, 10, 64); err == nil {
			return Int(i), true
		}
		if u, err := strconv.ParseUint(n, 10, 64); err == nil {
			return Uint(u), true
		}
	} else if f, err := strconv.ParseFloat(n, 64); err == nil {
		var buf [32]byte
		if string(strconv.AppendFloat(buf[:0], f, 'g', -1, 64)) == n {
			return Float(f), true
		}
	}
	c, ok := CanonicalDecimal(n)
	return Decimal(c), ok
}

var errBadInstant = errors.New("want YYYY-MM-DDTHH:MM:SS.ffffff")

// parseInstant parses what appendInstant writes, without its quotes.
func parseInstant(s string, zulu bool) (int64, error) {
	switch s {
	case "infinity":
		return PosInfinity, nil
	case "-infinity":
		return NegInfinity, nil
	}
	days, rest, err := parseCivil(s)
	if err != nil {
		return 0, err
	}
	want := len("THH:MM:SS.ffffff")
	if zulu {
		want++
	}
	if len(rest) != want || rest[0] != 'T' || (zulu && rest[want-1] != 'Z') {
		if zulu {
			return 0, errors.New("want YYYY-MM-DDTHH:MM:SS.ffffffZ")
		}
		return 0, errBadInstant
	}
	h, ok1 := digits2(rest[1:])
	tod, ok2 := parseMinSecFrac(rest[4:16])
	if !ok1 || !ok2 || rest[3] != ':' || h > 23 {
		return 0, errBadInstant
	}
	tod += uint64(h) * usPerHour
	// micros = days*usPerDay + tod, refusing overflow and the infinity markers.
	const maxDays = math.MaxInt64 / usPerDay
	var us int64
	switch {
	case days > maxDays || days < -maxDays-1:
		return 0, errors.New("out of range")
	case days >= 0:
		base := days * usPerDay
		if int64(tod) > math.MaxInt64-base {
			return 0, errors.New("out of range")
		}
		us = base + int64(tod)
	default:
		base := (days + 1) * usPerDay // no overflow: days+1 >= -maxDays
		if base < math.MinInt64+(usPerDay-int64(tod)) {
			return 0, errors.New("out of range")
		}
		us = base - (usPerDay - int64(tod))
	}
	if us == PosInfinity || us == NegInfinity {
		return 0, errors.New("out of range")
	}
	return us, nil
}

// parseDate parses what appendDate writes, without its quotes.
func parseDate(s string) (int64, error) {
	switch s {
	case "infinity":
		return PosInfinity, nil
	case "-infinity":
		return NegInfinity, nil
	}
	days, rest, err := parseCivil(s)
	if err != nil {
		return 0, err
	}
	if rest != "" {
		return 0, errors.New("want YYYY-MM-DD")
	}
	if days == PosInfinity || days == NegInfinity {
		return 0, errors.New("out of range")
	}
	return days, nil
}

// parseCivil parses a date YYYY-MM-DD or ±YYYYYY-MM-DD (six or more year
// digits) at the start of s and returns its day number and the rest of s.
func parseCivil(s string) (days int64, rest string, err error) {
	bad := errors.New("want YYYY-MM-DD, years outside 0000-9999 as ±YYYYYY-MM-DD")
	i := 0
	neg := false
	expanded := len(s) > 0 && (s[0] == '+' || s[0] == '-')
	if expanded {
		neg = s[0] == '-'
		i = 1
	}
	yStart := i
	var y int64
	for i < len(s) && isDigit(s[i]) && i-yStart < 18 {
		y = y*10 + int64(s[i]-'0')
		i++
	}
	nd := i - yStart
	if (expanded && nd < 6) || (!expanded && nd != 4) || len(s)-i < 6 || s[i] != '-' || s[i+3] != '-' {
		return 0, "", bad
	}
	m, ok1 := digits2(s[i+1:])
	d, ok2 := digits2(s[i+4:])
	if !ok1 || !ok2 {
		return 0, "", bad
	}
	if neg {
		y = -y
	}
	if m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m) {
		return 0, "", errors.New("no such date")
	}
	days = DaysFromCivil(int(y), m, d)
	if yy, mm, dd := CivilFromDays(days); int64(yy) != y || mm != m || dd != d {
		return 0, "", errors.New("out of range")
	}
	return days, s[i+6:], nil
}

// parseDuration parses what appendDuration writes, without its quotes.
func parseDuration(s string) (int64, error) {
	bad := errors.New("want [-]HH:MM:SS.ffffff")
	neg := len(s) > 0 && s[0] == '-'
	if neg {
		s = s[1:]
	}
	i := 0
	var h uint64
	for i < len(s) && isDigit(s[i]) && i < 11 {
		h = h*10 + uint64(s[i]-'0')
		i++
	}
	if i < 2 || len(s)-i != 1+len("MM:SS.ffffff") || s[i] != ':' {
		return 0, bad
	}
	rest, ok := parseMinSecFrac(s[i+1:])
	if !ok {
		return 0, bad
	}
	const maxHours = (1 << 63) / usPerHour
	if h > maxHours {
		return 0, errors.New("out of range")
	}
	u := h*usPerHour + rest
	switch {
	case neg && u <= 1<<63:
		return int64(-u), nil // -(1<<63) wraps to math.MinInt64 exactly
	case !neg && u <= math.MaxInt64:
		return int64(u), nil
	}
	return 0, errors.New("out of range")
}

// parseMinSecFrac parses "MM:SS.ffffff" into microseconds.
func parseMinSecFrac(s string) (uint64, bool) {
	if len(s) != len("MM:SS.ffffff") || s[2] != ':' || s[5] != '.' {
		return 0, false
	}
	m, ok1 := digits2(s)
	sec, ok2 := digits2(s[3:])
	if !ok1 || !ok2 || m > 59 || sec > 59 {
		return 0, false
	}
	var f uint64
	for _, c := range []byte(s[6:]) {
		if !isDigit(c) {
			return 0, false
		}
		f = f*10 + uint64(c-'0')
	}
	return uint64(m)*usPerMinute + uint64(sec)*usPerSecond + f, true
}

// digits2 parses the two decimal digits at the start of s.
func digits2(s string) (int, bool) {
	if len(s) < 2 || !isDigit(s[0]) || !isDigit(s[1]) {
		return 0, false
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), true
}

// daysInMonth returns the length of month m (1–12) of year y.
func daysInMonth(y int64, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
