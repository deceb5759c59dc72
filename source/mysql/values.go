package mysql

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
	gm "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/google/uuid"
)

// errShort is returned when a value runs past the end of its row event.
var errShort = errors.New("value runs past the end of the event")

const (
	usPerSecond = 1_000_000
	usPerDay    = 86_400 * usPerSecond
)

// valueMode selects how a colDec turns binlog bytes into a Value.
type valueMode uint8

const (
	modeInt    valueMode = iota + 1 // little-endian integer of width bytes, signed unless unsigned
	modeUint64                      // BIGINT UNSIGNED
	modeFloat32
	modeFloat64
	modeDecimal
	modeBit // big-endian bits; BIT(1) is a bool
	modeYear
	modeDate
	modeDatetime  // MYSQL_TYPE_DATETIME, packed decimal YYYYMMDDhhmmss
	modeDatetime2 // MYSQL_TYPE_DATETIME2
	modeTimestamp // MYSQL_TYPE_TIMESTAMP, seconds
	modeTimestamp2
	modeTime  // MYSQL_TYPE_TIME, packed decimal ±hhmmss
	modeTime2 // MYSQL_TYPE_TIME2
	modeEnum
	modeSet
	modeString // CHAR, VARCHAR (and BINARY, VARBINARY): length prefix of width bytes
	modeBlob   // BLOB, TEXT, GEOMETRY, VECTOR and MariaDB's JSON: length prefix of width bytes
	modeJSONBinary
)

// colDec decodes the values of one column of one table map: the binlog's
// column type and metadata say how the bytes are laid out, the tracked
// column what they mean.
type colDec struct {
	col      *column
	mode     valueMode
	kind     event.Kind
	width    int // bytes of an integer, a length prefix, a BIT, an ENUM/SET
	prec     int // DECIMAL precision
	scale    int // DECIMAL scale; fractional second digits of temporal types
	unsigned bool
	pad      int // BINARY(n): the value is padded with 0x00 to pad bytes
	text     *textDecoder
	special  string // "inet4", "inet6", "uuid": MariaDB's fixed binary types rendered as text
	zeroNull bool   // a zero date is NULL (else an error)
}

