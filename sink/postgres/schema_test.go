package postgres

import (
	"math"
	"testing"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

func TestCreateTablesBuildsMissingTablesAndAddsNewColumns(t *testing.T) {
	f := newFixture(t, ``)
	opts := f.options()
	opts.CreateTables = true
	opts.SchemaMap = map[string]string{"shop": "replica"}
	s, _ := f.open(opts)
	v1 := table("shop", "orders", key("id", "integer", event.KindInt), col("total", "numeric(10,2)", event.KindDecimal))
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(ins(v1, "id", 1, "total", event.Decimal("9.90"))))
	v2 := &event.TableSchema{Table: v1.Table, Version: 2, Columns: append(v1.Columns[:2:2], col("note", "character varying(20)", event.KindString))}
	apply(t, s, src.tx(ins(v2, "id", 2, "total", event.Decimal("1.00"), "note", "hi"), upd(v1, "id", 1, "total", event.Decimal("10.00"))))
	f.wantRows(`SELECT id, total::text, note FROM replica.orders ORDER BY id`, "1|10.00|∅", "2|1.00|hi")
	f.wantRows(`SELECT column_name || ' ' || format_type(atttypid, atttypmod) FROM information_schema.columns c
		JOIN pg_attribute a ON a.attrelid = 'replica.orders'::regclass AND a.attname = c.column_name
		WHERE table_schema = 'replica' AND table_name = 'orders' ORDER BY ordinal_position`,
		"id integer", "total numeric(10,2)", "note character varying(20)")
}

