package postgres

import (
	"encoding/hex"
	"math"
	"strconv"

	"github.com/cdcd-dev/cdcd/event"
)

// Values travel to Postgres as text, in the input syntax of their type,
// and the statement casts them to the column's type: Postgres parses them
// exactly as it parses its own text output, so nothing goes through a
// lossy Go type.

const (
	usPerSecond = 1_000_000
	usPerDay    = 86_400 * usPerSecond
)

// appendText appends the Postgres text form of v (which must not be NULL)
// to b. json selects the JSON rendering for arrays, for json/jsonb
// columns; otherwise arrays are array literals.
func appendText(b []byte, v event.Value, json bool) []byte {
	switch v.Kind() {
	case event.KindBool:
		if v.Bool() {
			return append(b, "true"...)
		}
		return append(b, "false"...)
	case event.KindInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case event.KindUint:
		return strconv.AppendUint(b, v.Uint(), 10)
	case event.KindFloat:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return append(b, "NaN"...)
		case math.IsInf(f, 1):
			return append(b, "Infinity"...)
		case math.IsInf(f, -1):
			return append(b, "-Infinity"...)
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case event.KindBytes:
		b = append(b, `\x`...)
		return hex.AppendEncode(b, v.BytesView())
	case event.KindTimestamp:
		return appendInstant(b, v.Micros(), true)
	case event.KindDateTime:
		return appendInstant(b, v.Micros(), false)
	case event.KindDate:
		switch d := v.Days(); d {
		case event.PosInfinity:
			return append(b, "infinity"...)
		case event.NegInfinity:
			return append(b, "-infinity"...)
		default:
			y, m, dd := event.CivilFromDays(d)
			return appendBC(appendDate(b, y, m, dd), y)
		}
	case event.KindTime:
		return appendDuration(b, v.Micros())
	case event.KindArray:
		if json {
			return v.AppendJSON(b)
		}
		return appendArray(b, v.Elems())
	}
	// Decimal, String, JSON, Text: their text is the input form.
	return append(b, v.Str()...)
}

// appendInstant renders µs since the epoch as "YYYY-MM-DD HH:MM:SS.ffffff"
// with "+00" for an instant, and " BC" for years before 1.
func appendInstant(b []byte, us int64, zone bool) []byte {
	switch us {
	case event.PosInfinity:
		return append(b, "infinity"...)
	case event.NegInfinity:
		return append(b, "-infinity"...)
	}
	days := us / usPerDay
	tod := us % usPerDay
	if tod < 0 {
		days--
		tod += usPerDay
	}
	y, m, d := event.CivilFromDays(days)
	b = appendDate(b, y, m, d)
	b = append(b, ' ')
	b = appendClock(b, uint64(tod))
	if zone {
		b = append(b, "+00"...)
	}
	return appendBC(b, y)
}

// appendDate renders a date with the year as Postgres reads it: years
// before 1 as their BC number (year 0 is 1 BC), followed later by " BC".
func appendDate(b []byte, y, m, d int) []byte {
	if y <= 0 {
		y = 1 - y
	}
	if y < 1000 {
		b = append(b, "000"[:3-digits(y)+1]...)
	}
	b = strconv.AppendInt(b, int64(y), 10)
	return append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

// digits returns the number of decimal digits of 0 < n < 1000.
func digits(n int) int {
	switch {
	case n < 10:
		return 1
	case n < 100:
		return 2
	}
	return 3
}

func appendBC(b []byte, y int) []byte {
	if y <= 0 {
		return append(b, " BC"...)
	}
	return b
}

// appendClock renders a time of day in µs as HH:MM:SS.ffffff; hours may
// exceed 23 (durations).
func appendClock(b []byte, us uint64) []byte {
	h := us / (3600 * usPerSecond)
	if h < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendUint(b, h, 10)
	us %= 3600 * usPerSecond
	m, s, f := us/(60*usPerSecond), us/usPerSecond%60, us%usPerSecond
	b = append(b, ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+s/10), byte('0'+s%10), '.')
	for p := uint64(100000); p > 0; p /= 10 {
		b = append(b, byte('0'+f/p%10))
	}
	return b
}

// appendDuration renders a KindTime value; a negative one (a MySQL TIME
// duration) with a leading '-', which a time column rejects and an
// interval column accepts.
func appendDuration(b []byte, us int64) []byte {
	u := uint64(us)
	if us < 0 {
		b = append(b, '-')
		u = -u
	}
	return appendClock(b, u)
}

// appendArray renders an array literal: {1,NULL,"a b",{2,3}}. Elements
// are always quoted (except NULL and nested arrays), so no element text
// is mistaken for syntax.
func appendArray(b []byte, elems []event.Value) []byte {
	b = append(b, '{')
	for i, e := range elems {
		if i > 0 {
			b = append(b, ',')
		}
		switch e.Kind() {
		case event.KindNull:
			b = append(b, "NULL"...)
		case event.KindArray:
			b = appendArray(b, e.Elems())
		default:
			mark := len(b)
			b = appendText(b, e, false)
			b = quoteElem(b, mark)
		}
	}
	return append(b, '}')
}

// quoteElem quotes b[mark:] in place as an array element: "…" with '"'
// and '\' escaped.
func quoteElem(b []byte, mark int) []byte {
	n := 2
	for _, c := range b[mark:] {
		if c == '"' || c == '\\' {
			n++
		}
	}
	end := len(b)
	b = append(b, make([]byte, n)...)
	// Copy backwards so the growing tail does not overwrite what is left
	// to copy.
	j := len(b) - 1
	b[j] = '"'
	j--
	for i := end - 1; i >= mark; i-- {
		c := b[i]
		b[j] = c
		j--
		if c == '"' || c == '\\' {
			b[j] = '\\'
			j--
		}
	}
	b[j] = '"'
	return b
}
