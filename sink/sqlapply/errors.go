package sqlapply

import (
	"errors"
	"fmt"

	"github.com/cdcd-dev/cdcd/event"
)

// ErrNotOpen is returned by Write and Flush before Open succeeded or after
// Close.
var ErrNotOpen = errors.New("replica sink is not open")

// ErrFenced is returned (wrapped, permanent) by Flush when another cdcd
// instance opened the same pipeline on the same target after this one: it
// bumped the pipeline's leader_epoch in the checkpoint table, so this
// instance must stop. Nothing of the transaction is committed.
var ErrFenced = errors.New("another cdcd instance runs this pipeline on this target (its leader epoch replaced ours)")

// ErrSchemaReplay is returned (transient) by Flush of a dialect whose DDL
// commits implicitly (MySQL) when a table had to be created or altered
// while a target transaction held part of a source transaction: the
// transaction was rolled back, the DDL done, and the pipeline replays from
// the checkpoint.
var ErrSchemaReplay = errors.New("target table changed while a transaction was open; replaying from the checkpoint")

// Permanent marks err so that the pipeline stops instead of retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() error   { return e.err }
func (e *permanentError) Permanent() bool { return true }

// IsPermanent reports whether err's chain holds an error whose
// Permanent method returns true.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// ApplyError is returned (permanent) by Flush when an event cannot be
// applied for a data reason (constraint violation, value out of range or
// not representable in the target) and no dead-letter table is configured.
type ApplyError struct {
	Table   string // target table, "schema.table"
	Key     string // the key as JSON, e.g. {"id":42}
	Op      event.Op
	Pos     event.Position
	EventID string
	Err     error
}

func (e *ApplyError) Error() string {
	return fmt.Sprintf("apply %s of %s key %s at %s (event %s): %v", e.Op.Name(), e.Table, e.Key, e.Pos, e.EventID, e.Err)
}

func (e *ApplyError) Unwrap() error   { return e.Err }
func (e *ApplyError) Permanent() bool { return true }

// ConflictError is returned (permanent) by Flush under the error strategy
// when an event conflicts with the target row: an insert finds the row
// present, or any event finds the row holding a version not older than
// its own.
type ConflictError struct {
	Table        string // target table
	Key          string // the key as JSON
	Op           event.Op
	Pos          event.Position
	EventID      string
	EventVersion string
	RowVersion   string // "" when the row has no version
}

func (e *ConflictError) Error() string {
	rv := e.RowVersion
	if rv == "" {
		rv = "none"
	}
	what := "the row exists"
	if e.Op != event.OpInsert {
		what = "the row is not older than the event"
	}
	return fmt.Sprintf("conflict on %s key %s: %s of event %s at %s (version %s) but %s (row version %s)",
		e.Table, e.Key, e.Op.Name(), e.EventID, e.Pos, e.EventVersion, what, rv)
}

func (e *ConflictError) Permanent() bool { return true }

// MissingRowError is returned (permanent) by Flush with on_missing error
// when an update or delete finds its row absent from the target.
type MissingRowError struct {
	Table   string
	Key     string
	Op      event.Op
	Pos     event.Position
	EventID string
}

func (e *MissingRowError) Error() string {
	return fmt.Sprintf("%s of %s key %s at %s (event %s): the row is missing from the target", e.Op.Name(), e.Table, e.Key, e.Pos, e.EventID)
}

func (e *MissingRowError) Permanent() bool { return true }

// SchemaError is returned (permanent) when a target table does not fit
// the events: it is missing and create_tables is off, it lacks columns the
// events carry, it has no primary key, or creating or altering it failed.
type SchemaError struct {
	Table string // target table
	What  string // what is wrong
	Fix   string // how to resolve it, if known
	Err   error
}

func (e *SchemaError) Error() string {
	s := fmt.Sprintf("target table %s: %s", e.Table, e.What)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	return s
}

func (e *SchemaError) Unwrap() error   { return e.Err }
func (e *SchemaError) Permanent() bool { return true }

// ErrorClass is how a dialect classifies a database error.
type ErrorClass uint8

// The error classes.
const (
	// Transient errors (connection lost, deadlock, serialization failure,
	// server shutting down) make the pipeline replay from the checkpoint.
	Transient ErrorClass = iota
	// Data errors (constraint violations, values out of range or not
	// valid for the column) are blamed on an event: it goes to the
	// dead-letter table or stops the pipeline with an *ApplyError.
	Data
	// Fatal errors (missing privileges, a column missing) stop the
	// pipeline.
	Fatal
)
