package mysql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

var items = table("shop", "items",
	key("id", "int(11)", event.KindInt), col("name", "varchar(20)", event.KindString), col("n", "int(11)", event.KindInt))

const itemsDDL = `CREATE TABLE items (id int PRIMARY KEY, name varchar(20), n int)`

// mapped maps the events' namespace "shop" to the fixture's database.
func (f *fixture) mapped() Options {
	o := f.options()
	o.SchemaMap = map[string]string{"shop": f.db}
	return o
}

func TestAppliesChangesAndCommitsTheCheckpointWithThem(t *testing.T) {
	f := newFixture(t, itemsDDL)
	s, cp := f.open(f.mapped())
	if cp != nil {
		t.Fatalf("a new target has checkpoint %v", cp)
	}
	src := newSource("postgres", "7001")
	b1 := src.tx(ins(items, "id", 1, "name", "apple", "n", 1), ins(items, "id", 2, "name", "pear", "n", nil))
	b2 := src.tx(upd(items, "id", 1, "name", "apple", "n", 2), del(items, "id", 2), ins(items, "id", 3, "name", "fig", "n", 3))
	b2.Checkpoint.State = []byte("state\x00'")
	if got := apply(t, s, b1, b2); got.Pos != b2.Checkpoint.Pos {
		t.Fatalf("Flush returned %s, want %s", got.Pos, b2.Checkpoint.Pos)
	}
	f.wantRows(`SELECT * FROM items ORDER BY id`, "1|apple|2", "3|fig|3")
	f.wantRows(`SELECT pipeline, pos, leader_epoch FROM cdcd_checkpoints`, "test|"+b2.Checkpoint.Pos.String()+"|1")
	s.Close()
	_, cp = f.open(f.mapped())
	if cp == nil || cp.Pos != b2.Checkpoint.Pos || string(cp.State) != "state\x00'" {
		t.Fatalf("reopened at %+v, want %s", cp, b2.Checkpoint.Pos)
	}
}

func TestOneWindowKeepsPerKeyOrderAndKeyChanges(t *testing.T) {
	f := newFixture(t, itemsDDL, `INSERT INTO items VALUES (10, 'ten', 10), (20, 'twenty', 20)`)
	s, _ := f.open(f.mapped())
	src := newSource("postgres", "7001")
	apply(t, s,
		src.tx(ins(items, "id", 1, "name", "a", "n", 1), upd(items, "id", 1, "name", "b", "n", 2), del(items, "id", 1)),
		src.tx(ins(items, "id", 2, "name", "a", "n", 1), del(items, "id", 2), ins(items, "id", 2, "name", "again", "n", 9)),
		src.tx(
			updKey(items, row("id", 10), "id", 30, "name", "ten", "n", 10),
			updKey(items, row("id", 20), "id", 10, "name", "twenty", "n", 20),
			updKey(items, row("id", 30), "id", 20, "name", "ten", "n", 10)),
	)
	f.wantRows(`SELECT * FROM items ORDER BY id`, "2|again|9", "10|twenty|20", "20|ten|10")
}

func TestUpdateLeavesUnchangedToastColumnsAlone(t *testing.T) {
	f := newFixture(t, `CREATE TABLE docs (id int PRIMARY KEY, big longtext, n int)`, `INSERT INTO docs VALUES (1, 'huge text', 0)`)
	docs := table("shop", "docs", key("id", "integer", event.KindInt), col("big", "text", event.KindString), col("n", "integer", event.KindInt))
	s, _ := f.open(f.mapped())
	apply(t, s, newSource("postgres", "7001").tx(updToast(docs, []string{"big"}, "id", 1, "n", 1)))
	f.wantRows(`SELECT * FROM docs`, "1|huge text|1")
}

