package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
)

func TestAckIsReportedWithinASecondWhateverTheStatusInterval(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("public.t")
	opts.StatusInterval = time.Hour
	opts.QueueBatches = 1
	src := f.open(opts, nil)
	slot := src.Options().Slot
	ctx := context.Background()

	// The stream waits for messages.
	f.exec(`INSERT INTO t VALUES (1)`)
	b := read(t, src)
	if err := src.Ack(ctx, b.Checkpoint); err != nil {
		t.Fatal(err)
	}
	want := pglogrepl.LSN(b.Checkpoint.Pos.Commit + 1)
	checkFor(t, 3*time.Second, "confirmed_flush_lsn reaches the ack", func() bool { return confirmedFlush(t, f, slot) == want })

	// The stream waits for room in the queue: one batch queued, one
	// waiting.
	for i := 2; i <= 4; i++ {
		f.exec(`INSERT INTO t VALUES ($1)`, i)
	}
	b = read(t, src)
	checkFor(t, 5*time.Second, "the queue is full again", func() bool { return len(src.st.out) == 1 })
	time.Sleep(100 * time.Millisecond) // let the stream block on the last batch
	if err := src.Ack(ctx, b.Checkpoint); err != nil {
		t.Fatal(err)
	}
	want = pglogrepl.LSN(b.Checkpoint.Pos.Commit + 1)
	checkFor(t, 3*time.Second, "confirmed_flush_lsn reaches the ack while the stream is blocked", func() bool { return confirmedFlush(t, f, slot) == want })
}
