package postgres

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

func conflictOptions(f *fixture, s sqlapply.Strategy, om sqlapply.OnMissing, obs sqlapply.Observer) Options {
	opts := f.options()
	opts.Conflict = sqlapply.Conflict{Default: s, OnMissing: om}
	opts.Observer = obs
	return opts
}

func TestNewerWinsIgnoresReplayedAndOlderEvents(t *testing.T) {
	for _, om := range []sqlapply.OnMissing{sqlapply.MissingUpsert, sqlapply.MissingSkip} {
		t.Run(string(om), func(t *testing.T) {
			f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int)`)
			var obs outcomes
			s, _ := f.open(conflictOptions(f, sqlapply.NewerWins, om, &obs))
			src := newSource("postgres", "7001")
			t0 := src.at
			old := src.txAt(0x2000, t0.Add(1*time.Second), ins(items, "id", 1, "name", "old", "n", 1))
			newer := src.txAt(0x3000, t0.Add(2*time.Second), upd(items, "id", 1, "name", "new", "n", 2))
			apply(t, s, old, newer)
			// cdcd added its version column to the table.
			f.wantRows(`SELECT _cdcd_version FROM items`, sqlapply.Version(&newer.Events[0]))
			// The same events again (a replay), and the older one alone.
			apply(t, s, src.txAt(0x3000, t0.Add(2*time.Second), upd(items, "id", 1, "name", "new", "n", 2)))
			apply(t, s, src.txAt(0x2000, t0.Add(1*time.Second), upd(items, "id", 1, "name", "stale", "n", 1)))
			apply(t, s, src.txAt(0x2000, t0.Add(1*time.Second), ins(items, "id", 1, "name", "stale", "n", 1)))
			f.wantRows(`SELECT id, name, n FROM items`, "1|new|2")
			want := map[string]int{"public.items newer_wins kept": 3}
			if got := obs.get(); !equalCounts(got, want) {
				t.Errorf("outcomes %v, want %v", got, want)
			}
		})
	}
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

func TestNewerWinsKeepsDeletedRowsDeletedAgainstOlderInserts(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int)`)
	s, _ := f.open(conflictOptions(f, sqlapply.NewerWins, sqlapply.MissingUpsert, nil))
	src := newSource("postgres", "7001")
	t0 := src.at
	apply(t, s, src.txAt(0x2000, t0.Add(1*time.Second), ins(items, "id", 1, "name", "a", "n", 1)))
	apply(t, s, src.txAt(0x4000, t0.Add(3*time.Second), del(items, "id", 1)))
	// An insert older than the delete arrives late: the tombstone keeps
	// the row deleted. A newer one brings it back.
	apply(t, s, src.txAt(0x3000, t0.Add(2*time.Second), ins(items, "id", 1, "name", "zombie", "n", 1)))
	apply(t, s, src.txAt(0x3000, t0.Add(2*time.Second), upd(items, "id", 1, "name", "zombie", "n", 1)))
	f.wantRows(`SELECT count(*) FROM items`, "0")
	apply(t, s, src.txAt(0x5000, t0.Add(4*time.Second), ins(items, "id", 1, "name", "reborn", "n", 5)))
	f.wantRows(`SELECT name FROM items`, "reborn")
	f.wantRows(`SELECT tbl, key FROM cdcd_tombstones`, `public.items|[1]`)
}

func TestNewerWinsMergesTwoSourcesByCommitTime(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int)`)
	s, _ := f.open(conflictOptions(f, sqlapply.NewerWins, sqlapply.MissingUpsert, nil))
	pgsrc := newSource("postgres", "7001")
	mysrc := newSource("mysql", "8a4f-uuid")
	t0 := pgsrc.at
	// Each source's events arrive in its own order, the two interleaved
	// out of time order.
	apply(t, s,
		mysrc.txAt(0x10, t0.Add(5*time.Second), ins(items, "id", 1, "name", "my@5", "n", 5), ins(items, "id", 2, "name", "my@5", "n", 5)),
		pgsrc.txAt(0x20, t0.Add(3*time.Second), ins(items, "id", 1, "name", "pg@3", "n", 3), ins(items, "id", 3, "name", "pg@3", "n", 3)),
	)
	apply(t, s,
		pgsrc.txAt(0x30, t0.Add(7*time.Second), upd(items, "id", 2, "name", "pg@7", "n", 7)),
		mysrc.txAt(0x40, t0.Add(6*time.Second), upd(items, "id", 2, "name", "my@6", "n", 6), del(items, "id", 3)),
	)
	f.wantRows(`SELECT id, name FROM items ORDER BY id`, "1|my@5", "2|pg@7")
}

func TestTargetWinsKeepsLocalChanges(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int);
		INSERT INTO items VALUES (1, 'local', 100), (2, 'local', 200)`)
	var obs outcomes
	s, _ := f.open(conflictOptions(f, sqlapply.TargetWins, sqlapply.MissingUpsert, &obs))
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(
		upd(items, "id", 1, "name", "source", "n", 1),
		ins(items, "id", 2, "name", "source", "n", 2),
		ins(items, "id", 3, "name", "source", "n", 3),
		upd(items, "id", 4, "name", "source", "n", 4),
	))
	f.wantRows(`SELECT * FROM items ORDER BY id`, "1|local|100", "2|local|200", "3|source|3", "4|source|4")
	apply(t, s, src.tx(del(items, "id", 1)))
	f.wantRows(`SELECT id FROM items ORDER BY id`, "2", "3", "4")
	want := map[string]int{"public.items target_wins kept": 2, "public.items target_wins upserted": 1}
	if got := obs.get(); !equalCounts(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
}

