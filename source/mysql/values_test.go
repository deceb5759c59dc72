package mysql

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/cdcd-dev/cdcd/event"
	gm "github.com/go-mysql-org/go-mysql/mysql"
)

func TestDecodeDecimal(t *testing.T) {
	cases := []struct {
		data        []byte
		prec, scale int
		want        string
		size        int
	}{
		// From the MySQL manual (DECIMAL(14,4)).
		{[]byte{0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2}, 14, 4, "1234567890.1234", 7},
		{[]byte{0x7E, 0xF2, 0x04, 0xC7, 0x2D, 0xFB, 0x2D}, 14, 4, "-1234567890.1234", 7},
		// Recorded from MySQL 5.7 (go-mysql's decodedecimal table).
		{[]byte{117, 200, 127, 255}, 4, 2, "-10.55", 2},
		{[]byte{127, 255, 244, 127, 245}, 5, 0, "-11", 3},
		{[]byte{118, 196, 101, 54, 0, 254, 121, 96, 127, 255}, 15, 14, "-9.99999999999999", 8},
		{[]byte{127, 255, 245, 223, 55, 170, 127, 255, 255, 255, 255, 255, 255, 255, 255, 4, 0}, 30, 25, "-10.5500000000000000000000000", 15},
		{[]byte{128, 0, 0, 128, 0}, 5, 0, "0", 3},
		{[]byte{128, 0, 188, 97, 78, 1, 96, 11, 128, 0}, 15, 14, "0.01234567890123", 8},
		{[]byte{128, 0, 0, 0, 188, 97, 78, 53, 183, 191, 135, 0, 135, 253, 217, 30, 0}, 30, 25, "0.0123456789012345678912345", 15},
		{[]byte{167, 15, 3, 231, 128, 0}, 7, 3, "9999.999", 4},
		{[]byte{128, 0, 0, 48, 57, 0, 0, 0, 0, 0, 0, 0, 0, 0, 128, 48}, 30, 20, "12345.00000000000000000000", 14},
		// DECIMAL(40,16), recorded from MySQL 8.
		{[]byte{128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 123, 27, 46, 2, 0, 0, 0, 0, 0}, 40, 16, "123.4560000000000000", 19},
		{[]byte{128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 232, 0, 0, 0, 0}, 40, 16, "0.0000010000000000", 19},
		// Zero never has a sign; DECIMAL(4,4) has no integer digits.
		{[]byte{0x80, 0x00}, 4, 4, "0.0000", 2},
		{[]byte{0x7f, 0xff, 0xf0}, 5, 5, "-0.00015", 3},
	}
	for _, c := range cases {
		got, n, err := decodeDecimal(append(c.data, 0xEE), c.prec, c.scale)
		if err != nil || got != c.want || n != c.size {
			t.Errorf("decimal(%d,%d) % x = %q, %d, %v; want %q, %d", c.prec, c.scale, c.data, got, n, err, c.want, c.size)
		}
		if canon, ok := event.CanonicalDecimal(got); ok && canon != got {
			t.Errorf("%q is not canonical (%q)", got, canon)
		}
	}
	if _, _, err := decodeDecimal([]byte{0x81, 0x0D}, 14, 4); !errors.Is(err, errShort) {
		t.Errorf("short decimal: %v", err)
	}
	// A group that is not a number below 10^digits is corrupt.
	if _, _, err := decodeDecimal([]byte{0xbb, 0x9a, 0xca, 0x00}, 9, 0); err == nil {
		t.Error("corrupt decimal accepted")
	}
}

