package postgres

import (
	"testing"

	"github.com/cdcd-dev/cdcd/event"
)

func TestStreamsEveryOperationWithExactValues(t *testing.T) {
	f := newFixture(t, `CREATE TABLE public.items (id int PRIMARY KEY, name text, price numeric(10,2));
		CREATE TABLE public.other (id int PRIMARY KEY)`)
	src := f.open(f.options("public.items"), nil)

	f.exec(`BEGIN;
		INSERT INTO items VALUES (1, 'apple', 1.50), (2, 'pear', NULL);
		UPDATE items SET price = 2.25 WHERE id = 1;
		DELETE FROM items WHERE id = 2;
		INSERT INTO other VALUES (1);
		SELECT pg_logical_emit_message(true, 'app', 'hello');
		COMMIT`)
	f.exec(`TRUNCATE items`)

	bs := readTx(t, src)
	if len(bs) != 1 {
		t.Fatalf("got %d batches, want 1", len(bs))
	}
	b := bs[0]
	if !b.Final || b.CommitTime.IsZero() {
		t.Errorf("batch Final=%v CommitTime=%v", b.Final, b.CommitTime)
	}
	if len(b.Events) != 5 {
		t.Fatalf("got %d events, want 5: %+v", len(b.Events), b.Events)
	}
	commit := b.Events[0].Pos.Commit
	if b.Checkpoint.Pos != event.TxEnd(commit) {
		t.Errorf("checkpoint %s, want TxEnd(%x)", b.Checkpoint.Pos, commit)
	}
	wantOps := []event.Op{event.OpInsert, event.OpInsert, event.OpUpdate, event.OpDelete, event.OpMessage}
	for i, e := range b.Events {
		if e.Op != wantOps[i] {
			t.Errorf("event %d op %v, want %v", i, e.Op, wantOps[i])
		}
		// "other" is not in the publication: the message is the fifth change.
		wantIdx := uint32(i)
		if i == 4 {
			wantIdx = 4
		}
		if e.Pos != (event.Position{Commit: commit, Index: wantIdx}) || e.Tx.Index != wantIdx {
			t.Errorf("event %d pos %s tx.index %d", i, e.Pos, e.Tx.Index)
		}
		if e.Tx.ID == "" || e.Tx.Count != 5 || !e.Tx.CommitTime.Equal(b.CommitTime) {
			t.Errorf("event %d tx %+v", i, e.Tx)
		}
		if e.Source == nil || e.Source != b.Events[0].Source || e.Source.Kind != "postgres" || e.Source.ServerID == "" || e.Source.DB != f.db || e.Source.Pipeline != "test" {
			t.Errorf("event %d source %+v", i, e.Source)
		}
	}
	ins := b.Events[0]
	if ins.Table != (event.TableID{Namespace: "public", Name: "items"}) || ins.Schema == nil || ins.Schema.Version != 1 {
		t.Fatalf("insert table %v schema %+v", ins.Table, ins.Schema)
	}
	wantCols := []event.Column{
		{Name: "id", Type: "integer", Kind: event.KindInt, Nullable: false, Key: true},
		{Name: "name", Type: "text", Kind: event.KindString, Nullable: true},
		{Name: "price", Type: "numeric(10,2)", Kind: event.KindDecimal, Nullable: true},
	}
	for i, c := range wantCols {
		if ins.Schema.Columns[i] != c {
			t.Errorf("column %d = %+v, want %+v", i, ins.Schema.Columns[i], c)
		}
	}
	wantRow(t, "insert after", ins.After, row("id", event.Int(1), "name", event.String("apple"), "price", event.Decimal("1.50")))
	wantRow(t, "insert key", ins.Key, row("id", event.Int(1)))
	if ins.Before != nil {
		t.Errorf("insert before = %v", ins.Before)
	}
	wantRow(t, "insert 2 after", b.Events[1].After, row("id", event.Int(2), "name", event.String("pear"), "price", event.Null()))
	upd := b.Events[2]
	wantRow(t, "update after", upd.After, row("id", event.Int(1), "name", event.String("apple"), "price", event.Decimal("2.25")))
	wantRow(t, "update key", upd.Key, row("id", event.Int(1)))
	if upd.Before != nil || upd.Unchanged != nil {
		t.Errorf("update before %v unchanged %v", upd.Before, upd.Unchanged)
	}
	del := b.Events[3]
	wantRow(t, "delete before", del.Before, row("id", event.Int(2)))
	wantRow(t, "delete key", del.Key, row("id", event.Int(2)))
	if del.After != nil {
		t.Errorf("delete after %v", del.After)
	}
	msg := b.Events[4]
	if msg.Message == nil || msg.Message.Prefix != "app" || string(msg.Message.Content) != "hello" || !msg.Message.Transactional {
		t.Errorf("message %+v", msg.Message)
	}

	tb := readTx(t, src)
	if len(tb) != 1 || len(tb[0].Events) != 1 || tb[0].Events[0].Op != event.OpTruncate || tb[0].Events[0].Table.Name != "items" {
		t.Fatalf("truncate batch %+v", tb)
	}
	if !commitLess(commit, tb[0].Events[0].Pos.Commit) {
		t.Errorf("truncate commit %x not after %x", tb[0].Events[0].Pos.Commit, commit)
	}
}

func commitLess(a, b uint64) bool { return a < b }

