package mysql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// privateServer starts a MariaDB server of the test's own.
func privateServer(t *testing.T, args ...string) *testenv.MariaDBServer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := testenv.StartMariaDB(ctx, testenv.MariaDBOptions{Args: args})
	if err != nil {
		t.Fatalf("start mariadb: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// privateFixture is a fixture on a private server.
func privateFixture(t *testing.T, m *testenv.MariaDBServer, setup ...string) *fixture {
	f := &fixture{t: t, m: m, db: "app"}
	m.Exec(t, "", "CREATE DATABASE app")
	for _, s := range setup {
		f.exec(s)
	}
	return f
}

func TestResumeInTheMiddleOfASplitTransactionLosesAndDoublesNothing(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY, v varchar(10))`)
	opts := f.options("t")
	opts.MaxBatchEvents = 40
	src := f.open(opts, nil)
	f.exec(`INSERT INTO t SELECT seq, 'a' FROM seq_1_to_100`)
	f.exec(`INSERT INTO t SELECT seq, 'b' FROM seq_101_to_150`)
	first := read(t, src) // events 0..39 of the first transaction
	src.Close()

	src = f.open(opts, &first.Checkpoint)
	var ids []int64
	for len(ids) < 110 {
		for _, e := range read(t, src).Events {
			if !first.Checkpoint.Pos.Less(e.Pos) {
				t.Fatalf("event %s at or before the checkpoint %s", e.Pos, first.Checkpoint.Pos)
			}
			v, _ := e.After.Get("id")
			ids = append(ids, v.Int())
		}
	}
	for i, id := range ids {
		if id != int64(41+i) {
			t.Fatalf("after resume, event %d is id %d, want %d", i, id, 41+i)
		}
	}
}

func TestResumeByFileAndPositionWithoutGTID(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("t")
	src := f.open(opts, nil)
	f.exec(`INSERT INTO t VALUES (1)`)
	b := read(t, src)
	src.Close()
	f.exec(`INSERT INTO t VALUES (2)`)

	var st map[string]any
	if err := json.Unmarshal(b.Checkpoint.State, &st); err != nil {
		t.Fatal(err)
	}
	delete(st, "gtid")
	cp := b.Checkpoint
	cp.State, _ = json.Marshal(st)
	src = f.open(opts, &cp)
	e := read(t, src).Events[0]
	if v, _ := e.After.Get("id"); v.Int() != 2 {
		t.Errorf("after resume by position: %v", e.After)
	}
}

// serverPID returns the process id of a private server.
func serverPID(t *testing.T, m *testenv.MariaDBServer) int {
	b, err := os.ReadFile(filepath.Join(filepath.Dir(m.DataDir), "mariadbd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestAHungServerIsToldFromAQuietOneByTheHeartbeat(t *testing.T) {
	m := privateServer(t)
	f := privateFixture(t, m, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("t")
	opts.Heartbeat = 100 * time.Millisecond // dead after 1s of silence
	src := f.open(opts, nil)
	readNothing(t, src, 1500*time.Millisecond) // quiet but alive

	pid := serverPID(t, m)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(pid, syscall.SIGCONT)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, err := src.Read(ctx)
		if err == nil {
			continue
		}
		if errors.Is(err, context.DeadlineExceeded) || isPermanent(err) || !strings.Contains(err.Error(), "nothing received") {
			t.Fatalf("Read = %v, want a transient 'nothing received' error", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("hung server detected after %s", d)
		}
		break
	}
	syscall.Kill(pid, syscall.SIGCONT)
}

func TestServerCrashIsTransientAndTheStreamResumes(t *testing.T) {
	m := privateServer(t)
	f := privateFixture(t, m, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("t")
	src := f.open(opts, nil)
	f.exec(`INSERT INTO t VALUES (1)`)
	b := read(t, src)
	if err := m.Kill(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, err := src.Read(ctx)
		if err == nil {
			continue
		}
		if isPermanent(err) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Read after a crash = %v, want a transient error", err)
		}
		break
	}
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	f.exec(`INSERT INTO t VALUES (2)`)
	if err := src.Open(ctx, &b.Checkpoint); err != nil {
		t.Fatalf("reopen: %v", err)
	}
	e := read(t, src).Events[0]
	if v, _ := e.After.Get("id"); v.Int() != 2 {
		t.Errorf("after the crash: %v", e.After)
	}
}

// TestRandomCrashesDeliverEveryRowExactlyOnce consumes a stream of
// transactions, "crashing" (closing without making the last batches
// durable) at random points and resuming from the last durable
// checkpoint, as the pipeline does; the rows delivered, deduplicated by
// position as a replica sink does, are every row exactly once, in order.
func TestRandomCrashesDeliverEveryRowExactlyOnce(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY, tx int)`, `CREATE TABLE noise (id int AUTO_INCREMENT PRIMARY KEY)`)
	opts := f.options("t")
	opts.MaxBatchEvents = 7
	const txs, perTx = 60, 5
	first := f.open(opts, nil) // fixes the start before anything is written
	done := make(chan error, 1)
	go func() {
		c, err := f.m.Connect(t, f.db), error(nil)
		for i := 0; i < txs && err == nil; i++ {
			var vals []string
			for j := 0; j < perTx+i%9; j++ {
				vals = append(vals, fmt.Sprintf("(%d, %d)", i*100+j, i))
			}
			_, err = c.Execute("INSERT INTO t VALUES " + strings.Join(vals, ","))
			if err == nil && i%3 == 0 {
				_, err = c.Execute("INSERT INTO noise VALUES ()")
			}
		}
		done <- err
	}()
	want := 0
	for i := 0; i < txs; i++ {
		want += perTx + i%9
	}

	rng := rand.New(rand.NewPCG(1, 2))
	var durable *event.Checkpoint
	var got []int64
	var last event.Position
	// flush makes the pending batches durable, as a replica sink does:
	// events at or before what it holds are replays and skipped.
	flush := func(pending []event.Batch) {
		for _, p := range pending {
			for _, e := range p.Events {
				if !last.Less(e.Pos) {
					continue
				}
				last = e.Pos
				v, _ := e.After.Get("id")
				got = append(got, v.Int())

			}
			cp := p.Checkpoint
			durable = &cp
		}
	}
	restarts := 0
	for ; len(got) < want; restarts++ {
		if restarts > 100 {
			t.Fatalf("no progress: %d of %d rows", len(got), want)
		}
		src := first
		if restarts > 0 {
			src = f.open(opts, durable)
		}
		var pending []event.Batch
		for n := 1 + rng.IntN(6); n > 0; n-- { // batches to read before the crash
			b, ok := readWithin(t, src, time.Second)
			if !ok { // idle: the sink flushes
				flush(pending)
				pending = nil
				break
			}
			pending = append(pending, b)
			if rng.IntN(3) == 0 {
				flush(pending)
				pending = nil
			}
		}
		src.Close() // crash: the pending batches are lost
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	prev := int64(-1)
	for _, id := range got {
		if seen[id] {
			t.Fatalf("row %d delivered twice", id)
		}
		if id < prev {
			t.Fatalf("row %d after row %d", id, prev)
		}
		seen[id], prev = true, id
	}
	if len(got) != want {
		t.Errorf("delivered %d rows, want %d", len(got), want)
	}
	if restarts < 10 {
		t.Errorf("only %d crashes", restarts)
	}
}

// readWithin returns the next batch with events, or false when none comes
// within d.
func readWithin(t *testing.T, src *Source, d time.Duration) (event.Batch, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		b, err := src.Read(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return b, false
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(b.Events) > 0 {
			return b, true
		}
	}
}
