package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

var items = table("public", "items",
	key("id", "integer", event.KindInt), col("name", "text", event.KindString), col("n", "integer", event.KindInt))

func TestAppliesChangesAndCommitsTheCheckpointWithThem(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int)`)
	s, cp := f.open(f.options())
	if cp != nil {
		t.Fatalf("a new target has checkpoint %v", cp)
	}
	src := newSource("postgres", "7001")
	b1 := src.tx(ins(items, "id", 1, "name", "apple", "n", 1), ins(items, "id", 2, "name", "pear", "n", nil))
	b2 := src.tx(upd(items, "id", 1, "name", "apple", "n", 2), del(items, "id", 2), ins(items, "id", 3, "name", "fig", "n", 3))
	got := apply(t, s, b1, b2)
	if got.Pos != b2.Checkpoint.Pos {
		t.Fatalf("Flush returned %s, want %s", got.Pos, b2.Checkpoint.Pos)
	}
	f.wantRows(`SELECT * FROM items ORDER BY id`, "1|apple|2", "3|fig|3")
	f.wantRows(`SELECT pipeline, pos, leader_epoch FROM cdcd_checkpoints`, "test|"+b2.Checkpoint.Pos.String()+"|1")

	// A new session resumes from the committed checkpoint.
	s.Close()
	_, cp = f.open(f.options())
	if cp == nil || cp.Pos != b2.Checkpoint.Pos {
		t.Fatalf("reopened at %v, want %s", cp, b2.Checkpoint.Pos)
	}
}

func TestCheckpointStateRoundTrips(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int)`)
	s, _ := f.open(f.options())
	src := newSource("postgres", "7001")
	b := src.tx(ins(items, "id", 1, "name", "a", "n", 1))
	b.Checkpoint.State = []byte(`{"gtid":"0-1-5"}`)
	apply(t, s, b)
	s.Close()
	_, cp := f.open(f.options())
	if cp == nil || string(cp.State) != `{"gtid":"0-1-5"}` {
		t.Fatalf("checkpoint %+v", cp)
	}
}

func TestEmptyFinalBatchAdvancesTheCheckpoint(t *testing.T) {
	f := newFixture(t, ``)
	s, _ := f.open(f.options())
	b := &event.Batch{Final: true, Checkpoint: event.Checkpoint{Pos: event.TxEnd(0x5000)}}
	if cp := apply(t, s, b); cp.Pos != b.Checkpoint.Pos {
		t.Fatalf("Flush returned %s", cp.Pos)
	}
	f.wantRows(`SELECT pos FROM cdcd_checkpoints`, b.Checkpoint.Pos.String())
}

func TestOneWindowKeepsPerKeyOrder(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int)`)
	s, _ := f.open(f.options())
	src := newSource("postgres", "7001")
	apply(t, s,
		src.tx(ins(items, "id", 1, "name", "a", "n", 1), upd(items, "id", 1, "name", "b", "n", 2), del(items, "id", 1)),
		src.tx(ins(items, "id", 2, "name", "a", "n", 1), del(items, "id", 2), ins(items, "id", 2, "name", "again", "n", 9)),
		src.tx(ins(items, "id", 3, "name", "x", "n", 1), upd(items, "id", 3, "name", "y", "n", 2), upd(items, "id", 3, "name", "z", "n", 3)),
		src.tx(del(items, "id", 4), ins(items, "id", 4, "name", "four", "n", 4)),
	)
	f.wantRows(`SELECT * FROM items ORDER BY id`, "2|again|9", "3|z|3", "4|four|4")
}

func TestKeyChangeIsDeleteOfTheOldKeyAndInsertOfTheNew(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int);
		INSERT INTO items VALUES (1, 'one', 1), (2, 'two', 2)`)
	s, _ := f.open(f.options())
	src := newSource("postgres", "7001")
	// Swap the keys of 1 and 2 through 3, in one transaction.
	apply(t, s, src.tx(
		updKey(items, row("id", 1), "id", 3, "name", "one", "n", 1),
		updKey(items, row("id", 2), "id", 1, "name", "two", "n", 2),
		updKey(items, row("id", 3), "id", 2, "name", "one", "n", 1),
	))
	f.wantRows(`SELECT * FROM items ORDER BY id`, "1|two|2", "2|one|1")
}

func TestUpdateLeavesUnchangedToastColumnsAlone(t *testing.T) {
	f := newFixture(t, `CREATE TABLE docs (id int PRIMARY KEY, big text, n int);
		INSERT INTO docs VALUES (1, 'huge text', 0), (2, 'other', 0)`)
	docs := table("public", "docs", key("id", "integer", event.KindInt), col("big", "text", event.KindString), col("n", "integer", event.KindInt))
	s, _ := f.open(f.options())
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(
		updToast(docs, []string{"big"}, "id", 1, "n", 1),
		upd(docs, "id", 2, "big", "new", "n", 1),
		updToast(docs, []string{"big"}, "id", 2, "n", 2),
	))
	f.wantRows(`SELECT * FROM docs ORDER BY id`, "1|huge text|1", "2|new|2")
}