func TestSourceWinsCountsOverwritesAndUpserts(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int);
		INSERT INTO items VALUES (1, 'local', 100)`)
	var obs outcomes
	s, _ := f.open(conflictOptions(f, sqlapply.SourceWins, sqlapply.MissingUpsert, &obs))
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(
		ins(items, "id", 1, "name", "source", "n", 1),
		upd(items, "id", 2, "name", "source", "n", 2),
		del(items, "id", 3),
	))
	f.wantRows(`SELECT * FROM items ORDER BY id`, "1|source|1", "2|source|2")
	want := map[string]int{"public.items source_wins overwritten": 1, "public.items source_wins upserted": 1, "public.items source_wins skipped": 1}
	if got := obs.get(); !equalCounts(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
}

func TestErrorStrategyStopsNamingTheKeyAndBothVersions(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int); INSERT INTO items VALUES (1, 'local', 100)`)
	var obs outcomes
	s, _ := f.open(conflictOptions(f, sqlapply.ErrorOnConflict, sqlapply.MissingUpsert, &obs))
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(ins(items, "id", 2, "name", "a", "n", 1), upd(items, "id", 2, "name", "b", "n", 2)))
	b := src.tx(ins(items, "id", 1, "name", "source", "n", 1))
	_, err := write(s, b)
	wantPermanent(t, err)
	ce, ok := as[*sqlapply.ConflictError](err)
	if !ok || ce.Table != "public.items" || ce.Key != `{"id":1}` || ce.Pos != b.Events[0].Pos || ce.EventVersion != sqlapply.Version(&b.Events[0]) || ce.RowVersion != "" {
		t.Fatalf("err = %#v", err)
	}
	t.Log(err)
	f.wantRows(`SELECT name FROM items ORDER BY id`, "local", "b")

	// A stale update of a row cdcd wrote.
	s, _ = f.open(conflictOptions(f, sqlapply.ErrorOnConflict, sqlapply.MissingUpsert, &obs))
	stale := src.txAt(0x10, src.at.Add(-time.Hour), upd(items, "id", 2, "name", "stale", "n", 0))
	_, err = write(s, stale)
	ce, ok = as[*sqlapply.ConflictError](err)
	if !ok || ce.Key != `{"id":2}` || ce.RowVersion == "" || ce.RowVersion <= ce.EventVersion {
		t.Fatalf("err = %v", err)
	}
	if got := obs.get()["public.items error error"]; got != 2 {
		t.Errorf("error outcomes %d, want 2", got)
	}
}

func TestOnMissingSkipAndError(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int); INSERT INTO items VALUES (1, 'x', 1)`)
	var obs outcomes
	s, _ := f.open(conflictOptions(f, sqlapply.SourceWins, sqlapply.MissingSkip, &obs))
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(upd(items, "id", 1, "name", "y", "n", 2), upd(items, "id", 2, "name", "y", "n", 2), del(items, "id", 3)))
	f.wantRows(`SELECT * FROM items ORDER BY id`, "1|y|2")
	if got, want := obs.get(), map[string]int{"public.items source_wins skipped": 2}; !equalCounts(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	s.Close()

	s, _ = f.open(conflictOptions(f, sqlapply.SourceWins, sqlapply.MissingError, nil))
	_, err := write(s, src.tx(upd(items, "id", 1, "name", "z", "n", 3), del(items, "id", 5)))
	wantPermanent(t, err)
	me, ok := as[*sqlapply.MissingRowError](err)
	if !ok || me.Key != `{"id":5}` || me.Op != event.OpDelete {
		t.Fatalf("err = %v", err)
	}
	f.wantRows(`SELECT * FROM items ORDER BY id`, "1|y|2")
}

func TestConflictRulesPickTheStrategyPerTable(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int); INSERT INTO items VALUES (1, 'local', 0);
		CREATE TABLE audit_items (id int PRIMARY KEY, name text, n int); INSERT INTO audit_items VALUES (1, 'local', 0)`)
	audit := table("public", "audit_items", items.Columns...)
	opts := f.options()
	opts.Conflict = sqlapply.Conflict{Default: sqlapply.SourceWins, Rules: []sqlapply.Rule{{Tables: []string{"public.audit_*"}, Strategy: sqlapply.TargetWins}}}
	s, _ := f.open(opts)
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(upd(items, "id", 1, "name", "source", "n", 1), upd(audit, "id", 1, "name", "source", "n", 1)))
	f.wantRows(`SELECT name FROM items`, "source")
	f.wantRows(`SELECT name FROM audit_items`, "local")
}

