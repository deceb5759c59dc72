package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink"
)

var _ sink.Sink = (*Sink)(nil)

// abortTimeout bounds the best-effort abort after a failure and at Close.
const abortTimeout = 10 * time.Second

// Sink writes events to Kafka (see the package doc for the guarantees).
// Open, Write, Flush and Close are called from one goroutine, as package
// sink requires.
type Sink struct {
	opts        Options
	log         *slog.Logger
	dataConfigs map[string]*string

	sess *session // nil when not open

	// Caches that survive sessions.
	topics    map[topicKey]string
	dbzSchema map[*event.TableSchema]*dbzSchemas

	// Per session.
	known      map[string]struct{} // topics known to exist
	arena      arena
	lastTxID   string
	lastTxHash int32

	inTxn      bool             // exactly once: a Kafka transaction is open
	txnStart   time.Time        // when it was begun
	lastFinal  bool             // the last batch written ended its source transaction
	pending    event.Checkpoint // checkpoint of the last batch written (final only, with exactly once)
	hasPending bool             // pending is newer than committed
	committed  event.Checkpoint // the durable checkpoint
	broken     error            // a failure that needs a new session
	fenced     bool             // broken by a newer instance: do not touch the transaction again
}

// session is one Open's client and the produce failures it saw.
type session struct {
	cl        *kgo.Client
	adm       *kadm.Client
	recCtx    context.Context
	cancel    context.CancelFunc
	promiseFn func(*kgo.Record, error) // promise, made once

	failed atomic.Bool
	mu     sync.Mutex
	err    error // the first produce failure
}

func (ss *session) fail(err error) {
	ss.mu.Lock()
	if ss.err == nil {
		ss.err = err
	}
	ss.mu.Unlock()
	ss.failed.Store(true)
}

func (ss *session) firstErr() error {
	if !ss.failed.Load() {
		return nil
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.err
}

// New validates opts and returns a sink. It connects to nothing.
func New(opts Options) (*Sink, error) {
	opts.setDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Sink{
		opts:      opts,
		log:       opts.Logger.With("sink", "kafka", "pipeline", opts.Pipeline),
		topics:    make(map[topicKey]string),
		dbzSchema: make(map[*event.TableSchema]*dbzSchemas),
	}
	s.dataConfigs = opts.dataTopicConfigs()
	return s, nil
}

// exactlyOnce reports whether the sink is transactional.
func (s *Sink) exactlyOnce() bool { return !s.opts.AtLeastOnce }

// baseOpts are the client options shared by every client of the sink.
func (s *Sink) baseOpts() []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(s.opts.Brokers...),
		kgo.WithLogger(kgoLogger{s.log}),
		kgo.ClientID("cdcd-" + s.opts.Pipeline),
	}
	if s.opts.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(s.opts.TLS.Clone()))
	}
	if a := s.opts.SASL; a != nil {
		switch a.Mechanism {
		case "PLAIN":
			opts = append(opts, kgo.SASL(plain.Auth{User: a.User, Pass: a.Password}.AsMechanism()))
		case "SCRAM-SHA-256":
			opts = append(opts, kgo.SASL(scram.Auth{User: a.User, Pass: a.Password}.AsSha256Mechanism()))
		case "SCRAM-SHA-512":
			opts = append(opts, kgo.SASL(scram.Auth{User: a.User, Pass: a.Password}.AsSha512Mechanism()))
		}
	}
	return append(opts, s.opts.ClientOpts...)
}

// producerOpts are the options of the producing client.
func (s *Sink) producerOpts() []kgo.Opt {
	var codec kgo.CompressionCodec
	switch s.opts.Compression {
	case CompressionNone:
		codec = kgo.NoCompression()
	case CompressionLZ4:
		codec = kgo.Lz4Compression()
	case CompressionZstd:
		codec = kgo.ZstdCompression()
	case CompressionSnappy:
		codec = kgo.SnappyCompression()
	case CompressionGzip:
		codec = kgo.GzipCompression()
	}
	opts := []kgo.Opt{
		kgo.RecordPartitioner(hashPartitioner{}),
		kgo.ProducerBatchCompression(codec),
		kgo.MaxBufferedBytes(s.opts.MaxBufferedBytes),
		kgo.MaxBufferedRecords(s.opts.MaxBufferedRecords),
		kgo.ProducerLinger(s.opts.Linger),
		kgo.RecordDeliveryTimeout(s.opts.DeliveryTimeout),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	}
	if s.opts.BatchMaxBytes > 0 {
		opts = append(opts, kgo.ProducerBatchMaxBytes(s.opts.BatchMaxBytes))
	}
	if s.exactlyOnce() {
		opts = append(opts,
			kgo.TransactionalID(s.opts.transactionalID()),
			kgo.TransactionTimeout(s.opts.TransactionTimeout),
		)
	}
	return append(s.baseOpts(), opts...)
}

