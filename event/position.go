package event

import (
	"fmt"
	"math"
	"strconv"
)

// Position is an event's place in the total order of its source. It is the
// event's version: a later change of the same source always has a greater
// Position, and several events sharing one commit are told apart by Index.
//
// Commit is source-specific but always increases with commit order:
// Postgres uses the transaction's commit LSN; MySQL packs the binlog file
// index in the high 32 bits and the event's end position in the low 32 bits.
// Index is the event's 0-based index within its transaction.
type Position struct {
	Commit uint64
	Index  uint32
}

// TxEnd is the Index of a position that stands for "the whole transaction":
// a checkpoint at TxEnd(c) covers every event of the transaction committed at c.
const txEndIndex = math.MaxUint32

// TxEnd returns the position just after the last event of the transaction
// committed at commit. Checkpoints of complete transactions use it, so that
// a transaction whose events were all filtered out still advances the source.
func TxEnd(commit uint64) Position { return Position{Commit: commit, Index: txEndIndex} }

// IsTxEnd reports whether p stands for the end of a whole transaction.
func (p Position) IsTxEnd() bool { return p.Index == txEndIndex }

// IsZero reports whether p is the zero position (before everything).
func (p Position) IsZero() bool { return p == Position{} }

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Position) Compare(q Position) int {
	switch {
	case p.Commit < q.Commit:
		return -1
	case p.Commit > q.Commit:
		return 1
	case p.Index < q.Index:
		return -1
	case p.Index > q.Index:
		return 1
	}
	return 0
}

// Less reports whether p is before q.
func (p Position) Less(q Position) bool { return p.Compare(q) < 0 }

// positionLen is the length of the string form: 16 hex digits, '/', 8 hex digits.
const positionLen = 16 + 1 + 8

// String returns the fixed-width form "0000000001A2B3C4/00000003", whose
// lexical order is the positions' order, so versions stored as text compare
// correctly.
func (p Position) String() string {
	var b [positionLen]byte
	return string(p.AppendText(b[:0]))
}

// AppendText appends the String form to b without allocating.
func (p Position) AppendText(b []byte) []byte {
	const hex = "0123456789ABCDEF"
	for i := 60; i >= 0; i -= 4 {
		b = append(b, hex[(p.Commit>>uint(i))&0xF])
	}
	b = append(b, '/')
	for i := 28; i >= 0; i -= 4 {
		b = append(b, hex[(p.Index>>uint(i))&0xF])
	}
	return b
}

// MarshalText implements encoding.TextMarshaler.
func (p Position) MarshalText() ([]byte, error) { return p.AppendText(nil), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Position) UnmarshalText(b []byte) error {
	q, err := ParsePosition(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// ParsePosition parses the String form.
func ParsePosition(s string) (Position, error) {
	if len(s) != positionLen || s[16] != '/' {
		return Position{}, fmt.Errorf("position %q: want 16 hex digits, '/', 8 hex digits", s)
	}
	c, err := strconv.ParseUint(s[:16], 16, 64)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: commit: %w", s, err)
	}
	i, err := strconv.ParseUint(s[17:], 16, 32)
	if err != nil {
		return Position{}, fmt.Errorf("position %q: index: %w", s, err)
	}
	return Position{Commit: c, Index: uint32(i)}, nil
}
