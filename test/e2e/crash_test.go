package e2e

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// change is one row version the writer committed: the row's id and its
// counter, which every update increments.
type change struct{ id, counter int64 }

// writer commits small transactions of inserts and updates until stopped,
// recording every row version it committed.
type writer struct {
	mu        sync.Mutex
	committed map[change]bool
	txs       int
}

func (w *writer) run(ctx context.Context, t *testing.T, conn *pgx.Conn) {
	rng := rand.New(rand.NewPCG(1, 2))
	var nextID int64 = 1
	// At most one transaction per 2ms keeps the file small enough to
	// check in seconds.
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		tx, err := conn.Begin(context.Background())
		if err != nil {
			t.Errorf("begin: %v", err)
			return
		}
		var pending []change
		for n := 1 + rng.IntN(3); n > 0; n-- {
			if nextID == 1 || rng.IntN(2) == 0 {
				if _, err := tx.Exec(context.Background(), `INSERT INTO items (id, counter) VALUES ($1, 0)`, nextID); err != nil {
					t.Errorf("insert: %v", err)
					return
				}
				pending = append(pending, change{nextID, 0})
				nextID++
				continue
			}
			id := 1 + rng.Int64N(nextID-1)
			var c int64
			if err := tx.QueryRow(context.Background(), `UPDATE items SET counter = counter + 1 WHERE id = $1 RETURNING counter`, id).Scan(&c); err != nil {
				t.Errorf("update: %v", err)
				return
			}
			pending = append(pending, change{id, c})
		}
		if err := tx.Commit(context.Background()); err != nil {
			t.Errorf("commit: %v", err)
			return
		}
		w.mu.Lock()
		for _, c := range pending {
			w.committed[c] = true
		}
		w.txs++
		w.mu.Unlock()
	}
}