// newColDec returns the decoder of column c for binlog column type typ
// with metadata meta (as go-mysql's TableMapEvent gives them). It fails
// with ErrSchemaMismatch when the binlog type cannot hold the column's
// declared type.
func newColDec(typ byte, meta uint16, c *column, zeroNull bool) (*colDec, error) {
	d := &colDec{col: c, unsigned: c.Unsigned, zeroNull: zeroNull}
	k, ok := c.kind()
	if !ok {
		return nil, fmt.Errorf("type %s is not supported", c.Type)
	}
	d.kind = k
	mismatch := func() error {
		return fmt.Errorf("%w: binlog type %d (meta %#x) for a %s column", ErrSchemaMismatch, typ, meta, c.Type)
	}
	// CHAR, BINARY, ENUM and SET are MYSQL_TYPE_STRING with the real type
	// and the length in the metadata.
	length := 0
	if typ == gm.MYSQL_TYPE_STRING {
		if meta >= 256 {
			b0, b1 := byte(meta>>8), byte(meta)
			if b0&0x30 != 0x30 {
				length = int(b1) | int((b0&0x30)^0x30)<<4
				typ = b0 | 0x30
			} else {
				length = int(b1)
				typ = b0
			}
		} else {
			length = int(meta)
		}
	}
	want := func(data ...string) bool {
		for _, s := range data {
			if c.Data == s {
				return true
			}
		}
		return false
	}
	switch typ {
	case gm.MYSQL_TYPE_TINY, gm.MYSQL_TYPE_SHORT, gm.MYSQL_TYPE_INT24, gm.MYSQL_TYPE_LONG, gm.MYSQL_TYPE_LONGLONG:
		w := map[byte]int{gm.MYSQL_TYPE_TINY: 1, gm.MYSQL_TYPE_SHORT: 2, gm.MYSQL_TYPE_INT24: 3, gm.MYSQL_TYPE_LONG: 4, gm.MYSQL_TYPE_LONGLONG: 8}[typ]
		names := map[byte][]string{gm.MYSQL_TYPE_TINY: {"tinyint"}, gm.MYSQL_TYPE_SHORT: {"smallint"},
			gm.MYSQL_TYPE_INT24: {"mediumint"}, gm.MYSQL_TYPE_LONG: {"int", "integer"}, gm.MYSQL_TYPE_LONGLONG: {"bigint"}}[typ]
		if !want(names...) {
			return nil, mismatch()
		}
		d.mode, d.width = modeInt, w
		if w == 8 && c.Unsigned {
			d.mode = modeUint64
		}
	case gm.MYSQL_TYPE_FLOAT:
		if !want("float") {
			return nil, mismatch()
		}
		d.mode = modeFloat32
	case gm.MYSQL_TYPE_DOUBLE:
		if !want("double", "real", "float") {
			return nil, mismatch()
		}
		d.mode = modeFloat64
	case gm.MYSQL_TYPE_NEWDECIMAL:
		if !want("decimal", "numeric") {
			return nil, mismatch()
		}
		d.mode, d.prec, d.scale = modeDecimal, int(meta>>8), int(meta&0xff)
		if d.prec < 1 || d.prec > 65 || d.scale > 30 || d.scale > d.prec {
			return nil, fmt.Errorf("decimal(%d,%d) is not a valid DECIMAL", d.prec, d.scale)
		}
	case gm.MYSQL_TYPE_BIT:
		if !want("bit") {
			return nil, mismatch()
		}
		nbits := int(meta>>8)*8 + int(meta&0xff)
		d.mode, d.width = modeBit, (nbits+7)/8
		if d.width < 1 || d.width > 8 {
			return nil, fmt.Errorf("bit(%d) is not a valid BIT", nbits)
		}
	case gm.MYSQL_TYPE_YEAR:
		if !want("year") {
			return nil, mismatch()
		}
		d.mode = modeYear
	case gm.MYSQL_TYPE_DATE, gm.MYSQL_TYPE_NEWDATE:
		if !want("date") {
			return nil, mismatch()
		}
		d.mode = modeDate
	case gm.MYSQL_TYPE_DATETIME:
		if !want("datetime") {
			return nil, mismatch()
		}
		d.mode = modeDatetime
	case gm.MYSQL_TYPE_DATETIME2:
		if !want("datetime") {
			return nil, mismatch()
		}
		d.mode, d.scale = modeDatetime2, int(meta)
	case gm.MYSQL_TYPE_TIMESTAMP:
		if !want("timestamp") {
			return nil, mismatch()
		}
		d.mode = modeTimestamp
	case gm.MYSQL_TYPE_TIMESTAMP2:
		if !want("timestamp") {
			return nil, mismatch()
		}
		d.mode, d.scale = modeTimestamp2, int(meta)
	case gm.MYSQL_TYPE_TIME:
		if !want("time") {
			return nil, mismatch()
		}
		d.mode = modeTime
	case gm.MYSQL_TYPE_TIME2:
		if !want("time") {
			return nil, mismatch()
		}
		d.mode, d.scale = modeTime2, int(meta)
	case gm.MYSQL_TYPE_ENUM:
		if !want("enum") {
			return nil, mismatch()
		}
		d.mode, d.width = modeEnum, length
		if length == 0 {
			d.width = int(meta & 0xff)
		}
		if d.width != 1 && d.width != 2 {
			return nil, fmt.Errorf("ENUM with %d-byte values", d.width)
		}
	case gm.MYSQL_TYPE_SET:
		if !want("set") {
			return nil, mismatch()
		}
		d.mode, d.width = modeSet, length
		if length == 0 {
			d.width = int(meta & 0xff)
		}
		if d.width < 1 || d.width > 8 {
			return nil, fmt.Errorf("SET with %d-byte values", d.width)
		}
	case gm.MYSQL_TYPE_STRING:
		if !want("char", "binary", "inet4", "inet6", "uuid") {
			return nil, mismatch()
		}
		d.mode, d.width = modeString, 1
		if length >= 256 {
			d.width = 2
		}
		switch c.Data {
		case "binary":
			d.pad = c.Length
		case "inet4", "inet6", "uuid":
			d.special = c.Data
		}
	case gm.MYSQL_TYPE_VARCHAR, gm.MYSQL_TYPE_VAR_STRING:
		if !want("varchar", "varbinary") {
			return nil, mismatch()
		}
		d.mode, d.width = modeString, 1
		if meta >= 256 {
			d.width = 2
		}
	case gm.MYSQL_TYPE_BLOB, gm.MYSQL_TYPE_GEOMETRY, gm.MYSQL_TYPE_VECTOR:
		if !want("tinytext", "text", "mediumtext", "longtext", "tinyblob", "blob", "mediumblob", "longblob",
			"json", "vector", "geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
			"multipolygon", "geometrycollection", "geomcollection") {
			return nil, mismatch()
		}
		d.mode, d.width = modeBlob, int(meta)
		if d.width < 1 || d.width > 4 {
			return nil, fmt.Errorf("blob with a %d-byte length", d.width)
		}
	case gm.MYSQL_TYPE_JSON:
		if !want("json") {
			return nil, mismatch()
		}
		d.mode, d.width = modeJSONBinary, int(meta)
		if d.width < 1 || d.width > 4 {
			return nil, fmt.Errorf("JSON with a %d-byte length", d.width)
		}
	default:
		return nil, mismatch()
	}
	if (d.kind == event.KindString || d.kind == event.KindJSON) && d.special == "" &&
		(d.mode == modeString || d.mode == modeBlob) {
		cs := c.Charset
		if cs == "" {
			cs = "utf8mb4"
		}
		t, err := newTextDecoder(cs)
		if err != nil {
			return nil, err
		}
		d.text = t
	}
	return d, nil
}

