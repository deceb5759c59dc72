package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/pipeline"
	"github.com/cdcd-dev/cdcd/sink"
	pgsource "github.com/cdcd-dev/cdcd/source/postgres"
)

// replica is a source database streamed by a real pipeline into a target
// database through the Postgres sink.
type replica struct {
	t        *testing.T
	src, dst *fixture
	cancel   context.CancelFunc
	done     chan error
}

// startReplica runs a pipeline from src's tables into dst; wrap, if set,
// wraps the sink (fault injection).
func startReplica(t *testing.T, src, dst *fixture, tables []string, opts Options, wrap func(sink.Sink) sink.Sink) *replica {
	t.Helper()
	so, err := pgsource.New(pgsource.Options{DSN: src.pg.DSN(src.db), Pipeline: "e2e", Tables: tables,
		CreateSlot: true, CreatePublication: true, StatusInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	opts.DSN, opts.Pipeline = dst.pg.DSN(dst.db), "e2e"
	snk, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	var s sink.Sink = snk
	if wrap != nil {
		s = wrap(s)
	}
	t.Cleanup(func() { so.Close() })
	p, err := pipeline.New(reopenable{so}, nil, s, pipeline.Options{Name: "e2e", RetryInitial: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &replica{t: t, src: src, dst: dst, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- p.Run(ctx) }()
	t.Cleanup(r.stop)
	return r
}

func (r *replica) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil && !errors.Is(err, context.Canceled) {
			r.t.Errorf("pipeline: %v", err)
		}
	case <-time.After(30 * time.Second):
		r.t.Errorf("pipeline did not stop")
	}
}

// waitEqual waits until query gives the same rows in both databases.
func (r *replica) waitEqual(query string) {
	r.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var src, dst []string
	for time.Now().Before(deadline) {
		select {
		case err := <-r.done:
			r.t.Fatalf("pipeline stopped: %v", err)
		default:
		}
		src, dst = r.src.rows(query), r.dst.rowsIfTable(query)
		if strings.Join(src, "\n") == strings.Join(dst, "\n") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatalf("after 60s the replica differs for %s: %s", query, firstDiff(src, dst))
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

// tryExec runs sql on a new connection and returns its error.
func (f *fixture) tryExec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, f.pg.DSN(f.db))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}

// rowsIfTable is rows, or nil while the table does not exist yet.
func (f *fixture) rowsIfTable(sql string) []string {
	f.t.Helper()
	if f.tryExec(sql) != nil {
		return nil
	}
	return f.rows(sql)
}

// reopenable lets the pipeline open the source again after closing it:
// the Postgres source refuses Open after Close (ErrClosed), while the
// pipeline closes and reopens its source on every retry. Open stops the
// previous stream itself.
type reopenable struct{ *pgsource.Source }

func (reopenable) Close() error { return nil }

const hardTypes = `CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
	CREATE TABLE hard (
		id bigint PRIMARY KEY,
		i2 smallint, i4 integer, i8 bigint,
		num numeric(12,3), anynum numeric, f4 real, f8 double precision,
		t text, vc varchar(10), ch char(5), b bytea, flag boolean,
		d date, ts timestamp, tstz timestamptz, tm time, ttz timetz, iv interval,
		j json, jb jsonb, u uuid, ia int[], ta text[], m2 int[][], e mood, ip inet, pt point, big text)`

const hardRows = `INSERT INTO hard VALUES
	(1, -32768, -2147483648, -9223372036854775808, -123456789.125, 'NaN', 'NaN', '-Infinity',
	 E'quote '' dq " back \\ nl \n tab \t ü 😀', 'vc', 'ab', '\x00ff10', true,
	 '0044-03-15 BC', '0001-01-01 00:00:00 BC', 'infinity', '24:00:00', '12:34:56.789+05:30', 'P1Y2M3DT4H5M6.5S',
	 '{"a": [1, 2.50, "x"], "a": 2}', '{"b": {"c": null}, "a": 1e400}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
	 '{1,NULL,3}', ARRAY['a"b', 'c\d', '', NULL, 'NULL', '{x}'], '{{1,2},{3,4}}', 'happy', '192.168.0.1/24', '(1.5,-2)', NULL),
	(2, 32767, 2147483647, 9223372036854775807, 0.001, '123456789012345678901234567890.000000000000000000001', -0.0, 1e-300,
	 '', NULL, NULL, '', false,
	 '-infinity', '294246-12-31 23:59:59.999999', '1970-01-01 00:00:00.000001+00', '00:00:00', NULL, '-1 days',
	 'null', '[]', NULL, '{}', '{}', NULL, NULL, NULL, NULL, NULL),
	(3, 0, 0, 0, 0, 0, 3.4028235e38, 1.7976931348623157e308,
	 'x', 'x', 'x', NULL, NULL,
	 '2026-01-02', '2026-01-02 03:04:05.123456', '2026-01-02 03:04:05.123456+02', '13:14:15.5', NULL, NULL,
	 '1', '"s"', NULL, NULL, NULL, NULL, 'sad', '::1', NULL, NULL)`

func TestPostgresToPostgresReplicaEqualsTheSource(t *testing.T) {
	pg := newFixture(t, hardTypes)
	dst := &fixture{t: t, pg: pg.pg, db: pg.pg.NewDatabase(t)}
	r := startReplica(t, pg, dst, []string{"public.hard"}, Options{CreateTables: true}, nil)
	const q = `SELECT h::text FROM hard h ORDER BY id`

	// The slot exists once the pipeline streams; changes made after that
	// arrive.
	waitSlot(t, pg)
	pg.exec(hardRows)
	r.waitEqual(q)

	// Updates, a TOAST column left unchanged, key changes, deletes.
	pg.exec(`UPDATE hard SET big = (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 3000) i) WHERE id = 1`)
	pg.exec(`UPDATE hard SET i2 = 7 WHERE id = 1`)
	pg.exec(`BEGIN; UPDATE hard SET id = 10 WHERE id = 2; UPDATE hard SET id = 2 WHERE id = 3; DELETE FROM hard WHERE id = 10; COMMIT`)
	pg.exec(`INSERT INTO hard (id, t, ia) SELECT g, 'row ' || g, ARRAY[g, g+1] FROM generate_series(100, 600) g`)
	pg.exec(`UPDATE hard SET t = t || '!' WHERE id % 3 = 0; DELETE FROM hard WHERE id % 7 = 0`)
	r.waitEqual(q)
	pg.exec(`TRUNCATE hard; INSERT INTO hard (id, t) VALUES (1, 'after truncate')`)
	r.waitEqual(q)
	dst.wantRows(`SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'hard'::regclass AND attname IN ('num', 'vc', 'e', 'tstz') ORDER BY attnum`,
		"numeric(12,3)", "character varying(10)", "timestamp with time zone", "text")
}

// waitSlot waits until the pipeline's slot is streaming.
func waitSlot(t *testing.T, f *fixture) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if rows := f.rows(`SELECT active FROM pg_replication_slots WHERE database = current_database()`); len(rows) == 1 && rows[0] == "true" {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the pipeline's slot is not active after 30s")
}

// faulty fails the sink now and then: a Write error after some writes
// (the target transaction dies with its uncommitted work), or a Flush
// error after the inner Flush committed (the acknowledgement is lost).
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
	// n counts the updates of a row; every change stamps v from a
	// sequence, so no two changes of the source write the same v.
	src := newFixture(t, `CREATE SEQUENCE stamp; CREATE TABLE acct (id int PRIMARY KEY, n int NOT NULL, v bigint NOT NULL DEFAULT nextval('stamp'))`)
	dst := &fixture{t: t, pg: src.pg, db: src.pg.NewDatabase(t)}
	// Every write of a row into the replica is recorded with its stamp: a
	// change applied twice would record the same stamp twice.
	dst.exec(`CREATE TABLE acct (id int PRIMARY KEY, n int NOT NULL, v bigint NOT NULL);
		CREATE TABLE writes (id int, v bigint);
		CREATE FUNCTION record() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN INSERT INTO writes VALUES (NEW.id, NEW.v); RETURN NEW; END $$;
		CREATE TRIGGER record AFTER INSERT OR UPDATE ON acct FOR EACH ROW EXECUTE FUNCTION record()`)
	f := &faulty{rng: rand.New(rand.NewPCG(1, 2))}
	r := startReplica(t, src, dst, []string{"public.acct"}, Options{}, func(s sink.Sink) sink.Sink { f.Sink = s; return f })
	waitSlot(t, src)

	// Terminate the sink's connection now and then, too.
	stopKiller := make(chan struct{})
	killed := make(chan int)
	go func() {
		n := 0
		defer func() { killed <- n }()
		for {
			select {
			case <-stopKiller:
				return
			case <-time.After(150 * time.Millisecond):
			}
			if err := dst.tryExec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cdcd e2e'`); err == nil {
				n++
			}
		}
	}()

	rng := rand.New(rand.NewPCG(3, 4))
	var stmts []string
	for i := 0; i < 300; i++ {
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
		stmts = append(stmts, "BEGIN;"+strings.Join(tx, ";")+";COMMIT")
	}
	c := src.pg.Connect(t, src.db)
	for _, s := range stmts {
		if _, err := c.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	r.waitEqual(`SELECT a::text FROM acct a ORDER BY id`)
	close(stopKiller)
	kills := <-killed
	t.Logf("%d injected faults, %d terminated connections", f.faults.Load(), kills)
	if f.faults.Load() == 0 {
		t.Error("no fault was injected")
	}
	dst.wantRows(`SELECT v, count(*) FROM writes GROUP BY v HAVING count(*) > 1`)
	// The checkpoint row is the position the source acknowledged.
	var slotPos string
	if rows := src.rows(`SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE database = current_database()`); len(rows) == 1 {
		slotPos = rows[0]
	}
	if rows := dst.rows(`SELECT pos FROM cdcd_checkpoints WHERE pipeline = 'e2e'`); len(rows) != 1 || slotPos == "" {
		t.Errorf("checkpoint rows %q, slot at %q", rows, slotPos)
	}
}