// TestKill9AtRandomMomentsLosesNothingAndRepeatsOnlyWhatWasNotCheckpointed
// kills cdcd eight times while a writer commits small transactions, then
// lets it catch up. The jsonl file must hold every committed row version,
// only whole lines, and an event twice only if it was after the durable
// checkpoint at some kill: each run resumes strictly after the checkpoint
// the previous one left.
func TestKill9AtRandomMomentsLosesNothingAndRepeatsOnlyWhatWasNotCheckpointed(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE items (id bigint PRIMARY KEY, counter bigint NOT NULL)`)
	// A checkpoint at every flush, and small flushes: checkpoints move
	// between kills (100-700ms apart), also while a run catches up.
	s := newSetup(t, pg, db, "kill9", []string{"public.items"}, extra{Top: "checkpoint_interval: 0s\nbatch: {max_events: 200}\n"})

	// The first run creates the slot: later writes are all captured.
	p := s.start()
	probe := pg.Connect(t, db)
	checkFor(t, 30*time.Second, "the slot is streaming", func() bool {
		p.mustRun(t)
		var active bool
		probe.QueryRow(context.Background(), `SELECT active FROM pg_replication_slots WHERE slot_name = 'cdcd_kill9'`).Scan(&active)
		return active
	})

	w := &writer{committed: map[change]bool{}}
	wctx, stopWriter := context.WithCancel(context.Background())
	writerDone := make(chan struct{})
	wconn := pg.Connect(t, db)
	go func() {
		defer close(writerDone)
		w.run(wctx, t, wconn)
	}()
	defer func() { stopWriter(); <-writerDone }()

	// segment k is what run k appended: [bounds[k], bounds[k+1]) of the
	// file; durable[k] is the checkpoint on disk when run k was killed.
	const kills = 8
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 3))
	var bounds []int64
	var durable []event.Position
	var logs []string
	defer func() {
		if t.Failed() {
			for k, l := range logs {
				t.Logf("run %d, killed with checkpoint %s:\n%s", k, durable[k], l)
			}
		}
	}()
	bounds = append(bounds, 0)
	started := time.Now()
	for k := 0; k < kills; k++ {
		if k > 0 {
			p = s.start()
		}
		time.Sleep(time.Duration(100+rng.IntN(601)) * time.Millisecond)
		p.mustRun(t)
		p.kill(t)
		cp, _ := s.checkpoint()
		_, end := readLines(t, s.out, 0)
		durable = append(durable, cp)
		bounds = append(bounds, end)
		logs = append(logs, p.logs.String())
		if k > 0 && cp.Less(durable[k-1]) {
			t.Fatalf("kill %d: checkpoint went back from %s to %s", k, durable[k-1], cp)
		}
	}
	stopWriter()
	<-writerDone
	if durable[kills-1].IsZero() {
		t.Fatal("no checkpoint was durable at any kill: the runs never resumed from one")
	}
	w.mu.Lock()
	want := w.committed
	w.mu.Unlock()

	// The last run catches up and stops gracefully.
	p = s.start()
	got := map[change]int{}
	missing := len(want)
	var off int64
	checkFor(t, 30*time.Second, "every committed change is in the file", func() bool {
		p.mustRun(t)
		var lines []line
		lines, off = readLines(t, s.out, off)
		for c, n := range changesOf(t, lines) {
			if got[c] == 0 && want[c] {
				missing--
			}
			got[c] += n
		}
		return missing == 0
	})
	p.stop(t, 20*time.Second)
	elapsed := time.Since(started)

	data := mustRead(t, s.out)
	if len(data) == 0 || data[len(data)-1] != '\n' {
		t.Fatalf("the file does not end with a whole line")
	}
	all, end := readLines(t, s.out, 0)
	bounds = append(bounds, end)
	for c := range got {
		if !want[c] {
			t.Errorf("the file holds a change nobody committed: %+v", c)
		}
	}

	// Per run: positions strictly increase (so no id twice within a run),
	// and each run after a kill starts strictly after the checkpoint that
	// was durable at the kill.
	seen := map[string]int{}
	dups := 0
	runs := make([]int, 0, kills+1)
	i := 0
	for k := 0; k+1 < len(bounds); k++ {
		var last event.Position
		n := 0
		for ; i < len(all) && all[i].off < bounds[k+1]; i++ {
			l := all[i]
			if n > 0 && !last.Less(l.pos) {
				t.Errorf("run %d: position %s after %s", k, l.pos, last)
			}
			if k > 0 && !durable[k-1].Less(l.pos) {
				t.Errorf("run %d: event %s at or before the checkpoint %s durable when run %d was killed", k, l.ID, durable[k-1], k-1)
			}
			if seen[l.ID] > 0 {
				dups++
			}
			seen[l.ID]++
			last = l.pos
			n++
		}
		runs = append(runs, n)
	}
	if i != len(all) {
		t.Fatalf("segmenting the file consumed %d of %d lines", i, len(all))
	}
	for id, n := range seen {
		if n > kills+1 {
			t.Errorf("event %s appears %d times, more than once per run", id, n)
		}
	}
	t.Logf("%d transactions, %d changes; %d kills; events per run %v; %d events repeated after kills; %s",
		w.txs, len(want), kills, runs, dups, elapsed.Round(100*time.Millisecond))
	if elapsed > 60*time.Second {
		t.Errorf("took %s", elapsed)
	}
}

// changesOf counts the row versions (id, counter) in the inserts and
// updates of lines.
func changesOf(t *testing.T, lines []line) map[change]int {
	t.Helper()
	out := map[change]int{}
	for _, l := range lines {
		if l.Op != "c" && l.Op != "u" {
			t.Fatalf("unexpected op %q in %s", l.Op, l.ID)
		}
		var c change
		if err := json.Unmarshal(l.After["id"], &c.id); err != nil {
			t.Fatalf("%s: after.id: %v", l.ID, err)
		}
		if err := json.Unmarshal(l.After["counter"], &c.counter); err != nil {
			t.Fatalf("%s: after.counter: %v", l.ID, err)
		}
		out[c]++
	}
	return out
}
