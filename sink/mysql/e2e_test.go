package mysql

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/cdcd-dev/cdcd/pipeline"
	"github.com/cdcd-dev/cdcd/sink"
	pgsource "github.com/cdcd-dev/cdcd/source/postgres"
)

// pgSource is a source database on the shared Postgres test server.
type pgSource struct {
	t  *testing.T
	pg *testenv.PG
	db string
}

func newPGSource(t *testing.T, setup string) *pgSource {
	pg := testenv.Postgres(t)
	s := &pgSource{t: t, pg: pg, db: pg.NewDatabase(t)}
	pg.Exec(t, s.db, setup)
	return s
}

func (s *pgSource) exec(sql string) {
	s.t.Helper()
	s.pg.Exec(s.t, s.db, sql)
}

func (s *pgSource) rows(sql string) []string {
	s.t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, s.pg.DSN(s.db))
	if err != nil {
		s.t.Fatal(err)
	}
	defer c.Close(ctx)
	rs, err := c.Query(ctx, sql)
	if err != nil {
		s.t.Fatalf("%s: %v", sql, err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		vals, err := rs.Values()
		if err != nil {
			s.t.Fatal(err)
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
	return out
}

// reopenable lets the pipeline open the source again after closing it
// (the Postgres source refuses Open after Close; Open stops the previous
// stream itself).
type reopenable struct{ *pgsource.Source }

func (reopenable) Close() error { return nil }

// replicate runs a pipeline from src's tables into dst until the test
// ends; wrap, if set, wraps the sink.
func replicate(t *testing.T, src *pgSource, dst *fixture, tables []string, opts Options, wrap func(sink.Sink) sink.Sink) chan error {
	so, err := pgsource.New(pgsource.Options{DSN: src.pg.DSN(src.db), Pipeline: "e2e", Tables: tables,
		CreateSlot: true, CreatePublication: true, StatusInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	opts.DSN, opts.Pipeline = dst.my.DSN(dst.db), "e2e"
	snk, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var s sink.Sink = snk
	if wrap != nil {
		s = wrap(s)
	}
	p, err := pipeline.New(reopenable{so}, nil, s, pipeline.Options{Name: "e2e", RetryInitial: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("pipeline: %v", err)
		}
		so.Close()
	})
	// Wait until the slot streams.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if rows := src.rows(`SELECT active FROM pg_replication_slots WHERE database = current_database()`); len(rows) == 1 && rows[0] == "true" {
			return done
		}
		if time.Now().After(deadline) {
			t.Fatal("the pipeline's slot is not active after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitEqual waits until the source query and the replica query give the
// same rows.
func waitEqual(t *testing.T, src *pgSource, dst *fixture, srcQuery, dstQuery string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var a, b []string
	for time.Now().Before(deadline) {
		a = src.rows(srcQuery)
		b = dst.rowsIfTable(dstQuery)
		if strings.Join(a, "\n") == strings.Join(b, "\n") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("after 60s the replica differs: %s", firstDiff(a, b))
}

// firstDiff describes the first row where a and b differ.
func firstDiff(a, b []string) string {
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return fmt.Sprintf("row %d of %d/%d:\nsource  %q\nreplica %q", i, len(a), len(b), x, y)
		}
	}
	return "no difference"
}

// rowsIfTable is rows, or nil while the query fails (the table does not
// exist yet).
func (f *fixture) rowsIfTable(sql string) []string {
	c, err := client.ConnectWithContext(context.Background(), f.my.Addr(), "root", "", f.db, 10*time.Second)
	if err != nil {
		return nil
	}
	defer c.Close()
	r, err := c.Execute(sql)
	if err != nil {
		return nil
	}
	r.Close()
	return f.rows(sql)
}

func TestPostgresToMariaDBReplicaEqualsTheSourceAfterTypeMapping(t *testing.T) {
	src := newPGSource(t, `CREATE TYPE mood AS ENUM ('sad', 'happy');
		CREATE TABLE t (id bigint PRIMARY KEY, i2 smallint, num numeric(12,3), f8 double precision, tx text, vc varchar(10),
			b bytea, flag boolean, d date, ts timestamp, tstz timestamptz, tm time, jb jsonb, ia int[], e mood, u uuid, big text)`)
	dst := newFixture(t)
	replicate(t, src, dst, []string{"public.t"}, Options{CreateTables: true, SchemaMap: map[string]string{"public": dst.db}}, nil)
	// The same text on both sides, after the documented mapping.
	const pgQuery = `SELECT id, i2, num::text, f8::text, tx, vc, encode(b, 'hex'), flag::int, d::text, to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US'),
		to_char(tstz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), to_char('2000-01-01'::date + tm, 'HH24:MI:SS.US'),
		replace(jb::text, ' ', ''), array_to_json(ia)::text, e::text, u::text, md5(big) FROM t ORDER BY id`
	const myQuery = `SELECT id, i2, num, CAST(f8 AS CHAR), tx, vc, lower(hex(b)), flag, d, DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f'),
		DATE_FORMAT(tstz, '%Y-%m-%d %H:%i:%s.%f'), TIME_FORMAT(tm, '%H:%i:%s.%f'),
		JSON_COMPACT(jb), JSON_COMPACT(ia), e, u, md5(big) FROM t ORDER BY id`
	src.exec(`INSERT INTO t VALUES
		(1, -32768, -123456789.125, 1.5, E'quote '' back \\ ü 😀 \n', 'vc', '\x00ff', true, '2026-01-02', '2026-01-02 03:04:05.123456',
		 '2026-01-02 03:04:05.123456+02', '13:14:15.5', '{"a": [1, 2]}', '{1,NULL,3}', 'happy', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'small'),
		(2, NULL, NULL, NULL, '', NULL, '', false, NULL, NULL, NULL, NULL, NULL, '{}', NULL, NULL, NULL)`)
	src.exec(`UPDATE t SET big = (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 3000) i) WHERE id = 1`)
	src.exec(`UPDATE t SET i2 = 7 WHERE id = 1`) // big is TOASTed and unchanged
	src.exec(`BEGIN; UPDATE t SET id = 3 WHERE id = 2; INSERT INTO t (id, tx) SELECT g, 'row ' || g FROM generate_series(10, 300) g;
		DELETE FROM t WHERE id % 7 = 0; COMMIT`)
	waitEqual(t, src, dst, pgQuery, myQuery)
	src.exec(`TRUNCATE t; INSERT INTO t (id, tx) VALUES (1, 'after truncate')`)
	waitEqual(t, src, dst, pgQuery, myQuery)
}

// faulty fails the sink now and then (see the Postgres sink's test).
type faulty struct {
	sink.Sink
	rng    *rand.Rand
	faults atomic.Int64
}

var errInjected = errors.New("injected fault")

func (f *faulty) Write(ctx context.Context, b *event.Batch) error {
	if f.rng.IntN(40) == 0 {
		f.faults.Add(1)
		return errInjected
	}
	return f.Sink.Write(ctx, b)
}

func (f *faulty) Flush(ctx context.Context) (event.Checkpoint, error) {
	cp, err := f.Sink.Flush(ctx)
	if err == nil && f.rng.IntN(10) == 0 {
		f.faults.Add(1)
		return cp, errInjected
	}
	return cp, err
}

func TestFaultsAndReplaysApplyEveryChangeExactlyOnce(t *testing.T) {
	src := newPGSource(t, `CREATE SEQUENCE stamp; CREATE TABLE acct (id int PRIMARY KEY, n int NOT NULL, v bigint NOT NULL DEFAULT nextval('stamp'))`)
	dst := newFixture(t, `CREATE TABLE acct (id int PRIMARY KEY, n int NOT NULL, v bigint NOT NULL)`,
		`CREATE TABLE writes (id int, v bigint)`,
		`CREATE TRIGGER ins AFTER INSERT ON acct FOR EACH ROW INSERT INTO writes VALUES (NEW.id, NEW.v)`,
		`CREATE TRIGGER upd AFTER UPDATE ON acct FOR EACH ROW INSERT INTO writes VALUES (NEW.id, NEW.v)`)
	f := &faulty{rng: rand.New(rand.NewPCG(1, 2))}
	replicate(t, src, dst, []string{"public.acct"}, Options{SchemaMap: map[string]string{"public": dst.db}},
		func(s sink.Sink) sink.Sink { f.Sink = s; return f })
	rng := rand.New(rand.NewPCG(3, 4))
	ctx := context.Background()
	c, err := pgx.Connect(ctx, src.pg.DSN(src.db))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for i := 0; i < 200; i++ {
		var tx []string
		for j := 0; j < 1+rng.IntN(5); j++ {
			id := rng.IntN(40)
			switch rng.IntN(6) {
			case 0, 1:
				tx = append(tx, fmt.Sprintf(`INSERT INTO acct VALUES (%d, 0) ON CONFLICT (id) DO UPDATE SET n = acct.n + 1, v = nextval('stamp')`, id))
			case 2, 3:
				tx = append(tx, fmt.Sprintf(`UPDATE acct SET n = n + 1, v = nextval('stamp') WHERE id = %d`, id))
			case 4:
				tx = append(tx, fmt.Sprintf(`DELETE FROM acct WHERE id = %d`, id))
			case 5:
				tx = append(tx, fmt.Sprintf(`UPDATE acct SET id = id + 40, n = n + 1, v = nextval('stamp') WHERE id = %d AND NOT EXISTS (SELECT 1 FROM acct WHERE id = %d)`, id, id+40))
			}
		}
		if _, err := c.Exec(ctx, "BEGIN;"+strings.Join(tx, ";")+";COMMIT"); err != nil {
			t.Fatal(err)
		}
	}
	waitEqual(t, src, dst, `SELECT id, n, v FROM acct ORDER BY id`, `SELECT id, n, v FROM acct ORDER BY id`)
	t.Logf("%d injected faults", f.faults.Load())
	if f.faults.Load() == 0 {
		t.Error("no fault was injected")
	}
	dst.wantRows(`SELECT v, count(*) FROM writes GROUP BY v HAVING count(*) > 1`)
}
