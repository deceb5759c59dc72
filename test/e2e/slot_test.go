package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// TestIdlePipelineLetsTheSlotReleaseWALWrittenElsewhere writes 200 MB of
// WAL into a table cdcd does not capture while its own table stays idle,
// with the default status interval and no heartbeat. Within a minute the
// WAL the slot retains (pg_current_wal_lsn() - restart_lsn) must fall under
// 16 MB.
func TestIdlePipelineLetsTheSlotReleaseWALWrittenElsewhere(t *testing.T) {
	const written = 200 << 20
	const limit = 16 << 20
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE captured (id int PRIMARY KEY); CREATE TABLE other (id int, pad text)`)
	// checkpoint_interval 0s: with the default (1s) the sink saves a
	// checkpoint only at a flush at least 1s after the last save, and the
	// pipeline flushes only when a batch comes; the last idle position of
	// a stream that goes quiet can then stay unsaved, hence unacknowledged,
	// until more WAL comes (a pipeline issue, not the source's).
	s := newSetup(t, pg, db, "idle", []string{"public.captured"}, extra{Top: "checkpoint_interval: 0s\n"})
	p := s.start()
	conn := pg.Connect(t, db)
	ctx := context.Background()
	checkFor(t, 30*time.Second, "the slot is streaming", func() bool {
		p.mustRun(t)
		var active bool
		conn.QueryRow(ctx, `SELECT active FROM pg_replication_slots WHERE slot_name = 'cdcd_idle'`).Scan(&active)
		return active
	})

	var startLSN string
	if err := conn.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&startLSN); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	var n int64
	for i := 0; n < written; i++ {
		// About 5 MB of WAL per transaction.
		if _, err := conn.Exec(ctx, `INSERT INTO other SELECT i, repeat(md5(i::text), 32) FROM generate_series(1, 5000) i`); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT (pg_current_wal_insert_lsn() - $1::text::pg_lsn)::int8`, startLSN).Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	wrote := time.Since(began)

	retained := func() int64 {
		var r int64
		if err := conn.QueryRow(ctx, `SELECT (pg_current_wal_lsn() - restart_lsn)::int8 FROM pg_replication_slots WHERE slot_name = 'cdcd_idle'`).Scan(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	peak := retained()
	done := time.Now()
	var last int64
	defer func() {
		if t.Failed() {
			var cf, rl, cur string
			conn.QueryRow(ctx, `SELECT confirmed_flush_lsn::text, restart_lsn::text, pg_current_wal_lsn()::text
				FROM pg_replication_slots WHERE slot_name = 'cdcd_idle'`).Scan(&cf, &rl, &cur)
			cp, _ := s.checkpoint()
			t.Logf("retained %d bytes at the end: current %s, confirmed_flush %s, restart %s; checkpoint file %s\n%s",
				last, cur, cf, rl, cp, p.logs)
		}
	}()
	checkFor(t, time.Minute, "the slot's retained WAL falls under 16 MB", func() bool {
		p.mustRun(t)
		last = retained()
		return last < limit
	})
	t.Logf("wrote %d MB of WAL in %s; retained %.1f MB when the writes ended, %.1f MB after %s",
		n>>20, wrote.Round(100*time.Millisecond), float64(peak)/(1<<20), float64(last)/(1<<20), time.Since(done).Round(100*time.Millisecond))
	if n := countLinesIfAny(t, s.out); n != 0 {
		t.Errorf("%d events, want none", n)
	}
	p.stop(t, 20*time.Second)
}

func countLinesIfAny(t *testing.T, path string) int {
	t.Helper()
	lines, _ := readLines(t, path, 0)
	return len(lines)
}
