package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cdcd-dev/cdcd/event"
)

// checkpointRecord is the value of a checkpoint record in the offsets
// topic; the record key is the pipeline name.
type checkpointRecord struct {
	V        int            `json:"v"`
	Pipeline string         `json:"pipeline"`
	Pos      event.Position `json:"pos"`
	State    []byte         `json:"state"` // base64; null when the source keeps none
}

// encodeCheckpoint returns the checkpoint record value for cp.
func encodeCheckpoint(pipeline string, cp event.Checkpoint) []byte {
	b, err := json.Marshal(checkpointRecord{V: 1, Pipeline: pipeline, Pos: cp.Pos, State: cp.State})
	if err != nil { // cannot happen: every field marshals
		panic(err)
	}
	return b
}

// decodeCheckpoint parses a checkpoint record value.
func decodeCheckpoint(pipeline string, value []byte) (event.Checkpoint, error) {
	var rec checkpointRecord
	if err := json.Unmarshal(value, &rec); err != nil {
		return event.Checkpoint{}, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	if rec.V != 1 {
		return event.Checkpoint{}, fmt.Errorf("%w: version %d (this cdcd reads version 1)", ErrBadCheckpoint, rec.V)
	}
	if rec.Pipeline != pipeline {
		return event.Checkpoint{}, fmt.Errorf("%w: it names pipeline %q", ErrBadCheckpoint, rec.Pipeline)
	}
	return event.Checkpoint{Pos: rec.Pos, State: rec.State}, nil
}

// checkpointRecordFor returns the record that saves cp. It always goes to
// partition 0 of the offsets topic, where readCheckpoint looks.
func (s *Sink) checkpointRecordFor(cp event.Checkpoint) *kgo.Record {
	return &kgo.Record{
		Topic:     s.opts.OffsetsTopic,
		Key:       []byte(s.opts.Pipeline),
		Value:     encodeCheckpoint(s.opts.Pipeline, cp),
		Partition: 0, // the hash hashPartitioner reads: 0 mod n is 0
	}
}

// ensureOffsetsTopic creates the offsets topic, compacted with one
// partition, unless it exists.
func (s *Sink) ensureOffsetsTopic(ctx context.Context) error {
	compact := "compact"
	return s.ensureTopic(ctx, s.opts.OffsetsTopic, 1, map[string]*string{"cleanup.policy": &compact})
}

// readCheckpoint returns the pipeline's last committed checkpoint: the
// value of the last record keyed by the pipeline name in partition 0 of
// the offsets topic, read with read_committed from the start up to the
// high watermark as of now.
//
// With exactly once the caller must have initialized the producer id
// first: that fences our previous incarnation and aborts any transaction
// it left open, so nothing of ours is pending below the high watermark.
// Transactions of other pipelines that share the topic may still be open;
// a read_committed fetch then waits (up to their transaction timeout) until
// they end, because our own last checkpoint may lie beyond their start.
func (s *Sink) readCheckpoint(ctx context.Context) (event.Checkpoint, bool, error) {
	topic := s.opts.OffsetsTopic
	ends, err := s.sess.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return event.Checkpoint{}, false, fmt.Errorf("listing the end of %s: %w", topic, err)
	}
	end, ok := ends.Lookup(topic, 0)
	if !ok {
		return event.Checkpoint{}, false, fmt.Errorf("listing the end of %s: no partition 0", topic)
	}
	if end.Err != nil {
		return event.Checkpoint{}, false, fmt.Errorf("listing the end of %s: %w", topic, end.Err)
	}
	if end.Offset <= 0 {
		return event.Checkpoint{}, false, nil
	}
	starts, err := s.sess.adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return event.Checkpoint{}, false, fmt.Errorf("listing the start of %s: %w", topic, err)
	}
	if start, ok := starts.Lookup(topic, 0); ok && start.Err == nil && start.Offset >= end.Offset {
		return event.Checkpoint{}, false, nil
	}

	cl, err := kgo.NewClient(append(s.baseOpts(),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		// Control records (commit and abort markers) are delivered so that
		// we see the consumer reach the end even when it ends in one.
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(500*time.Millisecond),
	)...)
	if err != nil {
		return event.Checkpoint{}, false, permanent(fmt.Errorf("offsets consumer: %w", err))
	}
	defer cl.Close()

	var last []byte
	found := false
	waitLogged := false
	started := time.Now()
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		fetches := cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return event.Checkpoint{}, false, err
		}
		var ferr error
		fetches.EachError(func(_ string, _ int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) && ferr == nil {
				ferr = err
			}
		})
		if ferr != nil && !kerr.IsRetriable(ferr) {
			return event.Checkpoint{}, false, fmt.Errorf("reading %s: %w", topic, ferr)
		}
		done := false
		fetches.EachRecord(func(r *kgo.Record) {
			if r.Offset >= end.Offset-1 {
				done = true
			}
			if r.Offset >= end.Offset || r.Attrs.IsControl() || string(r.Key) != s.opts.Pipeline {
				return
			}
			last, found = r.Value, true
		})
		if done {
			break
		}
		if !waitLogged && time.Since(started) > 5*time.Second {
			waitLogged = true
			s.log.Warn("waiting for open transactions in the offsets topic to end before reading the checkpoint (another pipeline's instance may have crashed mid-commit; its transaction times out)",
				"topic", topic, "end", end.Offset)
		}
	}
	if !found {
		return event.Checkpoint{}, false, nil
	}
	cp, err := decodeCheckpoint(s.opts.Pipeline, last)
	if err != nil {
		return event.Checkpoint{}, false, permanent(fmt.Errorf("reading the checkpoint of %s from %s: %w", s.opts.Pipeline, topic, err))
	}
	return cp, true, nil
}