// Open connects, creates the offsets topic if it is missing, fences any
// other producer of this pipeline (exactly once) and returns the last
// committed checkpoint. It blocks until then or until ctx ends. A sink may
// be opened again after Close.
func (s *Sink) Open(ctx context.Context) (event.Checkpoint, bool, error) {
	s.Close()
	cl, err := kgo.NewClient(s.producerOpts()...)
	if err != nil {
		return event.Checkpoint{}, false, permanent(fmt.Errorf("kafka client: %w", err))
	}
	recCtx, cancel := context.WithCancel(context.Background())
	s.sess = &session{cl: cl, adm: kadm.NewClient(cl), recCtx: recCtx, cancel: cancel}
	s.sess.promiseFn = s.sess.promise
	s.known = make(map[string]struct{})
	s.arena = arena{}
	s.lastTxID = ""
	s.inTxn, s.lastFinal, s.hasPending = false, false, false
	s.broken, s.fenced = nil, false

	fail := func(what string, err error) (event.Checkpoint, bool, error) {
		s.Close()
		err = fmt.Errorf("%s: %w", what, err)
		if isPermanentKafka(err) {
			err = permanent(err)
		}
		return event.Checkpoint{}, false, err
	}
	if err := s.ensureOffsetsTopic(ctx); err != nil {
		return fail("preparing the offsets topic", err)
	}
	if s.exactlyOnce() {
		// Initializing the producer id fences every older producer of
		// this transactional id and aborts the transaction it left open,
		// before we read the checkpoint.
		if _, _, err := cl.ProducerID(ctx); err != nil {
			return fail(fmt.Sprintf("initializing the transactional producer %s", s.opts.transactionalID()), err)
		}
	}
	cp, ok, err := s.readCheckpoint(ctx)
	if err != nil {
		s.Close()
		return event.Checkpoint{}, false, err
	}
	s.committed = cp
	if ok {
		s.log.Info("read checkpoint", "pos", cp.Pos, "topic", s.opts.OffsetsTopic)
	}
	return cp, ok, nil
}

// Write produces the batch's records. With exactly once it begins a Kafka
// transaction when none is open. Records are produced asynchronously;
// Write blocks only while the producer's buffer is full (MaxBufferedBytes,
// MaxBufferedRecords) or a new topic is being created, and ends early when
// ctx does (the session is then broken: Flush fails and the pipeline
// reopens).
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	if s.sess == nil {
		return ErrNotOpen
	}
	if err := s.failure(); err != nil {
		return err
	}
	if s.exactlyOnce() && !s.inTxn {
		if err := s.sess.cl.BeginTransaction(); err != nil {
			return s.breakSession(fmt.Errorf("beginning a Kafka transaction: %w", err))
		}
		s.inTxn = true
		s.txnStart = time.Now()
	}
	// A cancellation during Write fails every record not yet sent: the
	// session breaks (records buffered before stay safe from a
	// cancellation that comes between Writes; see produce).
	stop := context.AfterFunc(ctx, s.sess.cancel)
	defer stop()
	for i := range b.Events {
		if err := s.produceEvent(ctx, &b.Events[i]); err != nil {
			return s.breakSession(fmt.Errorf("writing %s at %s: %w", b.Events[i].Table, b.Events[i].Pos, err))
		}
	}
	if err := ctx.Err(); err != nil {
		return s.breakSession(err)
	}
	s.lastFinal = b.Final
	if b.Final || !s.exactlyOnce() {
		s.pending, s.hasPending = b.Checkpoint, true
	}
	return nil
}

// Flush makes what was written durable and returns the durable checkpoint.
//
// Exactly once: when the last batch written ended its source transaction,
// Flush adds the checkpoint record to the Kafka transaction, waits for
// every record to be acknowledged and commits; it returns the new
// checkpoint. When the last batch is part of a source transaction still
// being read, Flush commits nothing and returns the previous checkpoint:
// the Kafka transaction stays open until the source transaction's final
// batch.
//
// At least once: Flush waits for every record to be acknowledged, then
// saves the last batch's checkpoint in the offsets topic.
//
// Any failure aborts the Kafka transaction (best effort) and returns an
// error; the sink must then be closed and opened again, and the source
// replays from the checkpoint Open returns. ErrFenced is permanent.
func (s *Sink) Flush(ctx context.Context) (event.Checkpoint, error) {
	if s.sess == nil {
		return event.Checkpoint{}, ErrNotOpen
	}
	if err := s.failure(); err != nil {
		return event.Checkpoint{}, err
	}
	if !s.exactlyOnce() {
		return s.flushAtLeastOnce(ctx)
	}
	if !s.inTxn || !s.lastFinal || !s.hasPending {
		return s.committed, nil
	}
	cp := s.pending
	s.produce(ctx, s.checkpointRecordFor(cp))
	if err := s.sess.cl.Flush(ctx); err != nil {
		return event.Checkpoint{}, s.breakSession(fmt.Errorf("waiting for the brokers to acknowledge the transaction's records: %w", err))
	}
	if err := s.failure(); err != nil {
		return event.Checkpoint{}, err
	}
	if err := s.sess.cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return event.Checkpoint{}, s.breakSession(fmt.Errorf("committing the Kafka transaction up to %s failed (it is aborted unless the commit went through, which the checkpoint Open reads tells): %w", cp.Pos, err))
	}
	s.inTxn, s.hasPending = false, false
	s.committed = cp
	return cp, nil
}