// decode decodes the value at the start of b and returns it with the
// number of bytes it took.
func (d *colDec) decode(b []byte) (event.Value, int, error) { return d.decodeAt(b, string(b)) }

// decodeAt is decode with s holding the same bytes as b: string and bytes
// values are substrings of s, so that the values of a rows event share one
// allocation.
func (d *colDec) decodeAt(b []byte, s string) (event.Value, int, error) {
	switch d.mode {
	case modeInt:
		if len(b) < d.width {
			return event.Value{}, 0, errShort
		}
		var u uint64
		for i := d.width - 1; i >= 0; i-- {
			u = u<<8 | uint64(b[i])
		}
		if !d.unsigned {
			shift := 64 - 8*d.width
			return event.Int(int64(u<<shift) >> shift), d.width, nil
		}
		return event.Int(int64(u)), d.width, nil
	case modeUint64:
		if len(b) < 8 {
			return event.Value{}, 0, errShort
		}
		return event.Uint(binary.LittleEndian.Uint64(b)), 8, nil
	case modeFloat32:
		if len(b) < 4 {
			return event.Value{}, 0, errShort
		}
		return event.Float(float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))), 4, nil
	case modeFloat64:
		if len(b) < 8 {
			return event.Value{}, 0, errShort
		}
		return event.Float(math.Float64frombits(binary.LittleEndian.Uint64(b))), 8, nil
	case modeDecimal:
		s, n, err := decodeDecimal(b, d.prec, d.scale)
		if err != nil {
			return event.Value{}, 0, err
		}
		return event.Decimal(s), n, nil
	case modeBit:
		if len(b) < d.width {
			return event.Value{}, 0, errShort
		}
		var u uint64
		for _, c := range b[:d.width] {
			u = u<<8 | uint64(c)
		}
		if d.kind == event.KindBool {
			return event.Bool(u != 0), d.width, nil
		}
		return event.Uint(u), d.width, nil
	case modeYear:
		if len(b) < 1 {
			return event.Value{}, 0, errShort
		}
		if b[0] == 0 {
			return event.Int(0), 1, nil
		}
		return event.Int(1900 + int64(b[0])), 1, nil
	case modeDate:
		if len(b) < 3 {
			return event.Value{}, 0, errShort
		}
		v := uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16
		days, ok := civilDays(int(v>>9), int(v>>5&15), int(v&31))
		if !ok {
			return d.zero(3)
		}
		return event.Date(days), 3, nil
	case modeDatetime:
		if len(b) < 8 {
			return event.Value{}, 0, errShort
		}
		v := binary.LittleEndian.Uint64(b)
		ymd, hms := v/1_000_000, v%1_000_000
		us, ok := civilMicros(int(ymd/10000), int(ymd/100%100), int(ymd%100), int(hms/10000), int(hms/100%100), int(hms%100), 0)
		if !ok {
			return d.zero(8)
		}
		return event.DateTime(us), 8, nil
	case modeDatetime2:
		n := 5 + (d.scale+1)/2
		if len(b) < n {
			return event.Value{}, 0, errShort
		}
		packed := int64(b[0])<<32 | int64(b[1])<<24 | int64(b[2])<<16 | int64(b[3])<<8 | int64(b[4])
		packed -= 0x8000000000
		frac, _ := fraction(b[5:n], d.scale)
		if packed < 0 {
			return event.Value{}, 0, fmt.Errorf("negative DATETIME2 %d", packed)
		}
		ymd, hms := packed>>17, packed&(1<<17-1)
		ym := ymd >> 5
		us, ok := civilMicros(int(ym/13), int(ym%13), int(ymd&31), int(hms>>12), int(hms>>6&63), int(hms&63), frac)
		if !ok {
			return d.zero(n)
		}
		return event.DateTime(us), n, nil
	case modeTimestamp:
		if len(b) < 4 {
			return event.Value{}, 0, errShort
		}
		sec := int64(binary.LittleEndian.Uint32(b))
		if sec == 0 {
			return d.zero(4)
		}
		return event.Timestamp(sec * usPerSecond), 4, nil
	case modeTimestamp2:
		n := 4 + (d.scale+1)/2
		if len(b) < n {
			return event.Value{}, 0, errShort
		}
		sec := int64(binary.BigEndian.Uint32(b))
		frac, _ := fraction(b[4:n], d.scale)
		if sec == 0 {
			return d.zero(n)
		}
		return event.Timestamp(sec*usPerSecond + frac), n, nil
	case modeTime:
		if len(b) < 3 {
			return event.Value{}, 0, errShort
		}
		v := int32(uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16) << 8 >> 8
		neg := v < 0
		if neg {
			v = -v
		}
		us := (int64(v/10000)*3600 + int64(v/100%100)*60 + int64(v%100)) * usPerSecond
		if neg {
			us = -us
		}
		return event.Time(us), 3, nil
	case modeTime2:
		us, n, err := decodeTime2(b, d.scale)
		if err != nil {
			return event.Value{}, 0, err
		}
		return event.Time(us), n, nil
	case modeEnum:
		if len(b) < d.width {
			return event.Value{}, 0, errShort
		}
		idx := int(b[0])
		if d.width == 2 {
			idx = int(binary.LittleEndian.Uint16(b))
		}
		switch {
		case idx == 0: // the "invalid value" of non-strict inserts
			return event.String(""), d.width, nil
		case idx > len(d.col.Elems):
			return event.Value{}, 0, fmt.Errorf("ENUM index %d, the column has %d members", idx, len(d.col.Elems))
		}
		return event.String(d.col.Elems[idx-1]), d.width, nil
	case modeSet:
		if len(b) < d.width {
			return event.Value{}, 0, errShort
		}
		var mask uint64
		for i := d.width - 1; i >= 0; i-- {
			mask = mask<<8 | uint64(b[i])
		}
		if bits.Len64(mask) > len(d.col.Elems) {
			return event.Value{}, 0, fmt.Errorf("SET bits %#x, the column has %d members", mask, len(d.col.Elems))
		}
		var sb strings.Builder
		for i := 0; mask != 0; i++ {
			if mask&1 != 0 {
				if sb.Len() > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString(d.col.Elems[i])
			}
			mask >>= 1
		}
		return event.String(sb.String()), d.width, nil
	case modeString, modeBlob:
		body, n, err := lengthPrefixed(b, d.width)
		if err != nil {
			return event.Value{}, 0, err
		}
		v, err := d.bytesValue(body, s[d.width:n])
		return v, n, err
	case modeJSONBinary:
		body, n, err := lengthPrefixed(b, d.width)
		if err != nil {
			return event.Value{}, 0, err
		}
		doc, err := jsonBinaryText(body)
		if err != nil {
			return event.Value{}, 0, err
		}
		return event.JSON(doc), n, nil
	}
	return event.Value{}, 0, fmt.Errorf("no decoder for mode %d", d.mode)
}

