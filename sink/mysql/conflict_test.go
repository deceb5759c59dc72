package mysql

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

func (f *fixture) conflict(s sqlapply.Strategy, om sqlapply.OnMissing, obs sqlapply.Observer) Options {
	o := f.mapped()
	o.Conflict = sqlapply.Conflict{Default: s, OnMissing: om}
	o.Observer = obs
	return o
}

func (f *fixture) label() string { return f.db + ".items" }

func TestNewerWinsIgnoresReplayedAndOlderEvents(t *testing.T) {
	f := newFixture(t, itemsDDL)
	var obs outcomes
	s, _ := f.open(f.conflict(sqlapply.NewerWins, sqlapply.MissingUpsert, &obs))
	src := newSource("postgres", "7001")
	t0 := src.at
	newer := src.txAt(0x3000, t0.Add(2*time.Second), upd(items, "id", 1, "name", "new", "n", 2))
	apply(t, s, src.txAt(0x2000, t0.Add(time.Second), ins(items, "id", 1, "name", "old", "n", 1)), newer)
	apply(t, s, src.txAt(0x3000, t0.Add(2*time.Second), upd(items, "id", 1, "name", "new", "n", 2)))
	apply(t, s, src.txAt(0x2000, t0.Add(time.Second), upd(items, "id", 1, "name", "stale", "n", 1)))
	f.wantRows(`SELECT id, name, n, _cdcd_version FROM items`, "1|new|2|"+sqlapply.Version(&newer.Events[0]))
	if got, want := obs.get(), map[string]int{f.label() + " newer_wins kept": 2}; !equalCounts(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	// A delete leaves a tombstone that keeps an older insert out.
	apply(t, s, src.txAt(0x5000, t0.Add(4*time.Second), del(items, "id", 1)))
	apply(t, s, src.txAt(0x4000, t0.Add(3*time.Second), ins(items, "id", 1, "name", "zombie", "n", 0)))
	f.wantRows(`SELECT count(*) FROM items`, "0")
	apply(t, s, src.txAt(0x6000, t0.Add(5*time.Second), ins(items, "id", 1, "name", "reborn", "n", 5)))
	f.wantRows(`SELECT name FROM items`, "reborn")
	f.wantRows(`SELECT tbl, `+"`key`"+` FROM cdcd_tombstones`, f.label()+"|[1]")
}

func TestNewerWinsMergesTwoSourcesByCommitTime(t *testing.T) {
	f := newFixture(t, itemsDDL)
	s, _ := f.open(f.conflict(sqlapply.NewerWins, sqlapply.MissingUpsert, nil))
	pgsrc, mysrc := newSource("postgres", "7001"), newSource("mysql", "8a4f-uuid")
	t0 := pgsrc.at
	apply(t, s,
		mysrc.txAt(0x10, t0.Add(5*time.Second), ins(items, "id", 1, "name", "my@5", "n", 5), ins(items, "id", 2, "name", "my@5", "n", 5)),
		pgsrc.txAt(0x20, t0.Add(3*time.Second), ins(items, "id", 1, "name", "pg@3", "n", 3), ins(items, "id", 3, "name", "pg@3", "n", 3)))
	apply(t, s, pgsrc.txAt(0x30, t0.Add(7*time.Second), upd(items, "id", 2, "name", "pg@7", "n", 7)))
	apply(t, s, mysrc.txAt(0x40, t0.Add(6*time.Second), upd(items, "id", 2, "name", "my@6", "n", 6), del(items, "id", 3)))
	f.wantRows(`SELECT id, name FROM items ORDER BY id`, "1|my@5", "2|pg@7")
}

func TestTargetWinsKeepsLocalChanges(t *testing.T) {
	f := newFixture(t, itemsDDL, `INSERT INTO items VALUES (1, 'local', 100), (2, 'local', 200)`)
	var obs outcomes
	s, _ := f.open(f.conflict(sqlapply.TargetWins, sqlapply.MissingUpsert, &obs))
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(upd(items, "id", 1, "name", "source", "n", 1), ins(items, "id", 2, "name", "source", "n", 2),
		ins(items, "id", 3, "name", "source", "n", 3), upd(items, "id", 4, "name", "source", "n", 4)))
	f.wantRows(`SELECT * FROM items ORDER BY id`, "1|local|100", "2|local|200", "3|source|3", "4|source|4")
	want := map[string]int{f.label() + " target_wins kept": 2, f.label() + " target_wins upserted": 1}
	if got := obs.get(); !equalCounts(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
}

func TestErrorStrategyStopsNamingTheKey(t *testing.T) {
	f := newFixture(t, itemsDDL, `INSERT INTO items VALUES (1, 'local', 100)`)
	s, _ := f.open(f.conflict(sqlapply.ErrorOnConflict, sqlapply.MissingUpsert, nil))
	src := newSource("postgres", "7001")
	b := src.tx(ins(items, "id", 1, "name", "source", "n", 1))
	_, err := write(s, b)
	wantPermanent(t, err)
	ce, ok := as[*sqlapply.ConflictError](err)
	if !ok || ce.Key != `{"id":1}` || ce.Pos != b.Events[0].Pos || ce.EventVersion == "" {
		t.Fatalf("err = %v", err)
	}
	f.wantRows(`SELECT name FROM items`, "local")
}

func TestOnMissingSkipAndError(t *testing.T) {
	f := newFixture(t, itemsDDL, `INSERT INTO items VALUES (1, 'x', 1)`)
	var obs outcomes
	s, _ := f.open(f.conflict(sqlapply.SourceWins, sqlapply.MissingSkip, &obs))
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(upd(items, "id", 1, "name", "y", "n", 2), upd(items, "id", 2, "name", "y", "n", 2), del(items, "id", 3),
		ins(items, "id", 4, "name", "new", "n", 4)))
	f.wantRows(`SELECT * FROM items ORDER BY id`, "1|y|2", "4|new|4")
	if got, want := obs.get(), map[string]int{f.label() + " source_wins skipped": 2}; !equalCounts(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	s.Close()
	s, _ = f.open(f.conflict(sqlapply.SourceWins, sqlapply.MissingError, nil))
	_, err := write(s, src.tx(upd(items, "id", 7, "name", "z", "n", 3)))
	if me, ok := as[*sqlapply.MissingRowError](err); !ok || me.Key != `{"id":7}` {
		t.Fatalf("err = %v", err)
	}
}

func TestDeadLetterTableCatchesDataErrorsAndTheStreamGoesOn(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name varchar(20), n int CHECK (n >= 0))`)
	opts := f.mapped()
	opts.DeadLetterTable = "cdcd_dead_letter"
	s, _ := f.open(opts)
	src := newSource("postgres", "7001")
	b := src.tx(ins(items, "id", 1, "name", "ok", "n", 1), ins(items, "id", 2, "name", "bad", "n", -1),
		ins(items, "id", 3, "name", "far too long for twenty", "n", 3), ins(items, "id", 4, "name", "ok", "n", 4))
	apply(t, s, b, src.tx(upd(items, "id", 1, "name", "ok again", "n", 10)))
	f.wantRows(`SELECT * FROM items ORDER BY id`, "1|ok again|10", "4|ok|4")
	rows := f.rows("SELECT event_id, pos, `table`, `key`, error FROM cdcd_dead_letter ORDER BY id")
	if len(rows) != 2 || !strings.HasPrefix(rows[0], "7001:"+b.Events[1].Pos.String()+"|"+b.Events[1].Pos.String()+"|"+f.label()+`|{"id":2}|`) ||
		!strings.Contains(rows[0], "CONSTRAINT") || !strings.Contains(rows[1], `{"id":3}`) {
		t.Errorf("dead letters %q", rows)
	}
	// Without a dead-letter table the same failure stops, naming the row.
	s.Close()
	s, _ = f.open(f.mapped())
	_, err := write(s, src.tx(ins(items, "id", 5, "name", "bad", "n", -5)))
	if ae, ok := as[*sqlapply.ApplyError](err); !ok || ae.Key != `{"id":5}` || !sqlapply.IsPermanent(err) {
		t.Fatalf("err = %v", err)
	}
}

func TestReorderingThatTripsAUniqueConstraintFallsBackToEventOrder(t *testing.T) {
	f := newFixture(t, `CREATE TABLE users (id int PRIMARY KEY, email varchar(20) UNIQUE)`, `INSERT INTO users VALUES (1, 'x'), (2, 'q')`)
	users := table("shop", "users", key("id", "integer", event.KindInt), col("email", "text", event.KindString))
	s, _ := f.open(f.mapped())
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(upd(users, "id", 2, "email", "r")), src.tx(upd(users, "id", 1, "email", "y")), src.tx(upd(users, "id", 2, "email", "x")))
	f.wantRows(`SELECT * FROM users ORDER BY id`, "1|y", "2|x")
}

func equalCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// hardPG is a Postgres table as the Postgres source describes it.
var hardPG = table("public", "hard",
	key("id", "bigint", event.KindInt), col("i2", "smallint", event.KindInt), col("num", "numeric(12,3)", event.KindDecimal),
	col("anynum", "numeric", event.KindDecimal), col("f4", "real", event.KindFloat), col("f8", "double precision", event.KindFloat),
	col("t", "text", event.KindString), col("vc", "character varying(10)", event.KindString), col("ch", "character(3)", event.KindString),
	col("b", "bytea", event.KindBytes), col("flag", "boolean", event.KindBool), col("d", "date", event.KindDate),
	col("ts", "timestamp(3) without time zone", event.KindDateTime), col("tstz", "timestamp with time zone", event.KindTimestamp),
	col("tm", "time without time zone", event.KindTime), col("iv", "interval", event.KindText), col("j", "json", event.KindJSON),
	col("jb", "jsonb", event.KindJSON), col("u", "uuid", event.KindString), col("ia", "integer[]", event.KindArray),
	col("e", "mood", event.KindString), col("x", "xid", event.KindUint))

func TestCreateTablesMapsPostgresTypes(t *testing.T) {
	f := newFixture(t)
	opts := f.options()
	opts.CreateTables = true
	opts.SchemaMap = map[string]string{"public": f.db}
	s, _ := f.open(opts)
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(
		ins(hardPG, "id", event.Int(-9223372036854775808), "i2", -32768, "num", event.Decimal("-123456789.125"),
			"anynum", event.Decimal("12345678901234567890123456789012345.123456789012345678901234567890"),
			"f4", event.Float(float64(float32(3.14))), "f8", event.Float(1e-300), "t", "quote ' back \\ ü 😀", "vc", "vc",
			"ch", "ab ", "b", event.Bytes([]byte{0, 0xff}), "flag", event.Bool(true), "d", event.Date(event.DaysFromCivil(1000, 1, 1)),
			"ts", event.DateTime(1767323045123000), "tstz", event.Timestamp(1767323045123456), "tm", event.Time(86399999999),
			"iv", event.Text("P1Y2M"), "j", event.JSON(`{"a": [1, 2.50]}`), "jb", event.JSON(`{"b": null}`),
			"u", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "ia", event.Array([]event.Value{event.Int(1), event.Null()}),
			"e", "happy", "x", event.Uint(4294967295)),
		ins(hardPG, "id", 2),
	))
	f.wantRows(`SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'hard' ORDER BY ORDINAL_POSITION`,
		"id|bigint(20)", "i2|smallint(6)", "num|decimal(12,3)", "anynum|decimal(65,30)", "f4|float", "f8|double", "t|longtext",
		"vc|varchar(10)", "ch|char(3)", "b|longblob", "flag|tinyint(1)", "d|date", "ts|datetime(3)", "tstz|datetime(6)", "tm|time(6)",
		"iv|longtext", "j|longtext", "jb|longtext", "u|char(36)", "ia|longtext", "e|varchar(255)", "x|int(10) unsigned")
	f.wantRows(`SELECT id, i2, num, anynum, f4, f8 = 1e-300, t, vc, ch, hex(b), flag, d, ts, tstz, tm, iv, j, jb, u, ia, e, x FROM hard ORDER BY id`,
		"-9223372036854775808|-32768|-123456789.125|12345678901234567890123456789012345.123456789012345678901234567890|3.14|1|quote ' back \\ ü 😀|vc|ab|00FF|1|1000-01-01|2026-01-02 03:04:05.123|2026-01-02 03:04:05.123456|23:59:59.999999|P1Y2M|{\"a\": [1, 2.50]}|{\"b\": null}|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|[1,null]|happy|4294967295",
		"2|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅|∅")
	// Values MySQL cannot hold are data errors naming the row.
	for _, e := range []event.Event{
		ins(hardPG, "id", 3, "tstz", event.Timestamp(event.PosInfinity)),
		ins(hardPG, "id", 4, "f8", event.Float(math.NaN())),
		ins(hardPG, "id", 5, "anynum", event.Decimal("1e40")),
		ins(hardPG, "id", 6, "d", event.Date(event.DaysFromCivil(-44, 3, 15))),
	} {
		s, _ = f.open(opts)
		_, err := write(s, src.tx(e))
		if ae, ok := as[*sqlapply.ApplyError](err); !ok || ae.Key != string(e.Key.AppendJSON(nil)) {
			t.Errorf("%v: err = %v", e.After, err)
		}
	}
}

func TestNewColumnsAreAddedAndAnOpenTransactionReplays(t *testing.T) {
	f := newFixture(t)
	opts := f.mapped()
	opts.CreateTables = true
	s, _ := f.open(opts)
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(ins(items, "id", 1, "name", "a", "n", 1)))
	v2 := &event.TableSchema{Table: items.Table, Version: 2, Columns: append(items.Columns[:3:3], col("note", "text", event.KindString))}
	// The new column arrives in the second part of a transaction whose
	// first part is applied in the open transaction: MySQL's ALTER TABLE
	// would commit it, so the sink rolls back, alters, and asks for a
	// replay.
	parts := split(src.tx(ins(items, "id", 2, "name", "b", "n", 2), ins(v2, "id", 3, "name", "c", "n", 3, "note", "hi")), 1)
	apply(t, s, parts[0])
	_, err := write(s, parts[1])
	if !errors.Is(err, sqlapply.ErrSchemaReplay) || sqlapply.IsPermanent(err) {
		t.Fatalf("err = %v, want the transient ErrSchemaReplay", err)
	}
	f.wantRows(`SELECT count(*) FROM items`, "1")
	s, _ = f.open(opts)
	apply(t, s, parts...)
	f.wantRows(`SELECT * FROM items ORDER BY id`, "1|a|1|∅", "2|b|2|∅", "3|c|3|hi")
}

func TestCreateTablesKeepsMySQLTypesFromAMySQLSource(t *testing.T) {
	f := newFixture(t)
	opts := f.mapped()
	opts.CreateTables = true
	s, _ := f.open(opts)
	my := table("shop", "mytypes",
		key("id", "bigint(20) unsigned", event.KindUint), col("flag", "tinyint(1)", event.KindBool),
		col("dec", "decimal(30,10)", event.KindDecimal), col("en", "enum('a','b,c')", event.KindString),
		col("tm", "time(3)", event.KindTime), col("js", "longtext", event.KindJSON), col("bin", "varbinary(4)", event.KindBytes))
	src := newSource("mysql", "3e11fa47-71ca-11e1-9e33-c80aa9429562")
	apply(t, s, src.tx(ins(my, "id", event.Uint(18446744073709551615), "flag", event.Bool(true), "dec", event.Decimal("-1.0000000001"),
		"en", "b,c", "tm", event.Time(-(838*3600+59*60+59)*1_000_000), "js", event.JSON(`{"a":1}`), "bin", event.Bytes([]byte{1, 2}))))
	f.wantRows(`SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'mytypes' ORDER BY ORDINAL_POSITION`,
		"id|bigint(20) unsigned", "flag|tinyint(1)", "dec|decimal(30,10)", "en|enum('a','b,c')", "tm|time(3)", "js|longtext", "bin|varbinary(4)")
	f.wantRows("SELECT id, flag, `dec`, en, tm, js, hex(bin) FROM mytypes", `18446744073709551615|1|-1.0000000001|b,c|-838:59:59.000|{"a":1}|0102`)
	// A value too wide for its column is an error, not truncated.
	_, err := write(s, src.tx(ins(my, "id", event.Uint(1), "bin", event.Bytes([]byte{1, 2, 3, 4, 5}))))
	if ae, ok := as[*sqlapply.ApplyError](err); !ok || ae.Key != `{"id":1}` {
		t.Fatalf("err = %v", err)
	}
}
