package config

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Error is one problem found in a configuration file. Load and LoadBytes
// return them collected in Errors.
type Error struct {
	// File is the file name as given to Load or LoadBytes.
	File string
	// Line and Column are 1-based; 0 when the problem concerns the whole
	// file (it is empty, it cannot be read).
	Line, Column int
	// Key is the dotted path of the offending key, with 0-based list
	// indexes, e.g. "sink.kafka.brokers[1]"; empty for syntax errors.
	Key string
	// Msg says what is wrong and, where possible, how to fix it.
	Msg string
	// Err is the underlying cause when there is one (a file that cannot be
	// read); errors.Is(err, fs.ErrNotExist) works through it.
	Err error
}

// Unwrap returns the underlying cause, usually nil.
func (e *Error) Unwrap() error { return e.Err }

// Error formats e as "file:line:col: key: msg", leaving out the parts that
// are unknown.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
		if e.Column > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(e.Column))
		}
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found by one Load or LoadBytes call, sorted by
// file, line and column. Load and LoadBytes return a non-empty Errors as
// their error; use errors.As to get it back, or errors.As with an *Error to
// get the first problem.
type Errors []*Error

// Error joins the problems, one per line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the problems as a slice of errors, so that errors.As and
// errors.Is look into each one.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// sort orders es by file, line and column, keeping the discovery order of
// problems at the same place.
func (es Errors) sort() {
	slices.SortStableFunc(es, func(a, b *Error) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Column, b.Column),
		)
	})
}
