package kafka

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/cdcd-dev/cdcd/pipeline"
)

func TestRecordsCarryKeyHeadersAndNativeJSON(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	s, _, ok := open(t, opts)
	if ok {
		t.Fatal("a new pipeline has a checkpoint")
	}
	b1, b2 := txn(1, 3), txn(2, 2)
	write(t, s, b1, b2)
	if cp := flush(t, s); cp.Pos != b2.Checkpoint.Pos {
		t.Fatalf("Flush returned %s, want %s", cp.Pos, b2.Checkpoint.Pos)
	}

	got := readTopic(t, k, opts.Pipeline+".public.t", true)
	if !equalStrings(ids(got), wantIDs(b1, b2)) {
		t.Fatalf("read_committed consumer sees %v, want %v", ids(got), wantIDs(b1, b2))
	}
	for i, e := range append(b1.Events, b2.Events...) {
		r := got[i]
		if want := string(e.Key.AppendJSON(nil)); r.Key != want {
			t.Errorf("record %d: key %s, want %s", i, r.Key, want)
		}
		if want := string(e.AppendJSON(nil)); r.Value != want {
			t.Errorf("record %d: value\n%s\nwant\n%s", i, r.Value, want)
		}
		dec, err := event.DecodeJSON([]byte(r.Value), testSchema)
		if err != nil || dec.Pos != e.Pos || !dec.After.Equal(e.After) {
			t.Errorf("record %d: decodes to %+v, %v", i, dec, err)
		}
		wantH := map[string]string{
			"cdcd-id": e.ID(), "cdcd-pos": e.Pos.String(), "cdcd-op": "c",
			"cdcd-table": "public.t", "cdcd-schema-version": "2",
		}
		for hk, hv := range wantH {
			if r.Headers[hk] != hv {
				t.Errorf("record %d: header %s = %q, want %q", i, hk, r.Headers[hk], hv)
			}
		}
		if len(r.Headers) != len(wantH) {
			t.Errorf("record %d: headers %v", i, r.Headers)
		}
	}
}

func TestCheckpointRoundTripsThroughTheOffsetsTopic(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	s, _, _ := open(t, opts)
	b := txn(7, 1)
	b.Checkpoint.State = []byte("{\"gtid\":\"x:1-7\"}\x00\xff")
	write(t, s, b)
	flush(t, s)
	s.Close()

	// Another pipeline committing later does not shadow ours.
	other := testOptions(t, k)
	s2, _, _ := open(t, other)
	write(t, s2, txn(99, 1))
	flush(t, s2)

	_, cp, ok := open(t, opts)
	if !ok || cp.Pos != b.Checkpoint.Pos || !bytes.Equal(cp.State, b.Checkpoint.State) {
		t.Fatalf("Open returned %v %q %v, want %v %q", cp.Pos, cp.State, ok, b.Checkpoint.Pos, b.Checkpoint.State)
	}

	// The offsets topic is compacted, with one partition, and the record
	// is keyed by pipeline.
	adm := kadm.NewClient(k.Client(t))
	ctx := context.Background()
	cfgs, err := adm.DescribeTopicConfigs(ctx, "cdcd.offsets")
	if err != nil {
		t.Fatal(err)
	}
	c, err := cfgs.On("cdcd.offsets", nil)
	if err != nil {
		t.Fatal(err)
	}
	policy := ""
	for _, kv := range c.Configs {
		if kv.Key == "cleanup.policy" && kv.Value != nil {
			policy = *kv.Value
		}
	}
	if policy != "compact" {
		t.Errorf("cleanup.policy of the offsets topic is %q, want compact", policy)
	}
	var mine []rec
	for _, r := range readTopic(t, k, "cdcd.offsets", true) {
		if r.Key == opts.Pipeline {
			mine = append(mine, r)
		}
	}
	if len(mine) != 1 || !strings.Contains(mine[0].Value, `"v":1,"pipeline":"`+opts.Pipeline+`","pos":"0000000000000007/FFFFFFFF","state":"`) {
		t.Fatalf("checkpoint records of the pipeline: %+v", mine)
	}
}