func TestDecodeTemporalValues(t *testing.T) {
	col := func(data string) *column { return &column{Name: "c", Type: data, Data: data} }
	dec := func(typ byte, meta uint16, c *column, zeroNull bool) *colDec {
		d, err := newColDec(typ, meta, c, zeroNull)
		if err != nil {
			t.Fatalf("newColDec: %v", err)
		}
		return d
	}
	cases := []struct {
		name string
		d    *colDec
		data []byte
		want event.Value
	}{
		// TIME2, recorded from MySQL 5.7 (go-mysql's TestDecodeTime2).
		{"time2 max", dec(gm.MYSQL_TYPE_TIME2, 0, col("time"), true), []byte("\xb4\x6e\xfb"), event.Time(dur(false, 838, 59, 59, 0))},
		{"time2", dec(gm.MYSQL_TYPE_TIME2, 0, col("time"), true), []byte("\x80\xf1\x05"), event.Time(dur(false, 15, 4, 5, 0))},
		{"time2 -1s", dec(gm.MYSQL_TYPE_TIME2, 0, col("time"), true), []byte("\x7f\xff\xff"), event.Time(dur(true, 0, 0, 1, 0))},
		{"time2 min", dec(gm.MYSQL_TYPE_TIME2, 0, col("time"), true), []byte("\x4b\x91\x05"), event.Time(dur(true, 838, 59, 59, 0))},
		{"time2(2) -0.01", dec(gm.MYSQL_TYPE_TIME2, 2, col("time"), true), []byte("\x7f\xff\xff\xff"), event.Time(dur(true, 0, 0, 0, 10000))},
		{"time2(2)", dec(gm.MYSQL_TYPE_TIME2, 2, col("time"), true), []byte("\x7f\x0e\xfa\xf4"), event.Time(dur(true, 15, 4, 5, 120000))},
		{"time2(4)", dec(gm.MYSQL_TYPE_TIME2, 4, col("time"), true), []byte("\x4b\x91\x05\xfb\x2d"), event.Time(dur(true, 838, 59, 58, 123500))},
		{"time2(6) -1µs", dec(gm.MYSQL_TYPE_TIME2, 6, col("time"), true), []byte("\x7f\xff\xff\xff\xff\xff"), event.Time(-1)},
		{"time2(6)", dec(gm.MYSQL_TYPE_TIME2, 6, col("time"), true), []byte("\x7f\x0e\xfa\xfe\x1d\xc0"), event.Time(dur(true, 15, 4, 5, 123456))},
		// DATETIME2, recorded from MySQL 5.7 (go-mysql's TestDecodeDatetime2).
		{"datetime2 max", dec(gm.MYSQL_TYPE_DATETIME2, 0, col("datetime"), true), []byte("\xfe\xf3\xff\x7e\xfb"), event.DateTime(micros(9999, 12, 31, 23, 59, 59, 0))},
		{"datetime2", dec(gm.MYSQL_TYPE_DATETIME2, 0, col("datetime"), true), []byte("\x99\x9a\xb8\xf7\xaa"), event.DateTime(micros(2016, 10, 28, 15, 30, 42, 0))},
		{"datetime2 epoch", dec(gm.MYSQL_TYPE_DATETIME2, 0, col("datetime"), true), []byte("\x99\x02\xc2\x00\x00"), event.DateTime(0)},
		{"datetime2 zero month", dec(gm.MYSQL_TYPE_DATETIME2, 0, col("datetime"), true), []byte("\x99\x98\x38\xf7\xaa"), event.Null()},
		{"datetime2 zero", dec(gm.MYSQL_TYPE_DATETIME2, 0, col("datetime"), true), []byte("\x80\x00\x00\x00\x00"), event.Null()},
		{"datetime2(2)", dec(gm.MYSQL_TYPE_DATETIME2, 2, col("datetime"), true), []byte("\x80\x03\x82\x00\x00\x0c"), event.DateTime(micros(1, 1, 1, 0, 0, 0, 120000))},
		{"datetime2(4)", dec(gm.MYSQL_TYPE_DATETIME2, 4, col("datetime"), true), []byte("\x80\x03\x82\x00\x00\x04\xd3"), event.DateTime(micros(1, 1, 1, 0, 0, 0, 123500))},
		{"datetime2(6)", dec(gm.MYSQL_TYPE_DATETIME2, 6, col("datetime"), true), []byte("\x80\x03\x82\x00\x00\x01\xe2\x40"), event.DateTime(micros(1, 1, 1, 0, 0, 0, 123456))},
		// The pre-5.6 formats.
		{"datetime", dec(gm.MYSQL_TYPE_DATETIME, 0, col("datetime"), true), le64(20161028153042), event.DateTime(micros(2016, 10, 28, 15, 30, 42, 0))},
		{"time", dec(gm.MYSQL_TYPE_TIME, 0, col("time"), true), []byte{0xa7, 0xf5, 0x7f}, event.Time(dur(false, 838, 59, 59, 0))},
		{"time negative", dec(gm.MYSQL_TYPE_TIME, 0, col("time"), true), []byte{0x59, 0x0a, 0x80}, event.Time(dur(true, 838, 59, 59, 0))},
		{"timestamp", dec(gm.MYSQL_TYPE_TIMESTAMP, 0, col("timestamp"), true), []byte{0xff, 0xff, 0xff, 0x7f}, event.Timestamp(math.MaxInt32 * usPerSecond)},
		{"timestamp2(3)", dec(gm.MYSQL_TYPE_TIMESTAMP2, 3, col("timestamp"), true), []byte{0x7f, 0xff, 0xff, 0xff, 0x27, 0x06}, event.Timestamp(math.MaxInt32*usPerSecond + 999000)},
		{"timestamp2 zero", dec(gm.MYSQL_TYPE_TIMESTAMP2, 0, col("timestamp"), true), []byte{0, 0, 0, 0}, event.Null()},
		{"date", dec(gm.MYSQL_TYPE_DATE, 0, col("date"), true), le24(2024<<9 | 2<<5 | 29), event.Date(days(2024, 2, 29))},
		{"date invalid", dec(gm.MYSQL_TYPE_DATE, 0, col("date"), true), le24(2023<<9 | 2<<5 | 29), event.Null()},
		{"year", dec(gm.MYSQL_TYPE_YEAR, 0, col("year"), true), []byte{255}, event.Int(2155)},
		{"year zero", dec(gm.MYSQL_TYPE_YEAR, 0, col("year"), true), []byte{0}, event.Int(0)},
	}
	for _, c := range cases {
		got, n, err := c.d.decode(c.data)
		if err != nil || !got.Equal(c.want) || n != len(c.data) {
			t.Errorf("%s: % x = %v (%s), %d, %v; want %v (%s), %d", c.name, c.data, got, got.Kind(), n, err, c.want, c.want.Kind(), len(c.data))
		}
	}
	d := dec(gm.MYSQL_TYPE_DATE, 0, col("date"), false)
	if _, _, err := d.decode([]byte{0, 0, 0}); !errors.Is(err, ErrZeroDate) {
		t.Errorf("zero date with zero_date error: %v", err)
	}
}

