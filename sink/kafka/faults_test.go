package kafka

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/cdcd-dev/cdcd/pipeline"
)

// TestFailuresNeverDuplicate injects broker failures into the produce, the
// commit and the commit's answer. After each, the sink either hides the
// failure (the client retried) or fails with a retryable error; reopening
// and replaying from the checkpoint Open returns, as the pipeline does,
// leaves every event exactly once, in order, for read_committed consumers.
func TestFailuresNeverDuplicate(t *testing.T) {
	faults := []struct {
		name      string
		wantError bool
		// mayError: the fault may or may not reach Flush (the client's
		// idempotent retry usually hides a dropped produce, but the broker
		// can answer the retry with OUT_OF_ORDER_SEQUENCE_NUMBER); either
		// way the end result must be exactly once.
		mayError bool
		inject   func(t *testing.T, k *testenv.KafkaServer, txnID string, healed *atomic.Bool)
	}{
		{"produce connection dropped", false, true, func(t *testing.T, k *testenv.KafkaServer, txnID string, healed *atomic.Bool) {
			faultControl(k, healed, kmsg.Produce, func(req kmsg.Request) (kmsg.Response, error, bool) {
				if !producesFor(req, txnID) {
					return nil, nil, false
				}
				return nil, errors.New("drop the connection"), true
			})
		}},
		{"produce refused", true, false, func(t *testing.T, k *testenv.KafkaServer, txnID string, healed *atomic.Bool) {
			faultControl(k, healed, kmsg.Produce, func(req kmsg.Request) (kmsg.Response, error, bool) {
				if !producesFor(req, txnID) {
					return nil, nil, false
				}
				return refuseProduce(req.(*kmsg.ProduceRequest), kerr.InvalidRecord), nil, true
			})
		}},
		{"commit refused", true, false, func(t *testing.T, k *testenv.KafkaServer, txnID string, healed *atomic.Bool) {
			faultControl(k, healed, kmsg.EndTxn, func(req kmsg.Request) (kmsg.Response, error, bool) {
				if r := req.(*kmsg.EndTxnRequest); !r.Commit || r.TransactionalID != txnID {
					return nil, nil, false
				}
				resp := req.ResponseKind().(*kmsg.EndTxnResponse)
				resp.ErrorCode = kerr.UnknownServerError.Code
				return resp, nil, true
			})
		}},
		{"commit lost before the broker", true, false, func(t *testing.T, k *testenv.KafkaServer, txnID string, healed *atomic.Bool) {
			// Every attempt, the client's retries included, is lost.
			faultControl(k, healed, kmsg.EndTxn, func(req kmsg.Request) (kmsg.Response, error, bool) {
				if r := req.(*kmsg.EndTxnRequest); !r.Commit || r.TransactionalID != txnID {
					return nil, nil, false
				}
				k.Cluster.KeepControl()
				return nil, errors.New("drop the connection"), true
			})
		}},
		{"commit answer lost after the broker committed", true, false, func(t *testing.T, k *testenv.KafkaServer, txnID string, healed *atomic.Bool) {
			side := k.Client(t)
			var sideDone, inSide atomic.Bool
			faultControl(k, healed, kmsg.EndTxn, func(req kmsg.Request) (kmsg.Response, error, bool) {
				r := req.(*kmsg.EndTxnRequest)
				if !r.Commit || r.TransactionalID != txnID || inSide.Load() {
					return nil, nil, false
				}
				k.Cluster.KeepControl()
				if sideDone.Load() {
					// The client's retries are lost too: it never
					// learns the outcome.
					return nil, errors.New("drop the connection"), true
				}
				// While this request sleeps, the same commit reaches the
				// broker on another connection; then this one is dropped
				// without an answer.
				var committed error
				inSide.Store(true)
				k.Cluster.SleepControl(func() {
					defer inSide.Store(false)
					defer sideDone.Store(true)
					ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
					defer cancel()
					resp, err := side.Request(ctx, r)
					if err == nil {
						err = kerr.ErrorForCode(resp.(*kmsg.EndTxnResponse).ErrorCode)
					}
					committed = err
				})
				if committed != nil {
					t.Errorf("side commit: %v", committed)
				}
				return nil, errors.New("drop the connection"), true
			})
		}},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			k, err := testenv.StartKafka()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(k.Close) // runs after the clients' cleanups (LIFO)
			opts := testOptions(t, k)
			// Give up on lost requests quickly.
			opts.ClientOpts = []kgo.Opt{kgo.RetryTimeout(2 * time.Second), kgo.RequestRetries(3)}
			topic := opts.Pipeline + ".public.t"
			batches := []event.Batch{txn(1, 2), txn(2, 3), txn(3, 1), txn(4, 2)}

			s, _, _ := open(t, opts)
			write(t, s, batches[0])
			flush(t, s)
			var healed atomic.Bool
			f.inject(t, k, opts.transactionalID(), &healed)
			write(t, s, batches[1:3]...)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			cp, err := s.Flush(ctx)
			cancel()
			switch {
			case f.wantError && err == nil:
				t.Fatalf("Flush succeeded (at %s) despite the fault", cp.Pos)
			case err != nil && !pipeline.IsRetryable(err):
				t.Fatalf("Flush: %v is not retryable", err)
			case !f.wantError && !f.mayError && err != nil:
				t.Fatalf("Flush: %v", err)
			}
			if err == nil {
				write(t, s, batches[3])
				flush(t, s)
			} else {
				healed.Store(true)
				// The pipeline closes and reopens, and the source
				// replays after the checkpoint Open returns.
				s.Close()
				s2, cp, ok := open(t, opts)
				if !ok {
					t.Fatal("no checkpoint after the failure")
				}
				t.Logf("reopened at %s after: %v", cp.Pos, err)
				for _, b := range batches {
					if cp.Pos.Less(b.Checkpoint.Pos) {
						write(t, s2, b)
					}
				}
				if got := flush(t, s2); got.Pos != batches[3].Checkpoint.Pos {
					t.Fatalf("Flush after replay returned %s", got.Pos)
				}
			}
			got := ids(readTopic(t, k, topic, true))
			if want := wantIDs(batches...); !equalStrings(got, want) {
				t.Fatalf("read_committed sees\n%v\nwant\n%v", got, want)
			}
		})
	}
}

