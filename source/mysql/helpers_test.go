package mysql

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is a fresh database on the shared test server.
type fixture struct {
	t  *testing.T
	m  *testenv.MariaDBServer
	db string
}

// serverIDs hands out replica server ids, one per source a test opens.
var serverIDs = make(chan uint32, 1)

func init() { serverIDs <- 1000 }

func nextServerID() uint32 {
	id := <-serverIDs
	serverIDs <- id + 1
	return id
}

func newFixture(t *testing.T, setup ...string) *fixture {
	t.Helper()
	m := testenv.MariaDB(t)
	f := &fixture{t: t, m: m, db: m.NewDatabase(t)}
	for _, s := range setup {
		f.exec(s)
	}
	return f
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	f.m.Exec(f.t, f.db, sql, args...)
}

// execTx runs the statements in one transaction on one connection.
func (f *fixture) execTx(stmts ...string) {
	f.t.Helper()
	c := f.m.Connect(f.t, f.db)
	for _, s := range append(append([]string{"BEGIN"}, stmts...), "COMMIT") {
		if _, err := c.Execute(s); err != nil {
			f.t.Fatalf("%s: %v", s, err)
		}
	}
}

// options returns Options for the fixture's database with a quick
// heartbeat.
func (f *fixture) options(tables ...string) Options {
	for i, t := range tables {
		tables[i] = f.db + "." + t
	}
	return Options{
		DSN: f.m.DSN(f.db), Pipeline: "test", Tables: tables,
		ServerID: nextServerID(), Heartbeat: 200 * time.Millisecond,
	}
}

// open starts a Source at cp; it is closed at the end of the test.
func (f *fixture) open(opts Options, cp *event.Checkpoint) *Source {
	f.t.Helper()
	src, err := New(opts)
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := src.Open(ctx, cp); err != nil {
		f.t.Fatalf("Open: %v", err)
	}
	f.t.Cleanup(func() { src.Close() })
	return src
}

// read returns the next batch that has events, failing after 10s.
func read(t *testing.T, src *Source) event.Batch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		b, err := src.Read(ctx)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(b.Events) > 0 {
			return b
		}
	}
}

// readTx returns the batches of the next transaction with events, up to
// and including its final batch.
func readTx(t *testing.T, src *Source) []event.Batch {
	t.Helper()
	var bs []event.Batch
	for {
		b := read(t, src)
		bs = append(bs, b)
		if b.Final {
			return bs
		}
	}
}

// readNothing checks that no batch with events arrives within d, and
// returns the last checkpoint seen.
func readNothing(t *testing.T, src *Source, d time.Duration) *event.Checkpoint {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var cp *event.Checkpoint
	for {
		b, err := src.Read(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return cp
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(b.Events) > 0 {
			t.Fatalf("unexpected batch: %+v", b.Events)
		}
		cp = &b.Checkpoint
	}
}

// checkFor polls cond until it holds or the deadline passes.
func checkFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func row(kv ...any) event.Row {
	var r event.Row
	for i := 0; i < len(kv); i += 2 {
		r = append(r, event.Field{Name: kv[i].(string), Value: kv[i+1].(event.Value)})
	}
	return r
}

func wantRow(t *testing.T, what string, got, want event.Row) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}
