package postgres

import (
	"testing"

	"github.com/cdcd-dev/cdcd/event"
)

// bigValues fills a row's TOASTable columns with values that do not
// compress, so that they are stored out of line and an update that does
// not touch them arrives without them.
const bigValues = `(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 3200) i),
	(SELECT jsonb_agg(md5(i::text)) FROM generate_series(1, 2000) i),
	(SELECT string_agg(decode(md5(i::text), 'hex'), ''::bytea) FROM generate_series(1, 4000) i),
	(SELECT array_agg(timestamptz '2000-01-01 00:00:00+00' + i * interval '1 second 7 microseconds' * (i % 97)) FROM generate_series(1, 4000) i)`

func TestToastReselectFillsUnchangedColumnsWithTheirCurrentValues(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int, k text, big text, doc jsonb, bin bytea, ts timestamptz[], n int, PRIMARY KEY (id, k))`)
	opts := f.options("public.t")
	opts.Toast = ToastReselect
	src := f.open(opts, nil)
	f.exec(`INSERT INTO t VALUES (1, 'a b', ` + bigValues + `, 0)`)
	f.exec(`UPDATE t SET n = 1`)
	ins, upd := read(t, src).Events[0], read(t, src).Events[0]
	for _, c := range []string{"big", "doc", "bin", "ts"} {
		v, _ := ins.After.Get(c)
		if len(v.Str()) < 2000 && len(v.Elems()) < 2000 {
			t.Fatalf("inserted %s is small: the test does not exercise TOAST", c)
		}
	}
	if len(upd.Unchanged) != 0 {
		t.Errorf("Unchanged = %v, want none", upd.Unchanged)
	}
	want := append(ins.After[:6:6], event.Field{Name: "n", Value: event.Int(1)})
	wantRow(t, "update after (read back)", upd.After, want)

	// Read back when the event is decoded: the value is the row's current
	// one, here from a later statement of the same transaction.
	f.exec(`BEGIN; UPDATE t SET n = 2; UPDATE t SET big = 'short'; COMMIT`)
	bs := readTx(t, src)
	e1 := bs[0].Events[0]
	if v, _ := e1.After.Get("big"); v.Str() != "short" {
		t.Errorf("read back big = %.20q…, want the current value %q", v.Str(), "short")
	}
	if len(e1.Unchanged) != 0 {
		t.Errorf("Unchanged = %v, want none", e1.Unchanged)
	}

	// A row deleted before the read: nothing to read, the column stays
	// unchanged, and the delete follows.
	f.exec(`BEGIN; UPDATE t SET n = 3; DELETE FROM t; COMMIT`)
	bs = readTx(t, src)
	if len(bs[0].Events) != 2 || bs[0].Events[1].Op != event.OpDelete {
		t.Fatalf("events %+v", bs[0].Events)
	}
	gone := bs[0].Events[0]
	if len(gone.Unchanged) != 3 || gone.Unchanged[0] != "doc" {
		t.Errorf("Unchanged of an update whose row is gone = %v, want [doc bin ts]", gone.Unchanged)
	}
	if _, ok := gone.After.Get("doc"); ok {
		t.Errorf("After holds doc although it could not be read back")
	}
}

func TestToastReselectTakesTheOldRowUnderReplicaIdentityFull(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY, big text, n int);
		ALTER TABLE t REPLICA IDENTITY FULL`)
	opts := f.options("public.t")
	opts.Toast = ToastReselect
	src := f.open(opts, nil)
	f.exec(`INSERT INTO t SELECT 1, string_agg(md5(i::text), ''), 0 FROM generate_series(1, 3200) i`)
	// The read-back value would be 'short'; the old row is exact.
	f.exec(`BEGIN; UPDATE t SET n = 1; UPDATE t SET big = 'short'; COMMIT`)
	ins := read(t, src).Events[0]
	e := readTx(t, src)[0].Events[0]
	want, _ := ins.After.Get("big")
	if got, _ := e.After.Get("big"); !got.Equal(want) || len(e.Unchanged) != 0 {
		t.Errorf("after big = %.20q… (unchanged %v), want the old row's value", got.Str(), e.Unchanged)
	}
}

func TestToastOptionIsValidated(t *testing.T) {
	opts := Options{DSN: "postgres://h/db", Pipeline: "p", Tables: []string{"public.t"}, Toast: "fetch"}
	if _, err := New(opts); err == nil {
		t.Fatal("toast \"fetch\" was accepted")
	}
	opts.Toast = ""
	src, err := New(opts)
	if err != nil || src.Options().Toast != ToastKeep {
		t.Fatalf("default toast: %v, %q", err, src.Options().Toast)
	}
}