func TestFlushDoesNotCommitPartOfASourceTransaction(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	s, _, _ := open(t, opts)
	first := txn(1, 1)
	write(t, s, first)
	flush(t, s)
	big := chunks(txn(2, 10), 4)
	write(t, s, big[0])
	// The pipeline flushes when the queue is idle: mid-transaction, that
	// commits nothing and returns the last checkpoint.
	if cp := flush(t, s); cp.Pos != first.Checkpoint.Pos {
		t.Fatalf("Flush mid-transaction returned %s, want the previous checkpoint %s", cp.Pos, first.Checkpoint.Pos)
	}
	write(t, s, big[1])
	flush(t, s)
	// The records are in Kafka (uncommitted) but invisible to read_committed.
	topic := opts.Pipeline + ".public.t"
	checkFor(t, 10*time.Second, "8 records written", func() bool {
		return len(readTopic(t, k, topic, false)) == 9
	})
	// A reader would wait behind the open transaction; read what is
	// committed below it instead.
	if got := committedBelowOpenTxn(t, k, topic); !equalStrings(got, wantIDs(first)) {
		t.Fatalf("visible before the final chunk: %v, want only %v", got, wantIDs(first))
	}
	write(t, s, big[2])
	if cp := flush(t, s); cp.Pos != event.TxEnd(2) {
		t.Fatalf("Flush after the final chunk returned %s", cp.Pos)
	}
	whole := txn(2, 10)
	if got := ids(readTopic(t, k, topic, true)); !equalStrings(got, wantIDs(first, whole)) {
		t.Fatalf("read_committed sees %v, want %v", got, wantIDs(first, whole))
	}
}

// committedBelowOpenTxn returns the ids a read_committed consumer gets
// from topic's partition 0 within a short wait (it stops at the open
// transaction).
func committedBelowOpenTxn(t *testing.T, k *testenv.KafkaServer, topic string) []string {
	cl := k.Client(t,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.FetchMaxWait(50*time.Millisecond),
	)
	var got []string
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			for _, h := range r.Headers {
				if h.Key == headerID {
					got = append(got, string(h.Value))
				}
			}
		})
	}
	return got
}

func TestCrashMidTransactionReplaysWithoutDuplicates(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	topic := opts.Pipeline + ".public.t"
	s, _, _ := open(t, opts)
	b1, b2, b3 := txn(1, 2), txn(2, 3), txn(3, 2)
	write(t, s, b1)
	flush(t, s)
	write(t, s, b2)
	write(t, s, chunks(b3, 1)[0])
	// Make sure the uncommitted records reached the broker before the kill.
	checkFor(t, 10*time.Second, "records reach the broker", func() bool { return len(readTopic(t, k, topic, false)) == 6 })
	s.crash()

	s2, cp, ok := open(t, opts)
	if !ok || cp.Pos != b1.Checkpoint.Pos {
		t.Fatalf("Open after the crash returned %v, %v; want the last commit %s", cp.Pos, ok, b1.Checkpoint.Pos)
	}
	// The source replays from the checkpoint.
	write(t, s2, b2, b3)
	if cp := flush(t, s2); cp.Pos != b3.Checkpoint.Pos {
		t.Fatalf("Flush returned %s", cp.Pos)
	}
	if got := ids(readTopic(t, k, topic, true)); !equalStrings(got, wantIDs(b1, b2, b3)) {
		t.Fatalf("read_committed sees %v, want %v", got, wantIDs(b1, b2, b3))
	}
	if n := len(readTopic(t, k, topic, false)); n != 2+3+1+3+2 {
		t.Fatalf("read_uncommitted sees %d records; the test did not replay what it meant to", n)
	}
}

func TestCloseWithoutFlushDropsTheOpenTransaction(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	s, _, _ := open(t, opts)
	b1, b2 := txn(1, 1), txn(2, 1)
	write(t, s, b1)
	flush(t, s)
	write(t, s, b2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// Close aborted: the topic is readable at once, without b2.
	if got := ids(readTopic(t, k, opts.Pipeline+".public.t", true)); !equalStrings(got, wantIDs(b1)) {
		t.Fatalf("read_committed sees %v, want %v", got, wantIDs(b1))
	}
	if err := s.Write(context.Background(), &b2); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("Write after Close: %v", err)
	}
	// The same sink opens again.
	cp, ok, err := s.Open(context.Background())
	if err != nil || !ok || cp.Pos != b1.Checkpoint.Pos {
		t.Fatalf("reopen: %v %v %v", cp.Pos, ok, err)
	}
}