func TestGeneratedColumnsAreNeverWritten(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text, n int,
		twice int GENERATED ALWAYS AS (n * 2) STORED)`)
	sch := table("public", "items", key("id", "integer", event.KindInt), col("name", "text", event.KindString),
		col("n", "integer", event.KindInt), col("twice", "integer", event.KindInt))
	s, _ := f.open(f.options())
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(
		ins(sch, "id", 7, "name", "a", "n", 2, "twice", 4),
		ins(sch, "id", 8, "name", "b", "n", 3, "twice", 999),
	))
	apply(t, s, src.tx(upd(sch, "id", 8, "name", "b", "n", 5, "twice", 10)))
	f.wantRows(`SELECT * FROM items ORDER BY id`, "7|a|2|4", "8|b|5|10")
}

func TestTruncateIsReplicatedUnlessIgnored(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int); INSERT INTO items VALUES (9, 'old', 0)`)
	s, _ := f.open(f.options())
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(ins(items, "id", 1, "name", "a", "n", 1), truncate(items), ins(items, "id", 2, "name", "b", "n", 2)))
	f.wantRows(`SELECT id FROM items ORDER BY id`, "2")
	s.Close()

	opts := f.options()
	opts.IgnoreTruncate = true
	s, _ = f.open(opts)
	apply(t, s, src.tx(truncate(items), ins(items, "id", 3, "name", "c", "n", 3)))
	f.wantRows(`SELECT id FROM items ORDER BY id`, "2", "3")
}

func TestTransactionSplitIntoBatchesBecomesVisibleOnlyWhole(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int)`)
	s, _ := f.open(f.options())
	src := newSource("postgres", "7001")
	first := apply(t, s, src.tx(ins(items, "id", 1, "name", "a", "n", 1)))

	var evs []event.Event
	for i := 10; i < 20; i++ {
		evs = append(evs, ins(items, "id", i, "name", "x", "n", i))
	}
	parts := split(src.tx(evs...), 4)
	// The first two parts: Flush keeps them in the open transaction.
	got := apply(t, s, parts[0], parts[1])
	if got.Pos != first.Pos {
		t.Fatalf("Flush after a partial transaction returned %s, want the previous %s", got.Pos, first.Pos)
	}
	f.wantRows(`SELECT count(*) FROM items`, "1")
	// A crash now loses the open transaction, and the checkpoint says so.
	s.Close()
	s, cp := f.open(f.options())
	if cp == nil || cp.Pos != first.Pos {
		t.Fatalf("reopened at %v, want %s", cp, first.Pos)
	}
	f.wantRows(`SELECT count(*) FROM items`, "1")
	// The replay delivers the whole transaction.
	got = apply(t, s, parts...)
	if got.Pos != parts[2].Checkpoint.Pos {
		t.Fatalf("Flush returned %s", got.Pos)
	}
	f.wantRows(`SELECT count(*) FROM items`, "11")

	// Several transactions and the start of the next in one flush: the
	// complete ones commit, the rest waits.
	b1 := src.tx(ins(items, "id", 30, "name", "y", "n", 0))
	b2 := split(src.tx(ins(items, "id", 31, "name", "z", "n", 0), ins(items, "id", 32, "name", "z", "n", 0)), 1)
	got = apply(t, s, b1, b2[0])
	if got.Pos != b1.Checkpoint.Pos {
		t.Fatalf("Flush returned %s, want %s", got.Pos, b1.Checkpoint.Pos)
	}
	f.wantRows(`SELECT count(*) FROM items WHERE id >= 30`, "1")
	got = apply(t, s, b2[1])
	if got.Pos != b2[1].Checkpoint.Pos {
		t.Fatalf("Flush returned %s", got.Pos)
	}
	f.wantRows(`SELECT count(*) FROM items WHERE id >= 30`, "3")
}

func TestASecondInstanceFencesTheFirst(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int)`)
	a, _ := f.open(f.options())
	src := newSource("postgres", "7001")
	apply(t, a, src.tx(ins(items, "id", 1, "name", "a", "n", 1)))
	b, _ := f.open(f.options())
	_, err := write(a, src.tx(ins(items, "id", 2, "name", "b", "n", 2)))
	wantPermanent(t, err)
	if !errors.Is(err, sqlapply.ErrFenced) {
		t.Fatalf("err = %v, want ErrFenced", err)
	}
	f.wantRows(`SELECT id FROM items ORDER BY id`, "1")
	apply(t, b, src.tx(ins(items, "id", 3, "name", "c", "n", 3)))
	f.wantRows(`SELECT id FROM items ORDER BY id`, "1", "3")
}

func TestMissingTableStopsWithAClearError(t *testing.T) {
	f := newFixture(t, ``)
	s, _ := f.open(f.options())
	_, err := write(s, newSource("postgres", "7001").tx(ins(items, "id", 1, "name", "a", "n", 1)))
	wantPermanent(t, err)
	se, ok := as[*sqlapply.SchemaError](err)
	if !ok || se.Table != "public.items" {
		t.Fatalf("err = %v, want a SchemaError for public.items", err)
	}
	t.Log(err)
}

func TestSchemaMapAndTopicChooseTheTargetTable(t *testing.T) {
	f := newFixture(t, `CREATE SCHEMA replica; CREATE TABLE replica.items (id int PRIMARY KEY, name text, n int);
		CREATE TABLE replica.renamed (id int PRIMARY KEY, name text, n int)`)
	opts := f.options()
	opts.SchemaMap = map[string]string{"public": "replica"}
	s, _ := f.open(opts)
	src := newSource("postgres", "7001")
	e := ins(items, "id", 2, "name", "b", "n", 2)
	e.Topic = "renamed"
	apply(t, s, src.tx(ins(items, "id", 1, "name", "a", "n", 1), e))
	f.wantRows(`SELECT id FROM replica.items`, "1")
	f.wantRows(`SELECT id FROM replica.renamed`, "2")
}

func TestFlushHonoursTheContext(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name text, n int)`)
	s, _ := f.open(f.options())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, newSource("postgres", "7001").tx(ins(items, "id", 1, "name", "a", "n", 1))); err != nil {
		t.Fatal(err)
	}
	_, err := s.Flush(ctx)
	if err == nil || sqlapply.IsPermanent(err) {
		t.Fatalf("Flush with a canceled context: %v, want a transient error", err)
	}
	_ = time.Second
}
