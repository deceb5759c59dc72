package postgres

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

// pgLiteral renders v as Postgres input text: the inverse of the decoders,
// used to write what was read back into Postgres.
func pgLiteral(v event.Value) string { return pgLiteralDelim(v, ",") }

// pgLiteralDelim is pgLiteral with the array delimiter of the element type.
func pgLiteralDelim(v event.Value, delim string) string {
	switch v.Kind() {
	case event.KindBool:
		if v.Bool() {
			return "t"
		}
		return "f"
	case event.KindInt:
		return strconv.FormatInt(v.Int(), 10)
	case event.KindUint:
		return strconv.FormatUint(v.Uint(), 10)
	case event.KindFloat:
		f := v.Float()
		switch {
		case math.IsNaN(f):
			return "NaN"
		case math.IsInf(f, 1):
			return "Infinity"
		case math.IsInf(f, -1):
			return "-Infinity"
		}
		return strconv.FormatFloat(f, 'g', -1, 64)
	case event.KindBytes:
		return `\x` + hex.EncodeToString(v.BytesView())
	case event.KindDate:
		return pgDate(v.Days(), false)
	case event.KindDateTime, event.KindTimestamp:
		us := v.Micros()
		switch us {
		case event.PosInfinity:
			return "infinity"
		case event.NegInfinity:
			return "-infinity"
		}
		d := us / microsPerDay
		rem := us % microsPerDay
		if rem < 0 {
			d--
			rem += microsPerDay
		}
		s := pgDate(d, true) + " " + pgClock(rem)
		if v.Kind() == event.KindTimestamp {
			s += "+00"
		}
		if strings.HasSuffix(s[:10], "BC") || strings.Contains(pgDate(d, false), "BC") {
			s += " BC"
		}
		return s
	case event.KindTime:
		return pgClock(v.Micros())
	case event.KindArray:
		var parts []string
		for _, e := range v.Elems() {
			switch {
			case e.IsNull():
				parts = append(parts, "NULL")
			case e.Kind() == event.KindArray:
				parts = append(parts, pgLiteralDelim(e, delim))
			default:
				s := strings.ReplaceAll(strings.ReplaceAll(pgLiteral(e), `\`, `\\`), `"`, `\"`)
				parts = append(parts, `"`+s+`"`)
			}
		}
		return "{" + strings.Join(parts, delim) + "}"
	}
	return v.Str() // decimal, string, JSON, text
}

// pgDate renders days since 1970 as YYYY-MM-DD, with " BC" unless noBC.
func pgDate(days int64, noBC bool) string {
	switch days {
	case event.PosInfinity:
		return "infinity"
	case event.NegInfinity:
		return "-infinity"
	}
	t := time.Unix(days*86400, 0).UTC()
	y := int64(t.Year())
	if y <= 0 {
		s := fmt.Sprintf("%04d-%02d-%02d", 1-y, t.Month(), t.Day())
		if !noBC {
			s += " BC"
		}
		return s
	}
	return fmt.Sprintf("%04d-%02d-%02d", y, t.Month(), t.Day())
}

func pgClock(us int64) string {
	s := us / microsPerSecond
	return fmt.Sprintf("%02d:%02d:%02d.%06d", s/3600, s/60%60, s%60, us%microsPerSecond)
}

func TestEveryTypeClassRoundTrips(t *testing.T) {
	f := newFixture(t, `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
		CREATE DOMAIN posint AS int CHECK (VALUE > 0);
		CREATE DOMAIN tags AS text[];`)
	ext := map[string]bool{}
	for _, e := range []string{"citext", "hstore"} {
		if _, err := f.conn().Exec(context.Background(), "CREATE EXTENSION "+e); err == nil {
			ext[e] = true
		} else {
			t.Logf("extension %s not available: %v", e, err)
		}
	}
	type col struct {
		name, typ string
		kind      event.Kind
		values    []string // SQL expressions, one per row
	}
	cols := []col{
		{"b", "bool", event.KindBool, []string{"true", "false"}},
		{"i2", "int2", event.KindInt, []string{"-32768", "32767"}},
		{"i4", "int4", event.KindInt, []string{"-2147483648", "2147483647"}},
		{"i8", "int8", event.KindInt, []string{"-9223372036854775808", "9223372036854775807"}},
		{"o", "oid", event.KindUint, []string{"0", "4294967295"}},
		{"f4", "float4", event.KindFloat, []string{"'3.4028235e+38'", "'NaN'"}},
		{"f8", "float8", event.KindFloat, []string{"'-Infinity'", "0.1"}},
		{"f8b", "float8", event.KindFloat, []string{"'Infinity'", "'-0'"}},
		{"n", "numeric", event.KindDecimal, []string{"'NaN'", "'-123456789012345678901234567890.123456789012345678900'"}},
		{"n2", "numeric(10,2)", event.KindDecimal, []string{"-99999999.99", "1.5"}},
		{"tx", "text", event.KindString, []string{"'zß水🍌 \"q\" \\ '''", "''"}},
		{"vc", "varchar(10)", event.KindString, []string{"'a'", "'ünïcödé'"}},
		{"ch", "char(5)", event.KindString, []string{"'ab'", "'abcde'"}},
		{"nm", "name", event.KindString, []string{"'pg_class'", "'x'"}},
		{"by", "bytea", event.KindBytes, []string{"'\\x00ff'::bytea", "''::bytea"}},
		{"d", "date", event.KindDate, []string{"'infinity'", "'0044-03-15 BC'"}},
		{"d2", "date", event.KindDate, []string{"'-infinity'", "'5874897-12-31'"}},
		{"ts", "timestamp", event.KindDateTime, []string{"'2024-02-29 13:14:15.123456'", "'4713-01-01 00:00:00 BC'"}},
		{"ts2", "timestamp(3)", event.KindDateTime, []string{"'infinity'", "'1969-12-31 23:59:59.999'"}},
		{"tz", "timestamptz", event.KindTimestamp, []string{"'2024-02-29 13:14:15.000001+05:30'", "'-infinity'"}},
		{"tz2", "timestamptz", event.KindTimestamp, []string{"'0001-01-01 00:00:00+00 BC'", "'294246-12-31 23:59:59+00'"}},
		{"tm", "time", event.KindTime, []string{"'24:00:00'", "'00:00:00.000001'"}},
		{"ttz", "timetz", event.KindText, []string{"'13:14:15+02'", "'00:00:00-11:30'"}},
		{"iv", "interval", event.KindText, []string{"'1 year 2 mons 3 days 04:05:06.7'", "'-1 day'"}},
		{"u", "uuid", event.KindString, []string{"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "'00000000-0000-0000-0000-000000000000'"}},
		{"js", "json", event.KindJSON, []string{`'{"a": [1, 2.50, "x"], "b": null}'`, `'[]'`}},
		{"jb", "jsonb", event.KindJSON, []string{`'{"a": [1, 2.50, "x"], "b": null}'`, `'"s"'`}},
		{"ia", "int4[]", event.KindArray, []string{"'{{1,2},{3,NULL}}'", "'{}'"}},
		{"ta", "text[]", event.KindArray, []string{`ARRAY['a,b', 'say "hi"', 'back\slash', 'NULL', NULL, '', ' sp ']`, "'[0:1]={x,y}'"}},
		{"tsa", "timestamptz[]", event.KindArray, []string{"ARRAY['2024-01-01 00:00:00+00'::timestamptz, 'infinity']", "'{}'"}},
		{"ba", "box[]", event.KindArray, []string{"ARRAY['((1,1),(0,0))'::box, '((2,2),(1,1))'::box]", "'{}'"}},
		{"e", "mood", event.KindString, []string{"'happy'", "'sad'"}},
		{"ea", "mood[]", event.KindArray, []string{"'{ok,sad}'", "'{}'"}},
		{"dm", "posint", event.KindInt, []string{"1", "2147483647"}},
		{"dta", "tags", event.KindArray, []string{"'{a,b}'", "'{}'"}},
		{"ip", "inet", event.KindText, []string{"'192.168.0.1/24'", "'::1'"}},
		{"cd", "cidr", event.KindText, []string{"'10.0.0.0/8'", "'2001:db8::/32'"}},
		{"mac", "macaddr", event.KindText, []string{"'08:00:2b:01:02:03'", "'ff:ff:ff:ff:ff:ff'"}},
		{"mo", "money", event.KindText, []string{"'12.34'", "'-92233720368547758.08'"}},
		{"bt", "bit(4)", event.KindText, []string{"B'1010'", "B'0000'"}},
		{"vb", "varbit", event.KindText, []string{"B'1'", "B''"}},
		{"rg", "int4range", event.KindText, []string{"'[1,10)'", "'empty'"}},
		{"tr", "tstzrange", event.KindText, []string{"'[2024-01-01 00:00:00+00,infinity)'", "'(,)'"}},
		{"tv", "tsvector", event.KindText, []string{"'a fat cat'", "''"}},
		{"x", "xml", event.KindText, []string{"'<a b=\"1\">t</a>'", "'text'"}},
		{"pt", "point", event.KindText, []string{"'(1.5,-2)'", "'(0,0)'"}},
	}
	if ext["citext"] {
		cols = append(cols, col{"ci", "citext", event.KindString, []string{"'MiXeD'", "''"}})
	}
	if ext["hstore"] {
		cols = append(cols, col{"hs", "hstore", event.KindText, []string{`'a=>1, "b c"=>NULL'`, "''"}})
	}
	var defs, names []string
	for _, c := range cols {
		defs = append(defs, c.name+" "+c.typ)
		names = append(names, c.name)
	}
	f.exec("CREATE TABLE types (id int PRIMARY KEY, " + strings.Join(defs, ", ") + ")")
	src := f.open(f.options("public.types"), nil)
	for r := 0; r < 2; r++ {
		var vals []string
		for _, c := range cols {
			vals = append(vals, c.values[r])
		}
		f.exec(fmt.Sprintf("INSERT INTO types (id, %s) VALUES (%d, %s)", strings.Join(names, ", "), r, strings.Join(vals, ", ")))
	}
	f.exec("INSERT INTO types (id) VALUES (2)") // all NULL

	conn := f.conn()
	ctx := context.Background()
	for r := 0; r < 3; r++ {
		e := read(t, src).Events[0]
		for i, c := range cols {
			sc := e.Schema.Columns[i+1]
			if sc.Name != c.name || sc.Kind != c.kind {
				t.Errorf("column %s: schema %+v, want kind %s", c.name, sc, c.kind)
			}
			v, ok := e.After.Get(c.name)
			if !ok {
				t.Errorf("row %d: column %s missing", r, c.name)
				continue
			}
			if r == 2 {
				if !v.IsNull() {
					t.Errorf("row 2: %s = %#v, want NULL", c.name, v)
				}
				continue
			}
			if c.name == "ta" && r == 1 {
				if v.Kind() != event.KindText || v.Str() != "[0:1]={x,y}" {
					t.Errorf("array with bounds = %#v, want its text", v)
				}
				continue
			}
			// Write what we read back into Postgres: it must render as the original.
			lit := pgLiteral(v)
			if c.typ == "box[]" {
				lit = pgLiteralDelim(v, ";")
			}
			var same bool
			var orig, back string
			err := conn.QueryRow(ctx, fmt.Sprintf(`SELECT %[1]s::text, $1::text::%[2]s::text, %[1]s::text = $1::text::%[2]s::text FROM types WHERE id = $2`,
				c.name, sc.Type), lit, r).Scan(&orig, &back, &same)
			if err != nil {
				t.Errorf("row %d: %s (%s): write back %q: %v", r, c.name, sc.Type, lit, err)
				continue
			}
			if !same {
				t.Errorf("row %d: %s (%s): read %#v, written back as %q, original %q", r, c.name, sc.Type, v, back, orig)
			}
		}
	}
}