// producesFor reports whether a produce request is transactional id's.
func producesFor(req kmsg.Request, txnID string) bool {
	id := req.(*kmsg.ProduceRequest).TransactionID
	return id != nil && *id == txnID
}

// refuseProduce answers a produce request with code for every partition.
func refuseProduce(req *kmsg.ProduceRequest, code *kerr.Error) *kmsg.ProduceResponse {
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		st.TopicID = rt.TopicID
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.ErrorCode = code.Code
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp
}

// faultControl installs fn as a control of requests of key until healed
// is set.
func faultControl(k *testenv.KafkaServer, healed *atomic.Bool, key kmsg.Key, fn func(kmsg.Request) (kmsg.Response, error, bool)) {
	k.Cluster.ControlKey(int16(key), func(req kmsg.Request) (kmsg.Response, error, bool) {
		if healed.Load() {
			k.Cluster.DropControl()
			return nil, nil, false
		}
		return fn(req)
	})
}

// TestTransactionTimeoutIsNotMistakenForFencing lets the broker abort a
// transaction that stays open past the transaction timeout (a source
// transaction read too slowly): the sink reports a retryable error that
// names the timeout, not another instance, and the replay is exactly once.
func TestTransactionTimeoutIsNotMistakenForFencing(t *testing.T) {
	k, err := testenv.StartKafka()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	opts := testOptions(t, k)
	opts.TransactionTimeout = time.Second
	topic := opts.Pipeline + ".public.t"
	s, _, _ := open(t, opts)
	first := txn(1, 1)
	write(t, s, first)
	flush(t, s)
	big := chunks(txn(2, 4), 2)
	write(t, s, big[0])
	flush(t, s) // mid-transaction: the Kafka transaction stays open

	checkFor(t, 10*time.Second, "the chunk reaches the broker", func() bool { return len(readTopic(t, k, topic, false)) == 3 })
	adm := kadm.NewClient(k.Client(t))
	checkFor(t, 10*time.Second, "the broker aborts the transaction", func() bool {
		d, err := adm.DescribeTransactions(context.Background(), opts.transactionalID())
		if err != nil {
			return false
		}
		tx, ok := d[opts.transactionalID()]
		return ok && tx.State != "Ongoing"
	})
	write(t, s, big[1])
	_, err = s.Flush(context.Background())
	if err == nil || !pipeline.IsRetryable(err) || errors.Is(err, ErrFenced) || !strings.Contains(err.Error(), "transaction timeout") {
		t.Fatalf("Flush after the broker's abort: %v; want a retryable error naming the transaction timeout", err)
	}
	s.Close()
	s2, cp, ok := open(t, opts)
	if !ok || cp.Pos != first.Checkpoint.Pos {
		t.Fatalf("reopened at %v %v", cp.Pos, ok)
	}
	write(t, s2, big...)
	flush(t, s2)
	if got := ids(readTopic(t, k, topic, true)); !equalStrings(got, wantIDs(first, txn(2, 4))) {
		t.Fatalf("read_committed sees %v", got)
	}
}
