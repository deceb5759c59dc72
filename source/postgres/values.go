package postgres

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/cdcd-dev/cdcd/event"
)

// A decoder turns the text form of one non-NULL value, as pgoutput sends it
// under the session settings forced on the replication connection
// (DateStyle=ISO, TimeZone=UTC, IntervalStyle=iso_8601,
// extra_float_digits=3, bytea_output=hex), into a normalized value. The
// input is only valid during the call; decoders copy what they keep.
type decoder func(b []byte) (event.Value, error)

func errSyntax(what string, b []byte) error {
	if len(b) > 64 {
		b = append(b[:61:61], "..."...)
	}
	return fmt.Errorf("invalid %s %q", what, b)
}

// decodeBool decodes bool ("t" / "f").
func decodeBool(b []byte) (event.Value, error) {
	if len(b) == 1 {
		switch b[0] {
		case 't':
			return event.Bool(true), nil
		case 'f':
			return event.Bool(false), nil
		}
	}
	return event.Value{}, errSyntax("bool", b)
}

// decodeInt decodes int2, int4 and int8.
func decodeInt(b []byte) (event.Value, error) {
	if n, ok := parseInt64(b); ok {
		return event.Int(n), nil
	}
	return event.Value{}, errSyntax("integer", b)
}

// parseInt64 parses a decimal integer without allocating.
func parseInt64(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg || b[0] == '+' {
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	var u uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if u > (math.MaxUint64-9)/10 {
			return 0, false
		}
		u = u*10 + uint64(c-'0')
	}
	if neg {
		if u > 1<<63 {
			return 0, false
		}
		return -int64(u), true
	}
	if u > math.MaxInt64 {
		return 0, false
	}
	return int64(u), true
}

// decodeUint decodes oid, xid, cid and xid8.
func decodeUint(b []byte) (event.Value, error) {
	if len(b) == 0 || b[0] == '+' || b[0] == '-' {
		return event.Value{}, errSyntax("unsigned integer", b)
	}
	u, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil {
		return event.Value{}, errSyntax("unsigned integer", b)
	}
	return event.Uint(u), nil
}

// decodeFloat8 decodes float8, including NaN and ±Infinity.
func decodeFloat8(b []byte) (event.Value, error) { return decodeFloat(b, 64) }

// decodeFloat4 decodes float4 to the float64 holding the same value.
func decodeFloat4(b []byte) (event.Value, error) { return decodeFloat(b, 32) }

func decodeFloat(b []byte, bits int) (event.Value, error) {
	switch string(b) {
	case "NaN":
		return event.Float(math.NaN()), nil
	case "Infinity":
		return event.Float(math.Inf(1)), nil
	case "-Infinity":
		return event.Float(math.Inf(-1)), nil
	}
	if len(b) == 0 || !(b[0] == '-' || b[0] == '.' || (b[0] >= '0' && b[0] <= '9')) {
		return event.Value{}, errSyntax("float", b)
	}
	f, err := strconv.ParseFloat(string(b), bits)
	if err != nil {
		return event.Value{}, errSyntax("float", b)
	}
	return event.Float(f), nil
}

// decodeNumeric decodes numeric: the text is already the canonical decimal
// ("-12.3400", "NaN", "Infinity", "-Infinity"), kept with its scale.
func decodeNumeric(b []byte) (event.Value, error) {
	switch string(b) {
	case "NaN", "Infinity", "-Infinity":
		return event.Decimal(string(b)), nil
	}
	s := b
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	digits, dot := 0, false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return event.Value{}, errSyntax("numeric", b)
		}
	}
	if digits == 0 {
		return event.Value{}, errSyntax("numeric", b)
	}
	return event.Decimal(string(b)), nil
}

// decodeString decodes text, varchar, bpchar (padding kept), name, citext,
// uuid and enum labels.
func decodeString(b []byte) (event.Value, error) {
	if !utf8.Valid(b) {
		return event.Value{}, errors.New("text is not valid UTF-8 (the database encoding must be UTF8)")
	}
	return event.String(string(b)), nil
}

// decodeText carries a value without a normalized form as its text.
func decodeText(b []byte) (event.Value, error) {
	if !utf8.Valid(b) {
		return event.Value{}, errors.New("text is not valid UTF-8 (the database encoding must be UTF8)")
	}
	return event.Text(string(b)), nil
}