func TestASecondInstanceFencesTheFirst(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	s1, _, _ := open(t, opts)
	b1, b2 := txn(1, 1), txn(2, 1)
	write(t, s1, b1)
	flush(t, s1)
	write(t, s1, b2) // in an open transaction when the second instance starts

	s2, cp, ok := open(t, opts)
	if !ok || cp.Pos != b1.Checkpoint.Pos {
		t.Fatalf("second instance opened at %v %v", cp.Pos, ok)
	}
	_, err := s1.Flush(context.Background())
	if err == nil {
		t.Fatal("the fenced instance committed")
	}
	if !errors.Is(err, ErrFenced) || pipeline.IsRetryable(err) {
		t.Fatalf("fenced instance's Flush: %v (retryable %v); want a permanent ErrFenced", err, pipeline.IsRetryable(err))
	}
	if !strings.Contains(err.Error(), "another cdcd instance runs this pipeline") {
		t.Fatalf("error does not say why: %v", err)
	}
	// The fenced instance's next transaction fails too.
	if err := s1.Write(context.Background(), &b2); !errors.Is(err, ErrFenced) {
		t.Fatalf("fenced instance's Write: %v", err)
	}
	s1.Close()

	// The new owner carries on.
	write(t, s2, b2)
	flush(t, s2)
	if got := ids(readTopic(t, k, opts.Pipeline+".public.t", true)); !equalStrings(got, wantIDs(b1, b2)) {
		t.Fatalf("read_committed sees %v, want %v", got, wantIDs(b1, b2))
	}
}

func TestFencedBetweenTransactions(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	s1, _, _ := open(t, opts)
	write(t, s1, txn(1, 1))
	flush(t, s1)
	open(t, opts)
	b := txn(2, 1)
	err := s1.Write(context.Background(), &b)
	if err == nil {
		_, err = s1.Flush(context.Background())
	}
	if !errors.Is(err, ErrFenced) || pipeline.IsRetryable(err) {
		t.Fatalf("fenced instance: %v; want a permanent ErrFenced", err)
	}
}

func TestAtLeastOnceDeliversAndCheckpoints(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	opts.AtLeastOnce = true
	s, _, _ := open(t, opts)
	b1 := txn(1, 2)
	big := chunks(txn(2, 4), 2)
	write(t, s, b1, big[0])
	// At least once checkpoints after every acknowledged batch, final or not.
	if cp := flush(t, s); cp.Pos != big[0].Checkpoint.Pos {
		t.Fatalf("Flush returned %s, want %s", cp.Pos, big[0].Checkpoint.Pos)
	}
	topic := opts.Pipeline + ".public.t"
	if got := ids(readTopic(t, k, topic, true)); !equalStrings(got, wantIDs(b1, big[0])) {
		t.Fatalf("consumer sees %v", got)
	}
	// A crash after producing but before the checkpoint repeats events,
	// with the same ids.
	write(t, s, big[1])
	checkFor(t, 10*time.Second, "records reach the broker", func() bool { return len(readTopic(t, k, topic, true)) == 6 })
	s.crash()
	s2, cp, ok := open(t, opts)
	if !ok || cp.Pos != big[0].Checkpoint.Pos {
		t.Fatalf("Open returned %v %v", cp.Pos, ok)
	}
	write(t, s2, big[1])
	flush(t, s2)
	got := ids(readTopic(t, k, topic, true))
	want := append(wantIDs(b1, big[0], big[1]), wantIDs(big[1])...)
	if !equalStrings(got, want) {
		t.Fatalf("consumer sees %v, want %v", got, want)
	}
}

