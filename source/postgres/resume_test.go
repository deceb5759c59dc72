package postgres

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/jackc/pglogrepl"
)

func ids(bs ...event.Batch) []int64 {
	var out []int64
	for _, b := range bs {
		for _, e := range b.Events {
			v, _ := e.After.Get("id")
			out = append(out, v.Int())
		}
	}
	return out
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestResumeFromACheckpointSkipsWhatWasDeliveredAndMissesNothing(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("public.t")
	opts.MaxBatchEvents = 2
	src := f.open(opts, nil)
	f.exec(`INSERT INTO t VALUES (1)`)
	f.exec(`INSERT INTO t VALUES (2), (3), (4), (5), (6)`) // three batches: 2+3 | 4+5 | 6
	f.exec(`INSERT INTO t VALUES (7)`)
	first := read(t, src)
	second := readTx(t, src)
	third := read(t, src)
	if got := ids(append(append([]event.Batch{first}, second...), third)...); !equalInts(got, []int64{1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("first run read %v", got)
	}
	src.Close()

	cases := []struct {
		name string
		cp   event.Checkpoint
		want []int64
	}{
		{"after a whole transaction", first.Checkpoint, []int64{2, 3, 4, 5, 6, 7}},
		{"inside a transaction", second[0].Checkpoint, []int64{4, 5, 6, 7}},
		{"after the second part", second[1].Checkpoint, []int64{6, 7}},
		{"at the end", third.Checkpoint, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := *f
			fs.t = t
			src := fs.open(opts, &c.cp)
			var got []int64
			for len(got) < len(c.want) {
				b := read(t, src)
				if !c.cp.Pos.Less(b.Events[0].Pos) {
					t.Errorf("event at %s, at or before checkpoint %s", b.Events[0].Pos, c.cp.Pos)
				}
				got = append(got, ids(b)...)
			}
			readNothing(t, src, 300*time.Millisecond)
			if !equalInts(got, c.want) {
				t.Errorf("resumed read %v, want %v", got, c.want)
			}
		})
	}
}

func confirmedFlush(t *testing.T, f *fixture, slot string) pglogrepl.LSN {
	t.Helper()
	var s string
	if err := f.conn().QueryRow(context.Background(),
		`SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&s); err != nil {
		t.Fatalf("read slot: %v", err)
	}
	lsn, err := pglogrepl.ParseLSN(s)
	if err != nil {
		t.Fatal(err)
	}
	return lsn
}

func TestAckAdvancesTheSlotAndNothingIsConfirmedBeforeIt(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	src := f.open(f.options("public.t"), nil)
	slot := src.Options().Slot
	start := confirmedFlush(t, f, slot)
	f.exec(`INSERT INTO t VALUES (1)`)
	f.exec(`INSERT INTO t VALUES (2)`)
	b1, b2 := read(t, src), read(t, src)
	time.Sleep(300 * time.Millisecond) // several status intervals
	if got := confirmedFlush(t, f, slot); got != start {
		t.Fatalf("confirmed_flush_lsn moved from %s to %s without an ack", start, got)
	}
	if err := src.Ack(context.Background(), b1.Checkpoint); err != nil {
		t.Fatal(err)
	}
	want := pglogrepl.LSN(b1.Checkpoint.Pos.Commit + 1)
	checkFor(t, 5*time.Second, "confirmed_flush_lsn reaches the ack", func() bool { return confirmedFlush(t, f, slot) == want })
	if uint64(want) > b2.Events[0].Pos.Commit {
		t.Fatalf("confirmed %s covers the unacknowledged commit %x", want, b2.Events[0].Pos.Commit)
	}
	// An ack past anything read is refused.
	if err := src.Ack(context.Background(), event.Checkpoint{Pos: event.TxEnd(b2.Events[0].Pos.Commit + 1000)}); err == nil {
		t.Error("ack past the last read position was accepted")
	}
	// A partial ack confirms only up to the start of its transaction.
	if err := src.Ack(context.Background(), event.Checkpoint{Pos: b2.Events[0].Pos}); err != nil {
		t.Fatal(err)
	}
	want = pglogrepl.LSN(b2.Events[0].Pos.Commit)
	checkFor(t, 5*time.Second, "confirmed_flush_lsn reaches the partial ack", func() bool { return confirmedFlush(t, f, slot) == want })
}

func TestIdleSlotAdvancesWhileOtherTablesAreWritten(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE other (id int, pad text)`)
	src := f.open(f.options("public.t"), nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { // the pipeline: ack every batch
		for {
			b, err := src.Read(ctx)
			if err != nil {
				done <- err
				return
			}
			if len(b.Events) > 0 {
				done <- errors.New("unexpected events")
				return
			}
			if err := src.Ack(ctx, b.Checkpoint); err != nil {
				done <- err
				return
			}
		}
	}()
	for i := 0; i < 4; i++ {
		f.exec(`INSERT INTO other SELECT i, repeat('x', 200) FROM generate_series(1, 5000) i`)
	}
	conn := f.conn()
	var lag int64
	defer func() {
		if t.Failed() {
			t.Logf("last lag %d bytes, source acked %s", lag, src.Acked())
		}
	}()
	checkFor(t, 15*time.Second, "the slot's confirmed lag falls under 64 kB", func() bool {
		select {
		case err := <-done:
			t.Fatalf("reader: %v", err)
		default:
		}
		if err := conn.QueryRow(ctx, `SELECT pg_current_wal_lsn() - confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1`,
			src.Options().Slot).Scan(&lag); err != nil {
			t.Fatal(err)
		}
		return lag < 64<<10
	})
	st, err := src.SlotStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.WALStatus == "" || st.SafeWALSize != -1 || !st.Active {
		t.Errorf("slot stats %+v", st)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("reader: %v", err)
	}
}

func TestHeartbeatAdvancesTheSlotAndIsNotAnEvent(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("public.t")
	opts.Heartbeat = 50 * time.Millisecond
	src := f.open(opts, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := confirmedFlush(t, f, src.Options().Slot)
	for {
		b, err := src.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(b.Events) > 0 {
			t.Fatalf("heartbeat produced events %+v", b.Events)
		}
		if err := src.Ack(ctx, b.Checkpoint); err != nil {
			t.Fatal(err)
		}
		if uint64(start) < b.Checkpoint.Pos.Commit {
			break
		}
	}
	checkFor(t, 5*time.Second, "the slot advances", func() bool { return confirmedFlush(t, f, src.Options().Slot) > start })
}

func TestSlotThatVanishedWithACheckpointIsAPermanentError(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("public.t")
	src := f.open(opts, nil)
	f.exec(`INSERT INTO t VALUES (1)`)
	cp := read(t, src).Checkpoint
	src.Close()
	opts.Slot = src.Options().Slot
	checkFor(t, 5*time.Second, "the slot is released", func() bool {
		var active bool
		f.conn().QueryRow(context.Background(), `SELECT active FROM pg_replication_slots WHERE slot_name = $1`, opts.Slot).Scan(&active)
		return !active
	})
	f.exec(`SELECT pg_drop_replication_slot($1)`, opts.Slot)

	src2, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src2.Close()
	err = src2.Open(context.Background(), &cp)
	if !isPermanent(err) || !strings.Contains(err.Error(), "may be missing") || !strings.Contains(err.Error(), "re-snapshot") {
		t.Fatalf("Open = %v, want a permanent error saying data may be missing", err)
	}
	var n int
	f.conn().QueryRow(context.Background(), `SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1`, opts.Slot).Scan(&n)
	if n != 0 {
		t.Error("the slot was recreated")
	}
}

func TestSlotOfAnotherPluginIsAPermanentError(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("public.t")
	opts.Slot = "other_plugin"
	f.exec(`SELECT pg_create_logical_replication_slot('other_plugin', 'test_decoding')`)
	src, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	err = src.Open(context.Background(), nil)
	if !isPermanent(err) || !strings.Contains(err.Error(), `"test_decoding"`) {
		t.Fatalf("Open = %v", err)
	}
}

func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

func TestStalledReaderDoesNotTimeOutTheWalsender(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("public.t")
	opts.DSN += "&options=" + strings.NewReplacer(" ", "%20", "=", "%3D").Replace("-c wal_sender_timeout=1s")
	opts.QueueBatches = 1
	opts.StatusInterval = 200 * time.Millisecond
	src := f.open(opts, nil)
	for i := 1; i <= 5; i++ {
		f.exec(`INSERT INTO t VALUES ($1)`, i)
	}
	time.Sleep(3 * time.Second) // the sink stalls for three walsender timeouts
	var got []int64
	for len(got) < 5 {
		got = append(got, ids(read(t, src))...)
	}
	f.exec(`INSERT INTO t VALUES (6)`)
	got = append(got, ids(read(t, src))...)
	if !equalInts(got, []int64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("read %v", got)
	}
}
