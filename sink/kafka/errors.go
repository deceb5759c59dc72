package kafka

import (
	"errors"
	"fmt"
)

// ErrFenced is returned (wrapped, permanent) by Write and Flush when a
// newer producer with the same transactional id, that is another cdcd
// instance running the same pipeline, has fenced this sink's producer.
// The other instance now owns the pipeline; this one must stop.
var ErrFenced = errors.New("another cdcd instance runs this pipeline (its producer fenced ours)")

// ErrNotOpen is returned by Write and Flush before Open or after Close.
var ErrNotOpen = errors.New("kafka sink is not open")

// ErrBadCheckpoint is returned (wrapped, permanent) by Open when the
// pipeline's latest record in the offsets topic is not a checkpoint this
// version can read.
var ErrBadCheckpoint = errors.New("unreadable checkpoint record")

// RecordTooLargeError is returned (permanent) by Write or Flush when the
// brokers refuse a record as too large (max.message.bytes) or it exceeds
// the producer's limits.
type RecordTooLargeError struct {
	Topic string
	Table string // "namespace.table", or the message prefix
	Key   string // the record key (the primary key as JSON)
	Size  int    // bytes of key and value
	Err   error
}

func (e *RecordTooLargeError) Error() string {
	return fmt.Sprintf("record for %s key %s is too large for topic %s (%d bytes of key and value): %v; raise max.message.bytes on the topic or drop large columns with a transform",
		e.Table, e.Key, e.Topic, e.Size, e.Err)
}

func (e *RecordTooLargeError) Unwrap() error   { return e.Err }
func (e *RecordTooLargeError) Permanent() bool { return true }

// permanentError marks an error the pipeline must not retry.
type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

func permanent(err error) error { return &permanentError{err: err} }
