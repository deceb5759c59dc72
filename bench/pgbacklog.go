package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// Names of the slots and publication of the Postgres scenarios.
const (
	limitSlot    = "bench_limit"
	cdcdSlot     = "cdcd_bench"
	discardSlot  = "cdcd_bench_discard"
	kafkaEOSSlot = "cdcd_bench_kafka_eos"
	kafkaALOSlot = "cdcd_bench_kafka_alo"
	publication  = "cdcd_bench"
)

const backlogScenario = "pg-backlog-jsonl"

// backlogVariant is one shape of the backlog.
type backlogVariant struct {
	id   string // short, for file names
	name string
	load func(ctx context.Context, c *pgx.Conn, rows int) error
}

var backlogVariants = []backlogVariant{
	{id: "txn1", name: "1 txn", load: loadOneTxn},
	{id: "txn10", name: "10-row txns", load: func(ctx context.Context, c *pgx.Conn, rows int) error {
		return loadSmallTxns(ctx, c, rows, 10)
	}},
}

// pgBacklogJSONL drains a backlog of env.Rows inserts from a logical slot,
// once with pg_recvlogical (the limit: Postgres's own decoding, nothing
// done with the output) and once with cdcd to the jsonl sink on /dev/null,
// for each backlog variant, each on a fresh server.
func pgBacklogJSONL(ctx context.Context, env Env) (Result, error) {
	var res Result
	for _, v := range backlogVariants {
		ms, notes, err := runBacklogVariant(ctx, env, v)
		if err != nil {
			return res, fmt.Errorf("%s: %w", v.name, err)
		}
		res.Measurements = append(res.Measurements, ms...)
		res.Notes = append(res.Notes, notes...)
	}
	res.Notes = append(res.Notes, "cdcd → kafka: one in-process kfake broker per consumer; delivered = when a read_committed consumer "+
		"in the harness has seen every row and the end marker. The broker's and that consumer's CPU are the harness's, "+
		"not in cdcd's CPU s/M, but they share the machine's cores with cdcd")
	return res, nil
}

// backlog is a loaded backlog, waiting in two slots.
type backlog struct {
	// before is the WAL insert position after the load and before the end
	// marker: a checkpoint whose commit is at or past it covers the marker
	// transaction and so every row.
	before uint64
	// endpos is the end of the marker's commit record, for pg_recvlogical.
	endpos uint64
	load   time.Duration
}

// prepareBacklog creates the tables, the publication and both slots, then
// loads the rows with v and ends the backlog with one marker transaction
// in the captured table bench_end, followed by one in the uncaptured
// bench_pad so that WAL goes on past the marker.
func prepareBacklog(ctx context.Context, c *pgx.Conn, v backlogVariant, rows int) (backlog, error) {
	var b backlog
	for _, q := range []string{
		benchTableDDL,
		`CREATE TABLE public.bench_end (id int PRIMARY KEY)`,
		`CREATE TABLE public.bench_pad (id int)`,
		`CREATE PUBLICATION ` + publication + ` FOR TABLE public.bench, public.bench_end`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			return b, fmt.Errorf("preparing the schema: %w", err)
		}
	}
	// The slots exist before the load, so the whole load is their backlog.
	for _, s := range []string{limitSlot, cdcdSlot, discardSlot, kafkaEOSSlot, kafkaALOSlot} {
		if err := createSlot(ctx, c, s); err != nil {
			return b, err
		}
	}
	start := time.Now()
	if err := v.load(ctx, c, rows); err != nil {
		return b, err
	}
	b.load = time.Since(start)
	var err error
	if b.before, err = insertLSN(ctx, c); err != nil {
		return b, err
	}
	// A synchronous commit flushes the WAL up to the marker, so the
	// walsenders can send all of it at once.
	if _, err := c.Exec(ctx, `SET synchronous_commit = on`); err != nil {
		return b, fmt.Errorf("preparing the end marker: %w", err)
	}
	if _, err := c.Exec(ctx, `INSERT INTO public.bench_end VALUES (1)`); err != nil {
		return b, fmt.Errorf("writing the end marker: %w", err)
	}
	if b.endpos, err = insertLSN(ctx, c); err != nil {
		return b, err
	}
	if _, err := c.Exec(ctx, `INSERT INTO public.bench_pad VALUES (1)`); err != nil {
		return b, fmt.Errorf("writing past the end marker: %w", err)
	}
	return b, nil
}

