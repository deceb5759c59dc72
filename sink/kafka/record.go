package kafka

import (
	"context"
	"errors"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cdcd-dev/cdcd/event"
)

// The record headers every change record carries.
const (
	headerID            = "cdcd-id"             // the event id, "<server id>:<pos>"
	headerPos           = "cdcd-pos"            // the event position
	headerOp            = "cdcd-op"             // "c", "u", "d", "r", "t" or "m"
	headerTable         = "cdcd-table"          // "namespace.table" (messages: the prefix)
	headerSchemaVersion = "cdcd-schema-version" // the table schema version, decimal
	numHeaders          = 5
	// headerOutboxID carries an outbox message's event id, as Debezium's
	// EventRouter does.
	headerOutboxID = "id"
)

// arena hands out memory for records. franz-go keeps a record's key, value
// and headers until the brokers acknowledge it, so nothing here is ever
// reused: records are carved out of shared chunks, which the garbage
// collector frees once every record in them is acknowledged and dropped.
// This costs a few allocations per chunk instead of several per record.
type arena struct {
	buf  []byte
	recs []kgo.Record
	hdrs []kgo.RecordHeader
}

const (
	arenaBytes   = 256 << 10 // bytes per chunk
	arenaMinTail = 4 << 10   // a chunk with less room left is replaced before an event is encoded
	arenaRecords = 256       // records per chunk
)

// record returns a zeroed record.
func (a *arena) record() *kgo.Record {
	if len(a.recs) == cap(a.recs) {
		a.recs = make([]kgo.Record, 0, arenaRecords)
	}
	a.recs = a.recs[:len(a.recs)+1]
	return &a.recs[len(a.recs)-1]
}

// headers returns n zeroed headers whose capacity is n.
func (a *arena) headers(n int) []kgo.RecordHeader {
	if cap(a.hdrs)-len(a.hdrs) < n {
		a.hdrs = make([]kgo.RecordHeader, 0, arenaRecords*numHeaders)
	}
	start := len(a.hdrs)
	a.hdrs = a.hdrs[:start+n]
	return a.hdrs[start : start+n : start+n]
}

// tail returns an empty slice to append one record's bytes to.
func (a *arena) tail() []byte {
	if cap(a.buf)-len(a.buf) < arenaMinTail {
		a.buf = make([]byte, 0, arenaBytes)
	}
	return a.buf[len(a.buf):]
}

// keep takes b, the result of appending to tail(), for good: when b still
// lies in the chunk the chunk's free space shrinks by len(b); when append
// had to move it elsewhere, b is the record's own allocation.
func (a *arena) keep(b []byte) {
	if free := a.buf[len(a.buf):]; cap(b) == cap(free) {
		a.buf = a.buf[:len(a.buf)+len(b)]
	}
}

// produceEvent encodes e into one record (two with a tombstone) and
// produces it. Production is asynchronous: failures reach the session's
// promise.
func (s *Sink) produceEvent(ctx context.Context, e *event.Event) error {
	topic := s.topicFor(e)
	if err := s.ensureTopic(ctx, topic, s.opts.Partitions, s.dataConfigs); err != nil {
		return err
	}
	r, tomb := s.records(e, topic)
	s.produce(ctx, r)
	if tomb != nil {
		s.produce(ctx, tomb)
	}
	return nil
}

// records encodes e into its record for topic, and the tombstone that
// follows it when there is one.
func (s *Sink) records(e *event.Event, topic string) (r, tomb *kgo.Record) {
	if isOutboxMessage(e) {
		return s.outboxRecord(e, topic), nil
	}
	debezium := s.opts.Format == FormatDebezium

	// One contiguous area: key, value, then the header values.
	b := s.arena.tail()
	hasKey := true
	switch {
	case debezium:
		b, hasKey = s.appendDebeziumKey(b, e)
	case e.Key == nil || e.Op == event.OpTruncate || e.Op == event.OpMessage:
		hasKey = false
	default:
		b = e.Key.AppendJSON(b)
	}
	valStart := len(b)
	if debezium {
		b = s.appendDebezium(b, e)
	} else {
		b = e.AppendJSON(b)
	}
	idStart := len(b)
	b = e.AppendID(b)
	posStart := len(b)
	b = e.Pos.AppendText(b)
	opStart := len(b)
	b = append(b, byte(e.Op))
	tableStart := len(b)
	if e.Op == event.OpMessage && e.Message != nil {
		b = append(b, e.Message.Prefix...)
	} else {
		if e.Table.Namespace != "" {
			b = append(b, e.Table.Namespace...)
			b = append(b, '.')
		}
		b = append(b, e.Table.Name...)
	}
	verStart := len(b)
	var version uint64
	if e.Schema != nil {
		version = e.Schema.Version
	}
	b = strconv.AppendUint(b, version, 10)
	s.arena.keep(b)

	r = s.arena.record()
	r.Topic = topic
	if hasKey {
		r.Key = b[:valStart:valStart]
	}
	r.Value = b[valStart:idStart:idStart]
	h := s.arena.headers(numHeaders)
	h[0] = kgo.RecordHeader{Key: headerID, Value: b[idStart:posStart:posStart]}
	h[1] = kgo.RecordHeader{Key: headerPos, Value: b[posStart:opStart:opStart]}
	h[2] = kgo.RecordHeader{Key: headerOp, Value: b[opStart:tableStart:tableStart]}
	h[3] = kgo.RecordHeader{Key: headerTable, Value: b[tableStart:verStart:verStart]}
	h[4] = kgo.RecordHeader{Key: headerSchemaVersion, Value: b[verStart:len(b):len(b)]}
	r.Headers = h
	r.Partition = s.partitionOf(e, r.Key, b[tableStart:verStart])

	if e.Op == event.OpDelete && s.opts.Tombstones && hasKey {
		tomb = s.arena.record()
		tomb.Topic = topic
		tomb.Key = r.Key
		tomb.Partition = r.Partition
	}
	return r, tomb
}