func TestGeneratedColumnsAreNeverWritten(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name varchar(20), n int, twice int AS (n * 2) STORED, v int AS (n + 1) VIRTUAL)`)
	sch := table("shop", "items", append(items.Columns[:3:3], col("twice", "integer", event.KindInt), col("v", "integer", event.KindInt))...)
	s, _ := f.open(f.mapped())
	apply(t, s, newSource("postgres", "7001").tx(ins(sch, "id", 1, "name", "a", "n", 2, "twice", 999, "v", 999)))
	f.wantRows(`SELECT * FROM items`, "1|a|2|4|3")
}

func TestTruncateIsReplicatedInTheTransaction(t *testing.T) {
	f := newFixture(t, itemsDDL, `INSERT INTO items VALUES (9, 'old', 0)`)
	s, _ := f.open(f.mapped())
	src := newSource("postgres", "7001")
	apply(t, s, src.tx(ins(items, "id", 1, "name", "a", "n", 1), truncate(items), ins(items, "id", 2, "name", "b", "n", 2)))
	f.wantRows(`SELECT id FROM items ORDER BY id`, "2")
}

func TestTransactionSplitIntoBatchesBecomesVisibleOnlyWhole(t *testing.T) {
	f := newFixture(t, itemsDDL)
	s, _ := f.open(f.mapped())
	src := newSource("postgres", "7001")
	first := apply(t, s, src.tx(ins(items, "id", 1, "name", "a", "n", 1)))
	var evs []event.Event
	for i := 10; i < 20; i++ {
		evs = append(evs, ins(items, "id", i, "name", "x", "n", i))
	}
	parts := split(src.tx(evs...), 4)
	if got := apply(t, s, parts[0], parts[1]); got.Pos != first.Pos {
		t.Fatalf("Flush after a partial transaction returned %s, want %s", got.Pos, first.Pos)
	}
	f.wantRows(`SELECT count(*) FROM items`, "1")
	s.Close()
	s, cp := f.open(f.mapped())
	if cp == nil || cp.Pos != first.Pos {
		t.Fatalf("reopened at %v", cp)
	}
	f.wantRows(`SELECT count(*) FROM items`, "1")
	apply(t, s, parts...)
	f.wantRows(`SELECT count(*) FROM items`, "11")
}

func TestASecondInstanceFencesTheFirst(t *testing.T) {
	f := newFixture(t, itemsDDL)
	a, _ := f.open(f.mapped())
	src := newSource("postgres", "7001")
	apply(t, a, src.tx(ins(items, "id", 1, "name", "a", "n", 1)))
	b, _ := f.open(f.mapped())
	_, err := write(a, src.tx(ins(items, "id", 2, "name", "b", "n", 2)))
	wantPermanent(t, err)
	if !errors.Is(err, sqlapply.ErrFenced) {
		t.Fatalf("err = %v, want ErrFenced", err)
	}
	apply(t, b, src.tx(ins(items, "id", 3, "name", "c", "n", 3)))
	f.wantRows(`SELECT id FROM items ORDER BY id`, "1", "3")
}

func TestFlushHonoursTheContext(t *testing.T) {
	f := newFixture(t, itemsDDL)
	s, _ := f.open(f.mapped())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, newSource("postgres", "7001").tx(ins(items, "id", 1, "name", "a", "n", 1))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Flush(ctx); err == nil || sqlapply.IsPermanent(err) {
		t.Fatalf("Flush with a canceled context: %v, want a transient error", err)
	}
}

func TestDSNForms(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want dsn
		err  string
	}{
		{in: "root:p@ss:w@tcp(db:3307)/shop?tls=skip-verify&timeout=3s", want: dsn{user: "root", password: "p@ss:w", addr: "db:3307", db: "shop", tls: "skip-verify", timeout: 3 * time.Second}},
		{in: "cdc@tcp(db)/", want: dsn{user: "cdc", addr: "db:3306"}},
		{in: "cdc:x@unix(/run/mysqld.sock)/shop", want: dsn{user: "cdc", password: "x", addr: "/run/mysqld.sock", db: "shop"}},
		{in: "mysql://cdc:p%40ss@db/shop?tls=true", want: dsn{user: "cdc", password: "p@ss", addr: "db:3306", db: "shop", tls: "true"}},
		{in: "cdc@tcp(db:3306)/shop?foo=1", err: "unknown parameter"},
		{in: "cdc@db:3306/shop", err: "want tcp(host:port)"},
	} {
		got, err := parseDSN(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err %v, want %q", tc.in, err, tc.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.in, err)
		case got != tc.want:
			t.Errorf("%s: %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestCheckpointSchemaDefaultsToTheDSNDatabase(t *testing.T) {
	if _, err := New(Options{DSN: "root@tcp(127.0.0.1:1)/", Pipeline: "p"}); err == nil || !strings.Contains(err.Error(), "checkpoint schema") {
		t.Fatalf("New without a database: %v", err)
	}
	if _, err := New(Options{DSN: "root@tcp(127.0.0.1:1)/", Pipeline: "p", CheckpointSchema: "cdcd"}); err != nil {
		t.Fatal(err)
	}
}
