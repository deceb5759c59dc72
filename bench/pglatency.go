package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// pgLatencyJSONL measures end-to-end latency, source commit → line read
// from cdcd's standard output, while a steady writer inserts env.Rate rows
// (default 2,000) per second in 10-row transactions for env.Duration.
// Commit times come from the events' source.commit_ts; writer, server,
// cdcd and harness share one machine and so one clock.
func pgLatencyJSONL(ctx context.Context, env Env) (Result, error) {
	return pgLatency(ctx, env, false)
}

// pgLatencyKafka is pgLatencyJSONL with cdcd writing exactly once to an
// in-process Kafka broker (kfake) and the latency taken when a
// read_committed consumer in the harness receives the record; env.Rate
// defaults to 5,000 rows/s.
func pgLatencyKafka(ctx context.Context, env Env) (Result, error) {
	return pgLatency(ctx, env, true)
}

// Default writer rates of the latency scenarios, for -rate 0.
const (
	latencyJSONLRate = 2000
	latencyKafkaRate = 5000
)

func pgLatency(ctx context.Context, env Env, kafka bool) (Result, error) {
	const txnRows = 10
	scenario, consumer := "pg-latency-jsonl", "cdcd → jsonl pipe"
	if kafka {
		scenario, consumer = "pg-latency-kafka", "cdcd → kafka (exactly once), read_committed consumer"
	}
	if env.Rate == 0 {
		env.Rate = latencyJSONLRate
		if kafka {
			env.Rate = latencyKafkaRate
		}
	}
	if env.Rate < txnRows || env.Duration <= 0 {
		return Result{}, fmt.Errorf("-rate must be at least %d rows/s and -duration positive", txnRows)
	}
	txns := int(float64(env.Rate) / txnRows * env.Duration.Seconds())
	total := txns * txnRows
	interval := time.Duration(float64(time.Second) * txnRows / float64(env.Rate))

	pg, err := startPostgres(ctx)
	if err != nil {
		return Result{}, err
	}
	defer pg.Close()
	c, err := pgx.Connect(ctx, pg.DSN(benchDB))
	if err != nil {
		return Result{}, fmt.Errorf("connecting to Postgres: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	for _, q := range []string{benchTableDDL, `CREATE PUBLICATION ` + publication + ` FOR TABLE public.bench`} {
		if _, err := c.Exec(ctx, q); err != nil {
			return Result{}, fmt.Errorf("preparing the schema: %w", err)
		}
	}
	if err := createSlot(ctx, c, cdcdSlot); err != nil {
		return Result{}, err
	}

	cctx, cancel := context.WithTimeout(ctx, env.Duration+2*time.Minute)
	defer cancel()
	rd := &latencyReader{want: total, enough: make(chan struct{})}
	readDone := make(chan error, 1)
	cfg := cdcdConfig{
		DSN: pg.DSN(benchDB), Tables: []string{"public.bench"},
		Slot: cdcdSlot, Publication: publication, SinkPath: "-", StateDir: filepath.Join(env.WorkDir, "state"),
	}
	var p *proc
	// stopReading ends the reader after cdcd stopped: the pipe's EOF ends
	// the jsonl reader; the Kafka consumer needs its context cancelled.
	stopReading := func() {}
	if kafka {
		k, err := testenv.StartKafka()
		if err != nil {
			return Result{}, err
		}
		defer k.Close()
		cl, err := newReadCommittedConsumer(k.Brokers(), benchTopic)
		if err != nil {
			return Result{}, err
		}
		defer cl.Close()
		if err := createTopics(cctx, cl, benchTopic); err != nil {
			return Result{}, err
		}
		cfg.Kafka = &kafkaSinkConfig{Brokers: k.Brokers(), ExactlyOnce: true}
		rctx, rcancel := context.WithCancel(cctx)
		defer rcancel()
		stopReading = rcancel
		go func() { readDone <- rd.consume(rctx, cl) }()
	}
	ws := followWalsender(cctx, pg, cdcdSlot, 50*time.Millisecond)
	defer ws.stop()
	if kafka {
		p, err = startCDCD(cctx, env.CDCD, env.WorkDir, cfg, nil)
		if err != nil {
			return Result{}, err
		}
	} else {
		r, w, err := os.Pipe()
		if err != nil {
			return Result{}, err
		}
		defer r.Close()
		p, err = startCDCD(cctx, env.CDCD, env.WorkDir, cfg, w)
		w.Close() // cdcd has its own copy; EOF comes when it exits
		if err != nil {
			return Result{}, err
		}
		go func() { readDone <- rd.read(r) }()
	}
	stopCDCD := func() (Usage, error) {
		u, _, err := p.stop(context.WithoutCancel(cctx))
		stopReading()
		return u, err
	}

	if err := waitSlotActive(cctx, c, cdcdSlot, 30*time.Second); err != nil {
		stopCDCD()
		return Result{}, fmt.Errorf("cdcd did not start streaming: %w%s", err, p.logTail())
	}

	env.Log.Info("writing", "rows_per_s", env.Rate, "duration", env.Duration, "txns", txns)
	wc, err := pgx.Connect(ctx, pg.DSN(benchDB))
	if err != nil {
		stopCDCD()
		return Result{}, fmt.Errorf("connecting the writer: %w", err)
	}
	defer wc.Close(context.WithoutCancel(ctx))
	insert := `INSERT INTO public.bench SELECT ` + benchRowsSelect + ` FROM generate_series($1::bigint, $2::bigint) g`
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for k := 0; k < txns; k++ {
		// Pace by the schedule, not by the previous insert, so a slow
		// insert does not lower the rate.
		if d := time.Until(start.Add(time.Duration(k) * interval)); d > 0 {
			timer.Reset(d)
			select {
			case <-cctx.Done():
				stopCDCD()
				return Result{}, cctx.Err()
			case <-timer.C:
			}
		}
		first := int64(k*txnRows + 1)
		if _, err := wc.Exec(cctx, insert, first, first+txnRows-1); err != nil {
			stopCDCD()
			return Result{}, fmt.Errorf("writer: %w", err)
		}
	}
	writeSpan := time.Since(start)

	select {
	case <-rd.enough:
	case err := <-readDone:
		stopCDCD()
		return Result{}, fmt.Errorf("cdcd's output ended after %d of %d events: %v%s", rd.count.Load(), total, err, p.logTail())
	case <-time.After(time.Minute):
		err := fmt.Errorf("only %d of %d events after a minute; %s; goroutine dump in %s",
			rd.count.Load(), total, slotState(ctx, c, cdcdSlot, filepath.Join(env.WorkDir, "state")), p.logPath)
		p.dumpAndKill()
		return Result{}, err
	}
	wcpu, err := ws.stop()
	if err != nil {
		stopCDCD()
		return Result{}, err
	}
	u, err := stopCDCD()
	if err != nil {
		return Result{}, err
	}
	if err := <-readDone; err != nil {
		return Result{}, err
	}

	var res Result
	if kafka {
		res.Notes = append(res.Notes, scenario+": the kfake broker and the read_committed consumer run in the harness process; "+
			"their CPU is not in cdcd's CPU s/M")
	}
	if got := float64(total) / writeSpan.Seconds(); got < 0.95*float64(env.Rate) {
		res.Notes = append(res.Notes, fmt.Sprintf("%s: the writer reached only %.0f of %d rows/s", scenario, got, env.Rate))
	}
	res.Measurements = []Measurement{{
		Scenario: scenario,
		Variant:  fmt.Sprintf("%d rows/s in %d-row txns for %s", env.Rate, txnRows, env.Duration),
		Consumer: consumer,
		Events:   total,
		Elapsed:  rd.last.Sub(start),
		Usage:    u,
		// From cdcd's start, like Usage.
		WalsenderCPU: wcpu,
		Latency:      latencyStats(rd.latencies[:total]),
	}}
	return res, nil
}

// latencyReader reads cdcd's jsonl output and records, for each line, the
// time it was read minus the event's commit time.
type latencyReader struct {
	want   int           // events expected
	enough chan struct{} // closed when want events were read

	// Written by read only; last and latencies are read by others after
	// enough is closed or read returned.
	count     atomic.Int64 // events read so far
	last      time.Time    // when the want-th event was read
	latencies []time.Duration
}

// read consumes r to EOF. Lines without a commit_ts are an error.
func (l *latencyReader) read(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		if err := l.add(time.Now(), sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// consume polls cl until ctx ends, each record's value an event; it
// returns nil when ctx ends and the first fetch error otherwise.
func (l *latencyReader) consume(ctx context.Context, cl *kgo.Client) error {
	for {
		fs := cl.PollFetches(ctx)
		now := time.Now()
		if ctx.Err() != nil {
			return nil
		}
		for _, fe := range fs.Errors() {
			return fmt.Errorf("consuming %s: %w", fe.Topic, fe.Err)
		}
		var err error
		fs.EachRecord(func(r *kgo.Record) {
			if err == nil {
				err = l.add(now, r.Value)
			}
		})
		if err != nil {
			return err
		}
	}
}

// add records the event line received at now. Lines without a commit_ts
// are an error. It closes enough when the want-th line arrives.
func (l *latencyReader) add(now time.Time, line []byte) error {
	if l.latencies == nil {
		l.latencies = make([]time.Duration, 0, l.want)
	}
	ts, ok := commitTS(line)
	if !ok {
		return fmt.Errorf("event %d has no source.commit_ts: %.200s", l.count.Load()+1, line)
	}
	l.latencies = append(l.latencies, now.Sub(ts))
	if l.count.Add(1) == int64(l.want) {
		l.last = now
		close(l.enough)
	}
	return nil
}

var commitTSKey = []byte(`"commit_ts":"`)

// commitTS finds and parses the first "commit_ts" string of a JSON event
// line without decoding the rest of it.
func commitTS(line []byte) (time.Time, bool) {
	i := bytes.Index(line, commitTSKey)
	if i < 0 {
		return time.Time{}, false
	}
	rest := line[i+len(commitTSKey):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(rest[:j]))
	return t, err == nil
}

// slotState describes how far cdcd got, for error messages: the slot's
// confirmed position, the server's WAL position and cdcd's checkpoint.
func slotState(ctx context.Context, c *pgx.Conn, slot, stateDir string) string {
	var confirmed, current string
	err := c.QueryRow(ctx, `SELECT coalesce(confirmed_flush_lsn::text, '?'), pg_current_wal_lsn()::text
		FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&confirmed, &current)
	if err != nil {
		return fmt.Sprintf("slot %s: %v", slot, err)
	}
	cp := "none"
	if pos, ok, err := readCheckpoint(checkpointPath(stateDir)); err != nil {
		cp = err.Error()
	} else if ok {
		cp = pos.String()
	}
	return fmt.Sprintf("slot %s confirmed at %s, WAL at %s, cdcd checkpoint %s", slot, confirmed, current, cp)
}
