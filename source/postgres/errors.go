package postgres

import (
	"errors"
	"fmt"

	"github.com/cdcd-dev/cdcd/event"
)

// ErrClosed is returned by Read and Ack of a Source that was closed (and
// not opened again).
var ErrClosed = errors.New("postgres source: closed")

// ErrNotOpen is returned by Read and Ack before Open succeeded.
var ErrNotOpen = errors.New("postgres source: not open")

// PermanentError is returned by Open and Read when retrying cannot help
// until someone changes the database or the configuration: the server is
// not set up for logical replication, a table is missing, the slot
// vanished or belongs to something else. Fix holds the statement or action
// that resolves it, when there is one. The pipeline stops on it (see
// source.Source).
type PermanentError struct {
	// What names what is wrong, e.g. "wal_level is replica".
	What string
	// Fix tells how to resolve it, e.g. "ALTER SYSTEM SET wal_level = logical;".
	Fix string
	// Err is the underlying error, if any.
	Err error
}

func (e *PermanentError) Error() string {
	s := "postgres source: " + e.What
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Fix != "" {
		s += "; fix: " + e.Fix
	}
	return s
}

// Unwrap returns the underlying error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent reports true: the pipeline must not retry.
func (e *PermanentError) Permanent() bool { return true }

// DecodeError is returned by Read when a value or a replication message
// cannot be decoded. It is permanent: the same bytes would fail again.
type DecodeError struct {
	Table  event.TableID // zero for protocol messages
	Column string        // empty for protocol messages
	Type   string        // the column's type name, if known
	Pos    event.Position
	Err    error
}

func (e *DecodeError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("postgres source: decode replication message at %s: %v", e.Pos, e.Err)
	}
	return fmt.Sprintf("postgres source: decode %s.%s (%s) at %s: %v", e.Table, e.Column, e.Type, e.Pos, e.Err)
}

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Permanent reports true: the pipeline must not retry.
func (e *DecodeError) Permanent() bool { return true }

// ErrOutOfRange is wrapped by a DecodeError for a value the event model
// cannot hold exactly (a timestamp after 294247-01-09).
var ErrOutOfRange = errors.New("value out of range of the event model")
