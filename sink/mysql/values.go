package mysql

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"

	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/cdcd-dev/cdcd/event"
)

// Values are written as SQL literals in the statement text (the session
// runs with NO_BACKSLASH_ESCAPES, so a string literal only doubles its
// quotes; bytes are hex literals). The session's sql_mode is strict: a
// value the column cannot hold is an error, never truncated or zeroed.

const (
	usPerSecond = 1_000_000
	usPerDay    = 86_400 * usPerSecond
)

// appendLiteral appends v as a MySQL literal.
func appendLiteral(b []byte, v event.Value) []byte {
	switch v.Kind() {
	case event.KindNull:
		return append(b, "NULL"...)
	case event.KindBool:
		if v.Bool() {
			return append(b, '1')
		}
		return append(b, '0')
	case event.KindInt:
		return strconv.AppendInt(b, v.Int(), 10)
	case event.KindUint:
		return strconv.AppendUint(b, v.Uint(), 10)
	case event.KindFloat:
		f := v.Float()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// MySQL has no NaN nor infinities: the quoted text fails in
			// strict mode, naming the row.
			return appendString(b, strconv.FormatFloat(f, 'g', -1, 64))
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	case event.KindDecimal:
		if plainDecimal(v.Str()) {
			return append(b, v.Str()...)
		}
		return appendString(b, v.Str())
	case event.KindBytes:
		b = append(b, "X'"...)
		b = hex.AppendEncode(b, v.BytesView())
		return append(b, '\'')
	case event.KindTimestamp, event.KindDateTime:
		return appendString(b, instant(v.Micros()))
	case event.KindDate:
		switch d := v.Days(); d {
		case event.PosInfinity:
			return appendString(b, "infinity")
		case event.NegInfinity:
			return appendString(b, "-infinity")
		default:
			y, m, dd := event.CivilFromDays(d)
			return appendString(b, string(appendDate(nil, y, m, dd)))
		}
	case event.KindTime:
		return appendString(b, duration(v.Micros()))
	case event.KindArray:
		return appendString(b, string(v.AppendJSON(nil)))
	}
	// String, JSON, Text.
	return appendString(b, v.Str())
}

// plainDecimal reports whether s is -?digits[.digits], safe to write as
// a numeric literal.
func plainDecimal(s string) bool {
	if strings.HasPrefix(s, "-") {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot && i > 0 && i < len(s)-1:
			dot = true
		default:
			return false
		}
	}
	return true
}

// appendString appends s as a quoted literal (a quote doubled; the session
// has NO_BACKSLASH_ESCAPES).
func appendString(b []byte, s string) []byte {
	b = append(b, '\'')
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '\'')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '\'')
}

// instant renders µs since the epoch as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC
// for instants: the session's time_zone is +00:00), or "infinity", which
// MySQL rejects.
func instant(us int64) string {
	switch us {
	case event.PosInfinity:
		return "infinity"
	case event.NegInfinity:
		return "-infinity"
	}
	days := us / usPerDay
	tod := us % usPerDay
	if tod < 0 {
		days--
		tod += usPerDay
	}
	y, m, d := event.CivilFromDays(days)
	b := appendDate(make([]byte, 0, 26), y, m, d)
	b = append(b, ' ')
	return string(appendClock(b, uint64(tod)))
}

// appendDate renders a date as YYYY-MM-DD; years outside 0–9999 (which
// MySQL rejects) keep their sign and digits.
func appendDate(b []byte, y, m, d int) []byte {
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	for p := 1000; p > 1 && y < p; p /= 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(y), 10)
	return append(b, '-', byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

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

// duration renders a KindTime value as [-]HH:MM:SS.ffffff, MySQL's TIME
// syntax (hours up to 838).
func duration(us int64) string {
	var b []byte
	u := uint64(us)
	if us < 0 {
		b = append(b, '-')
		u = -u
	}
	return string(appendClock(b, u))
}

// quote returns the backtick-quoted identifier.
func quote(ident string) string {
	return "`" + strings.ReplaceAll(ident, "`", "``") + "`"
}

// qualified returns `db`.`table` (or `table` without a database).
func qualified(id event.TableID) string {
	if id.Namespace == "" {
		return quote(id.Name)
	}
	return quote(id.Namespace) + "." + quote(id.Name)
}

// getString returns a result value as a string of its own: the client's
// GetString shares the packet buffer, which the next statement reuses.
func getString(r *gomysql.Result, row, col int) (string, error) {
	s, err := r.GetString(row, col)
	return strings.Clone(s), err
}