// partitionOf returns the partition hash of an event's record (see
// hashPartitioner).
func (s *Sink) partitionOf(e *event.Event, key, table []byte) int32 {
	switch s.opts.PartitionBy {
	case PartitionByKey:
		if key != nil {
			return partitionHash(key)
		}
	case PartitionByTxID:
		if e.Tx.ID != "" {
			if e.Tx.ID != s.lastTxID {
				s.lastTxID, s.lastTxHash = e.Tx.ID, partitionHashString(e.Tx.ID)
			}
			return s.lastTxHash
		}
	}
	return partitionHash(table)
}

// produce hands r to the client. r.Context is the session's record
// context, which only ends at Close (or when Write's context ends during
// Write), so that records already buffered survive the cancellation that
// starts a graceful shutdown and the final Flush can still commit them.
func (s *Sink) produce(ctx context.Context, r *kgo.Record) {
	r.Context = s.sess.recCtx
	s.sess.cl.Produce(ctx, r, s.sess.promiseFn)
}

// promise records the first produce failure of the session.
func (ss *session) promise(r *kgo.Record, err error) {
	if err == nil {
		return
	}
	ss.fail(produceError(r, err))
}

// produceError describes the failure of r.
func produceError(r *kgo.Record, err error) error {
	if errors.Is(err, kerr.MessageTooLarge) || errors.Is(err, kerr.RecordListTooLarge) {
		table := ""
		for _, h := range r.Headers {
			if h.Key == headerTable {
				table = string(h.Value)
			}
		}
		return &RecordTooLargeError{Topic: r.Topic, Table: table, Key: string(r.Key), Size: len(r.Key) + len(r.Value), Err: err}
	}
	return err
}

// isOutboxMessage reports whether e is a message made by the outbox
// transform: a message with a key (the aggregate id).
func isOutboxMessage(e *event.Event) bool {
	return e.Op == event.OpMessage && e.Message != nil && len(e.Key) > 0
}

// outboxRecord writes an outbox message as Debezium's EventRouter does:
// key = the aggregate id as text, value = the payload as stored (nil, a
// tombstone, when the payload is NULL), header "id" = the outbox row's id;
// the cdcd headers come along so consumers can still deduplicate.
func (s *Sink) outboxRecord(e *event.Event, topic string) *kgo.Record {
	b := s.arena.tail()
	k := e.Key[0].Value
	switch k.Kind() {
	case event.KindString, event.KindText, event.KindDecimal:
		b = append(b, k.Str()...)
	default:
		b = k.AppendJSON(b)
	}
	valStart := len(b)
	b = append(b, e.Message.Content...)
	idStart := len(b)
	b = e.AppendID(b)
	posStart := len(b)
	b = e.Pos.AppendText(b)
	outboxIDStart := len(b)
	b = append(b, e.Message.Prefix...)
	s.arena.keep(b)

	r := s.arena.record()
	r.Topic = topic
	r.Key = b[:valStart:valStart]
	if e.Message.Content != nil {
		r.Value = b[valStart:idStart:idStart]
	}
	h := s.arena.headers(numHeaders)[:3]
	h[0] = kgo.RecordHeader{Key: headerID, Value: b[idStart:posStart:posStart]}
	h[1] = kgo.RecordHeader{Key: headerPos, Value: b[posStart:outboxIDStart:outboxIDStart]}
	h[2] = kgo.RecordHeader{Key: headerOutboxID, Value: b[outboxIDStart:len(b):len(b)]}
	r.Headers = h
	r.Partition = s.partitionOf(e, r.Key, []byte(topic))
	return r
}