func le64(v uint64) []byte {
	b := make([]byte, 8)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	return b
}

func le24(v uint32) []byte { return []byte{byte(v), byte(v >> 8), byte(v >> 16)} }

func TestDecodeIntegersStringsEnumsAndSets(t *testing.T) {
	cases := []struct {
		name string
		typ  byte
		meta uint16
		col  column
		data []byte
		want event.Value
	}{
		{"tinyint", gm.MYSQL_TYPE_TINY, 0, column{Data: "tinyint"}, []byte{0x80}, event.Int(-128)},
		{"tinyint unsigned", gm.MYSQL_TYPE_TINY, 0, column{Data: "tinyint", Unsigned: true}, []byte{0xff}, event.Int(255)},
		{"mediumint", gm.MYSQL_TYPE_INT24, 0, column{Data: "mediumint"}, []byte{0xff, 0xff, 0xff}, event.Int(-1)},
		{"mediumint unsigned", gm.MYSQL_TYPE_INT24, 0, column{Data: "mediumint", Unsigned: true}, []byte{0xff, 0xff, 0xff}, event.Int(1<<24 - 1)},
		{"bigint unsigned", gm.MYSQL_TYPE_LONGLONG, 0, column{Data: "bigint", Unsigned: true}, le64(math.MaxUint64), event.Uint(math.MaxUint64)},
		{"bigint", gm.MYSQL_TYPE_LONGLONG, 0, column{Data: "bigint"}, le64(1 << 63), event.Int(math.MinInt64)},
		{"float", gm.MYSQL_TYPE_FLOAT, 4, column{Data: "float"}, []byte{0xcd, 0xcc, 0xcc, 0x3d}, event.Float(float64(float32(0.1)))},
		{"bit(1)", gm.MYSQL_TYPE_BIT, 1, column{Data: "bit", Length: 1}, []byte{1}, event.Bool(true)},
		{"bit(12)", gm.MYSQL_TYPE_BIT, 1<<8 | 4, column{Data: "bit", Length: 12}, []byte{0x0f, 0xff}, event.Uint(0xfff)},
		{"char latin1", gm.MYSQL_TYPE_STRING, uint16(gm.MYSQL_TYPE_STRING)<<8 | 10, column{Data: "char", Charset: "latin1"}, []byte{3, 'c', 0xe9, 0x80}, event.String("cé€")},
		{"char utf8mb4 long", gm.MYSQL_TYPE_STRING, 0xee<<8 | 0x20, column{Data: "char", Charset: "utf8mb4"}, []byte{2, 0, 'o', 'k'}, event.String("ok")},
		{"binary(4) padded", gm.MYSQL_TYPE_STRING, uint16(gm.MYSQL_TYPE_STRING)<<8 | 4, column{Data: "binary", Charset: "binary", Length: 4}, []byte{1, 'a'}, event.Bytes([]byte{'a', 0, 0, 0})},
		{"varchar(300)", gm.MYSQL_TYPE_VARCHAR, 300, column{Data: "varchar", Charset: "utf8mb4"}, []byte{3, 0, 'a', 'b', 'c'}, event.String("abc")},
		{"varbinary", gm.MYSQL_TYPE_VARCHAR, 10, column{Data: "varbinary", Charset: "binary"}, []byte{2, 0, 0xff}, event.Bytes([]byte{0, 0xff})},
		{"text cp1251", gm.MYSQL_TYPE_BLOB, 2, column{Data: "text", Charset: "cp1251"}, []byte{2, 0, 0xcf, 0xf0}, event.String("Пр")},
		{"mariadb json", gm.MYSQL_TYPE_BLOB, 4, column{Data: "json", Charset: "utf8mb4"}, []byte{2, 0, 0, 0, '[', ']'}, event.JSON("[]")},
		{"enum", gm.MYSQL_TYPE_STRING, uint16(gm.MYSQL_TYPE_ENUM)<<8 | 1, column{Data: "enum", Elems: []string{"a", "b"}}, []byte{2}, event.String("b")},
		{"enum invalid value", gm.MYSQL_TYPE_STRING, uint16(gm.MYSQL_TYPE_ENUM)<<8 | 1, column{Data: "enum", Elems: []string{"a"}}, []byte{0}, event.String("")},
		{"enum 2 bytes", gm.MYSQL_TYPE_STRING, uint16(gm.MYSQL_TYPE_ENUM)<<8 | 2, column{Data: "enum", Elems: make([]string, 300)}, []byte{0x2c, 1}, event.String("")},
		{"set", gm.MYSQL_TYPE_STRING, uint16(gm.MYSQL_TYPE_SET)<<8 | 1, column{Data: "set", Elems: []string{"x", "y", "z"}}, []byte{5}, event.String("x,z")},
		{"inet6 with trailing zeros stripped", gm.MYSQL_TYPE_STRING, uint16(gm.MYSQL_TYPE_STRING)<<8 | 16, column{Data: "inet6", Charset: "binary"}, []byte{2, 0x20, 0x01}, event.String("2001::")},
		{"mysql json", gm.MYSQL_TYPE_JSON, 4, column{Data: "json"}, append([]byte{13, 0, 0, 0}, "\x00\x01\x00\x0c\x00\x0b\x00\x01\x00\x05\xd2\x04a"...), event.JSON(`{"a":1234}`)},
	}
	for _, c := range cases {
		c.col.Name, c.col.Type = "c", c.col.Data
		d, err := newColDec(c.typ, c.meta, &c.col, true)
		if err != nil {
			t.Errorf("%s: newColDec: %v", c.name, err)
			continue
		}
		got, n, err := d.decode(c.data)
		if err != nil || !got.Equal(c.want) || n != len(c.data) {
			t.Errorf("%s: % x = %v (%s), %d, %v; want %v, %d", c.name, c.data, got, got.Kind(), n, err, c.want, len(c.data))
		}
		if _, _, err := d.decode(c.data[:len(c.data)-1]); err == nil && c.typ != gm.MYSQL_TYPE_STRING {
			t.Errorf("%s: a truncated value decodes", c.name)
		}
	}
	// A binlog type that cannot hold the tracked column is a schema mismatch.
	for _, m := range []struct {
		typ byte
		col column
	}{
		{gm.MYSQL_TYPE_LONG, column{Data: "varchar"}},
		{gm.MYSQL_TYPE_VARCHAR, column{Data: "int"}},
		{gm.MYSQL_TYPE_STRING, column{Data: "enum"}},
		{gm.MYSQL_TYPE_LONGLONG, column{Data: "int"}},
	} {
		if _, err := newColDec(m.typ, 0, &m.col, true); !errors.Is(err, ErrSchemaMismatch) {
			t.Errorf("binlog type %d for %s: %v", m.typ, m.col.Data, err)
		}
	}
}

