package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink"
	"github.com/cdcd-dev/cdcd/source"
	"github.com/cdcd-dev/cdcd/transform"
)

// State is where a pipeline is in its lifecycle.
type State uint8

// The states a pipeline goes through.
const (
	StateStarting State = iota
	StateStreaming
	StateRetrying
	StateStopped
)

func (s State) String() string {
	switch s {
	case StateStarting:
		return "starting"
	case StateStreaming:
		return "streaming"
	case StateRetrying:
		return "retrying"
	case StateStopped:
		return "stopped"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Observer is told what the pipeline does, for metrics and status. Its
// methods are called from the pipeline's goroutines and must not block.
type Observer interface {
	// StateChanged reports a new state; err is the cause of retrying or stopped.
	StateChanged(s State, err error)
	// BatchRead reports a batch after the transforms ran, before it is queued.
	BatchRead(b *event.Batch)
	// Flushed reports that the sink made events durable up to cp;
	// oldestCommit is the source commit time of the oldest batch in the flush.
	Flushed(cp event.Checkpoint, events int, took time.Duration, oldestCommit time.Time)
}

// Options tune a pipeline. The zero value of each field selects the
// documented default.
type Options struct {
	// Name identifies the pipeline in logs.
	Name string
	// MaxBatchEvents flushes the sink once this many events are pending. Default 10000.
	MaxBatchEvents int
	// MaxBatchBytes flushes the sink once this many bytes are pending. Default 16 MiB.
	MaxBatchBytes int64
	// Linger flushes pending events at most this long after the first was
	// written. Zero (the default) flushes as soon as the source is idle.
	Linger time.Duration
	// QueueBatches bounds the queue between reader and writer, in batches;
	// QueueBytes bounds its memory. Default 1024: small transactions pile
	// up into big sink transactions while the sink commits.
	QueueBatches int
	// QueueBytes bounds the bytes read but not yet durable. Default 64 MiB.
	QueueBytes int64
	// RetryInitial and RetryMax bound the backoff between sessions.
	// Defaults 500ms and 30s.
	RetryInitial, RetryMax time.Duration
	// ShutdownGrace bounds the final flush after cancellation. Default 20s.
	ShutdownGrace time.Duration
	// Logger receives the pipeline's logs. Default: slog.Default().
	Logger *slog.Logger
	// Observer, if set, is told about states, batches and flushes.
	Observer Observer
}

func (o *Options) setDefaults() {
	if o.MaxBatchEvents <= 0 {
		o.MaxBatchEvents = 10000
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = 16 << 20
	}
	if o.QueueBatches <= 0 {
		o.QueueBatches = 1024
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = 64 << 20
	}
	if o.RetryInitial <= 0 {
		o.RetryInitial = 500 * time.Millisecond
	}
	if o.RetryMax < o.RetryInitial {
		o.RetryMax = max(30*time.Second, o.RetryInitial)
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 20 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
}

// Pipeline moves batches from one source through a transform chain into
// one sink. It is not safe to call Run more than once at a time.
type Pipeline struct {
	src   source.Source
	chain transform.Chain
	snk   sink.Sink
	opts  Options
	log   *slog.Logger
}

// New returns a pipeline; it starts nothing.
func New(src source.Source, chain transform.Chain, snk sink.Sink, opts Options) (*Pipeline, error) {
	if src == nil || snk == nil {
		return nil, errors.New("pipeline: a source and a sink are required")
	}
	opts.setDefaults()
	return &Pipeline{src: src, chain: chain, snk: snk, opts: opts,
		log: opts.Logger.With("pipeline", opts.Name)}, nil
}

// Run runs sessions until ctx is done, the source reports it has nothing
// more to read (Run returns nil), or a permanent error occurs (returned).
// On cancellation it flushes what the sink holds within the grace period
// and returns ctx.Err().
func (p *Pipeline) Run(ctx context.Context) error {
	backoff := p.opts.RetryInitial
	for {
		p.opts.Observer.StateChanged(StateStarting, nil)
		delivered, err := p.session(ctx)
		switch {
		case err == nil:
			p.opts.Observer.StateChanged(StateStopped, nil)
			return nil
		case ctx.Err() != nil:
			p.opts.Observer.StateChanged(StateStopped, nil)
			return ctx.Err()
		case !IsRetryable(err):
			p.opts.Observer.StateChanged(StateStopped, err)
			return err
		}
		if delivered {
			backoff = p.opts.RetryInitial
		}
		wait := jitter(backoff)
		p.opts.Observer.StateChanged(StateRetrying, err)
		p.log.Warn("pipeline session failed; retrying from the last checkpoint", "err", err, "backoff", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			p.opts.Observer.StateChanged(StateStopped, nil)
			return ctx.Err()
		}
		backoff = min(2*backoff, p.opts.RetryMax)
	}
}

// jitter returns a duration drawn uniformly from [d/2, d], so restarting
// pipelines do not hit a recovering server in lockstep.
func jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// queued is a batch on its way from reader to writer, with the bytes it
// holds of the budget.
type queued struct {
	batch event.Batch
	bytes int64
}

// session runs one source/sink session. It returns nil when the source is
// exhausted, and reports whether anything new became durable.
func (p *Pipeline) session(ctx context.Context) (delivered bool, err error) {
	cp, ok, err := p.snk.Open(ctx)
	if err != nil {
		p.snk.Close()
		return false, stageErr(StageSink, fmt.Errorf("opening sink: %w", err))
	}
	defer p.snk.Close()
	var from *event.Checkpoint
	if ok {
		from = &cp
	}
	if err := p.src.Open(ctx, from); err != nil {
		p.src.Close()
		return false, stageErr(StageSource, fmt.Errorf("opening source: %w", err))
	}
	defer p.src.Close()
	if ok {
		p.log.Info("resuming from checkpoint", "pos", cp.Pos)
	} else {
		p.log.Info("starting without checkpoint")
	}
	p.opts.Observer.StateChanged(StateStreaming, nil)

	readCtx, stopReading := context.WithCancel(ctx)
	queue := make(chan queued, p.opts.QueueBatches)
	readErr := make(chan error, 1)
	bud := newBudget(p.opts.QueueBytes)
	go func() { readErr <- p.read(readCtx, queue, bud, from) }()
	defer func() {
		stopReading()
		<-readErr
	}()

	w := writer{p: p, bud: bud, acked: cp}
	var lingerT *time.Timer
	// A sink may make less durable than it was given (a checkpoint saved at
	// most every second); when the source then goes quiet, nothing else
	// would call Flush again and the last transactions would stay
	// unacknowledged, pinning the slot. The refresh timer asks again.
	refreshT := time.NewTimer(time.Hour)
	refreshT.Stop()
	refreshArmed := false
	defer func() {
		if lingerT != nil {
			lingerT.Stop()
		}
		refreshT.Stop()
	}()
	for {
		var lingerC <-chan time.Time
		if w.events > 0 && p.opts.Linger > 0 {
			if lingerT == nil {
				lingerT = time.NewTimer(p.opts.Linger)
			}
			lingerC = lingerT.C
		}
		if w.behind() != refreshArmed {
			refreshArmed = !refreshArmed
			if refreshArmed {
				refreshT.Reset(refreshInterval)
			} else {
				refreshT.Stop()
			}
		}
		select {
		case <-refreshT.C:
			refreshArmed = false
			if err := w.flush(ctx); err != nil {
				return w.delivered, err
			}
		case q := <-queue:
			if err := w.write(ctx, q); err != nil {
				return w.delivered, err
			}
			idle := len(queue) == 0 && p.opts.Linger == 0
			if w.events >= p.opts.MaxBatchEvents || w.bytes >= p.opts.MaxBatchBytes || idle {
				if err := w.flush(ctx); err != nil {
					return w.delivered, err
				}
			}
			if w.events == 0 && lingerT != nil {
				lingerT.Stop()
				lingerT = nil
			}
		case <-lingerC:
			lingerT = nil
			if err := w.flush(ctx); err != nil {
				return w.delivered, err
			}
		case rerr := <-readErr:
			readErr <- rerr // for the deferred wait
			// Everything queued before the reader stopped is still good.
			for len(queue) > 0 {
				if err := w.write(ctx, <-queue); err != nil {
					return w.delivered, err
				}
			}
			if err := w.flush(ctx); err != nil {
				return w.delivered, err
			}
			if errors.Is(rerr, io.EOF) {
				p.log.Info("source finished")
				return w.delivered, nil
			}
			return w.delivered, rerr
		case <-ctx.Done():
			stopReading()
			p.log.Info("stopping: flushing what the sink holds", "grace", p.opts.ShutdownGrace)
			gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.opts.ShutdownGrace)
			err := w.flush(gctx)
			cancel()
			if err != nil {
				p.log.Error("final flush failed; the next start replays from the last checkpoint", "err", err)
			}
			return w.delivered, ctx.Err()
		}
	}
}

// read moves batches from the source through the transforms onto queue.
func (p *Pipeline) read(ctx context.Context, queue chan<- queued, bud *budget, from *event.Checkpoint) error {
	for {
		b, err := p.src.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				return err
			}
			return stageErr(StageSource, fmt.Errorf("reading source: %w", err))
		}
		if from != nil && !skipDurable(&b, from.Pos) {
			continue
		}
		if err := p.chain.ApplyBatch(&b); err != nil {
			return stageErr(StageTransform, Permanent(err))
		}
		n := int64(b.Bytes)
		if n <= 0 {
			n = estimateBytes(&b)
		}
		p.opts.Observer.BatchRead(&b)
		if err := bud.acquire(ctx, n); err != nil {
			return err
		}
		select {
		case queue <- queued{batch: b, bytes: n}:
		case <-ctx.Done():
			bud.release(n)
			return ctx.Err()
		}
	}
}