// decodeJSON decodes json and jsonb, whose text is the document.
func decodeJSON(b []byte) (event.Value, error) {
	if !utf8.Valid(b) {
		return event.Value{}, errors.New("json is not valid UTF-8")
	}
	return event.JSON(string(b)), nil
}

// decodeBytea decodes bytea in hex format ("\x0a1b").
func decodeBytea(b []byte) (event.Value, error) {
	if len(b) < 2 || b[0] != '\\' || b[1] != 'x' || len(b)%2 != 0 {
		return event.Value{}, errSyntax("bytea (want hex format)", b)
	}
	out := make([]byte, (len(b)-2)/2)
	for i := range out {
		hi, ok1 := unhex(b[2+2*i])
		lo, ok2 := unhex(b[3+2*i])
		if !ok1 || !ok2 {
			return event.Value{}, errSyntax("bytea", b)
		}
		out[i] = hi<<4 | lo
	}
	return event.Bytes(out), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

const (
	microsPerSecond = 1_000_000
	microsPerDay    = 86_400 * microsPerSecond
)

// decodeDate decodes date: "2024-02-29", "0044-03-15 BC", "infinity",
// "-infinity".
func decodeDate(b []byte) (event.Value, error) {
	switch string(b) {
	case "infinity":
		return event.Date(event.PosInfinity), nil
	case "-infinity":
		return event.Date(event.NegInfinity), nil
	}
	y, m, d, rest, ok := parseDate(b)
	if ok {
		rest, bc := cutBC(rest)
		if days, ok := civilDays(y, m, d, bc); ok && len(rest) == 0 {
			return event.Date(days), nil
		}
	}
	return event.Value{}, errSyntax("date", b)
}

// decodeTimestamp decodes timestamp without time zone to a wall-clock
// DateTime: "2024-02-29 13:14:15.123456", with " BC" and ±infinity.
func decodeTimestamp(b []byte) (event.Value, error) {
	switch string(b) {
	case "infinity":
		return event.DateTime(event.PosInfinity), nil
	case "-infinity":
		return event.DateTime(event.NegInfinity), nil
	}
	us, err := parseTimestamp(b, false)
	if err != nil {
		return event.Value{}, err
	}
	return event.DateTime(us), nil
}

// decodeTimestamptz decodes timestamp with time zone to an instant:
// "2024-02-29 13:14:15.123456+00", with any offset, " BC" and ±infinity.
func decodeTimestamptz(b []byte) (event.Value, error) {
	switch string(b) {
	case "infinity":
		return event.Timestamp(event.PosInfinity), nil
	case "-infinity":
		return event.Timestamp(event.NegInfinity), nil
	}
	us, err := parseTimestamp(b, true)
	if err != nil {
		return event.Value{}, err
	}
	return event.Timestamp(us), nil
}

// decodeTime decodes time without time zone: "13:14:15.123456", up to
// "24:00:00".
func decodeTime(b []byte) (event.Value, error) {
	us, rest, ok := parseClock(b)
	if !ok || len(rest) != 0 || us > microsPerDay {
		return event.Value{}, errSyntax("time", b)
	}
	return event.Time(us), nil
}

// parseTimestamp parses "date clock[offset][ BC]" to microseconds since
// 1970-01-01T00:00:00 (UTC when withZone).
func parseTimestamp(b []byte, withZone bool) (int64, error) {
	what := "timestamp"
	if withZone {
		what = "timestamptz"
	}
	y, m, d, rest, ok := parseDate(b)
	if !ok || len(rest) == 0 || rest[0] != ' ' {
		return 0, errSyntax(what, b)
	}
	clock, rest, ok := parseClock(rest[1:])
	if !ok || clock >= microsPerDay {
		return 0, errSyntax(what, b)
	}
	var offset int64
	if withZone {
		offset, rest, ok = parseOffset(rest)
		if !ok {
			return 0, errSyntax(what, b)
		}
	}
	rest, bc := cutBC(rest)
	if len(rest) != 0 {
		return 0, errSyntax(what, b)
	}
	days, ok := civilDays(y, m, d, bc)
	if !ok {
		return 0, errSyntax(what, b)
	}
	// days*microsPerDay + clock - offset, checked: the event model holds
	// µs since 1970 in an int64 whose extremes mean ±infinity.
	hi, lo := int64(math.MaxInt64/microsPerDay), int64(math.MinInt64/microsPerDay)
	if days >= hi || days <= lo {
		return 0, fmt.Errorf("%s %q: %w", what, b, ErrOutOfRange)
	}
	return days*microsPerDay + clock - offset*microsPerSecond, nil
}

// parseDate parses "YYYY-MM-DD" (four or more year digits) and returns
// the year, month, day and the rest of b.
func parseDate(b []byte) (y int64, m, d int, rest []byte, ok bool) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		if i >= 9 {
			return 0, 0, 0, nil, false
		}
		y = y*10 + int64(b[i]-'0')
		i++
	}
	if i < 4 || len(b) < i+6 || b[i] != '-' || b[i+3] != '-' {
		return 0, 0, 0, nil, false
	}
	m, ok1 := two(b[i+1:])
	d, ok2 := two(b[i+4:])
	if !ok1 || !ok2 || m < 1 || m > 12 || d < 1 {
		return 0, 0, 0, nil, false
	}
	return y, m, d, b[i+6:], true
}

