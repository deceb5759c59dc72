package mysql

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

func TestStreamsEveryOperationWithExactValues(t *testing.T) {
	f := newFixture(t, `CREATE TABLE items (id int PRIMARY KEY, name varchar(20) NOT NULL, price decimal(10,2))`,
		`CREATE TABLE other (id int PRIMARY KEY)`)
	src := f.open(f.options("items"), nil)

	f.execTx(`INSERT INTO items VALUES (1, 'apple', 1.50), (2, 'pear', NULL)`,
		`INSERT INTO other VALUES (1)`,
		`UPDATE items SET price = 2.25 WHERE id = 1`,
		`DELETE FROM items WHERE id = 2`)
	f.exec(`UPDATE items SET id = 10 WHERE id = 1`)

	bs := readTx(t, src)
	if len(bs) != 1 {
		t.Fatalf("got %d batches, want 1", len(bs))
	}
	b := bs[0]
	if !b.Final || b.CommitTime.IsZero() || b.Bytes <= 0 {
		t.Errorf("batch Final=%v CommitTime=%v Bytes=%d", b.Final, b.CommitTime, b.Bytes)
	}
	if len(b.Events) != 4 {
		t.Fatalf("got %d events, want 4: %+v", len(b.Events), b.Events)
	}
	commit := b.Events[0].Pos.Commit
	if b.Checkpoint.Pos != event.TxEnd(commit) {
		t.Errorf("checkpoint %s, want TxEnd(%x)", b.Checkpoint.Pos, commit)
	}
	if commit>>32 == 0 {
		t.Errorf("commit %x does not carry the binlog file index", commit)
	}
	wantOps := []event.Op{event.OpInsert, event.OpInsert, event.OpUpdate, event.OpDelete}
	for i, e := range b.Events {
		if e.Op != wantOps[i] {
			t.Errorf("event %d op %v, want %v", i, e.Op, wantOps[i])
		}
		// The row of "other" is not captured and takes no index.
		if e.Pos != (event.Position{Commit: commit, Index: uint32(i)}) || e.Tx.Index != uint32(i) {
			t.Errorf("event %d pos %s tx.index %d", i, e.Pos, e.Tx.Index)
		}
		if e.Tx.ID == "" || e.Tx.Count != 4 || !e.Tx.CommitTime.Equal(b.CommitTime) {
			t.Errorf("event %d tx %+v", i, e.Tx)
		}
		if e.Source == nil || e.Source != b.Events[0].Source || e.Source.Kind != "mysql" || e.Source.ServerID != "1" ||
			e.Source.DB != f.db || e.Source.Pipeline != "test" {
			t.Errorf("event %d source %+v", i, e.Source)
		}
	}
	ins := b.Events[0]
	if ins.Table != (event.TableID{Namespace: f.db, Name: "items"}) || ins.Schema == nil || ins.Schema.Version != 1 {
		t.Fatalf("insert table %v schema %+v", ins.Table, ins.Schema)
	}
	wantCols := []event.Column{
		{Name: "id", Type: "int(11)", Kind: event.KindInt, Nullable: false, Key: true},
		{Name: "name", Type: "varchar(20)", Kind: event.KindString, Nullable: false},
		{Name: "price", Type: "decimal(10,2)", Kind: event.KindDecimal, Nullable: true},
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
	wantRow(t, "update before", upd.Before, row("id", event.Int(1), "name", event.String("apple"), "price", event.Decimal("1.50")))
	wantRow(t, "update after", upd.After, row("id", event.Int(1), "name", event.String("apple"), "price", event.Decimal("2.25")))
	wantRow(t, "update key", upd.Key, row("id", event.Int(1)))
	del := b.Events[3]
	wantRow(t, "delete before", del.Before, row("id", event.Int(2), "name", event.String("pear"), "price", event.Null()))
	wantRow(t, "delete key", del.Key, row("id", event.Int(2)))
	if del.After != nil {
		t.Errorf("delete after %v", del.After)
	}

	// A key-changing update: Key is the new key, Before holds the old.
	kb := read(t, src)
	k := kb.Events[0]
	wantRow(t, "key change key", k.Key, row("id", event.Int(10)))
	wantRow(t, "key change before", k.Before, row("id", event.Int(1), "name", event.String("apple"), "price", event.Decimal("2.25")))
	if !event.TxEnd(commit).Less(k.Pos) || k.Tx.ID == ins.Tx.ID {
		t.Errorf("second transaction at %s (%s), first at %x (%s)", k.Pos, k.Tx.ID, commit, ins.Tx.ID)
	}
	// The checkpoint state names where to resume.
	var st struct {
		Flavor, GTID, File string
		Pos                uint32
	}
	if err := json.Unmarshal(kb.Checkpoint.State, &st); err != nil {
		t.Fatalf("state %s: %v", kb.Checkpoint.State, err)
	}
	if st.Flavor != "mariadb" || st.GTID != k.Tx.ID || st.File == "" || st.Pos == 0 {
		t.Errorf("state %s", kb.Checkpoint.State)
	}
}

func TestTableWithoutPrimaryKeyIsKeyedByEveryColumn(t *testing.T) {
	f := newFixture(t, `CREATE TABLE log (at int, msg varchar(10))`)
	src := f.open(f.options("log"), nil)
	f.exec(`INSERT INTO log VALUES (1, 'x')`)
	e := read(t, src).Events[0]
	wantRow(t, "key", e.Key, row("at", event.Int(1), "msg", event.String("x")))
	if !e.Schema.Columns[0].Key || !e.Schema.Columns[1].Key {
		t.Errorf("columns %+v", e.Schema.Columns)
	}
}

func TestLargeTransactionIsSplitAndOnlyTheLastBatchIsFinal(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("t")
	opts.MaxBatchEvents = 100
	src := f.open(opts, nil)
	f.exec(`INSERT INTO t SELECT seq FROM seq_1_to_250`)
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
	}
	if n != 250 || bs[2].Events[len(bs[2].Events)-1].Tx.Count != 250 {
		t.Errorf("read %d events", n)
	}
	// A part's state resumes at the start of the transaction; the final
	// batch's after it.
	var mid, fin struct {
		File string
		Pos  uint32
		GTID string
	}
	json.Unmarshal(bs[0].Checkpoint.State, &mid)
	json.Unmarshal(bs[2].Checkpoint.State, &fin)
	if mid.File != fin.File || mid.Pos >= fin.Pos || mid.GTID == fin.GTID {
		t.Errorf("part state %+v, final state %+v", mid, fin)
	}
}

