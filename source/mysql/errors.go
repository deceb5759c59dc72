package mysql

import (
	"errors"
	"fmt"

	"github.com/cdcd-dev/cdcd/event"
)

// ErrClosed is returned by Read of a Source that was closed (and not
// opened again).
var ErrClosed = errors.New("mysql source: closed")

// ErrNotOpen is returned by Read and Ack before Open succeeded.
var ErrNotOpen = errors.New("mysql source: not open")

// PermanentError is returned by Open and Read when retrying cannot help
// until someone changes the server or the configuration: the binary log is
// off or not in ROW format, a privilege is missing, the checkpoint's binlog
// was purged, a DDL statement on a captured table cannot be followed. Fix
// holds the statement or action that resolves it, when there is one. The
// pipeline stops on it (see source.Source).
type PermanentError struct {
	// What names what is wrong, e.g. "binlog_format is STATEMENT".
	What string
	// Fix tells how to resolve it, e.g. "SET GLOBAL binlog_format = 'ROW';".
	Fix string
	// Err is the underlying error, if any.
	Err error
}

func (e *PermanentError) Error() string {
	s := "mysql source: " + e.What
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

// DecodeError is returned by Read when a binlog event or a value in it
// cannot be decoded into the event model. It is permanent: the same bytes
// would fail again.
type DecodeError struct {
	Table  event.TableID // zero for events that are not about a table
	Column string        // empty when not about one column
	Type   string        // the column's type, if known
	Pos    event.Position
	Err    error
}

func (e *DecodeError) Error() string {
	switch {
	case e.Column != "":
		return fmt.Sprintf("mysql source: decode %s.%s (%s) at %s: %v", e.Table, e.Column, e.Type, e.Pos, e.Err)
	case e.Table != (event.TableID{}):
		return fmt.Sprintf("mysql source: decode row of %s at %s: %v", e.Table, e.Pos, e.Err)
	}
	return fmt.Sprintf("mysql source: decode binlog event at %s: %v", e.Pos, e.Err)
}

// Unwrap returns the underlying error.
func (e *DecodeError) Unwrap() error { return e.Err }

// Permanent reports true: the pipeline must not retry.
func (e *DecodeError) Permanent() bool { return true }

// ErrZeroDate is wrapped by a DecodeError for a DATE, DATETIME or
// TIMESTAMP value no calendar holds ('0000-00-00', a zero month or day, an
// invalid day) when Options.ZeroDate is "error".
var ErrZeroDate = errors.New("zero or invalid date (source.mysql.zero_date is \"error\")")

// ErrSchemaMismatch is wrapped by a DecodeError when a row event's table
// map does not fit the schema the source tracks for the table (column
// count or types differ): the schema history missed a change.
var ErrSchemaMismatch = errors.New("the binlog's table map does not match the tracked schema")

// DDLError is returned by Read (wrapped in a PermanentError) when a DDL
// statement that touches a captured table cannot be parsed or applied, so
// the rows after it could not be decoded with the right shape.
type DDLError struct {
	Pos   event.Position
	File  string // binlog file
	At    uint32 // end position of the statement's event in File
	Query string
	Err   error
}

func (e *DDLError) Error() string {
	q := e.Query
	if len(q) > 200 {
		q = q[:200] + "…"
	}
	return fmt.Sprintf("DDL at %s (%s:%d) %q: %v", e.Pos, e.File, e.At, q, e.Err)
}

// Unwrap returns the underlying error.
func (e *DDLError) Unwrap() error { return e.Err }