func TestWithoutCreateTablesANewColumnStops(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int)`)
	s, _ := f.open(f.options())
	wider := table("public", "items", append(items.Columns[:3:3], col("extra", "text", event.KindString))...)
	_, err := write(s, newSource("postgres", "7001").tx(ins(wider, "id", 1, "name", "a", "n", 1, "extra", "x")))
	se, ok := as[*sqlapply.SchemaError](err)
	if !ok || !sqlapply.IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent SchemaError", err)
	}
	t.Log(se)
}

// mysqlTypes is a MySQL table as the MySQL source describes it.
var mysqlTypes = table("shop", "mytypes",
	key("id", "bigint(20) unsigned", event.KindUint),
	col("ti", "tinyint(4)", event.KindInt), col("flag", "tinyint(1)", event.KindBool),
	col("si", "smallint(5) unsigned", event.KindInt), col("mi", "mediumint(9)", event.KindInt),
	col("i", "int(10) unsigned", event.KindInt), col("bi", "bigint(20)", event.KindInt),
	col("dec", "decimal(30,10)", event.KindDecimal), col("fl", "float", event.KindFloat), col("db", "double", event.KindFloat),
	col("ch", "char(3)", event.KindString), col("vc", "varchar(20)", event.KindString), col("tx", "longtext", event.KindString),
	col("bin", "varbinary(16)", event.KindBytes), col("blb", "blob", event.KindBytes),
	col("d", "date", event.KindDate), col("dt", "datetime(6)", event.KindDateTime), col("ts", "timestamp(3)", event.KindTimestamp),
	col("tm", "time", event.KindTime), col("yr", "year(4)", event.KindInt),
	col("js", "json", event.KindJSON), col("mjs", "longtext", event.KindJSON),
	col("en", "enum('a','b,c')", event.KindString), col("st", "set('x','y')", event.KindString),
)

func TestMySQLRowsGetMappedTypes(t *testing.T) {
	f := newFixture(t, ``)
	opts := f.options()
	opts.CreateTables = true
	s, _ := f.open(opts)
	src := newSource("mysql", "3e11fa47-71ca-11e1-9e33-c80aa9429562")
	apply(t, s, src.tx(ins(mysqlTypes,
		"id", event.Uint(18446744073709551615), "ti", -128, "flag", event.Bool(true), "si", 65535, "mi", -8388608,
		"i", 4294967295, "bi", event.Int(-9223372036854775808), "dec", event.Decimal("-12345678901234567890.0123456789"),
		"fl", event.Float(float64(float32(3.14))), "db", event.Float(2.5e-300),
		"ch", "abc", "vc", "grüße", "tx", "long", "bin", event.Bytes([]byte{0, 1, 255}), "blb", event.Bytes(nil),
		"d", event.Date(event.DaysFromCivil(1000, 1, 1)), "dt", event.DateTime(253402300799999999), "ts", event.Timestamp(1767323045123000),
		"tm", event.Time(-(838*3600+59*60+59)*1_000_000), "yr", 2155,
		"js", event.JSON(`{"a":[1,2]}`), "mjs", event.JSON(`[true]`), "en", "b,c", "st", "x,y",
	)))
	f.wantRows(`SELECT attname || ' ' || format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = 'shop.mytypes'::regclass AND attnum > 0 ORDER BY attnum`,
		"id numeric(20,0)", "ti smallint", "flag boolean", "si integer", "mi integer", "i bigint", "bi bigint",
		"dec numeric(30,10)", "fl real", "db double precision", "ch character varying(3)", "vc character varying(20)",
		"tx text", "bin bytea", "blb bytea", "d date", "dt timestamp(6) without time zone", "ts timestamp(3) with time zone",
		"tm interval", "yr smallint", "js jsonb", "mjs jsonb", "en text", "st text")
	// A decimal too wide for its column is a data error naming the row,
	// not a value written differently.
	_, err := write(s, src.tx(ins(mysqlTypes, "id", event.Uint(1), "dec", event.Decimal("123456789012345678901.5"))))
	if ae, ok := as[*sqlapply.ApplyError](err); !ok || ae.Key != `{"id":1}` {
		t.Fatalf("err = %v", err)
	}
	s, _ = f.open(opts)
	apply(t, s, src.tx(ins(mysqlTypes, "id", event.Uint(2), "tm", event.Time(1_500_000))))
	f.wantRows(`SELECT id::text, ti, flag, si, mi, i, bi, dec::text, fl, db, ch, vc, tx, encode(bin, 'hex'), encode(blb, 'hex'), d::text, dt::text, ts::text, tm::text, yr, js::text, mjs::text, en, st FROM shop.mytypes ORDER BY 1`,
		"18446744073709551615|-128|true|65535|-8388608|4294967295|-9223372036854775808|-12345678901234567890.0123456789|3.14|2.5e-300|abc|grüße|long|0001ff||1000-01-01|9999-12-31 23:59:59.999999|2026-01-02 03:04:05.123+00|-838:59:59|2155|{\"a\": [1, 2]}|[true]|b,c|x,y",
		"2|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|00:00:01.5|∅|∅|∅|∅|∅")
}

func TestValuesOfEveryKindRoundTrip(t *testing.T) {
	f := newFixture(t, `CREATE TABLE v (id int PRIMARY KEY, b bool, i bigint, u numeric(20,0), fl float8, dec numeric,
		s text, by bytea, ts timestamptz, dt timestamp, d date, tm time, iv interval, j jsonb, arr text[], iarr int[], jarr jsonb, tx tsrange)`)
	sch := table("public", "v", key("id", "integer", event.KindInt))
	s, _ := f.open(f.options())
	src := newSource("postgres", "7001")
	minDay := event.DaysFromCivil(-4712, 1, 1)
	apply(t, s, src.tx(
		ins(sch, "id", 1, "b", event.Bool(false), "i", event.Int(-1), "u", event.Uint(1<<63), "fl", event.Float(math.Copysign(0, -1)),
			"dec", event.Decimal("-0.000100"), "s", "a\tb\\c'\"", "by", event.Bytes([]byte("\x00\\x")),
			"ts", event.Timestamp(-1), "dt", event.DateTime(minDay*86400_000_000), "d", event.Date(minDay), "tm", event.Time(86400_000_000),
			"iv", event.Time(-(838*3600)*1_000_000), "j", event.JSON(`{"k":"\u0041"}`),
			"arr", event.Array([]event.Value{event.String(`q"uo\te`), event.Null(), event.String("NULL"), event.String("")}),
			"iarr", event.Array([]event.Value{event.Array([]event.Value{event.Int(1), event.Int(2)}), event.Array([]event.Value{event.Int(3), event.Null()})}),
			"jarr", event.Array([]event.Value{event.Int(1), event.String("x")}),
			"tx", event.Text("[2026-01-01 00:00:00,2026-01-02 00:00:00)")),
		ins(sch, "id", 2, "fl", event.Float(1e-7), "ts", event.Timestamp(event.PosInfinity), "dt", event.DateTime(event.NegInfinity), "d", event.Date(event.PosInfinity)),
	))
	f.wantRows(`SELECT v::text FROM v ORDER BY id`,
		`(1,f,-1,9223372036854775808,-0,-0.000100,"a	b\\c'""","\\x005c78","1969-12-31 23:59:59.999999+00","4713-01-01 00:00:00 BC","4713-01-01 BC",24:00:00,-838:00:00,"{""k"": ""A""}","{""q\\""uo\\\\te"",NULL,""NULL"",""""}","{{1,2},{3,NULL}}","[1, ""x""]","[""2026-01-01 00:00:00"",""2026-01-02 00:00:00"")")`,
		`(2,,,,1e-07,,,,infinity,-infinity,infinity,,,,,,,)`)
}
