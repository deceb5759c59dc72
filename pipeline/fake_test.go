package pipeline

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

// errTransient is what the fakes return when told to fail.
var errTransient = errors.New("fake: connection reset")

// logSource is a fake source over an in-memory, durable change log of
// transactions: it behaves like a replication slot, resuming after the
// checkpoint it is opened with.
type logSource struct {
	mu       sync.Mutex
	txs      [][]event.Event // the log; transaction i commits at position i+1
	next     int
	chunk    int     // max events per batch; 0 = whole transactions
	failRead float64 // probability that Read fails transiently
	rnd      *rand.Rand
	acks     []event.Checkpoint
	durable  func() event.Checkpoint // the sink's durable checkpoint, to check acks against
	badAcks  []string
	opens    int
	infinite func(i int) []event.Event // when set, generates transaction i forever
	pendingC []event.Batch
}

var fakeSource = &event.SourceInfo{Kind: "fake", ServerID: "f1", DB: "db", Pipeline: "p"}

// newLog builds n transactions of 1..maxSize events each.
func newLog(n, maxSize int, seed uint64) [][]event.Event {
	rnd := rand.New(rand.NewPCG(seed, seed))
	txs := make([][]event.Event, n)
	for i := range txs {
		commit := uint64(i + 1)
		size := 1 + rnd.IntN(maxSize)
		for j := 0; j < size; j++ {
			txs[i] = append(txs[i], event.Event{
				Op:     event.OpInsert,
				Table:  event.TableID{Namespace: "public", Name: "t"},
				After:  event.Row{{Name: "id", Value: event.Int(int64(i*1000 + j))}},
				Pos:    event.Position{Commit: commit, Index: uint32(j)},
				Source: fakeSource,
			})
		}
	}
	return txs
}

func (s *logSource) Open(ctx context.Context, cp *event.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opens++
	s.next = 0
	s.pendingC = nil
	if cp != nil {
		// Resume like a slot does: from the transaction holding cp.
		s.next = int(cp.Pos.Commit) - 1
		if cp.Pos.IsTxEnd() {
			s.next++
		}
		if s.next < 0 {
			s.next = 0
		}
	}
	return nil
}

func (s *logSource) Read(ctx context.Context) (event.Batch, error) {
	s.mu.Lock()
	if s.rnd != nil && s.rnd.Float64() < s.failRead {
		s.mu.Unlock()
		return event.Batch{}, errTransient
	}
	if len(s.pendingC) > 0 {
		b := s.pendingC[0]
		s.pendingC = s.pendingC[1:]
		s.mu.Unlock()
		return b, nil
	}
	var tx []event.Event
	if s.infinite != nil {
		tx = s.infinite(s.next)
	} else if s.next < len(s.txs) {
		tx = s.txs[s.next]
	}
	if tx == nil {
		s.mu.Unlock()
		<-ctx.Done() // caught up: wait like a real source
		return event.Batch{}, ctx.Err()
	}
	commit := uint64(s.next + 1)
	s.next++
	chunk := s.chunk
	if chunk <= 0 {
		chunk = len(tx)
	}
	var out []event.Batch
	for start := 0; start < len(tx); start += chunk {
		end := min(start+chunk, len(tx))
		evs := append([]event.Event(nil), tx[start:end]...)
		b := event.Batch{Events: evs, Final: end == len(tx), CommitTime: time.Now()}
		if b.Final {
			b.Checkpoint.Pos = event.TxEnd(commit)
		} else {
			b.Checkpoint.Pos = evs[len(evs)-1].Pos
		}
		out = append(out, b)
	}
	s.pendingC = out[1:]
	s.mu.Unlock()
	return out[0], nil
}

func (s *logSource) Ack(ctx context.Context, cp event.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.durable != nil {
		if d := s.durable(); d.Pos.Less(cp.Pos) {
			s.badAcks = append(s.badAcks, fmt.Sprintf("ack %s beyond durable %s", cp.Pos, d.Pos))
		}
	}
	if n := len(s.acks); n > 0 && !s.acks[n-1].Pos.Less(cp.Pos) {
		s.badAcks = append(s.badAcks, fmt.Sprintf("ack %s not after %s", cp.Pos, s.acks[n-1].Pos))
	}
	s.acks = append(s.acks, cp)
	return nil
}

func (s *logSource) Close() error { return nil }

func (s *logSource) lastAck() (event.Checkpoint, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.acks) == 0 {
		return event.Checkpoint{}, false
	}
	return s.acks[len(s.acks)-1], true
}

// txSink is a fake transactional, exactly-once sink (think: a replica
// database). Its durable state survives sessions; what was written but not
// flushed is lost on failure or close, like an open database transaction.
type txSink struct {
	mu         sync.Mutex
	committed  []event.Event
	cp         event.Checkpoint
	hasCP      bool
	pending    []event.Event
	pendingCP  event.Checkpoint
	hasPending bool
	failWrite  float64
	failFlush  float64
	rnd        *rand.Rand
	flushGate  chan struct{} // when set, Flush waits for it
	writeDelay time.Duration
	discard    bool // count events instead of keeping them
	count      int
	// saveEvery makes Flush commit at most this often, like a sink that
	// saves its checkpoint file at most every second.
	saveEvery time.Duration
	lastSave  time.Time
}

func (s *txSink) Open(ctx context.Context) (event.Checkpoint, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending, s.hasPending = nil, false
	return s.cp, s.hasCP, nil
}

func (s *txSink) Write(ctx context.Context, b *event.Batch) error {
	if s.writeDelay > 0 {
		time.Sleep(s.writeDelay)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rnd != nil && s.rnd.Float64() < s.failWrite {
		s.pending, s.hasPending = nil, false
		return errTransient
	}
	if s.discard {
		s.count += len(b.Events)
	} else {
		s.pending = append(s.pending, b.Events...)
	}
	// An exactly-once sink commits whole source transactions only.
	if b.Final {
		s.pendingCP, s.hasPending = b.Checkpoint, true
	}
	return nil
}

func (s *txSink) Flush(ctx context.Context) (event.Checkpoint, error) {
	if s.flushGate != nil {
		select {
		case <-s.flushGate:
		case <-ctx.Done():
			return event.Checkpoint{}, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rnd != nil && s.rnd.Float64() < s.failFlush {
		s.pending, s.hasPending = nil, false
		return event.Checkpoint{}, errTransient
	}
	if !s.hasPending || (s.saveEvery > 0 && time.Since(s.lastSave) < s.saveEvery) {
		return s.cp, nil
	}
	s.lastSave = time.Now()
	// Commit up to the last complete transaction; keep the open one pending.
	n := 0
	for n < len(s.pending) && !s.pendingCP.Pos.Less(s.pending[n].Pos) {
		n++
	}
	s.committed = append(s.committed, s.pending[:n]...)
	s.pending = append([]event.Event(nil), s.pending[n:]...)
	s.cp, s.hasCP, s.hasPending = s.pendingCP, true, false
	return s.cp, nil
}

func (s *txSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending, s.hasPending = nil, false
	return nil
}

func (s *txSink) durable() event.Checkpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cp
}

func (s *txSink) committedCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.committed)
}
