package transform

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinel causes, found with errors.Is through a *SpecError.
var (
	// ErrUnknownType is the cause when a Spec's Type is not a transform
	// this package builds (Build, New).
	ErrUnknownType = errors.New("unknown transform type")
	// ErrKeyColumn is the cause when a transform would drop, null or
	// overwrite a key column, or mask it with a method that does not keep
	// keys distinct. It is returned by Apply for the first event whose
	// schema shows the column is a key column (keys are only known from
	// the source's schema), and by Chain.CheckSchema.
	ErrKeyColumn = errors.New("key column")
	// ErrUnknownColumn is the cause when a transform names a column that
	// the schema of an exactly named table (no glob) does not have. Only
	// Chain.CheckSchema returns it: at run time a column that disappeared
	// with a schema change is skipped, not an error.
	ErrUnknownColumn = errors.New("unknown column")
	// ErrEval is the cause when an expression fails on an event (Apply), or
	// yields a value of the wrong type.
	ErrEval = errors.New("expression evaluation failed")
)

// SpecError is returned by Build and New when a Spec cannot be built, and
// by a built transform's Apply when it cannot transform an event. It names
// the spec's place in the config file so the CLI can point at it; it never
// holds column values (masked data must not reach logs).
type SpecError struct {
	File  string // the config file, "" if unknown
	Line  int    // the line of the transform in File, 0 if unknown
	Index int    // the 0-based position of the spec in the list given to Build
	Type  Type   // the spec's type
	Key   string // the spec key at fault ("where", "columns[1]", …), "" for the whole spec
	Err   error  // what is wrong; may wrap ErrUnknownType, ErrKeyColumn, ErrUnknownColumn, ErrEval
}

// Error formats e as "file:line: transforms[i].key: (type) cause", like
// the config loader's errors, leaving out what is unknown.
func (e *SpecError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteByte(':')
		} else {
			b.WriteString("line ")
		}
		b.WriteString(strconv.Itoa(e.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString("transforms[")
	b.WriteString(strconv.Itoa(e.Index))
	b.WriteByte(']')
	if e.Key != "" {
		b.WriteByte('.')
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	if e.Type != "" {
		b.WriteString(string(e.Type))
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *SpecError) Unwrap() error { return e.Err }