func TestTransactionsWithoutCapturedChangesAdvanceTheCheckpoint(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`, `CREATE TABLE other (id int PRIMARY KEY)`)
	src := f.open(f.options("t"), nil)
	f.exec(`INSERT INTO t VALUES (1)`)
	first := read(t, src)
	for i := 2; i < 5; i++ {
		f.exec(`INSERT INTO other VALUES (?)`, i)
	}
	cp := readNothing(t, src, time.Second)
	if cp == nil || !first.Checkpoint.Pos.Less(cp.Pos) || !cp.Pos.IsTxEnd() {
		t.Fatalf("idle checkpoint %+v after %s", cp, first.Checkpoint.Pos)
	}
	if src.Stats().IdleTransactions < 3 {
		t.Errorf("stats %+v", src.Stats())
	}
	// Resuming from it starts after the skipped transactions.
	src.Close()
	src = f.open(f.options("t"), cp)
	f.exec(`INSERT INTO t VALUES (5)`)
	e := read(t, src).Events[0]
	if v, _ := e.After.Get("id"); v.Int() != 5 || !cp.Pos.Less(e.Pos) {
		t.Errorf("after resume: %v at %s", e.After, e.Pos)
	}
}

func TestHeartbeatsKeepAQuietStreamAlive(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("t")
	opts.Heartbeat = 100 * time.Millisecond
	src := f.open(opts, nil)
	// Nothing is written for many times the dead-server limit (1s).
	readNothing(t, src, 2500*time.Millisecond)
	f.exec(`INSERT INTO t VALUES (1)`)
	read(t, src)
}

func TestReadAfterCloseAndBeforeOpen(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	src, err := New(f.options("t"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Read(context.Background()); !errors.Is(err, ErrNotOpen) {
		t.Errorf("Read before Open = %v", err)
	}
	if err := src.Open(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	src.Close()
	src.Close()
	if _, err := src.Read(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v", err)
	}
	// The pipeline closes the source after each session and opens it again.
	if err := src.Open(context.Background(), nil); err != nil {
		t.Errorf("Open after Close = %v", err)
	}
	f.exec(`INSERT INTO t VALUES (1)`)
	read(t, src)
	src.Close()
}

func TestAckPastWhatWasReadIsAnError(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	src := f.open(f.options("t"), nil)
	f.exec(`INSERT INTO t VALUES (1)`)
	b := read(t, src)
	if err := src.Ack(context.Background(), b.Checkpoint); err != nil {
		t.Errorf("Ack = %v", err)
	}
	if err := src.Ack(context.Background(), event.Checkpoint{Pos: event.TxEnd(b.Checkpoint.Pos.Commit + 1)}); err == nil {
		t.Error("Ack past the last batch succeeded")
	}
}
