package transform

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/cel-go/cel"

	"github.com/cdcd-dev/cdcd/event"
)

// Type names a built-in transform.
type Type string

// The built-in transforms (docs/transforms.md).
const (
	TypeFilter         Type = "filter"
	TypeIncludeColumns Type = "include_columns"
	TypeDropColumns    Type = "drop_columns"
	TypeMask           Type = "mask"
	TypeRename         Type = "rename"
	TypeRoute          Type = "route"
	TypeSet            Type = "set"
	TypeOutbox         Type = "outbox"
)

// MaskMethod is how a mask transform hides a value.
type MaskMethod string

// The mask methods (docs/transforms.md#mask).
const (
	MaskSHA256   MaskMethod = "sha256"   // hex SHA-256 of Salt followed by the value's text
	MaskHMAC     MaskMethod = "hmac"     // hex HMAC-SHA256 of the value's text, keyed with Salt
	MaskRedact   MaskMethod = "redact"   // the fixed string "***"
	MaskNull     MaskMethod = "null"     // NULL
	MaskPartial  MaskMethod = "partial"  // '*' for every character but the first KeepFirst and last Keep
	MaskTruncate MaskMethod = "truncate" // the first Keep characters (bytes for binary values)
)

// Spec describes one transform as configured. Only the fields its Type uses
// are read; docs/transforms.md lists them per type. File and Line say where
// the spec was written, for errors.
type Spec struct {
	Type Type
	File string
	Line int

	// Tables limits the transform to tables matching these
	// "namespace.table" patterns ('*' and '?' globs); empty means every
	// table. Tables match the event's table as it is at this point of the
	// chain, i.e. after earlier renames. Required for outbox.
	Tables []string

	// Where (filter) is a CEL expression; events for which it is false are
	// dropped.
	Where string
	// Ops (filter) keeps only events of these operations.
	Ops []event.Op

	// Columns (include_columns, drop_columns, mask) names the columns.
	Columns []string
	// Method (mask) is how the columns are masked.
	Method MaskMethod
	// Salt (mask) is prepended to the value before hashing with sha256, or
	// the key of hmac (required for hmac).
	Salt string
	// Keep (mask) is how many characters partial leaves visible at the end
	// of the value, or how many truncate keeps.
	Keep int
	// KeepFirst (mask) is how many characters partial leaves visible at the
	// start of the value. Default 0.
	KeepFirst int

	// To (rename) is the new table name, "namespace.table" or "table" (which
	// keeps the namespace).
	To string
	// RenameColumns (rename) maps old column names to new ones.
	RenameColumns map[string]string

	// Topic (route, outbox) is the destination: a template with
	// placeholders {namespace}, {table}, {op}, {pipeline}, {db} (and
	// {routed_by} for outbox), or, for route, a CEL expression of type
	// string when it starts with '='. Default for outbox
	// "outbox.event.{routed_by}"; required for route.
	Topic string

	// Set (set) maps column names to values: a constant, or a CEL
	// expression when the value starts with '='.
	Set map[string]string

	// Outbox (outbox) names the outbox table's columns.
	Outbox OutboxColumns
}

// OutboxColumns names the columns of an outbox table. Empty names take the
// defaults of Debezium's outbox event router.
type OutboxColumns struct {
	ID      string // the event id; default "id"
	Key     string // the message key; default "aggregateid"
	Payload string // the message payload; default "payload"
	RouteBy string // the value that picks the topic ({routed_by}); default "aggregatetype"
}

// Build builds the chain the specs describe, in order. Every spec is
// checked, expressions compiled and type-checked; the error joins one
// *SpecError per faulty spec. log receives the outbox transform's warnings
// (nil discards them). The chain is not safe for concurrent use: each
// pipeline builds its own.
func Build(specs []Spec, log *slog.Logger) (Chain, error) {
	b := builder{log: log}
	chain := make(Chain, 0, len(specs))
	var errs []error
	for i := range specs {
		t, err := b.build(i, &specs[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		chain = append(chain, t)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return chain, nil
}

// New builds the transform one spec describes, as Build does for a list of
// one.
func New(spec Spec, log *slog.Logger) (Transform, error) {
	b := builder{log: log}
	return b.build(0, &spec)
}

// builder builds transforms, sharing one CEL environment among them.
type builder struct {
	log *slog.Logger
	env *cel.Env
}

func (b *builder) celEnv() (*cel.Env, error) {
	if b.env == nil {
		env, err := newCELEnv()
		if err != nil {
			return nil, fmt.Errorf("creating the expression environment: %w", err)
		}
		b.env = env
	}
	return b.env, nil
}

// site is where a spec was written; transforms keep it for their errors.
type site struct {
	file  string
	line  int
	index int
	typ   Type
}

// fail returns err as a *SpecError at s.
func (s *site) fail(key string, err error) error {
	return &SpecError{File: s.file, Line: s.line, Index: s.index, Type: s.typ, Key: key, Err: err}
}

// failf formats an error at s.
func (s *site) failf(key, format string, args ...any) error {
	return s.fail(key, fmt.Errorf(format, args...))
}

func (b *builder) build(i int, sp *Spec) (Transform, error) {
	at := site{file: sp.File, line: sp.Line, index: i, typ: sp.Type}
	tables, err := newTableSet(sp.Tables)
	if err != nil {
		return nil, at.fail("", err)
	}
	switch sp.Type {
	case TypeFilter:
		return b.filter(at, tables, sp)
	case TypeIncludeColumns, TypeDropColumns:
		return newColumns(at, tables, sp)
	case TypeMask:
		return newMask(at, tables, sp)
	case TypeRename:
		return newRename(at, tables, sp)
	case TypeRoute:
		return b.route(at, tables, sp)
	case TypeSet:
		return b.set(at, tables, sp)
	case TypeOutbox:
		return newOutbox(at, tables, sp, b.log)
	}
	at.typ = ""
	return nil, at.fail("type", fmt.Errorf("%w %q (want filter, include_columns, drop_columns, mask, rename, route, set or outbox)", ErrUnknownType, sp.Type))
}

// checkColumns checks a list of column names.
func checkColumns(at site, cols []string) error {
	if len(cols) == 0 {
		return at.failf("columns", "must name at least one column")
	}
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		if c == "" {
			return at.failf(fmt.Sprintf("columns[%d]", i), "empty column name")
		}
		if seen[c] {
			return at.failf(fmt.Sprintf("columns[%d]", i), "column %q is listed twice", c)
		}
		seen[c] = true
	}
	return nil
}