func TestTopicTemplateAndCreation(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	name := opts.Pipeline
	opts.Topic = "{pipeline}.{db}.{namespace}.{table}"
	opts.Partitions = 3
	opts.TopicConfigs = map[string]string{"retention.ms": "3600000"}
	// An existing topic is left as it is.
	existing := name + ".shop.public.existing"
	k.CreateTopic(t, existing, 2, nil)
	s, _, _ := open(t, opts)

	mk := func(ns, table, topic string) event.Event {
		e := txn(1, 1).Events[0]
		e.Table = event.TableID{Namespace: ns, Name: table}
		e.Topic = topic
		return e
	}
	b := event.Batch{Final: true, Checkpoint: event.Checkpoint{Pos: event.TxEnd(1)}, Events: []event.Event{
		mk("public", "orders", ""),
		mk("public", "existing", ""),
		mk("weird schema", "Tab/le$1", ""),
		mk("public", "orders", name+".routed"),
	}}
	write(t, s, b)
	flush(t, s)

	adm := kadm.NewClient(k.Client(t))
	want := map[string]int{
		name + ".shop.public.orders":         3,
		existing:                             2,
		name + ".shop.weird_schema.Tab_le_1": 3,
		name + ".routed":                     3,
	}
	details, err := adm.ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for topic, parts := range want {
		d, ok := details[topic]
		if !ok {
			t.Errorf("topic %s was not created", topic)
			continue
		}
		if len(d.Partitions) != parts {
			t.Errorf("topic %s has %d partitions, want %d", topic, len(d.Partitions), parts)
		}
		if n := len(readTopic(t, k, topic, true)); n != 1 {
			t.Errorf("topic %s holds %d records, want 1", topic, n)
		}
	}
	cfgs, err := adm.DescribeTopicConfigs(context.Background(), name+".shop.public.orders")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := cfgs.On(name+".shop.public.orders", nil)
	found := false
	for _, kv := range c.Configs {
		found = found || kv.Key == "retention.ms" && kv.Value != nil && *kv.Value == "3600000" && kv.Source == kmsg.ConfigSourceDynamicTopicConfig
	}
	if !found {
		t.Errorf("retention.ms was not set on the created topic")
	}
}

func TestTombstonesFollowDeletes(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	opts.Tombstones = true
	s, _, _ := open(t, opts)
	b := txn(1, 1)
	del := b.Events[0]
	del.Op, del.Before, del.After = event.OpDelete, del.After, nil
	del.Pos.Index = 1
	b.Events = append(b.Events, del)
	write(t, s, b)
	flush(t, s)
	got := readTopic(t, k, opts.Pipeline+".public.t", true)
	if len(got) != 3 {
		t.Fatalf("got %d records, want insert, delete, tombstone", len(got))
	}
	ins, d, tomb := got[0], got[1], got[2]
	if d.Headers[headerOp] != "d" || !strings.Contains(d.Value, `"op":"d"`) {
		t.Errorf("second record is not the delete: %+v", d)
	}
	if !tomb.Null || tomb.Key != `{"id":1000}` || tomb.Key != ins.Key || tomb.Partition != d.Partition {
		t.Errorf("third record is not a tombstone of the key: %+v", tomb)
	}
}

func TestPartitioning(t *testing.T) {
	k := testenv.Kafka(t)
	const parts = 8
	events := func() event.Batch {
		var b event.Batch
		for c := uint64(1); c <= 6; c++ {
			tx := txn(c, 5)
			for i := range tx.Events {
				if i%2 == 1 {
					tx.Events[i].Table.Name = "u"
				}
			}
			b.Events = append(b.Events, tx.Events...)
			b.Checkpoint, b.Final = tx.Checkpoint, true
		}
		return b
	}
	for _, by := range []PartitionBy{PartitionByKey, PartitionByTable, PartitionByTxID} {
		t.Run(string(by), func(t *testing.T) {
			opts := testOptions(t, k)
			opts.PartitionBy = by
			opts.Partitions = parts
			opts.Topic = opts.Pipeline
			s, _, _ := open(t, opts)
			b := events()
			write(t, s, b)
			flush(t, s)
			got := readTopic(t, k, opts.Pipeline, true)
			if len(got) != len(b.Events) {
				t.Fatalf("got %d records, want %d", len(got), len(b.Events))
			}
			partOf := map[string]int32{} // the partition of each group
			used := map[int32]bool{}
			for _, r := range got {
				var group string
				switch by {
				case PartitionByKey:
					group = r.Key
					if want := int32(partitionHash([]byte(r.Key))) % parts; r.Partition != want {
						t.Errorf("key %s in partition %d, want %d (murmur2 as Kafka's producer)", r.Key, r.Partition, want)
					}
				case PartitionByTable:
					group = r.Headers[headerTable]
				case PartitionByTxID:
					group = r.Headers[headerPos][:16]
				}
				used[r.Partition] = true
				if p, ok := partOf[group]; ok && p != r.Partition {
					t.Errorf("%s: group %s in partitions %d and %d", by, group, p, r.Partition)
				}
				partOf[group] = r.Partition
			}
			if len(used) < 2 {
				t.Errorf("%s: all records in one partition", by)
			}
		})
	}
}

