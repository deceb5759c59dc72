package postgres

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/cdcd-dev/cdcd/pipeline"
	pgsource "github.com/cdcd-dev/cdcd/source/postgres"
)

// genBacklog is a procedure making a backlog of about n row changes in
// transactions of 1 to 10 changes: inserts of new keys (50%), updates
// (30%) and deletes (20%) of random keys; it counts the rows changed.
const genBacklog = `CREATE TABLE made (n bigint);
CREATE PROCEDURE gen(n int) LANGUAGE plpgsql AS $$
DECLARE
	made bigint := 0; nxt bigint := 1; sz int; r int; k bigint; c int;
BEGIN
	PERFORM setseed(0.25);
	WHILE made < n LOOP
		sz := 1 + floor(random() * 10);
		FOR i IN 1..sz LOOP
			r := floor(random() * 10);
			IF r < 5 OR nxt < 100 THEN
				INSERT INTO orders VALUES (nxt, 'customer ' || floor(random() * 1000), round((random() * 10000)::numeric, 2),
					now(), random() < 0.5, NULL);
				nxt := nxt + 1;
				c := 1;
			ELSIF r < 8 THEN
				k := 1 + floor(random() * (nxt - 1));
				UPDATE orders SET total = round((random() * 10000)::numeric, 2), paid = NOT paid WHERE id = k;
				GET DIAGNOSTICS c = ROW_COUNT;
			ELSE
				k := 1 + floor(random() * (nxt - 1));
				DELETE FROM orders WHERE id = k;
				GET DIAGNOSTICS c = ROW_COUNT;
			END IF;
			made := made + c;
		END LOOP;
		COMMIT;
	END LOOP;
	INSERT INTO made VALUES (made);
	-- The sentinel: once a replica has it, it has applied everything.
	INSERT INTO orders (id, customer) VALUES (-1, 'end');
	COMMIT;
END $$`

// BenchmarkPipelineVersusSubscription drains the same slot backlog of
// about 100,000 row changes in small transactions into fresh replicas, one
// after the other: with a Postgres subscription (Postgres's own logical
// replication), and with cdcd pipelines (the Postgres source and this
// sink) using the pipeline's default options and a longer queue (so that
// flushes hold thousands of events instead of 64 small transactions). It
// reports each rate and its ratio to the subscription's. -benchtime=1x is
// enough.
func BenchmarkPipelineVersusSubscription(b *testing.B) {
	const changes = 100_000
	pg := testenv.Postgres(b)
	variants := []struct {
		name string
		opts pipeline.Options
	}{
		{"defaults", pipeline.Options{}},
		{"queue1024", pipeline.Options{QueueBatches: 1024}},
	}
	for range b.N {
		src := pg.NewDatabase(b)
		pg.Exec(b, src, benchDDL+`; CREATE PUBLICATION bench FOR TABLE orders`)
		pg.Exec(b, src, `SELECT pg_create_logical_replication_slot('sub_bench', 'pgoutput')`)
		for _, v := range variants {
			pg.Exec(b, src, `SELECT pg_create_logical_replication_slot('cdcd_`+v.name+`', 'pgoutput')`)
		}
		pg.Exec(b, src, genBacklog)
		start := time.Now()
		pg.Exec(b, src, fmt.Sprintf(`CALL gen(%d)`, changes))
		b.Logf("backlog made in %s", time.Since(start).Round(time.Millisecond))
		var made int64
		want := benchRows(b, pg, src, "SELECT (SELECT n FROM made), count(*), sum(total), sum(id) FROM orders")
		fmt.Sscan(strings.Fields(want)[0], &made)
		want = strings.Join(strings.Fields(want)[1:], " ")
		query := "SELECT count(*), sum(total), sum(id) FROM orders"

		// Postgres's subscription.
		sub := pg.NewDatabase(b)
		pg.Exec(b, sub, benchDDL)
		start = time.Now()
		pg.Exec(b, sub, fmt.Sprintf(`CREATE SUBSCRIPTION bench CONNECTION 'host=%s port=%d dbname=%s user=postgres'
			PUBLICATION bench WITH (create_slot = false, slot_name = 'sub_bench', copy_data = false)`, pg.Host, pg.Port, src))
		waitFor(b, pg, sub, query, want)
		subTook := time.Since(start)
		pg.Exec(b, sub, `ALTER SUBSCRIPTION bench DISABLE`)
		pg.Exec(b, sub, `ALTER SUBSCRIPTION bench SET (slot_name = NONE)`)
		pg.Exec(b, sub, `DROP SUBSCRIPTION bench`)
		subRate := float64(made) / subTook.Seconds()
		b.Logf("%d changes: subscription %s (%.0f/s)", made, subTook.Round(time.Millisecond), subRate)
		b.ReportMetric(subRate, "subscription-changes/s")

		for _, v := range variants {
			dst := pg.NewDatabase(b)
			pg.Exec(b, dst, benchDDL)
			so, err := pgsource.New(pgsource.Options{DSN: pg.DSN(src), Pipeline: v.name, Tables: []string{"public.orders"}, Publication: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			snk, err := New(Options{DSN: pg.DSN(dst), Pipeline: v.name})
			if err != nil {
				b.Fatal(err)
			}
			obs := &flushCounter{}
			opts := v.opts
			opts.Name, opts.Logger, opts.Observer = v.name, slog.New(slog.DiscardHandler), obs
			p, err := pipeline.New(reopenable{so}, nil, snk, opts)
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			var ru0, ru1 syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
			start = time.Now()
			go func() { done <- p.Run(ctx) }()
			waitFor(b, pg, dst, query, want)
			took := time.Since(start)
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
			cancel()
			<-done
			so.Close()
			cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
			rate := float64(made) / took.Seconds()
			b.Logf("cdcd %s: %s (%.0f/s, ratio %.2f), %d flushes of %.0f events on average, cdcd CPU %s",
				v.name, took.Round(time.Millisecond), rate, rate/subRate, obs.flushes.Load(),
				float64(obs.events.Load())/float64(obs.flushes.Load()), cpu.Round(time.Millisecond))
			b.ReportMetric(rate, "cdcd-"+v.name+"-changes/s")
			b.ReportMetric(rate/subRate, "ratio-"+v.name)
		}
	}
}

func benchRows(b *testing.B, pg *testenv.PG, db, query string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	var out []string
	rows, err := c.Query(ctx, query)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			b.Fatal(err)
		}
		for _, v := range vals {
			out = append(out, fmt.Sprint(v))
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return strings.Join(out, " ")
}

// waitFor waits until db has the sentinel row, then checks that query
// gives want.
func waitFor(b *testing.B, pg *testenv.PG, db, query, want string) {
	ctx := context.Background()
	c, err := pgx.Connect(ctx, pg.DSN(db))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var n int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM orders WHERE id = -1`).Scan(&n); err != nil {
			b.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s never got the sentinel row", db)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := benchRows(b, pg, db, query); got != want {
		b.Fatalf("%s: %s, want %s", db, got, want)
	}
}

// flushCounter counts the pipeline's flushes.
type flushCounter struct {
	flushes, events, took atomic.Int64
}

func (*flushCounter) StateChanged(pipeline.State, error) {}
func (*flushCounter) BatchRead(*event.Batch)             {}
func (f *flushCounter) Flushed(_ event.Checkpoint, n int, took time.Duration, _ time.Time) {
	f.flushes.Add(1)
	f.events.Add(int64(n))
	f.took.Add(int64(took))
}