// flushAtLeastOnce is Flush without transactions.
func (s *Sink) flushAtLeastOnce(ctx context.Context) (event.Checkpoint, error) {
	if !s.hasPending {
		return s.committed, nil
	}
	cp := s.pending
	if err := s.sess.cl.Flush(ctx); err != nil {
		return event.Checkpoint{}, s.breakSession(fmt.Errorf("waiting for the brokers to acknowledge the records: %w", err))
	}
	if err := s.failure(); err != nil {
		return event.Checkpoint{}, err
	}
	r := s.checkpointRecordFor(cp)
	r.Context = s.sess.recCtx
	if err := s.sess.cl.ProduceSync(ctx, r).FirstErr(); err != nil {
		return event.Checkpoint{}, s.breakSession(fmt.Errorf("saving the checkpoint %s: %w", cp.Pos, err))
	}
	s.hasPending = false
	s.committed = cp
	return cp, nil
}

// failure returns the error that broke the session, if any, or the first
// produce failure (which breaks it now).
func (s *Sink) failure() error {
	if s.broken != nil {
		return s.broken
	}
	if err := s.sess.firstErr(); err != nil {
		return s.breakSession(fmt.Errorf("producing: %w", err))
	}
	return nil
}

// breakSession classifies err, aborts the open transaction (best effort)
// and remembers the error: until the next Open, Write and Flush return it.
func (s *Sink) breakSession(err error) error {
	if s.broken != nil {
		return s.broken
	}
	switch {
	case isFencing(err) && s.inTxn && time.Since(s.txnStart) >= s.opts.TransactionTimeout:
		// The broker aborted our transaction for being open too long
		// and bumped the epoch: not another instance.
		err = fmt.Errorf("the Kafka transaction was open longer than the transaction timeout (%v) and the broker aborted it; raise the transaction timeout if source transactions take that long to read: %w",
			s.opts.TransactionTimeout, err)
		s.fenced = true
	case isFencing(err):
		err = permanent(fmt.Errorf("%w: transactional id %s: %w", ErrFenced, s.opts.transactionalID(), err))
		s.fenced = true
	case isPermanentKafka(err):
		err = permanent(err)
	}
	s.broken = err
	s.abort()
	return err
}

// abort ends the open Kafka transaction with an abort, best effort: the
// next Open fences it anyway. After fencing it does nothing, so as not to
// disturb the instance that now owns the transactional id.
func (s *Sink) abort() {
	if !s.exactlyOnce() || !s.inTxn || s.fenced {
		s.inTxn = false
		return
	}
	s.inTxn, s.hasPending = false, false
	ctx, cancel := context.WithTimeout(context.Background(), abortTimeout)
	defer cancel()
	if err := s.sess.cl.AbortBufferedRecords(ctx); err != nil {
		s.log.Debug("aborting buffered records", "err", err)
	}
	if err := s.sess.cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
		s.log.Debug("aborting the Kafka transaction (the next open fences it)", "err", err)
	}
}

// Close aborts the open Kafka transaction, if any (best effort; what was
// written since the last commit is dropped), and closes the client. It is
// idempotent.
func (s *Sink) Close() error {
	if s.sess == nil {
		return nil
	}
	if s.inTxn && s.broken == nil {
		s.abort()
	}
	s.sess.cancel()
	s.sess.cl.Close()
	s.sess = nil
	s.inTxn = false
	return nil
}

// isFencing reports whether err says a newer producer epoch exists for our
// transactional id.
func isFencing(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch)
}

// kgoLogger passes franz-go's logs to slog, one level lower for info and
// debug (franz-go logs every transaction at info).
type kgoLogger struct{ l *slog.Logger }

func (k kgoLogger) Level() kgo.LogLevel {
	ctx := context.Background()
	switch {
	case k.l.Enabled(ctx, slog.LevelDebug-4):
		return kgo.LogLevelDebug
	case k.l.Enabled(ctx, slog.LevelDebug):
		return kgo.LogLevelInfo
	case k.l.Enabled(ctx, slog.LevelWarn):
		return kgo.LogLevelWarn
	}
	return kgo.LogLevelError
}

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	var l slog.Level
	switch level {
	case kgo.LogLevelError:
		l = slog.LevelError
	case kgo.LogLevelWarn:
		l = slog.LevelWarn
	case kgo.LogLevelInfo:
		l = slog.LevelDebug
	default:
		l = slog.LevelDebug - 4
	}
	k.l.Log(context.Background(), l, "kafka: "+msg, keyvals...)
}