// civilDays returns the days since 1970-01-01 of year y (AD, or BC when bc)
// month m day d, and false if the date does not exist.
func civilDays(y int64, m, d int, bc bool) (int64, bool) {
	if bc {
		if y == 0 {
			return 0, false
		}
		y = 1 - y // astronomical numbering: 1 BC is year 0
	}
	if d > daysIn(y, m) {
		return 0, false
	}
	return daysFromCivil(y, m, d), true
}

func cutBC(b []byte) ([]byte, bool) {
	if bytes.HasSuffix(b, []byte(" BC")) {
		return b[:len(b)-3], true
	}
	return b, false
}

// parseClock parses "HH:MM:SS[.ffffff]" to microseconds.
func parseClock(b []byte) (int64, []byte, bool) {
	if len(b) < 8 || b[2] != ':' || b[5] != ':' {
		return 0, nil, false
	}
	h, ok1 := two(b)
	m, ok2 := two(b[3:])
	s, ok3 := two(b[6:])
	if !ok1 || !ok2 || !ok3 || h > 24 || m > 59 || s > 60 {
		return 0, nil, false
	}
	us := (int64(h)*3600 + int64(m)*60 + int64(s)) * microsPerSecond
	b = b[8:]
	if len(b) > 0 && b[0] == '.' {
		n, scale := 0, int64(100_000)
		b = b[1:]
		var frac int64
		for n < len(b) && b[n] >= '0' && b[n] <= '9' {
			if n >= 6 {
				return 0, nil, false
			}
			frac += int64(b[n]-'0') * scale
			scale /= 10
			n++
		}
		if n == 0 {
			return 0, nil, false
		}
		us += frac
		b = b[n:]
	}
	return us, b, true
}

// parseOffset parses a zone offset "+HH[:MM[:SS]]" to seconds east of UTC.
func parseOffset(b []byte) (int64, []byte, bool) {
	if len(b) < 3 || (b[0] != '+' && b[0] != '-') {
		return 0, nil, false
	}
	sign := int64(1)
	if b[0] == '-' {
		sign = -1
	}
	h, ok := two(b[1:])
	if !ok {
		return 0, nil, false
	}
	secs := int64(h) * 3600
	b = b[3:]
	for _, mul := range []int64{60, 1} {
		if len(b) < 3 || b[0] != ':' {
			break
		}
		v, ok := two(b[1:])
		if !ok || v > 59 {
			return 0, nil, false
		}
		secs += int64(v) * mul
		b = b[3:]
	}
	return sign * secs, b, true
}

func two(b []byte) (int, bool) {
	if len(b) < 2 || b[0] < '0' || b[0] > '9' || b[1] < '0' || b[1] > '9' {
		return 0, false
	}
	return int(b[0]-'0')*10 + int(b[1]-'0'), true
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(y int64, m int) int {
	switch m {
	case 2:
		if isLeap(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of the proleptic
// Gregorian date y-m-d (astronomical year numbering: 0 is 1 BC).
func daysFromCivil(y int64, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
