package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is a fresh database on the shared test server.
type fixture struct {
	t  *testing.T
	pg *testenv.PG
	db string
}

func newFixture(t *testing.T, setup string) *fixture {
	t.Helper()
	pg := testenv.Postgres(t)
	f := &fixture{t: t, pg: pg, db: pg.NewDatabase(t)}
	if setup != "" {
		f.exec(setup)
	}
	return f
}

func (f *fixture) exec(sql string, args ...any) {
	f.t.Helper()
	f.pg.Exec(f.t, f.db, sql, args...)
}

func (f *fixture) conn() *pgx.Conn {
	f.t.Helper()
	return f.pg.Connect(f.t, f.db)
}

// options returns Options for the fixture's database with quick status
// updates.
func (f *fixture) options(tables ...string) Options {
	return Options{
		DSN: f.pg.DSN(f.db), Pipeline: "test", Tables: tables,
		CreateSlot: true, CreatePublication: true,
		StatusInterval: 50 * time.Millisecond,
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
// and including its final batch (which has no events when the parts
// before it took them all).
func readTx(t *testing.T, src *Source) []event.Batch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var bs []event.Batch
	for {
		b, err := src.Read(ctx)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(bs) == 0 && len(b.Events) == 0 {
			continue // idle
		}
		bs = append(bs, b)
		if b.Final {
			return bs
		}
	}
}

// readNothing checks that no batch with events arrives within d.
func readNothing(t *testing.T, src *Source, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		b, err := src.Read(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			return
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if len(b.Events) > 0 {
			t.Fatalf("unexpected batch: %+v", b.Events)
		}
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