func TestLargeTransactionIsSplitAndOnlyTheLastBatchIsFinal(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("public.t")
	opts.MaxBatchEvents = 100
	src := f.open(opts, nil)
	f.exec(`INSERT INTO t SELECT generate_series(1, 250)`)
	bs := readTx(t, src)
	if len(bs) != 3 {
		t.Fatalf("got %d batches, want 3", len(bs))
	}
	n := 0
	for i, b := range bs {
		if b.Final != (i == 2) {
			t.Errorf("batch %d Final = %v", i, b.Final)
		}
		last := b.Events[len(b.Events)-1].Pos
		if i < 2 && b.Checkpoint.Pos != last {
			t.Errorf("batch %d checkpoint %s, want its last event %s", i, b.Checkpoint.Pos, last)
		}
		if i == 2 && b.Checkpoint.Pos != event.TxEnd(last.Commit) {
			t.Errorf("final checkpoint %s", b.Checkpoint.Pos)
		}
		for _, e := range b.Events {
			if e.Pos.Index != uint32(n) {
				t.Fatalf("event %d has index %d", n, e.Pos.Index)
			}
			n++
		}
		if b.Bytes <= 0 {
			t.Errorf("batch %d Bytes = %d", i, b.Bytes)
		}
	}
	if n != 250 || bs[2].Events[len(bs[2].Events)-1].Tx.Count != 250 {
		t.Errorf("read %d events", n)
	}
}

func TestSchemaVersionIncreasesWhenTheTableChangesShape(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	src := f.open(f.options("public.t"), nil)
	f.exec(`INSERT INTO t VALUES (1)`)
	f.exec(`ALTER TABLE t ADD COLUMN note varchar(20) NOT NULL DEFAULT 'x'`)
	f.exec(`INSERT INTO t VALUES (2, 'y')`)
	f.exec(`ANALYZE t`)
	f.exec(`INSERT INTO t VALUES (3, 'z')`)
	e1, e2, e3 := read(t, src).Events[0], read(t, src).Events[0], read(t, src).Events[0]
	if e1.Schema.Version != 1 || len(e1.Schema.Columns) != 1 {
		t.Errorf("first schema %+v", e1.Schema)
	}
	if e2.Schema.Version != 2 || len(e2.Schema.Columns) != 2 || e2.Schema.Columns[1] != (event.Column{Name: "note", Type: "character varying(20)", Kind: event.KindString}) {
		t.Errorf("second schema %+v", e2.Schema)
	}
	if e3.Schema.Version != 2 {
		t.Errorf("third schema version %d, want 2 (same shape)", e3.Schema.Version)
	}
	wantRow(t, "after", e2.After, row("id", event.Int(2), "note", event.String("y")))
}

func TestUnchangedToastValueIsListedNotInvented(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY, big text, n int)`)
	src := f.open(f.options("public.t"), nil)
	// Random text does not compress, so it is stored out of line.
	f.exec(`INSERT INTO t SELECT 1, string_agg(md5(i::text), ''), 0 FROM generate_series(1, 3200) i`)
	f.exec(`UPDATE t SET n = 1 WHERE id = 1`)
	ins := read(t, src).Events[0]
	big, _ := ins.After.Get("big")
	if len(big.Str()) != 102400 {
		t.Fatalf("inserted big text has %d bytes", len(big.Str()))
	}
	upd := read(t, src).Events[0]
	if _, ok := upd.After.Get("big"); ok {
		t.Errorf("update After holds the unchanged TOAST column")
	}
	if len(upd.Unchanged) != 1 || upd.Unchanged[0] != "big" {
		t.Errorf("Unchanged = %v, want [big]", upd.Unchanged)
	}
	wantRow(t, "after", upd.After, row("id", event.Int(1), "n", event.Int(1)))
}

func TestKeyChangingUpdateCarriesTheOldKey(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (a int, b text, v text, PRIMARY KEY (a, b));
		CREATE TABLE full_t (id int PRIMARY KEY, v text);
		ALTER TABLE full_t REPLICA IDENTITY FULL;
		CREATE TABLE nokey (v text);
		ALTER TABLE nokey REPLICA IDENTITY FULL;
		INSERT INTO t VALUES (1, 'x', 'old'); INSERT INTO full_t VALUES (1, 'old'); INSERT INTO nokey VALUES ('old')`)
	src := f.open(f.options("public.t", "public.full_t", "public.nokey"), nil)
	f.exec(`UPDATE t SET a = 2, v = 'new' WHERE a = 1`)
	f.exec(`UPDATE full_t SET v = 'new'`)
	f.exec(`UPDATE nokey SET v = 'new'`)
	f.exec(`DELETE FROM full_t`)

	e := read(t, src).Events[0]
	wantRow(t, "before", e.Before, row("a", event.Int(1), "b", event.String("x")))
	wantRow(t, "key", e.Key, row("a", event.Int(2), "b", event.String("x")))
	wantRow(t, "after", e.After, row("a", event.Int(2), "b", event.String("x"), "v", event.String("new")))

	e = read(t, src).Events[0]
	wantRow(t, "full before", e.Before, row("id", event.Int(1), "v", event.String("old")))
	wantRow(t, "full key (the primary key)", e.Key, row("id", event.Int(1)))
	if !e.Schema.Columns[0].Key || e.Schema.Columns[1].Key {
		t.Errorf("full_t key columns %+v", e.Schema.Columns)
	}
	e = read(t, src).Events[0]
	wantRow(t, "nokey before", e.Before, row("v", event.String("old")))
	wantRow(t, "nokey key (every column)", e.Key, row("v", event.String("new")))
	e = read(t, src).Events[0]
	wantRow(t, "full delete before", e.Before, row("id", event.Int(1), "v", event.String("new")))
	wantRow(t, "full delete key", e.Key, row("id", event.Int(1)))
}