// bytesValue turns the bytes of a string, blob or MariaDB fixed binary type
// into the column's kind; str holds the same bytes as body.
func (d *colDec) bytesValue(body []byte, str string) (event.Value, error) {
	switch d.special {
	case "inet4":
		if len(body) > 4 {
			return event.Value{}, fmt.Errorf("INET4 of %d bytes", len(body))
		}
		var a [4]byte
		copy(a[:], body) // trailing zero bytes are not logged
		return event.String(netip.AddrFrom4(a).String()), nil
	case "inet6":
		if len(body) > 16 {
			return event.Value{}, fmt.Errorf("INET6 of %d bytes", len(body))
		}
		var a [16]byte
		copy(a[:], body) // trailing zero bytes are not logged
		return event.String(netip.AddrFrom16(a).String()), nil
	case "uuid":
		// The binlog holds the 16 bytes in text order (checked against
		// MariaDB 10.11), trailing zero bytes stripped.
		if len(body) > 16 {
			return event.Value{}, fmt.Errorf("UUID of %d bytes", len(body))
		}
		var a [16]byte
		copy(a[:], body)
		return event.String(uuid.UUID(a).String()), nil
	}
	switch d.kind {
	case event.KindBytes:
		if d.pad > len(body) {
			p := make([]byte, d.pad)
			copy(p, body)
			return event.BytesString(string(p)), nil
		}
		return event.BytesString(str), nil
	case event.KindJSON:
		s, err := d.text.decodeString(body, str)
		if err != nil {
			return event.Value{}, err
		}
		return event.JSON(s), nil
	}
	s, err := d.text.decodeString(body, str)
	if err != nil {
		return event.Value{}, err
	}
	return event.String(s), nil
}