// skipDurable removes from b the events at or before pos, which the sink
// already holds; sources skip them too, this is the pipeline's own guard
// against a replay becoming a duplicate. It reports whether the batch is
// still worth delivering.
func skipDurable(b *event.Batch, pos event.Position) bool {
	if pos.Less(b.Checkpoint.Pos) {
		i := 0
		for i < len(b.Events) && !pos.Less(b.Events[i].Pos) {
			i++
		}
		b.Events = b.Events[i:]
		return true
	}
	return false
}

// estimateBytes approximates the memory a batch holds when the source did
// not say.
func estimateBytes(b *event.Batch) int64 {
	n := int64(64)
	for i := range b.Events {
		e := &b.Events[i]
		n += 256 + rowBytes(e.Before) + rowBytes(e.After) + rowBytes(e.Key)
		if e.Message != nil {
			n += int64(len(e.Message.Content))
		}
	}
	return n
}

func rowBytes(r event.Row) int64 {
	n := int64(len(r)) * 64
	for i := range r {
		n += int64(len(r[i].Value.Str()) + len(r[i].Value.Elems())*64)
	}
	return n
}

// refreshInterval is how soon Flush is called again when the sink made
// less durable than the complete transactions it was given.
const refreshInterval = 250 * time.Millisecond

// writer is the sink side of a session.
type writer struct {
	p         *Pipeline
	bud       *budget
	acked     event.Checkpoint
	written   event.Checkpoint // of the last final batch written
	events    int
	bytes     int64
	held      int64 // budget bytes of batches written since the last flush
	oldest    time.Time
	delivered bool
}

