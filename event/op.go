package event

import "fmt"

// Op is the kind of change an event describes.
type Op byte

// The operations. Their byte values are the letters used on the wire.
const (
	OpInsert   Op = 'c'
	OpUpdate   Op = 'u'
	OpDelete   Op = 'd'
	OpRead     Op = 'r' // a row read by a snapshot
	OpTruncate Op = 't'
	OpMessage  Op = 'm' // a logical decoding message (pg_logical_emit_message)
)

// String returns the one-letter wire form ("c", "u", …).
func (o Op) String() string {
	switch o {
	case OpInsert, OpUpdate, OpDelete, OpRead, OpTruncate, OpMessage:
		return string(rune(o))
	}
	return fmt.Sprintf("Op(%d)", byte(o))
}

// Name returns the long name ("insert", "update", …) used in logs and metrics.
func (o Op) Name() string {
	switch o {
	case OpInsert:
		return "insert"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	case OpRead:
		return "read"
	case OpTruncate:
		return "truncate"
	case OpMessage:
		return "message"
	}
	return o.String()
}

// ParseOp parses the one-letter form or the long name of an operation.
func ParseOp(s string) (Op, error) {
	switch s {
	case "c", "insert":
		return OpInsert, nil
	case "u", "update":
		return OpUpdate, nil
	case "d", "delete":
		return OpDelete, nil
	case "r", "read":
		return OpRead, nil
	case "t", "truncate":
		return OpTruncate, nil
	case "m", "message":
		return OpMessage, nil
	}
	return 0, fmt.Errorf("unknown op %q (valid: c, u, d, r, t, m)", s)
}