func TestJSONBinaryToText(t *testing.T) {
	cases := []struct {
		name string
		data string
		want string
	}{
		// Recorded from MySQL 5.7 (go-mysql's TestParseJson, TestJsonCompatibility).
		{"object", "\x00\x02\x00(\x00\x12\x00\x04\x00\x16\x00\x04\x00\f\x1a\x00\f!\x00key1key2\x06value1\x06value2", `{"key1":"value1","key2":"value2"}`},
		{"inline int", "\x00\x01\x00\x0c\x00\x0b\x00\x01\x00\x05\xd2\x04a", `{"a":1234}`},
		{"empty object", "\x00\x00\x00\x04\x00", `{}`},
		{"empty document", "", `null`},
		// Built by hand after sql-common/json_binary.cc.
		{"array of scalars", "\x02\x05\x00\x27\x00" + "\x04\x01\x00" + "\x05\xff\xff" + "\x0a\x13\x00" + "\x0b\x1b\x00" + "\x0c\x23\x00" +
			"\xff\xff\xff\xff\xff\xff\xff\xff" + "\x00\x00\x00\x00\x00\x00\xf8\x3f" + "\x03a\"\n",
			`[true,-1,18446744073709551615,1.5,"a\"\n"]`},
		{"literals", "\x02\x03\x00\x0d\x00\x04\x00\x00\x04\x02\x00\x06\xff\xff", `[null,false,65535]`},
		{"int64", "\x09\x00\x00\x00\x00\x00\x00\x00\x80", `-9223372036854775808`},
		{"opaque decimal", "\x0f\xf6\x09\x0e\x04\x81\x0d\xfb\x38\xd2\x04\xd2", `1234567890.1234`},
		{"opaque datetime", "\x0f\x0c\x08" + string(le64(uint64(packedDatetime(2024, 2, 29, 13, 4, 5, 6)))), `"2024-02-29 13:04:05.000006"`},
		{"opaque date", "\x0f\x0a\x08" + string(le64(uint64(packedDatetime(2024, 2, 29, 0, 0, 0, 0)))), `"2024-02-29"`},
		{"opaque time", "\x0f\x0b\x08" + string(le64(negPacked(1<<12|2<<6|3))), `"-01:02:03.000000"`},
		{"opaque other", "\x0f\xfc\x02hi", `"base64:type252:aGk="`},
	}
	for _, c := range cases {
		got, err := jsonBinaryText([]byte(c.data))
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		}
	}
	for _, bad := range []string{"\x00\x05\x00", "\x0c\x05ab", "\x04\x07", "\x10", "\x0b\x00"} {
		if got, err := jsonBinaryText([]byte(bad)); err == nil {
			t.Errorf("corrupt % x decodes as %q", bad, got)
		}
	}
}