// zero returns what a zero or invalid date becomes: NULL, or an error.
func (d *colDec) zero(n int) (event.Value, int, error) {
	if d.zeroNull {
		return event.Null(), n, nil
	}
	return event.Value{}, 0, ErrZeroDate
}

// lengthPrefixed returns the bytes after a little-endian length of width
// bytes, and the bytes taken in all.
func lengthPrefixed(b []byte, width int) ([]byte, int, error) {
	if len(b) < width {
		return nil, 0, errShort
	}
	var l uint64
	for i := width - 1; i >= 0; i-- {
		l = l<<8 | uint64(b[i])
	}
	if uint64(len(b)-width) < l {
		return nil, 0, errShort
	}
	n := width + int(l)
	return b[width:n], n, nil
}

// civilDays returns the days since 1970-01-01 of y-m-d, and false when no
// calendar holds it (a zero part, a day past the month's end).
func civilDays(y, m, d int) (int64, bool) {
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return event.DaysFromCivil(y, m, d), true
}

// civilMicros returns the microseconds since 1970-01-01T00:00 of a wall
// clock date-time, and false when no calendar holds it.
func civilMicros(y, mo, d, h, mi, s int, frac int64) (int64, bool) {
	days, ok := civilDays(y, mo, d)
	if !ok || h > 23 || mi > 59 || s > 59 {
		return 0, false
	}
	return days*usPerDay + (int64(h)*3600+int64(mi)*60+int64(s))*usPerSecond + frac, true
}