// drainTimeout bounds one consumer's drain of rows events.
func drainTimeout(rows int) time.Duration {
	return time.Minute + time.Duration(rows)*200*time.Microsecond
}

func runBacklogVariant(ctx context.Context, env Env, v backlogVariant) ([]Measurement, []string, error) {
	dir := filepath.Join(env.WorkDir, v.id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	pg, err := startPostgres(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer pg.Close()
	c, err := pgx.Connect(ctx, pg.DSN(benchDB))
	if err != nil {
		return nil, nil, fmt.Errorf("connecting to Postgres: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))

	env.Log.Info("loading backlog", "variant", v.name, "rows", env.Rows)
	b, err := prepareBacklog(ctx, c, v, env.Rows)
	if err != nil {
		return nil, nil, err
	}
	notes := []string{fmt.Sprintf("%s: loaded %d rows in %.1f s (%.0f rows/s); backlog ends at %s",
		v.name, env.Rows, b.load.Seconds(), float64(env.Rows)/b.load.Seconds(), formatLSN(b.endpos))}

	var limit, m, d, eos, alo Measurement
	steps := []func() error{
		func() (err error) { limit, err = drainRecvlogical(ctx, env, pg, c, b, dir); return err },
		func() (err error) { m, err = drainCDCD(ctx, env, pg, c, b, dir, false); return err },
		func() (err error) { d, err = drainCDCD(ctx, env, pg, c, b, dir, true); return err },
		func() (err error) { eos, err = drainCDCDKafka(ctx, env, pg, b, dir, true); return err },
		func() (err error) { alo, err = drainCDCDKafka(ctx, env, pg, b, dir, false); return err },
	}
	if env.CDCDFirst {
		steps = append(steps[1:], steps[0])
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, nil, err
		}
	}
	ms := []Measurement{limit, m, d, eos, alo}
	for i := range ms {
		ms[i].Variant = v.name
		if l := limit.EventsPerSec(); l > 0 {
			ms[i].Ratio = ms[i].EventsPerSec() / l
		}
	}
	ms[0].Ratio = 1
	if o, ok := eosOverhead(alo.EventsPerSec(), eos.EventsPerSec()); ok {
		notes = append(notes, fmt.Sprintf("%s: exactly-once overhead (at-least-once events/s ÷ exactly-once events/s − 1): %.1f%%", v.name, o*100))
	}
	env.Log.Info("drained", "variant", v.name,
		"recvlogical_events_per_s", int(limit.EventsPerSec()), "cdcd_events_per_s", int(ms[1].EventsPerSec()),
		"ratio", fmt.Sprintf("%.2f", ms[1].Ratio), "discard_ratio", fmt.Sprintf("%.2f", ms[2].Ratio),
		"kafka_eos_ratio", fmt.Sprintf("%.2f", ms[3].Ratio), "kafka_alo_ratio", fmt.Sprintf("%.2f", ms[4].Ratio))
	return ms, notes, nil
}

// eosOverhead is how much faster at least once is than exactly once,
// alo/eos − 1 (0.05 for 5%), with ok false when either is not positive.
func eosOverhead(alo, eos float64) (overhead float64, ok bool) {
	if alo <= 0 || eos <= 0 {
		return 0, false
	}
	return alo/eos - 1, true
}

// Consumer names of the Kafka backlog drains.
const (
	kafkaEOSConsumer = "cdcd → kafka (exactly once)"
	kafkaALOConsumer = "cdcd → kafka (at least once)"
)

// eosOverheadNotes gives, for each scenario and variant with both Kafka
// consumers in rows, the exactly-once overhead computed from the medians.
func eosOverheadNotes(rows []Row) []string {
	type key struct{ s, v string }
	var order []key
	eos, alo := map[key]float64{}, map[key]float64{}
	for _, r := range rows {
		k := key{r.Scenario, r.Variant}
		switch r.Consumer {
		case kafkaEOSConsumer:
			eos[k] = r.EventsPerSec
			order = append(order, k)
		case kafkaALOConsumer:
			alo[k] = r.EventsPerSec
		}
	}
	var notes []string
	for _, k := range order {
		if o, ok := eosOverhead(alo[k], eos[k]); ok {
			notes = append(notes, fmt.Sprintf("%s, %s: exactly-once overhead from the medians (at-least-once events/s ÷ exactly-once events/s − 1): %.1f%%", k.s, k.v, o*100))
		}
	}
	return notes
}

// drainCDCDKafka drains a slot with cdcd into a Kafka broker of its own
// (kfake, in this process), exactly once or at least once, until a
// read_committed consumer in this process has seen every row and the end
// marker; that moment is the delivery time. cdcd is then stopped with
// SIGTERM. The broker's and the consumer's CPU are the harness's, not in
// the measured Usage.
func drainCDCDKafka(ctx context.Context, env Env, pg *testenv.PG, b backlog, dir string, exactlyOnce bool) (Measurement, error) {
	env.Log.Info("draining with cdcd into Kafka", "exactly_once", exactlyOnce)
	slot, consumer, sub := kafkaALOSlot, kafkaALOConsumer, "kafka-alo"
	if exactlyOnce {
		slot, consumer, sub = kafkaEOSSlot, kafkaEOSConsumer, "kafka-eos"
	}
	dir = filepath.Join(dir, sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Measurement{}, err
	}
	k, err := testenv.StartKafka()
	if err != nil {
		return Measurement{}, err
	}
	defer k.Close()
	cl, err := newReadCommittedConsumer(k.Brokers(), benchTopic, benchEndTopic)
	if err != nil {
		return Measurement{}, err
	}
	defer cl.Close()
	cctx, cancel := context.WithTimeout(ctx, drainTimeout(env.Rows)+time.Minute)
	defer cancel()
	if err := createTopics(cctx, cl, benchTopic, benchEndTopic); err != nil {
		return Measurement{}, err
	}
	ws := followWalsender(cctx, pg, slot, 10*time.Millisecond)
	defer ws.stop()
	p, err := startCDCD(cctx, env.CDCD, dir, cdcdConfig{
		DSN: pg.DSN(benchDB), Tables: []string{"public.bench", "public.bench_end"},
		Slot: slot, Publication: publication, StateDir: filepath.Join(dir, "state"),
		Kafka: &kafkaSinkConfig{Brokers: k.Brokers(), ExactlyOnce: exactlyOnce},
	}, nil)
	if err != nil {
		return Measurement{}, err
	}
	wctx, cancel2 := context.WithTimeout(cctx, drainTimeout(env.Rows))
	defer cancel2()
	doneAt, err := waitBacklogDelivered(wctx, cl, p, &backlogDelivery{rows: env.Rows})
	if err != nil {
		if !p.exited() {
			err = fmt.Errorf("%w; goroutine dump in %s", err, p.logPath)
			p.dumpAndKill()
		}
		return Measurement{}, err
	}
	wcpu, err := ws.stop()
	if err != nil {
		p.stop(cctx)
		return Measurement{}, err
	}
	u, _, err := p.stop(cctx)
	if err != nil {
		return Measurement{}, err
	}
	return Measurement{Scenario: backlogScenario, Consumer: consumer,
		Events: env.Rows, Elapsed: doneAt.Sub(p.start), Usage: u, WalsenderCPU: wcpu}, nil
}

// drainRecvlogical drains the limit slot with pg_recvlogical up to the end
// marker and checks that it read everything.
func drainRecvlogical(ctx context.Context, env Env, pg *testenv.PG, c *pgx.Conn, b backlog, dir string) (Measurement, error) {
	rl, err := recvlogicalPath(pg)
	if err != nil {
		return Measurement{}, err
	}
	env.Log.Info("draining with pg_recvlogical")
	ctx, cancel := context.WithTimeout(ctx, drainTimeout(env.Rows))
	defer cancel()
	ws := followWalsender(ctx, pg, limitSlot, 10*time.Millisecond)
	defer ws.stop()
	p, err := startProc(ctx, "pg_recvlogical", rl, []string{
		"-d", pg.DSN(benchDB), "--slot", limitSlot, "--start",
		"--endpos", formatLSN(b.endpos), "--no-loop", "-f", "/dev/null",
		// The options cdcd's source asks for, so the walsender does the same work.
		"-o", "proto_version=1", "-o", "publication_names=" + publication, "-o", "messages=true",
	}, nil, filepath.Join(dir, "pg_recvlogical.log"))
	if err != nil {
		return Measurement{}, err
	}
	u, wall, err := p.wait(ctx)
	if err != nil {
		return Measurement{}, err
	}
	wcpu, err := ws.stop()
	if err != nil {
		return Measurement{}, err
	}
	var confirmed string
	if err := c.QueryRow(ctx, `SELECT coalesce(confirmed_flush_lsn::text, '0/0') FROM pg_replication_slots WHERE slot_name = $1`, limitSlot).Scan(&confirmed); err != nil {
		return Measurement{}, fmt.Errorf("checking pg_recvlogical's slot: %w", err)
	}
	if lsn, err := parseLSN(confirmed); err != nil || lsn < b.before {
		return Measurement{}, fmt.Errorf("pg_recvlogical exited with its slot confirmed at %s, before the end of the backlog %s: it did not read everything", confirmed, formatLSN(b.before))
	}
	return Measurement{Scenario: backlogScenario, Consumer: "pg_recvlogical → /dev/null",
		Events: env.Rows, Elapsed: wall, Usage: u, WalsenderCPU: wcpu}, nil
}

// drainCDCD drains a slot with cdcd until its checkpoint covers the end
// marker, then stops it with SIGTERM. With discard, cdcd's discard sink
// measures the source and pipeline without encoding.
func drainCDCD(ctx context.Context, env Env, pg *testenv.PG, c *pgx.Conn, b backlog, dir string, discard bool) (Measurement, error) {
	env.Log.Info("draining with cdcd", "discard", discard)
	// The harness watches the checkpoint file, saved at every flush; on
	// /dev/shm that costs microseconds, where creating files in this
	// machine's /tmp costs ~0.6 ms each and would be measured instead of cdcd.
	root := stateRoot(dir)
	if root != dir {
		defer os.RemoveAll(root)
	}
	stateDir := filepath.Join(root, "state")
	slot := cdcdSlot
	sinkPath, consumer := "/dev/null", "cdcd → jsonl /dev/null"
	if discard {
		slot, consumer, stateDir = discardSlot, "cdcd → discard", filepath.Join(root, "state-discard")
	} else if env.Verify {
		sinkPath, consumer = filepath.Join(dir, "events.jsonl"), "cdcd → jsonl file (-verify)"
	}
	// A minute more than the drain may take, for diagnosing a stall.
	cctx, cancel := context.WithTimeout(ctx, drainTimeout(env.Rows)+time.Minute)
	defer cancel()
	ws := followWalsender(cctx, pg, slot, 10*time.Millisecond)
	defer ws.stop()
	p, err := startCDCD(cctx, env.CDCD, dir, cdcdConfig{
		DSN: pg.DSN(benchDB), Tables: []string{"public.bench", "public.bench_end"},
		Slot: slot, Publication: publication, SinkPath: sinkPath, StateDir: stateDir, Discard: discard,
		// The harness sees progress through the checkpoint file.
		SaveEveryFlush: true,
	}, nil)
	if err != nil {
		return Measurement{}, err
	}
	wctx, cancel2 := context.WithTimeout(cctx, drainTimeout(env.Rows))
	defer cancel2()
	doneAt, err := waitCheckpoint(wctx, p, checkpointPath(stateDir), b.before, 10*time.Millisecond)
	if err != nil {
		if !p.exited() {
			err = fmt.Errorf("%w; %s; goroutine dump in %s", err, slotState(cctx, c, slot, stateDir), p.logPath)
			p.dumpAndKill()
		}
		return Measurement{}, err
	}
	wcpu, err := ws.stop()
	if err != nil {
		p.stop(cctx)
		return Measurement{}, err
	}
	if env.Verify && !discard {
		// Before the stop, which flushes: the checkpoint must not run
		// ahead of what the sink wrote. The rows and the end marker.
		if n, err := countLines(sinkPath); err != nil || n != env.Rows+1 {
			p.stop(cctx)
			return Measurement{}, fmt.Errorf("-verify: %s holds %d events when the checkpoint covers the end marker, want %d (%v)", sinkPath, n, env.Rows+1, err)
		}
	}
	u, _, err := p.stop(cctx)
	if err != nil {
		return Measurement{}, err
	}
	return Measurement{Scenario: backlogScenario, Consumer: consumer,
		Events: env.Rows, Elapsed: doneAt.Sub(p.start), Usage: u, WalsenderCPU: wcpu}, nil
}

// countLines counts the newlines of the file at path.
func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	n := 0
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// stateRoot returns a directory on /dev/shm for the run in dir when
// /dev/shm is writable, else dir itself.
func stateRoot(dir string) string {
	shm := filepath.Join("/dev/shm", "cdcd-bench-"+filepath.Base(filepath.Dir(dir))+"-"+filepath.Base(dir))
	if err := os.MkdirAll(shm, 0o755); err != nil {
		return dir
	}
	return shm
}