func (w *writer) write(ctx context.Context, q queued) error {
	if err := w.p.snk.Write(ctx, &q.batch); err != nil {
		w.bud.release(q.bytes)
		return stageErr(StageSink, fmt.Errorf("writing to sink: %w", err))
	}
	if w.events == 0 && w.oldest.IsZero() {
		w.oldest = q.batch.CommitTime
	}
	if q.batch.Final {
		w.written = q.batch.Checkpoint
	}
	w.events += len(q.batch.Events)
	w.bytes += q.bytes
	w.held += q.bytes
	return nil
}

// behind reports whether complete transactions were written but are not
// yet acknowledged as durable.
func (w *writer) behind() bool { return w.acked.Pos.Less(w.written.Pos) }

func (w *writer) flush(ctx context.Context) error {
	start := time.Now()
	cp, err := w.p.snk.Flush(ctx)
	// The sink holds no reference to flushed batches, whatever the outcome.
	w.bud.release(w.held)
	w.held = 0
	if err != nil {
		return stageErr(StageSink, fmt.Errorf("flushing sink: %w", err))
	}
	n := w.events
	w.events, w.bytes = 0, 0
	oldest := w.oldest
	w.oldest = time.Time{}
	if !w.acked.Pos.Less(cp.Pos) {
		return nil
	}
	w.p.opts.Observer.Flushed(cp, n, time.Since(start), oldest)
	if err := w.p.src.Ack(ctx, cp); err != nil {
		return stageErr(StageAck, fmt.Errorf("acknowledging %s to the source: %w", cp.Pos, err))
	}
	w.acked = cp
	w.delivered = true
	return nil
}

type nopObserver struct{}

func (nopObserver) StateChanged(State, error)                               {}
func (nopObserver) BatchRead(*event.Batch)                                  {}
func (nopObserver) Flushed(event.Checkpoint, int, time.Duration, time.Time) {}