// packedDatetime is MySQL's packed in-memory datetime.
func packedDatetime(y, mo, d, h, mi, s, us int64) int64 {
	ymd := (y*13+mo)<<5 | d
	hms := h<<12 | mi<<6 | s
	return (ymd<<17|hms)<<24 | us
}

func TestCharsetsConvertToUTF8(t *testing.T) {
	cases := []struct {
		charset string
		in      string
		want    string
	}{
		{"latin1", "caf\xe9 \x80 \x81", "café € \u0081"},
		{"latin2", "\xb1", "ą"},
		{"cp1251", "\xcf\xf0\xe8\xe2\xe5\xf2", "Привет"},
		{"koi8r", "\xf0\xd2\xc9", "При"},
		{"sjis", "\x82\xb1\x82\xf1", "こん"},
		{"ujis", "\xa4\xb3\xa4\xf3", "こん"},
		{"gbk", "\xd6\xd0\xce\xc4", "中文"},
		{"big5", "\xa4\xa4\xa4\xe5", "中文"},
		{"euckr", "\xc7\xd1", "한"},
		{"ucs2", "\x00A\x00\xe9", "Aé"},
		{"utf16", "\xd8\x34\xdd\x1e", "𝄞"},
		{"utf16le", "A\x00", "A"},
		{"utf32", "\x00\x01\xf6\x00", "😀"},
		{"utf8mb4", "😀", "😀"},
		{"utf8", "é", "é"},
		{"ascii", "abc", "abc"},
	}
	for _, c := range cases {
		d, err := newTextDecoder(c.charset)
		if err != nil {
			t.Errorf("%s: %v", c.charset, err)
			continue
		}
		got, err := d.decode([]byte(c.in))
		if err != nil || got != c.want {
			t.Errorf("%s: %q → %q, %v; want %q", c.charset, c.in, got, err, c.want)
		}
	}
	if _, err := newTextDecoder("swe7"); err == nil || !strings.Contains(err.Error(), "swe7") {
		t.Errorf("unsupported charset: %v", err)
	}
	if got := charsetOfCollation("utf8_general_ci"); got != "utf8mb3" {
		t.Errorf("charset of utf8_general_ci = %q", got)
	}
	if got := charsetOfCollation("utf16le_bin"); got != "utf16le" {
		t.Errorf("charset of utf16le_bin = %q", got)
	}
}

func TestParseElems(t *testing.T) {
	got, err := parseElems(`enum('a','it''s','back\\slash','q"','',',')`)
	want := []string{"a", "it's", `back\slash`, `q"`, "", ","}
	if err != nil || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("parseElems = %q, %v; want %q", got, err, want)
	}
}

// negPacked is MySQL's packed in-memory time of -hms.
func negPacked(hms int64) uint64 { return uint64(-(hms << 24)) }
