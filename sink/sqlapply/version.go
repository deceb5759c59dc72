package sqlapply

import (
	"strconv"

	"github.com/cdcd-dev/cdcd/event"
)

// VersionColumn is the column cdcd maintains in target tables under the
// newer_wins and error strategies (and in every table that has it).
const VersionColumn = "_cdcd_version"

// Version returns the version of an event as cdcd stores it in
// VersionColumn: the source commit time as fixed-width UTC text
// "20260102T030405.123456Z", then the source server id, then the event's
// position, separated by '/'. Compared as bytes (collation "C", ascii_bin),
// a later commit is greater; events of one commit time are ordered by
// server id and, within one source, by position. An event without a commit
// time sorts before every event that has one.
func Version(e *event.Event) string {
	b := make([]byte, 0, 64)
	return string(AppendVersion(b, e))
}

// AppendVersion appends Version(e) to b.
func AppendVersion(b []byte, e *event.Event) []byte {
	t := e.Tx.CommitTime.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	us := t.Nanosecond() / 1000
	if y < 0 {
		y = 0
	}
	b = appendPad(b, y%10000, 4)
	b = appendPad(b, int(mo), 2)
	b = appendPad(b, d, 2)
	b = append(b, 'T')
	b = appendPad(b, h, 2)
	b = appendPad(b, mi, 2)
	b = appendPad(b, s, 2)
	b = append(b, '.')
	b = appendPad(b, us, 6)
	b = append(b, 'Z', '/')
	if e.Source != nil {
		b = append(b, e.Source.ServerID...)
	}
	b = append(b, '/')
	return e.Pos.AppendText(b)
}

func appendPad(b []byte, n, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// KeyText returns the canonical text of a key: its values as a JSON array,
// e.g. [42,"x"]. Tombstones and the planner identify keys by it.
func KeyText(vals []event.Value) string {
	b := make([]byte, 0, 32)
	return string(appendKeyText(b, vals))
}

func appendKeyText(b []byte, vals []event.Value) []byte {
	b = append(b, '[')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = v.AppendJSON(b)
	}
	return append(b, ']')
}

// KeyJSON returns a key as a JSON object of column name → value, e.g.
// {"id":42}, as dead-letter rows and error messages show it.
func KeyJSON(names []string, vals []event.Value) string {
	b := make([]byte, 0, 32)
	b = append(b, '{')
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = event.String(names[i]).AppendJSON(b)
		b = append(b, ':')
		b = v.AppendJSON(b)
	}
	return string(append(b, '}'))
}
