package mysql

import (
	"math"
	"testing"

	"github.com/cdcd-dev/cdcd/event"
)

// micros returns the microseconds of a wall clock date-time.
func micros(y, mo, d, h, mi, s, us int) int64 {
	return event.DaysFromCivil(y, mo, d)*usPerDay + (int64(h)*3600+int64(mi)*60+int64(s))*usPerSecond + int64(us)
}

func days(y, m, d int) int64 { return event.DaysFromCivil(y, m, d) }

func dur(neg bool, h, m, s, us int64) int64 {
	v := (h*3600+m*60+s)*usPerSecond + us
	if neg {
		return -v
	}
	return v
}

// typesTable has a column of every type the source decodes.
const typesTable = `CREATE TABLE types (
	id int PRIMARY KEY,
	ti tinyint, tiu tinyint unsigned, si smallint, siu smallint unsigned,
	mi mediumint, miu mediumint unsigned, i int, iu int unsigned, bi bigint, biu bigint unsigned,
	bo bool, yr year,
	d65 decimal(65,30), d102 decimal(10,2), d50 decimal(5,0), d44 decimal(4,4),
	f float, dbl double,
	b1 bit(1), b7 bit(7), b64 bit(64),
	c char(5), vc varchar(300), tx text, mt mediumtext,
	l1 varchar(20) CHARACTER SET latin1, cyr varchar(20) CHARACTER SET cp1251, sj varchar(20) CHARACTER SET sjis,
	gbk varchar(20) CHARACTER SET gbk, u16 varchar(20) CHARACTER SET utf16, emoji varchar(20) CHARACTER SET utf8mb4,
	bin binary(4), vb varbinary(10), bl blob, lb longblob,
	e enum('a','b c','it''s','back\\slash'), s set('x','y','z'),
	dt date, dtm datetime, dtm3 datetime(3), dtm6 datetime(6), ts timestamp NULL, ts6 timestamp(6) NULL,
	tm time, tm1 time(1), tm6 time(6),
	j json, g geometry, pt point,
	ip4 inet4, ip6 inet6, u uuid
)`

// typeCase is a row to insert and the values it must stream as.
type typeCase struct {
	name   string
	insert string // column list and values
	want   event.Row
}

func TestEveryTypeRoundTripsExactly(t *testing.T) {
	f := newFixture(t, typesTable)
	opts := f.options("types")
	src := f.open(opts, nil)

	cases := typeCases()
	for _, c := range cases {
		f.exec("INSERT INTO types " + c.insert)
	}
	for _, c := range cases {
		e := read(t, src).Events[0]
		for _, w := range c.want {
			got, _ := e.After.Get(w.Name)
			if !got.Equal(w.Value) {
				t.Errorf("%s: %s = %v (%s), want %v (%s)", c.name, w.Name, got, got.Kind(), w.Value, w.Value.Kind())
			}
		}
		// Columns the case does not set are NULL.
		for _, fld := range e.After {
			if fld.Name == "id" {
				continue
			}
			if _, set := c.want.Get(fld.Name); !set && !fld.Value.IsNull() {
				t.Errorf("%s: %s = %v, want NULL", c.name, fld.Name, fld.Value)
			}
		}
	}

	// The schema describes every column with the kind of its values.
	e := read(t, func() *Source { f.exec("INSERT INTO types (id) VALUES (100)"); return src }())
	wantKinds := map[string]event.Kind{"bi": event.KindInt, "biu": event.KindUint, "iu": event.KindInt, "bo": event.KindInt,
		"d65": event.KindDecimal, "f": event.KindFloat, "b1": event.KindBool, "b64": event.KindUint, "c": event.KindString,
		"bin": event.KindBytes, "e": event.KindString, "dt": event.KindDate, "dtm6": event.KindDateTime, "ts6": event.KindTimestamp,
		"tm6": event.KindTime, "yr": event.KindInt, "j": event.KindJSON, "g": event.KindBytes, "u": event.KindString}
	for name, k := range wantKinds {
		if c := e.Events[0].Schema.Column(name); c == nil || c.Kind != k {
			t.Errorf("column %s = %+v, want kind %s", name, c, k)
		}
	}
	if c := e.Events[0].Schema.Column("biu"); c.Type != "bigint(20) unsigned" {
		t.Errorf("biu type %q", c.Type)
	}
	if c := e.Events[0].Schema.Column("j"); c.Type != "json" {
		t.Errorf("j type %q", c.Type)
	}
}

