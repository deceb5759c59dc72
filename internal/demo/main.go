// Command demo is what `make demo` runs: a private Postgres, an embedded
// Kafka broker (kfake, the real protocol), a generator writing orders, and
// the cdcd binary streaming every change into Kafka exactly once; the
// terminal shows what a read_committed Kafka consumer receives. Ctrl-C
// stops cdcd gracefully (SIGTERM) and tears everything down.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

func main() {
	var o options
	flag.StringVar(&o.cdcd, "cdcd", "bin/cdcd", "path to the cdcd binary")
	flag.DurationVar(&o.duration, "duration", 0, "stop after this long (0: run until Ctrl-C)")
	flag.IntVar(&o.rate, "rate", 4, "transactions per second the generator writes")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, o, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "\ndemo: the generator made %d changes; the Kafka consumer received %d events; cdcd exited cleanly\n", res.changes, res.events)
}

type options struct {
	cdcd     string
	duration time.Duration
	rate     int
}

type result struct {
	changes, events int64
}

func run(ctx context.Context, o options, stdout, stderr io.Writer) (result, error) {
	var res result
	// cdcd's log and the demo's own lines go to stderr from two goroutines.
	stderr = &lockedWriter{w: stderr}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	fmt.Fprintln(stderr, "demo: starting a private Postgres (wal_level=logical)…")
	pg, err := testenv.StartPostgres(context.WithoutCancel(ctx), testenv.PGOptions{})
	if err != nil {
		return res, err
	}
	defer pg.Close()
	dsn := pg.DSN("postgres")
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return res, fmt.Errorf("connecting to the demo database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `CREATE TABLE public.orders (
		id bigserial PRIMARY KEY,
		customer text NOT NULL,
		amount numeric(12,2) NOT NULL,
		status text NOT NULL DEFAULT 'new',
		tags text[],
		meta jsonb,
		created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return res, fmt.Errorf("creating the demo table: %w", err)
	}

	fmt.Fprintln(stderr, "demo: starting an embedded Kafka broker…")
	kafka, err := testenv.StartKafka()
	if err != nil {
		return res, err
	}
	defer kafka.Close()
	broker := kafka.Brokers()[0]

	dir, err := os.MkdirTemp("", "cdcd-demo-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	cfg := filepath.Join(dir, "demo.yaml")
	yaml := fmt.Sprintf(`pipeline: demo
source:
  type: postgres
  dsn: %s
  tables: [public.orders]
  snapshot: never
sink:
  type: kafka
  kafka: {brokers: [%s], topic: "cdc.{namespace}.{table}", exactly_once: true}
admin: {listen: "127.0.0.1:0"}
`, dsn, broker)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		return res, err
	}
	fmt.Fprintf(stderr, "demo: running `cdcd run --config %s` with:\n%s\n", cfg, yaml)

	cmd := exec.Command(o.cdcd, "run", "--config", cfg, "--log-format", "text")
	cmd.Stderr = stderr
	// Its own process group: Ctrl-C reaches the demo only, which then
	// sends cdcd exactly one SIGTERM, the way Kubernetes stops a pod.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("starting %s (run `make build` first): %w", o.cdcd, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// A downstream service: a read_committed consumer of the topic.
	consumer, err := kgo.NewClient(kgo.SeedBrokers(broker), kgo.ConsumeTopics("cdc.public.orders"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AllowAutoTopicCreation())
	if err != nil {
		cmd.Process.Kill()
		return res, err
	}
	defer consumer.Close()
	cctx, stopConsumer := context.WithCancel(context.WithoutCancel(ctx))
	defer stopConsumer()
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for cctx.Err() == nil {
			consumer.PollFetches(cctx).EachRecord(func(r *kgo.Record) {
				atomic.AddInt64(&res.events, 1)
				fmt.Fprintf(stdout, "%s[%d]@%d key=%s %s\n", r.Topic, r.Partition, r.Offset, r.Key, r.Value)
			})
		}
	}()

	// Write only once the slot exists, so every change is captured.
	if err := waitForSlot(ctx, conn, exited); err != nil {
		cmd.Process.Kill()
		return res, err
	}
	fmt.Fprintln(stderr, "demo: cdcd is streaming into Kafka; writing orders; below is what a read_committed consumer receives (Ctrl-C to stop)")
	genErr := generate(ctx, conn, o.rate, &res.changes)

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err = <-exited:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		err = errors.New("cdcd did not stop within 30s of SIGTERM")
	}
	// Let the consumer read what the last Kafka transaction committed.
	waitQuiet(&res.events, 500*time.Millisecond, 5*time.Second)
	stopConsumer()
	<-consumed
	if err != nil {
		return res, fmt.Errorf("cdcd: %w", err)
	}
	if genErr != nil && !errors.Is(genErr, context.Canceled) && !errors.Is(genErr, context.DeadlineExceeded) {
		return res, genErr
	}
	return res, nil
}

// waitQuiet returns once *n has not changed for quiet, or after most.
func waitQuiet(n *int64, quiet, most time.Duration) {
	end := time.Now().Add(most)
	last, since := atomic.LoadInt64(n), time.Now()
	for time.Now().Before(end) && time.Since(since) < quiet {
		time.Sleep(50 * time.Millisecond)
		if v := atomic.LoadInt64(n); v != last {
			last, since = v, time.Now()
		}
	}
}

func waitForSlot(ctx context.Context, conn *pgx.Conn, exited <-chan error) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_replication_slots WHERE active`).Scan(&n); err == nil && n > 0 {
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("cdcd exited before streaming: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

var customers = []string{"ada", "grace", "edsger", "barbara", "ken", "margaret", "linus", "ørjan 🚀"}

// generate writes a mix of inserts, updates and deletes, a transaction per tick.
func generate(ctx context.Context, conn *pgx.Conn, rate int, changes *int64) error {
	tick := time.NewTicker(time.Second / time.Duration(max(rate, 1)))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		var (
			tag pgconn.CommandTag
			err error
		)
		switch r := rand.IntN(10); {
		case r < 6:
			tag, err = conn.Exec(ctx, `INSERT INTO orders (customer, amount, tags, meta) VALUES ($1, $2::numeric, $3, $4)`,
				customers[rand.IntN(len(customers))], fmt.Sprintf("%d.%02d", rand.IntN(500), rand.IntN(100)),
				[]string{"web", "promo"}[:1+rand.IntN(2)], map[string]any{"source": "demo", "items": 1 + rand.IntN(5)})
		case r < 9:
			tag, err = conn.Exec(ctx, `UPDATE orders SET status = 'paid' WHERE id = (SELECT id FROM orders WHERE status = 'new' ORDER BY random() LIMIT 1)`)
		default:
			tag, err = conn.Exec(ctx, `DELETE FROM orders WHERE id = (SELECT min(id) FROM orders)`)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("generator: %w", err)
		}
		atomic.AddInt64(changes, tag.RowsAffected())
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
