package metrics

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/pipeline"
)

// BuildInfo is exported as cdcd_build_info.
type BuildInfo struct {
	Version, Commit, GoVersion string
}

// Metrics holds the collectors of every pipeline of a process.
// It is safe for concurrent use.
type Metrics struct {
	mu        sync.Mutex
	pipelines map[string]*Pipeline
	now       func() time.Time

	events       *prometheus.CounterVec
	transactions *prometheus.CounterVec
	flushSeconds *prometheus.HistogramVec
	flushEvents  *prometheus.HistogramVec
	latency      *prometheus.HistogramVec
	errors       *prometheus.CounterVec
	retries      *prometheus.CounterVec
	conflicts    *prometheus.CounterVec
}

// New registers cdcd's collectors with reg.
func New(reg prometheus.Registerer, info BuildInfo) *Metrics {
	m := &Metrics{
		pipelines: map[string]*Pipeline{},
		now:       time.Now,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdcd_events_total", Help: "Change events read from the source, after transforms, by operation and table.",
		}, []string{"pipeline", "op", "table"}),
		transactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdcd_transactions_total", Help: "Source transactions read (including those whose events were all filtered out).",
		}, []string{"pipeline"}),
		flushSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cdcd_sink_batch_seconds", Help: "Time the sink took to make a batch durable.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}, []string{"pipeline"}),
		flushEvents: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cdcd_sink_batch_events", Help: "Events per durable sink batch.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 10),
		}, []string{"pipeline"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cdcd_end_to_end_latency_seconds", Help: "Source commit to sink durable, per sink batch (oldest transaction in the batch).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18),
		}, []string{"pipeline"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdcd_errors_total", Help: "Errors that ended a pipeline session, by the stage they came from.",
		}, []string{"pipeline", "kind"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdcd_retries_total", Help: "Sessions restarted after a transient error.",
		}, []string{"pipeline"}),
		conflicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cdcd_conflicts_total", Help: "Replica sink decisions on rows that disagree with an event, by target table, strategy and outcome.",
		}, []string{"pipeline", "table", "strategy", "outcome"}),
	}
	up := prometheus.NewGauge(prometheus.GaugeOpts{Name: "cdcd_up", Help: "1 while the cdcd process runs."})
	up.Set(1)
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "cdcd_build_info", Help: "cdcd's version, commit and Go version; always 1."},
		[]string{"version", "commit", "goversion"})
	build.WithLabelValues(info.Version, info.Commit, info.GoVersion).Set(1)
	reg.MustRegister(m.events, m.transactions, m.flushSeconds, m.flushEvents, m.latency, m.errors, m.retries, m.conflicts,
		up, build, (*scrapeCollector)(m))
	return m
}

// SlotStats is what a Postgres source reports about its slot.
type SlotStats struct {
	RetainedBytes int64
	SafeWALBytes  int64 // -1 when max_slot_wal_keep_size is unlimited
	WALStatus     string
}

// Pipeline observes one pipeline. It implements pipeline.Observer.
type Pipeline struct {
	m    *Metrics
	name string

	// Touched only by the pipeline's reader goroutine.
	counters map[counterKey]prometheus.Counter

	mu         sync.Mutex
	state      pipeline.State
	lastErr    string
	lastErrAt  time.Time
	readCommit time.Time // commit time of the last batch read with events or a commit time
	readIdle   bool      // the last batch read carried no commit time: the source is caught up
	readPos    event.Position
	inflight   []commitMark // read, not yet durable, in order
	durablePos event.Position
	durableAt  time.Time // when the checkpoint last advanced
	durableCT  time.Time // commit time of the last durable batch
	started    time.Time
	slotStats  func(context.Context) (SlotStats, error)
}

type counterKey struct {
	op    event.Op
	table event.TableID
}

type commitMark struct {
	pos    event.Position
	commit time.Time
}

// maxInflight bounds the marks kept for the end-to-end lag; beyond it the
// oldest are dropped and the lag reads slightly low rather than memory grow.
const maxInflight = 1 << 16

// Pipeline returns the observer of the named pipeline, creating it.
func (m *Metrics) Pipeline(name string) *Pipeline {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.pipelines[name]; ok {
		return p
	}
	p := &Pipeline{m: m, name: name, counters: map[counterKey]prometheus.Counter{}, started: m.now(), readIdle: true}
	m.pipelines[name] = p
	return p
}

// SetSlotStats registers a function read at scrape time for the slot metrics.
func (p *Pipeline) SetSlotStats(f func(context.Context) (SlotStats, error)) {
	p.mu.Lock()
	p.slotStats = f
	p.mu.Unlock()
}