func repeat(s string, n int) string {
	b := make([]byte, 0, len(s)*n)
	for i := 0; i < n; i++ {
		b = append(b, s...)
	}
	return string(b)
}

// wkbPoint is MySQL's internal geometry value of a point: the SRID (4
// bytes, little-endian) and the little-endian WKB.
func wkbPoint(srid uint32, x, y float64) []byte {
	b := []byte{byte(srid), byte(srid >> 8), byte(srid >> 16), byte(srid >> 24), 1, 1, 0, 0, 0}
	for _, f := range []float64{x, y} {
		u := math.Float64bits(f)
		for i := 0; i < 8; i++ {
			b = append(b, byte(u>>(8*i)))
		}
	}
	return b
}

// typeCases are rows of typesTable with the values they must stream as.
func typeCases() []typeCase {
	return []typeCase{
		{"integers at their minimum",
			`(id, ti, tiu, si, siu, mi, miu, i, iu, bi, biu) VALUES (1, -128, 0, -32768, 0, -8388608, 0, -2147483648, 0, -9223372036854775808, 0)`,
			row("ti", event.Int(-128), "tiu", event.Int(0), "si", event.Int(-32768), "siu", event.Int(0),
				"mi", event.Int(-8388608), "miu", event.Int(0), "i", event.Int(math.MinInt32), "iu", event.Int(0),
				"bi", event.Int(math.MinInt64), "biu", event.Uint(0))},
		{"integers at their maximum",
			`(id, ti, tiu, si, siu, mi, miu, i, iu, bi, biu, bo, yr) VALUES (2, 127, 255, 32767, 65535, 8388607, 16777215, 2147483647, 4294967295, 9223372036854775807, 18446744073709551615, TRUE, 2155)`,
			row("ti", event.Int(127), "tiu", event.Int(255), "si", event.Int(32767), "siu", event.Int(65535),
				"mi", event.Int(8388607), "miu", event.Int(16777215), "i", event.Int(math.MaxInt32), "iu", event.Int(math.MaxUint32),
				"bi", event.Int(math.MaxInt64), "biu", event.Uint(math.MaxUint64), "bo", event.Int(1), "yr", event.Int(2155))},
		{"decimals with full precision",
			`(id, d65, d102, d50, d44) VALUES (3, '-12345678901234567890123456789012345.123456789012345678901234567890', -0.05, 99999, 0.0001)`,
			row("d65", event.Decimal("-12345678901234567890123456789012345.123456789012345678901234567890"),
				"d102", event.Decimal("-0.05"), "d50", event.Decimal("99999"), "d44", event.Decimal("0.0001"))},
		{"decimal zeros and maxima",
			`(id, d65, d102, d50, d44) VALUES (4, 0, 99999999.99, -99999, -0.9999)`,
			row("d65", event.Decimal("0.000000000000000000000000000000"), "d102", event.Decimal("99999999.99"),
				"d50", event.Decimal("-99999"), "d44", event.Decimal("-0.9999"))},
		{"floats and bits",
			`(id, f, dbl, b1, b7, b64, yr) VALUES (5, 0.1, -1.7976931348623157e308, b'1', b'1010101', 18446744073709551615, 1901)`,
			row("f", event.Float(float64(float32(0.1))), "dbl", event.Float(-math.MaxFloat64),
				"b1", event.Bool(true), "b7", event.Uint(0x55), "b64", event.Uint(math.MaxUint64), "yr", event.Int(1901))},
		{"text in every character set",
			`(id, c, vc, tx, l1, cyr, sj, gbk, u16, emoji) VALUES (6, 'ab', REPEAT('é', 300), 'line1\nline2\t"q"', 'café €‰', 'Привет', 'こんにちは', '中文', '𝄞 clef', '😀👍🏽')`,
			row("c", event.String("ab"), "vc", event.String(repeat("é", 300)), "tx", event.String("line1\nline2\t\"q\""),
				"l1", event.String("café €‰"), "cyr", event.String("Привет"), "sj", event.String("こんにちは"),
				"gbk", event.String("中文"), "u16", event.String("𝄞 clef"), "emoji", event.String("😀👍🏽"))},
		{"binary strings",
			`(id, bin, vb, bl, lb) VALUES (7, x'0100', x'00ff00', x'deadbeef00', REPEAT(x'ab', 70000))`,
			row("bin", event.Bytes([]byte{1, 0, 0, 0}), "vb", event.Bytes([]byte{0, 0xff, 0}),
				"bl", event.Bytes([]byte{0xde, 0xad, 0xbe, 0xef, 0}), "lb", event.BytesString(repeat("\xab", 70000)))},
		{"enum and set by name",
			`(id, e, s) VALUES (8, 'it''s', 'x,z')`,
			row("e", event.String("it's"), "s", event.String("x,z"))},
		{"enum with a backslash, empty set",
			`(id, e, s) VALUES (9, 'back\\slash', '')`,
			row("e", event.String(`back\slash`), "s", event.String(""))},
		{"dates and times at their limits",
			`(id, dt, dtm, dtm3, dtm6, ts, ts6, tm, tm1, tm6) VALUES (10, '1000-01-01', '9999-12-31 23:59:59', '2024-02-29 12:00:00.5', '0001-01-01 00:00:00.000001', '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999', '-838:59:59', '-00:00:00.1', '838:59:58.999999')`,
			row("dt", event.Date(days(1000, 1, 1)), "dtm", event.DateTime(micros(9999, 12, 31, 23, 59, 59, 0)),
				"dtm3", event.DateTime(micros(2024, 2, 29, 12, 0, 0, 500000)), "dtm6", event.DateTime(micros(1, 1, 1, 0, 0, 0, 1)),
				"ts", event.Timestamp(usPerSecond), "ts6", event.Timestamp(micros(2038, 1, 19, 3, 14, 7, 999999)),
				"tm", event.Time(dur(true, 838, 59, 59, 0)), "tm1", event.Time(dur(true, 0, 0, 0, 100000)),
				"tm6", event.Time(dur(false, 838, 59, 58, 999999)))},
		{"negative times with fractions",
			`(id, tm, tm1, tm6) VALUES (11, '-00:00:01', '-01:02:03.4', '-25:00:00.000001')`,
			row("tm", event.Time(dur(true, 0, 0, 1, 0)), "tm1", event.Time(dur(true, 1, 2, 3, 400000)),
				"tm6", event.Time(dur(true, 25, 0, 0, 1)))},
		{"json, geometry and MariaDB's network and uuid types",
			`(id, j, g, pt, ip4, ip6, u) VALUES (12, '{"a": [1, 2.5, "x"], "b": null}', ST_GeomFromText('POINT(1 2)'), ST_GeomFromText('POINT(-1.5 0)', 4326), '10.0.0.1', '2001:db8::1', '123e4567-e89b-42d3-a456-556642440000')`,
			row("j", event.JSON(`{"a": [1, 2.5, "x"], "b": null}`),
				"g", event.Bytes(wkbPoint(0, 1, 2)), "pt", event.Bytes(wkbPoint(4326, -1.5, 0)),
				"ip4", event.String("10.0.0.1"), "ip6", event.String("2001:db8::1"), "u", event.String("123e4567-e89b-42d3-a456-556642440000"))},
	}
}
