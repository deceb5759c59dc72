package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Topics of the Kafka scenarios: cdcd's default template, and what it
// makes of the captured tables.
const (
	benchTopicTemplate = "cdc.{namespace}.{table}"
	benchTopic         = "cdc.public.bench"
	benchEndTopic      = "cdc.public.bench_end"
)

// newReadCommittedConsumer returns a kgo client on brokers that consumes
// topics from their start with isolation level read_committed, as a
// downstream consumer of an exactly-once pipeline would. The caller closes it.
func newReadCommittedConsumer(brokers []string, topics ...string) (*kgo.Client, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.MetadataMinAge(100*time.Millisecond),
	)
	if err != nil {
		return nil, fmt.Errorf("creating the Kafka consumer: %w", err)
	}
	return cl, nil
}

// createTopics creates topics with one partition each, before cdcd and
// the consumer use them, so the consumer need not wait for a metadata
// refresh to discover them. A topic that exists already is left alone.
func createTopics(ctx context.Context, cl *kgo.Client, topics ...string) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	for _, t := range topics {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = t, 1, 1
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("creating topics %v: %w", topics, err)
	}
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("creating topic %s: %w", rt.Topic, err)
		}
	}
	return nil
}

// backlogDelivery tracks what a read_committed consumer has seen of a
// backlog: the rows of bench and the end marker in bench_end.
type backlogDelivery struct {
	rows   int // records wanted in bench
	seen   int // records seen in bench, duplicates included
	marker bool
}

// add records one fetched record; it reports whether the backlog is now
// fully delivered: the end marker and at least rows records of bench.
func (d *backlogDelivery) add(topic string) bool {
	switch topic {
	case benchTopic:
		d.seen++
	case benchEndTopic:
		d.marker = true
	}
	return d.done()
}

func (d *backlogDelivery) done() bool { return d.marker && d.seen >= d.rows }

// waitBacklogDelivered polls cl until d is done and returns the time it
// saw that. It fails when ctx ends or cdcd (p) exits first.
func waitBacklogDelivered(ctx context.Context, cl *kgo.Client, p *proc, d *backlogDelivery) (time.Time, error) {
	for {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		fs := cl.PollFetches(pctx)
		cancel()
		now := time.Now()
		done := false
		fs.EachRecord(func(r *kgo.Record) {
			if d.add(r.Topic) {
				done = true
			}
		})
		if done {
			return now, nil
		}
		if err := ctx.Err(); err != nil {
			return time.Time{}, fmt.Errorf("waiting for the backlog in Kafka (%d of %d rows, end marker %t): %w", d.seen, d.rows, d.marker, err)
		}
		for _, fe := range fs.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) && !errors.Is(fe.Err, context.Canceled) {
				return time.Time{}, fmt.Errorf("consuming %s: %w", fe.Topic, fe.Err)
			}
		}
		if p.exited() {
			_, _, err := p.wait(ctx)
			return time.Time{}, fmt.Errorf("cdcd exited before the backlog was in Kafka (%d of %d rows, end marker %t): %v%s", d.seen, d.rows, d.marker, err, p.logTail())
		}
	}
}