// StateChanged implements pipeline.Observer.
func (p *Pipeline) StateChanged(s pipeline.State, err error) {
	p.mu.Lock()
	p.state = s
	if err != nil {
		p.lastErr, p.lastErrAt = err.Error(), p.m.now()
	}
	if s == pipeline.StateStarting || s == pipeline.StateRetrying {
		p.inflight = p.inflight[:0] // a new session replays from the checkpoint
		p.readPos = p.durablePos
	}
	p.mu.Unlock()
	if err != nil {
		kind := string(pipeline.ErrorStage(err))
		if kind == "" {
			kind = "other"
		}
		p.m.errors.WithLabelValues(p.name, kind).Inc()
	}
	if s == pipeline.StateRetrying {
		p.m.retries.WithLabelValues(p.name).Inc()
	}
}

// BatchRead implements pipeline.Observer. It is called from the reader
// goroutine only.
func (p *Pipeline) BatchRead(b *event.Batch) {
	for i := range b.Events {
		e := &b.Events[i]
		k := counterKey{e.Op, e.Table}
		c, ok := p.counters[k]
		if !ok {
			c = p.m.events.WithLabelValues(p.name, e.Op.String(), e.Table.String())
			p.counters[k] = c
		}
		c.Inc()
	}
	if b.Final {
		p.m.transactions.WithLabelValues(p.name).Inc()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.readPos = b.Checkpoint.Pos
	if b.CommitTime.IsZero() {
		p.readIdle = true
		return
	}
	p.readIdle = false
	p.readCommit = b.CommitTime
	if len(p.inflight) == maxInflight {
		p.inflight = append(p.inflight[:0], p.inflight[1:]...)
	}
	p.inflight = append(p.inflight, commitMark{b.Checkpoint.Pos, b.CommitTime})
}

// Flushed implements pipeline.Observer.
func (p *Pipeline) Flushed(cp event.Checkpoint, events int, took time.Duration, oldest time.Time) {
	now := p.m.now()
	p.m.flushSeconds.WithLabelValues(p.name).Observe(took.Seconds())
	p.m.flushEvents.WithLabelValues(p.name).Observe(float64(events))
	if !oldest.IsZero() {
		p.m.latency.WithLabelValues(p.name).Observe(max(now.Sub(oldest), 0).Seconds())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.durablePos, p.durableAt = cp.Pos, now
	n := 0
	for n < len(p.inflight) && !cp.Pos.Less(p.inflight[n].pos) {
		p.durableCT = p.inflight[n].commit
		n++
	}
	p.inflight = append(p.inflight[:0], p.inflight[n:]...)
}

// Conflict counts n replica-sink decisions; it satisfies the replica
// sinks' observer (sink/sqlapply.Observer) without them importing metrics.
func (p *Pipeline) Conflict(table, strategy, outcome string, n int) {
	p.m.conflicts.WithLabelValues(p.name, table, strategy, outcome).Add(float64(n))
}

// Lags returns the source lag (now − commit time of the last event read)
// and the end-to-end lag (now − commit time of the oldest event read but
// not yet durable, or the source lag when everything read is durable).
// Both are 0 when the pipeline is idle and caught up.
func (p *Pipeline) Lags() (source, endToEnd time.Duration) {
	now := p.m.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.readIdle && !p.readCommit.IsZero() {
		source = max(now.Sub(p.readCommit), 0)
	}
	endToEnd = source
	if len(p.inflight) > 0 {
		endToEnd = max(now.Sub(p.inflight[0].commit), source)
	}
	return source, endToEnd
}

// Status is a pipeline's state for /status and /readyz.
type Status struct {
	Name               string  `json:"name"`
	State              string  `json:"state"`
	Ready              bool    `json:"ready"`
	LastError          string  `json:"last_error,omitempty"`
	LastErrorAt        string  `json:"last_error_at,omitempty"`
	Position           string  `json:"position,omitempty"`
	CheckpointAge      float64 `json:"checkpoint_age_seconds"`
	SourceLagSeconds   float64 `json:"source_lag_seconds"`
	EndToEndLagSeconds float64 `json:"end_to_end_lag_seconds"`
}

// Status returns the pipeline's current status.
func (p *Pipeline) Status() Status {
	src, e2e := p.Lags()
	now := p.m.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	st := Status{Name: p.name, State: p.state.String(), Ready: p.state == pipeline.StateStreaming,
		LastError: p.lastErr, SourceLagSeconds: src.Seconds(), EndToEndLagSeconds: e2e.Seconds()}
	if !p.lastErrAt.IsZero() {
		st.LastErrorAt = p.lastErrAt.UTC().Format(time.RFC3339)
	}
	if !p.durablePos.IsZero() {
		st.Position = p.durablePos.String()
	}
	since := p.durableAt
	if since.IsZero() {
		since = p.started
	}
	st.CheckpointAge = now.Sub(since).Seconds()
	return st
}

// Statuses returns every pipeline's status, sorted by name.
func (m *Metrics) Statuses() []Status {
	m.mu.Lock()
	ps := make([]*Pipeline, 0, len(m.pipelines))
	for _, p := range m.pipelines {
		ps = append(ps, p)
	}
	m.mu.Unlock()
	sort.Slice(ps, func(i, j int) bool { return ps[i].name < ps[j].name })
	out := make([]Status, len(ps))
	for i, p := range ps {
		out[i] = p.Status()
	}
	return out
}

var (
	descSourceLag = prometheus.NewDesc("cdcd_source_lag_seconds",
		"Now minus the source commit time of the last event read; 0 when idle and caught up.", []string{"pipeline"}, nil)
	descE2ELag = prometheus.NewDesc("cdcd_end_to_end_lag_seconds",
		"Now minus the source commit time of the oldest event read but not yet durable in the sink; 0 when idle and caught up.", []string{"pipeline"}, nil)
	descState = prometheus.NewDesc("cdcd_pipeline_state",
		"1 for the state the pipeline is in, 0 for the others.", []string{"pipeline", "state"}, nil)
	descCPAge = prometheus.NewDesc("cdcd_checkpoint_age_seconds",
		"Time since the durable checkpoint last advanced (since start when it has not yet).", []string{"pipeline"}, nil)
	descCPPos = prometheus.NewDesc("cdcd_checkpoint_position",
		"The durable checkpoint's commit position as a number (Postgres LSN; MySQL binlog file index × 2^32 + position).", []string{"pipeline"}, nil)
	descSlotRetained = prometheus.NewDesc("cdcd_postgres_slot_retained_bytes",
		"WAL the replication slot holds back (pg_current_wal_lsn() − restart_lsn).", []string{"pipeline"}, nil)
	descSlotSafe = prometheus.NewDesc("cdcd_postgres_slot_safe_wal_bytes",
		"WAL that can still be written before the slot is lost (safe_wal_size); -1 when unlimited.", []string{"pipeline"}, nil)
	descSlotStatus = prometheus.NewDesc("cdcd_postgres_slot_wal_status",
		"1 for the slot's wal_status (reserved, extended, unreserved, lost), 0 for the others.", []string{"pipeline", "status"}, nil)
	walStatuses = []string{"reserved", "extended", "unreserved", "lost"}
	states      = []pipeline.State{pipeline.StateStarting, pipeline.StateStreaming, pipeline.StateRetrying, pipeline.StateStopped}
)

// scrapeCollector computes the gauges that depend on the time of the scrape.
type scrapeCollector Metrics

func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSourceLag, descE2ELag, descState, descCPAge, descCPPos, descSlotRetained, descSlotSafe, descSlotStatus} {
		ch <- d
	}
}

