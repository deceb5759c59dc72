package postgres

import (
	"math"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

func ts(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMicro()
}

func days(s string) int64 { return ts(s+"T00:00:00Z") / microsPerDay }

func TestDecodersTurnTextIntoNormalizedValues(t *testing.T) {
	arr := func(vs ...event.Value) event.Value { return event.Array(vs) }
	intArray := arrayDecoder(decodeInt, ',')
	textArray := arrayDecoder(decodeString, ',')
	cases := []struct {
		name string
		dec  decoder
		in   string
		want event.Value
	}{
		{"bool true", decodeBool, "t", event.Bool(true)},
		{"bool false", decodeBool, "f", event.Bool(false)},
		{"int2 min", decodeInt, "-32768", event.Int(-32768)},
		{"int8 max", decodeInt, "9223372036854775807", event.Int(math.MaxInt64)},
		{"int8 min", decodeInt, "-9223372036854775808", event.Int(math.MinInt64)},
		{"oid max", decodeUint, "4294967295", event.Uint(math.MaxUint32)},
		{"xid8", decodeUint, "18446744073709551615", event.Uint(math.MaxUint64)},
		{"float8", decodeFloat8, "0.1", event.Float(0.1)},
		{"float8 max", decodeFloat8, "1.7976931348623157e+308", event.Float(math.MaxFloat64)},
		{"float8 denormal", decodeFloat8, "5e-324", event.Float(5e-324)},
		{"float8 negative zero", decodeFloat8, "-0", event.Float(math.Copysign(0, -1))},
		{"float8 NaN", decodeFloat8, "NaN", event.Float(math.NaN())},
		{"float8 +Inf", decodeFloat8, "Infinity", event.Float(math.Inf(1))},
		{"float8 -Inf", decodeFloat8, "-Infinity", event.Float(math.Inf(-1))},
		{"float4", decodeFloat4, "0.1", event.Float(float64(float32(0.1)))},
		{"float4 max", decodeFloat4, "3.4028235e+38", event.Float(float64(float32(math.MaxFloat32)))},
		{"numeric scale kept", decodeNumeric, "-12.3400", event.Decimal("-12.3400")},
		{"numeric huge", decodeNumeric, "123456789012345678901234567890.000000000000000000001", event.Decimal("123456789012345678901234567890.000000000000000000001")},
		{"numeric NaN", decodeNumeric, "NaN", event.Decimal("NaN")},
		{"numeric -Infinity", decodeNumeric, "-Infinity", event.Decimal("-Infinity")},
		{"text unicode", decodeString, "zß水🍌", event.String("zß水🍌")},
		{"bpchar padding kept", decodeString, "ab   ", event.String("ab   ")},
		{"bytea", decodeBytea, `\x00ff10`, event.Bytes([]byte{0, 0xff, 0x10})},
		{"bytea empty", decodeBytea, `\x`, event.Bytes([]byte{})},
		{"date", decodeDate, "2024-02-29", event.Date(days("2024-02-29"))},
		{"date epoch", decodeDate, "1970-01-01", event.Date(0)},
		{"date BC", decodeDate, "0001-12-31 BC", event.Date(days("0000-12-31"))},
		{"date BC leap", decodeDate, "0005-02-29 BC", event.Date(daysFromCivil(-4, 2, 29))},
		{"date min", decodeDate, "4714-11-24 BC", event.Date(daysFromCivil(-4713, 11, 24))},
		{"date far future", decodeDate, "5874897-12-31", event.Date(daysFromCivil(5874897, 12, 31))},
		{"date +infinity", decodeDate, "infinity", event.Date(event.PosInfinity)},
		{"date -infinity", decodeDate, "-infinity", event.Date(event.NegInfinity)},
		{"timestamp", decodeTimestamp, "2024-02-29 13:14:15.123456", event.DateTime(ts("2024-02-29T13:14:15.123456Z"))},
		{"timestamp short fraction", decodeTimestamp, "2024-02-29 13:14:15.5", event.DateTime(ts("2024-02-29T13:14:15.5Z"))},
		{"timestamp BC", decodeTimestamp, "0044-03-15 12:00:00 BC", event.DateTime(daysFromCivil(-43, 3, 15)*microsPerDay + 12*3600*microsPerSecond)},
		{"timestamp infinity", decodeTimestamp, "infinity", event.DateTime(event.PosInfinity)},
		{"timestamptz UTC", decodeTimestamptz, "2024-02-29 13:14:15.000001+00", event.Timestamp(ts("2024-02-29T13:14:15.000001Z"))},
		{"timestamptz offset", decodeTimestamptz, "2024-02-29 13:14:15+05:30", event.Timestamp(ts("2024-02-29T13:14:15+05:30"))},
		{"timestamptz odd offset", decodeTimestamptz, "1900-01-01 00:00:00-00:09:21", event.Timestamp(ts("1900-01-01T00:09:21Z"))},
		{"timestamptz BC", decodeTimestamptz, "0001-01-01 00:00:00+00 BC", event.Timestamp(daysFromCivil(0, 1, 1) * microsPerDay)},
		{"timestamptz -infinity", decodeTimestamptz, "-infinity", event.Timestamp(event.NegInfinity)},
		{"time", decodeTime, "13:14:15.25", event.Time((13*3600+14*60+15)*microsPerSecond + 250000)},
		{"time 24:00", decodeTime, "24:00:00", event.Time(microsPerDay)},
		{"json", decodeJSON, `{"a": [1, "x"]}`, event.JSON(`{"a": [1, "x"]}`)},
		{"text fallback", decodeText, "P1Y2M3DT4H5M6S", event.Text("P1Y2M3DT4H5M6S")},
		{"int array", intArray, "{1,2,3}", arr(event.Int(1), event.Int(2), event.Int(3))},
		{"empty array", intArray, "{}", arr()},
		{"array NULL element", intArray, "{1,NULL,3}", arr(event.Int(1), event.Null(), event.Int(3))},
		{"2-d array", intArray, "{{1,2},{3,4}}", arr(arr(event.Int(1), event.Int(2)), arr(event.Int(3), event.Int(4)))},
		{"text array quoting", textArray, `{"a,b","say \"hi\"","back\\slash","NULL",null,"",plain," sp "}`,
			arr(event.String("a,b"), event.String(`say "hi"`), event.String(`back\slash`), event.String("NULL"), event.Null(), event.String(""), event.String("plain"), event.String(" sp "))},
		{"array with bounds is text", intArray, "[0:1]={1,2}", event.Text("[0:1]={1,2}")},
		{"box array", arrayDecoder(decodeText, ';'), "{(1,1),(0,0);(2,2),(1,1)}", arr(event.Text("(1,1),(0,0)"), event.Text("(2,2),(1,1)"))},
	}
	for _, c := range cases {
		got, err := c.dec([]byte(c.in))
		if err != nil {
			t.Errorf("%s: decode %q: %v", c.name, c.in, err)
			continue
		}
		if !got.Equal(c.want) {
			t.Errorf("%s: decode %q = %#v, want %#v", c.name, c.in, got, c.want)
		}
	}
}

func TestDecodersRejectMalformedText(t *testing.T) {
	cases := []struct {
		name string
		dec  decoder
		in   string
	}{
		{"bool", decodeBool, "true"},
		{"int overflow", decodeInt, "9223372036854775808"},
		{"int garbage", decodeInt, "12a"},
		{"int empty", decodeInt, ""},
		{"uint negative", decodeUint, "-1"},
		{"float garbage", decodeFloat8, "abc"},
		{"numeric garbage", decodeNumeric, "1.2.3"},
		{"numeric empty", decodeNumeric, "-"},
		{"bytea escape format", decodeBytea, `abc`},
		{"bytea odd", decodeBytea, `\x0`},
		{"date invalid day", decodeDate, "2023-02-29"},
		{"date year zero BC", decodeDate, "0000-01-01 BC"},
		{"date garbage", decodeDate, "2023-1-1"},
		{"timestamp no time", decodeTimestamp, "2024-01-01"},
		{"timestamp bad hour", decodeTimestamp, "2024-01-01 25:00:00"},
		{"timestamptz no zone", decodeTimestamptz, "2024-01-01 00:00:00"},
		{"timestamptz out of range", decodeTimestamptz, "294276-12-31 23:59:59.999999+00"},
		{"time too long fraction", decodeTime, "00:00:00.1234567"},
		{"text invalid utf-8", decodeString, "\xff"},
		{"array unterminated", arrayDecoder(decodeInt, ','), "{1,2"},
		{"array trailing", arrayDecoder(decodeInt, ','), "{1}x"},
		{"array bad element", arrayDecoder(decodeInt, ','), "{1,x}"},
		{"array too deep", arrayDecoder(decodeInt, ','), "{{{{{{{{1}}}}}}}}"},
	}
	for _, c := range cases {
		if v, err := c.dec([]byte(c.in)); err == nil {
			t.Errorf("%s: decode %q = %#v, want an error", c.name, c.in, v)
		}
	}
}

func FuzzDecoders(f *testing.F) {
	for _, s := range []string{"t", "-12", "1.5e3", "NaN", `\x00ff`, "2024-02-29", "0044-03-15 12:00:00 BC",
		"2024-02-29 13:14:15.123456+05:30", "24:00:00", `{1,NULL,{"a\"b"}}`, "[0:1]={1,2}", "infinity"} {
		f.Add([]byte(s))
	}
	decs := []decoder{decodeBool, decodeInt, decodeUint, decodeFloat4, decodeFloat8, decodeNumeric, decodeString,
		decodeBytea, decodeDate, decodeTimestamp, decodeTimestamptz, decodeTime, decodeJSON, decodeText,
		arrayDecoder(decodeInt, ','), arrayDecoder(decodeString, ','), arrayDecoder(decodeTimestamptz, ';')}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, d := range decs {
			v, err := d(b)
			if err == nil && v.IsNull() && string(b) != "" {
				// Only array elements decode to NULL, never a whole value.
				t.Errorf("decoded %q to NULL", b)
			}
		}
		// Dates that decode must not collide with the infinity markers.
		if v, err := decodeDate(b); err == nil && (v.Days() == event.PosInfinity || v.Days() == event.NegInfinity) &&
			string(b) != "infinity" && string(b) != "-infinity" {
			t.Errorf("date %q decoded to an infinity", b)
		}
	})
}