func TestDeadLetterTableCatchesDataErrorsAndTheStreamGoesOn(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int CHECK (n >= 0))`)
	opts := f.options()
	opts.DeadLetterTable = "cdcd_dead_letter"
	var obs outcomes
	opts.Observer = &obs
	s, _ := f.open(opts)
	src := newSource("postgres", "7001")
	bad := ins(items, "id", 2, "name", "bad", "n", -1)
	b := src.tx(ins(items, "id", 1, "name", "ok", "n", 1), bad, ins(items, "id", 3, "name", "ok", "n", 3))
	apply(t, s, b, src.tx(upd(items, "id", 1, "name", "ok again", "n", 10)))
	f.wantRows(`SELECT * FROM items ORDER BY id`, "1|ok again|10", "3|ok|3")
	rows := f.rows(`SELECT pipeline, event_id, pos, "table", key::text, error, event->>'op' FROM cdcd_dead_letter`)
	if len(rows) != 1 {
		t.Fatalf("dead letters %q", rows)
	}
	want := "test|7001:" + b.Events[1].Pos.String() + "|" + b.Events[1].Pos.String() + `|public.items|{"id":2}|`
	if !strings.HasPrefix(rows[0], want) || !strings.Contains(rows[0], "items_n_check") || !strings.HasSuffix(rows[0], "|c") {
		t.Errorf("dead letter %q, want prefix %q", rows[0], want)
	}
	if got := obs.get()["public.items source_wins dead_letter"]; got != 1 {
		t.Errorf("dead-letter outcomes %d", got)
	}
}

func TestDataErrorWithoutDeadLetterTableStopsNamingTheEvent(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name varchar(3), n smallint)`)
	s, _ := f.open(f.options())
	src := newSource("postgres", "7001")
	b := src.tx(ins(items, "id", 1, "name", "ok", "n", 1), ins(items, "id", 2, "name", "ok", "n", 70000))
	_, err := write(s, b)
	wantPermanent(t, err)
	ae, ok := as[*sqlapply.ApplyError](err)
	if !ok || ae.Key != `{"id":2}` || ae.Pos != b.Events[1].Pos || ae.Table != "public.items" {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
	// A value too long for varchar(3) is an error, not truncated.
	s, _ = f.open(f.options())
	_, err = write(s, src.tx(ins(items, "id", 3, "name", "toolong", "n", 1)))
	if ae, ok := as[*sqlapply.ApplyError](err); !ok || ae.Key != `{"id":3}` {
		t.Fatalf("err = %v", err)
	}
	f.wantRows(`SELECT count(*) FROM items`, "0")
}

func TestReorderingThatTripsAUniqueConstraintFallsBackToEventOrder(t *testing.T) {
	f := newFixture(t, `CREATE TABLE users (id int PRIMARY KEY, email text UNIQUE);
		INSERT INTO users VALUES (1, 'x'), (2, 'q')`)
	users := table("public", "users", key("id", "integer", event.KindInt), col("email", "text", event.KindString))
	opts := f.options()
	var logs strings.Builder
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s, _ := f.open(opts)
	src := newSource("postgres", "7001")
	apply(t, s,
		src.tx(upd(users, "id", 2, "email", "r")),
		src.tx(upd(users, "id", 1, "email", "y")),
		src.tx(upd(users, "id", 2, "email", "x")),
	)
	f.wantRows(`SELECT * FROM users ORDER BY id`, "1|y", "2|x")
	if !strings.Contains(logs.String(), "event by event") {
		t.Errorf("the set operation did not fail, so the fallback was not tested; logs:\n%s", logs.String())
	}
}