func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	m := (*Metrics)(c)
	m.mu.Lock()
	ps := make([]*Pipeline, 0, len(m.pipelines))
	for _, p := range m.pipelines {
		ps = append(ps, p)
	}
	m.mu.Unlock()
	for _, p := range ps {
		src, e2e := p.Lags()
		ch <- prometheus.MustNewConstMetric(descSourceLag, prometheus.GaugeValue, src.Seconds(), p.name)
		ch <- prometheus.MustNewConstMetric(descE2ELag, prometheus.GaugeValue, e2e.Seconds(), p.name)
		st := p.Status()
		ch <- prometheus.MustNewConstMetric(descCPAge, prometheus.GaugeValue, st.CheckpointAge, p.name)
		p.mu.Lock()
		state, pos, slot := p.state, p.durablePos, p.slotStats
		p.mu.Unlock()
		for _, s := range states {
			v := 0.0
			if s == state {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descState, prometheus.GaugeValue, v, p.name, s.String())
		}
		ch <- prometheus.MustNewConstMetric(descCPPos, prometheus.GaugeValue, float64(pos.Commit), p.name)
		if slot == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		ss, err := slot(ctx)
		cancel()
		if err != nil {
			continue // the source is down; its state says so
		}
		ch <- prometheus.MustNewConstMetric(descSlotRetained, prometheus.GaugeValue, float64(ss.RetainedBytes), p.name)
		ch <- prometheus.MustNewConstMetric(descSlotSafe, prometheus.GaugeValue, float64(ss.SafeWALBytes), p.name)
		for _, s := range walStatuses {
			v := 0.0
			if s == ss.WALStatus {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(descSlotStatus, prometheus.GaugeValue, v, p.name, s)
		}
	}
}