func TestMurmur2MatchesFranzGo(t *testing.T) {
	hash := kgo.StickyKeyPartitioner(nil).ForTopic("x")
	for _, key := range []string{"", "a", "ab", "abc", "abcd", `{"id":1000}`, "héllo wörld, a longer key of 33b"} {
		r := &kgo.Record{Key: []byte(key)}
		for _, n := range []int{1, 3, 8, 100} {
			if got, want := int(partitionHash([]byte(key)))%n, hash.Partition(r, n); got != want {
				t.Errorf("key %q, %d partitions: %d, franz-go says %d", key, n, got, want)
			}
			if got := int(partitionHashString(key)) % n; got != hash.Partition(r, n) {
				t.Errorf("string key %q: %d", key, got)
			}
		}
	}
}

func TestRecordTooLargeNamesTableKeyAndSize(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	opts.TopicConfigs = map[string]string{"max.message.bytes": "2000"}
	opts.Compression = CompressionNone
	s, _, _ := open(t, opts)
	b := txn(1, 1)
	b.Events[0].After = event.Row{b.Events[0].After[0], {Name: "v", Value: event.String(strings.Repeat("x", 5000))}}
	err := s.Write(context.Background(), &b)
	if err == nil {
		_, err = s.Flush(context.Background())
	}
	var tooLarge *RecordTooLargeError
	if !errors.As(err, &tooLarge) || pipeline.IsRetryable(err) {
		t.Fatalf("got %v; want a permanent *RecordTooLargeError", err)
	}
	if tooLarge.Table != "public.t" || tooLarge.Key != `{"id":1000}` || tooLarge.Size < 5000 {
		t.Fatalf("error lacks table, key or size: %+v", tooLarge)
	}
	if !strings.Contains(err.Error(), "public.t") || !strings.Contains(err.Error(), `{"id":1000}`) {
		t.Fatalf("message: %v", err)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		opts Options
		want string
	}{
		{Options{Brokers: []string{"x:1"}}, "pipeline name is required"},
		{Options{Pipeline: "p"}, "at least one broker"},
		{Options{Pipeline: "p", Brokers: []string{"x:1"}, Topic: "cdc.{schema}"}, "unknown variable {schema}"},
		{Options{Pipeline: "p", Brokers: []string{"x:1"}, Topic: "cdc {table}"}, `character ' ' is not allowed`},
		{Options{Pipeline: "p", Brokers: []string{"x:1"}, Topic: "cdc.{table"}, "'{' without '}'"},
		{Options{Pipeline: "p", Brokers: []string{"x:1"}, OffsetsTopic: "a/b"}, "offsets topic"},
		{Options{Pipeline: "p", Brokers: []string{"x:1"}, Format: "avro"}, `unknown format "avro"`},
		{Options{Pipeline: "p", Brokers: []string{"x:1"}, Schemas: true}, "schemas is only for the debezium format"},
		{Options{Pipeline: "p", Brokers: []string{"x:1"}, Compression: "brotli"}, "unknown compression"},
		{Options{Pipeline: "p", Brokers: []string{"x:1"}, PartitionBy: "column"}, "unknown partition_by"},
		{Options{Pipeline: "p", Brokers: []string{"x:1"}, Partitions: -2}, "partitions -2"},
		{Options{Pipeline: "p", Brokers: []string{"x:1"}, SASL: &SASL{Mechanism: "GSSAPI"}}, "unknown SASL mechanism"},
	}
	for _, tt := range tests {
		_, err := New(tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New(%+v) = %v; want an error containing %q", tt.opts, err, tt.want)
		}
	}
	if _, err := New(Options{Pipeline: "p", Brokers: []string{"127.0.0.1:1"}}); err != nil {
		t.Fatalf("minimal options: %v", err)
	}
}

