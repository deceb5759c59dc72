package metrics

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/pipeline"
)

// clock is a settable time source.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestMetrics() (*Metrics, *prometheus.Registry, *clock) {
	reg := prometheus.NewRegistry()
	m := New(reg, BuildInfo{Version: "test", Commit: "abc", GoVersion: "go"})
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	m.now = c.now
	return m, reg, c
}

func batchAt(commit uint64, ct time.Time, n int) *event.Batch {
	b := &event.Batch{Final: true, CommitTime: ct, Checkpoint: event.Checkpoint{Pos: event.TxEnd(commit)}}
	for i := 0; i < n; i++ {
		b.Events = append(b.Events, event.Event{Op: event.OpInsert, Table: event.TableID{Namespace: "public", Name: "orders"},
			Pos: event.Position{Commit: commit, Index: uint32(i)}})
	}
	return b
}

func TestMetricNamesPassTheLinter(t *testing.T) {
	m, reg, _ := newTestMetrics()
	p := m.Pipeline("orders")
	p.StateChanged(pipeline.StateStreaming, nil)
	p.BatchRead(batchAt(1, time.Now(), 2))
	p.Flushed(event.Checkpoint{Pos: event.TxEnd(1)}, 2, time.Millisecond, time.Now())
	p.SetSlotStats(func(context.Context) (SlotStats, error) {
		return SlotStats{RetainedBytes: 10, SafeWALBytes: -1, WALStatus: "reserved"}, nil
	})
	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		t.Errorf("%s: %s", pr.Metric, pr.Text)
	}
}

func TestLagsRiseWhileTheSinkStallsAndFallToZeroWhenCaughtUp(t *testing.T) {
	m, _, c := newTestMetrics()
	p := m.Pipeline("orders")
	p.StateChanged(pipeline.StateStreaming, nil)
	commit := c.t
	p.BatchRead(batchAt(10, commit, 3))

	c.t = commit.Add(2 * time.Second)
	src, e2e := p.Lags()
	if src != 2*time.Second || e2e != 2*time.Second {
		t.Fatalf("2s after the commit, nothing durable: lags %s, %s; want 2s, 2s", src, e2e)
	}
	// The sink stays stalled while newer transactions are read.
	p.BatchRead(batchAt(11, commit.Add(4*time.Second), 1))
	c.t = commit.Add(5 * time.Second)
	src, e2e = p.Lags()
	if src != time.Second || e2e != 5*time.Second {
		t.Fatalf("stalled sink: source lag %s (want 1s), end-to-end %s (want 5s, from the oldest undelivered commit)", src, e2e)
	}
	// The sink catches up and the source reports it is idle.
	p.Flushed(event.Checkpoint{Pos: event.TxEnd(11)}, 4, time.Millisecond, commit)
	p.BatchRead(&event.Batch{Checkpoint: event.Checkpoint{Pos: event.TxEnd(12)}}) // a keepalive
	c.t = commit.Add(60 * time.Second)
	if src, e2e = p.Lags(); src != 0 || e2e != 0 {
		t.Fatalf("idle and caught up: lags %s, %s; want 0, 0", src, e2e)
	}
}

func TestCountersAndStateAreExported(t *testing.T) {
	m, reg, _ := newTestMetrics()
	p := m.Pipeline("orders")
	p.StateChanged(pipeline.StateStreaming, nil)
	p.BatchRead(batchAt(1, time.Now(), 3))
	p.StateChanged(pipeline.StateRetrying, &pipeline.StageError{Stage: pipeline.StageSink, Err: errors.New("broker down")})
	want := `
# HELP cdcd_events_total Change events read from the source, after transforms, by operation and table.
# TYPE cdcd_events_total counter
cdcd_events_total{op="c",pipeline="orders",table="public.orders"} 3
# HELP cdcd_errors_total Errors that ended a pipeline session, by the stage they came from.
# TYPE cdcd_errors_total counter
cdcd_errors_total{kind="sink",pipeline="orders"} 1
# HELP cdcd_retries_total Sessions restarted after a transient error.
# TYPE cdcd_retries_total counter
cdcd_retries_total{pipeline="orders"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "cdcd_events_total", "cdcd_errors_total", "cdcd_retries_total"); err != nil {
		t.Fatal(err)
	}
	if st := p.Status(); st.Ready || st.State != "retrying" || st.LastError != "broker down" {
		t.Fatalf("status %+v", st)
	}
}

func TestAdminEndpoints(t *testing.T) {
	m, reg, _ := newTestMetrics()
	a, err := NewAdmin("127.0.0.1:0", m, reg, false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	defer func() { cancel(); <-done }()
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + a.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	p := m.Pipeline("orders")
	p.StateChanged(pipeline.StateStarting, nil)
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "pipeline orders is starting") {
		t.Fatalf("/readyz while starting: %d %q", code, body)
	}
	p.StateChanged(pipeline.StateStreaming, nil)
	if code, _ := get("/readyz"); code != 200 {
		t.Fatalf("/readyz while streaming: %d", code)
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz: %d", code)
	}
	if code, body := get("/status"); code != 200 || !strings.Contains(body, `"state": "streaming"`) {
		t.Fatalf("/status: %d %s", code, body)
	}
	if code, body := get("/metrics"); code != 200 || !strings.Contains(body, "cdcd_up 1") || !strings.Contains(body, `cdcd_pipeline_state{pipeline="orders",state="streaming"} 1`) {
		t.Fatalf("/metrics: %d\n%s", code, body)
	}
}

func TestAPortInUseIsReportedAtOnce(t *testing.T) {
	m, reg, _ := newTestMetrics()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := NewAdmin("127.0.0.1:0", m, reg, false, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.ln.Close()
	if _, err := NewAdmin(a.Addr(), m, reg, false, log); err == nil || !strings.Contains(err.Error(), "admin.listen") {
		t.Fatalf("second listener: %v, want an error naming admin.listen", err)
	}
}
