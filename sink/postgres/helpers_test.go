package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// fixture is a fresh target database on the shared test server.
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

// rows returns the rows of a query, each as its columns' text joined by
// '|' (NULL as "∅").
func (f *fixture) rows(sql string, args ...any) []string {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, f.pg.DSN(f.db))
	if err != nil {
		f.t.Fatalf("connect: %v", err)
	}
	defer c.Close(ctx)
	rs, err := c.Query(ctx, sql, args...)
	if err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		vals, err := rs.Values()
		if err != nil {
			f.t.Fatalf("%s: %v", sql, err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				parts[i] = "∅"
			} else {
				parts[i] = fmt.Sprint(v)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rs.Err(); err != nil {
		f.t.Fatalf("%s: %v", sql, err)
	}
	return out
}

func (f *fixture) wantRows(sql string, want ...string) {
	f.t.Helper()
	got := f.rows(sql)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		f.t.Errorf("%s:\ngot  %q\nwant %q", sql, got, want)
	}
}

func (f *fixture) options() Options {
	return Options{DSN: f.pg.DSN(f.db), Pipeline: "test"}
}

// open returns an opened sink, closed at the end of the test, and the
// checkpoint Open returned.
func (f *fixture) open(opts Options) (*Sink, *event.Checkpoint) {
	f.t.Helper()
	s, err := New(opts)
	if err != nil {
		f.t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cp, ok, err := s.Open(ctx)
	if err != nil {
		f.t.Fatalf("Open: %v", err)
	}
	f.t.Cleanup(func() { s.Close() })
	if !ok {
		return s, nil
	}
	return s, &cp
}

// apply writes batches and flushes, failing the test on error; it
// returns the checkpoint Flush returned.
func apply(t *testing.T, s *Sink, bs ...*event.Batch) event.Checkpoint {
	t.Helper()
	cp, err := write(s, bs...)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return cp
}

func write(s *Sink, bs ...*event.Batch) (event.Checkpoint, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, b := range bs {
		if err := s.Write(ctx, b); err != nil {
			return event.Checkpoint{}, err
		}
	}
	return s.Flush(ctx)
}

// source builds events the way a source does: one server, increasing
// commit positions and times.
type source struct {
	info   *event.SourceInfo
	commit uint64
	at     time.Time
}

func newSource(kind, id string) *source {
	return &source{info: &event.SourceInfo{Kind: kind, ServerID: id, DB: "src", Pipeline: "test"},
		commit: 0x1000, at: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// tx returns the events as one final batch of a new transaction.
func (s *source) tx(events ...event.Event) *event.Batch {
	s.commit += 0x100
	s.at = s.at.Add(time.Millisecond)
	return s.txAt(s.commit, s.at, events...)
}

// txAt returns the events as one final batch of the transaction committed
// at commit, at.
func (s *source) txAt(commit uint64, at time.Time, events ...event.Event) *event.Batch {
	for i := range events {
		e := &events[i]
		e.Pos = event.Position{Commit: commit, Index: uint32(i)}
		e.Tx = event.TxInfo{ID: fmt.Sprint(commit), CommitTime: at, Index: uint32(i), Count: uint32(len(events))}
		e.Source = s.info
	}
	return &event.Batch{Events: events, Checkpoint: event.Checkpoint{Pos: event.TxEnd(commit)}, Final: true, CommitTime: at}
}

// split returns the transaction's events as batches of at most n events;
// only the last is final.
func split(b *event.Batch, n int) []*event.Batch {
	var out []*event.Batch
	for i := 0; i < len(b.Events); i += n {
		end := min(i+n, len(b.Events))
		part := &event.Batch{Events: b.Events[i:end], CommitTime: b.CommitTime}
		if end == len(b.Events) {
			part.Final, part.Checkpoint = true, b.Checkpoint
		} else {
			part.Checkpoint = event.Checkpoint{Pos: b.Events[end-1].Pos}
		}
		out = append(out, part)
	}
	return out
}

// table is a source table's schema.
func table(ns, name string, cols ...event.Column) *event.TableSchema {
	return &event.TableSchema{Table: event.TableID{Namespace: ns, Name: name}, Columns: cols, Version: 1}
}

func col(name, typ string, k event.Kind) event.Column {
	return event.Column{Name: name, Type: typ, Kind: k, Nullable: true}
}

func key(name, typ string, k event.Kind) event.Column {
	return event.Column{Name: name, Type: typ, Kind: k, Key: true}
}

func row(kv ...any) event.Row {
	var r event.Row
	for i := 0; i < len(kv); i += 2 {
		v := kv[i+1]
		var val event.Value
		switch x := v.(type) {
		case event.Value:
			val = x
		case int:
			val = event.Int(int64(x))
		case string:
			val = event.String(x)
		case nil:
			val = event.Null()
		default:
			panic(fmt.Sprintf("row: %T", v))
		}
		r = append(r, event.Field{Name: kv[i].(string), Value: val})
	}
	return r
}

func keyRow(s *event.TableSchema, r event.Row) event.Row {
	var k event.Row
	for _, f := range r {
		if c := s.Column(f.Name); c != nil && c.Key {
			k = append(k, f)
		}
	}
	return k
}

func ins(s *event.TableSchema, kv ...any) event.Event {
	r := row(kv...)
	return event.Event{Op: event.OpInsert, Table: s.Table, Schema: s, Key: keyRow(s, r), After: r}
}

func upd(s *event.TableSchema, kv ...any) event.Event {
	r := row(kv...)
	return event.Event{Op: event.OpUpdate, Table: s.Table, Schema: s, Key: keyRow(s, r), After: r}
}

// updKey is an update that changes the key from before's.
func updKey(s *event.TableSchema, before event.Row, kv ...any) event.Event {
	e := upd(s, kv...)
	e.Before = before
	return e
}

// updToast is an update whose unchanged columns were not sent.
func updToast(s *event.TableSchema, unchanged []string, kv ...any) event.Event {
	e := upd(s, kv...)
	e.Unchanged = unchanged
	return e
}

func del(s *event.TableSchema, kv ...any) event.Event {
	r := row(kv...)
	return event.Event{Op: event.OpDelete, Table: s.Table, Schema: s, Key: r, Before: r}
}

func truncate(s *event.TableSchema) event.Event {
	return event.Event{Op: event.OpTruncate, Table: s.Table, Schema: s}
}

// outcomes collects conflict outcomes as "table strategy outcome" → n.
type outcomes struct {
	mu sync.Mutex
	m  map[string]int
}

func (o *outcomes) Conflict(table, strategy, outcome string, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[string]int{}
	}
	o.m[table+" "+strategy+" "+outcome] += n
}

func (o *outcomes) get() map[string]int {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := map[string]int{}
	for k, v := range o.m {
		m[k] = v
	}
	return m
}

func wantPermanent(t *testing.T, err error) {
	t.Helper()
	if err == nil || !sqlapply.IsPermanent(err) {
		t.Fatalf("err = %v, want a permanent error", err)
	}
}

func as[T error](err error) (T, bool) {
	var x T
	ok := errors.As(err, &x)
	return x, ok
}