func TestTruncatesMessagesAndEmptyTransactions(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	s, _, _ := open(t, opts)
	trunc := event.Event{Op: event.OpTruncate, Table: testSchema.Table, Schema: testSchema,
		Pos: event.Position{Commit: 1}, Source: testSource}
	msg := event.Event{Op: event.OpMessage, Pos: event.Position{Commit: 1, Index: 1}, Source: testSource,
		Message: &event.Message{Prefix: "audit.v1", Content: []byte("hi"), Transactional: true}}
	write(t, s, event.Batch{Final: true, Checkpoint: event.Checkpoint{Pos: event.TxEnd(1)}, Events: []event.Event{trunc, msg}})
	flush(t, s)

	got := readTopic(t, k, opts.Pipeline+".public.t", true)
	if len(got) != 1 || got[0].Key != "" || got[0].Headers[headerOp] != "t" || got[0].Value != string(trunc.AppendJSON(nil)) {
		t.Fatalf("truncate: %+v", got)
	}
	// A message goes to the template with its prefix as the table.
	got = readTopic(t, k, opts.Pipeline+".message.audit.v1", true)
	if len(got) != 1 || got[0].Key != "" || got[0].Headers[headerTable] != "audit.v1" || got[0].Value != string(msg.AppendJSON(nil)) {
		t.Fatalf("message: %+v", got)
	}

	// A transaction whose events were all filtered out still advances the
	// checkpoint.
	write(t, s, event.Batch{Final: true, Checkpoint: event.Checkpoint{Pos: event.TxEnd(2)}})
	if cp := flush(t, s); cp.Pos != event.TxEnd(2) {
		t.Fatalf("Flush after an empty transaction returned %s", cp.Pos)
	}
	s.Close()
	if _, cp, ok := open(t, opts); !ok || cp.Pos != event.TxEnd(2) {
		t.Fatalf("checkpoint %v %v", cp.Pos, ok)
	}
}

func TestOutboxMessagesAreWrittenAsTheirPayload(t *testing.T) {
	k := testenv.Kafka(t)
	opts := testOptions(t, k)
	s, _, _ := open(t, opts)
	topic := opts.Pipeline + ".outbox.event.order"
	msg := func(i uint32, id, agg string, payload []byte) event.Event {
		return event.Event{Op: event.OpMessage, Topic: topic, Source: &event.SourceInfo{ServerID: "s1"},
			Table:   event.TableID{Namespace: "public", Name: "outbox"},
			Key:     event.Row{{Name: "aggregateid", Value: event.String(agg)}},
			Message: &event.Message{Prefix: id, Content: payload},
			Pos:     event.Position{Commit: 9, Index: i}}
	}
	b := event.Batch{Final: true, Checkpoint: event.Checkpoint{Pos: event.TxEnd(9)}, Events: []event.Event{
		msg(0, "e-1", "order-42", []byte(`{"total":"12.50"}`)),
		msg(1, "e-2", "order-42", nil),
	}}
	write(t, s, b)
	flush(t, s)
	got := readTopic(t, k, topic, true)
	if len(got) != 2 {
		t.Fatalf("read %d records, want 2", len(got))
	}
	if got[0].Key != "order-42" || got[0].Value != `{"total":"12.50"}` || got[0].Headers["id"] != "e-1" || got[0].Headers["cdcd-id"] != b.Events[0].ID() {
		t.Fatalf("outbox record %+v: want key order-42, the payload as value, headers id and cdcd-id", got[0])
	}
	if got[1].Value != "" || got[1].Headers["id"] != "e-2" {
		t.Fatalf("a NULL payload must be a tombstone: %+v", got[1])
	}
}