func daysIn(y, m int) int {
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

// fraction decodes the fractional seconds of a DATETIME2, TIMESTAMP2 or
// TIME2 (big-endian, (scale+1)/2 bytes) as microseconds, and the raw
// integer.
func fraction(b []byte, scale int) (int64, int64) {
	var v int64
	for _, c := range b {
		v = v<<8 | int64(c)
	}
	switch (scale + 1) / 2 {
	case 1:
		return v * 10000, v
	case 2:
		return v * 100, v
	}
	return v, v
}

// decodeTime2 decodes a MYSQL_TYPE_TIME2 value with scale fractional
// digits into microseconds (negative for negative times).
func decodeTime2(b []byte, scale int) (int64, int, error) {
	n := 3 + (scale+1)/2
	if len(b) < n {
		return 0, 0, errShort
	}
	const intOfs = 0x800000
	readBE := func(p []byte) int64 {
		var v int64
		for _, c := range p {
			v = v<<8 | int64(c)
		}
		return v
	}
	var packed int64 // hms << 24 | microseconds, signed
	switch (scale + 1) / 2 {
	case 0:
		packed = (readBE(b[:3]) - intOfs) << 24
	case 1:
		intPart := readBE(b[:3]) - intOfs
		frac := int64(b[3])
		if intPart < 0 && frac != 0 {
			// Negative values store the fraction reversed: shift to the
			// next integer and subtract.
			intPart++
			frac -= 0x100
		}
		packed = intPart<<24 + frac*10000
	case 2:
		intPart := readBE(b[:3]) - intOfs
		frac := readBE(b[3:5])
		if intPart < 0 && frac != 0 {
			intPart++
			frac -= 0x10000
		}
		packed = intPart<<24 + frac*100
	default:
		packed = readBE(b[:6]) - 0x800000000000
	}
	neg := packed < 0
	if neg {
		packed = -packed
	}
	hms := packed >> 24
	us := ((hms>>12&1023)*3600+(hms>>6&63)*60+hms&63)*usPerSecond + packed&(1<<24-1)
	if neg {
		us = -us
	}
	return us, n, nil
}

// dig2bytes is the storage of a group of 0–8 decimal digits in MySQL's
// binary DECIMAL.
var dig2bytes = [10]int{0, 1, 1, 2, 2, 3, 3, 4, 4, 4}

// decimalSize returns the bytes of a binary DECIMAL(prec, scale).
func decimalSize(prec, scale int) int {
	intg := prec - scale
	return intg/9*4 + dig2bytes[intg%9] + scale/9*4 + dig2bytes[scale%9]
}

// decodeDecimal decodes MySQL's binary DECIMAL(prec, scale) at the start of
// b into canonical decimal text with exactly scale fractional digits
// ("-12.30"; a zero never has a sign), and returns the bytes it took.
func decodeDecimal(b []byte, prec, scale int) (string, int, error) {
	size := decimalSize(prec, scale)
	if len(b) < size {
		return "", 0, errShort
	}
	var buf [40]byte // at most 65 digits: 30 bytes
	d := buf[:size]
	copy(d, b)
	neg := d[0]&0x80 == 0
	d[0] ^= 0x80
	if neg {
		for i := range d {
			d[i] ^= 0xff
		}
	}
	intg := prec - scale
	out := make([]byte, 0, prec+3)
	if neg {
		out = append(out, '-')
	}
	signAt := len(out)
	pos := 0
	// readGroup reads a group of digits stored in n bytes.
	readGroup := func(n int) uint32 {
		var v uint32
		for _, c := range d[pos : pos+n] {
			v = v<<8 | uint32(c)
		}
		pos += n
		return v
	}
	var digits [9]byte
	// appendGroup appends v as exactly width digits.
	appendGroup := func(v uint32, width int) error {
		for i := width - 1; i >= 0; i-- {
			digits[i] = byte('0' + v%10)
			v /= 10
		}
		if v != 0 {
			return fmt.Errorf("corrupt DECIMAL(%d,%d)", prec, scale)
		}
		out = append(out, digits[:width]...)
		return nil
	}
	if lead := intg % 9; lead > 0 {
		if err := appendGroup(readGroup(dig2bytes[lead]), lead); err != nil {
			return "", 0, err
		}
	}
	for i := 0; i < intg/9; i++ {
		if err := appendGroup(readGroup(4), 9); err != nil {
			return "", 0, err
		}
	}
	// Drop leading zeros of the integer part, keeping one.
	z := signAt
	for z < len(out)-1 && out[z] == '0' {
		z++
	}
	if z == len(out) || len(out) == signAt {
		out = append(out[:signAt], '0')
	} else {
		out = append(out[:signAt], out[z:]...)
	}
	if scale > 0 {
		out = append(out, '.')
		for i := 0; i < scale/9; i++ {
			if err := appendGroup(readGroup(4), 9); err != nil {
				return "", 0, err
			}
		}
		if tail := scale % 9; tail > 0 {
			if err := appendGroup(readGroup(dig2bytes[tail]), tail); err != nil {
				return "", 0, err
			}
		}
	}
	if neg {
		allZero := true
		for _, c := range out[1:] {
			if c != '0' && c != '.' {
				allZero = false
				break
			}
		}
		if allZero {
			out = out[1:]
		}
	}
	return string(out), size, nil
}
