package postgres

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// This file decodes pgoutput messages (protocol version 1) without a
// server and without allocating for tuple data: tuple columns refer into
// the message buffer, which the caller must not reuse until it is done with
// them. pglogrepl's decoders copy every column byte by byte and panic on
// truncated input; these return errors.

var errShort = errors.New("pgoutput: message truncated")

// pgEpoch is 2000-01-01T00:00:00Z, the origin of Postgres timestamps.
var pgEpochMicros = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

type msgReader struct {
	b   []byte
	err error
}

func (r *msgReader) u8() byte {
	if r.err != nil || len(r.b) < 1 {
		r.err = errShort
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *msgReader) u16() uint16 {
	if r.err != nil || len(r.b) < 2 {
		r.err = errShort
		return 0
	}
	v := binary.BigEndian.Uint16(r.b)
	r.b = r.b[2:]
	return v
}

func (r *msgReader) u32() uint32 {
	if r.err != nil || len(r.b) < 4 {
		r.err = errShort
		return 0
	}
	v := binary.BigEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *msgReader) u64() uint64 {
	if r.err != nil || len(r.b) < 8 {
		r.err = errShort
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *msgReader) time() time.Time {
	us := int64(r.u64())
	return time.UnixMicro(us + pgEpochMicros).UTC()
}

func (r *msgReader) str() string {
	if r.err != nil {
		return ""
	}
	for i, c := range r.b {
		if c == 0 {
			s := string(r.b[:i])
			r.b = r.b[i+1:]
			return s
		}
	}
	r.err = errShort
	return ""
}

func (r *msgReader) bytes(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.err = errShort
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *msgReader) done(what string) error {
	if r.err != nil {
		return fmt.Errorf("pgoutput %s: %w", what, r.err)
	}
	if len(r.b) != 0 {
		return fmt.Errorf("pgoutput %s: %d trailing bytes", what, len(r.b))
	}
	return nil
}

type beginMsg struct {
	finalLSN   uint64
	commitTime time.Time
	xid        uint32
}

type commitMsg struct {
	flags      byte
	commitLSN  uint64
	endLSN     uint64
	commitTime time.Time
}

type relationColumn struct {
	key    bool
	name   string
	typeID uint32
	typmod int32
}

type relationMsg struct {
	id        uint32
	namespace string
	name      string
	identity  byte // d default, n nothing, f full, i index
	columns   []relationColumn
}

type typeMsg struct {
	id              uint32
	namespace, name string
}

// tupleCol is one column of a tuple: kind 'n' (NULL), 'u' (unchanged
// TOASTed value, not sent), 't' (text) or 'b' (binary), and the data of
// 't' and 'b' columns.
type tupleCol struct {
	kind byte
	data []byte
}

type changeMsg struct {
	relation uint32
	oldKind  byte // 0, 'K' (key columns) or 'O' (whole old row)
	old      []tupleCol
	new      []tupleCol // nil for deletes
}

type truncateMsg struct {
	options   byte
	relations []uint32
}

type logicalMsg struct {
	transactional bool
	lsn           uint64
	prefix        string
	content       []byte
}

func parseBegin(b []byte) (beginMsg, error) {
	r := msgReader{b: b}
	m := beginMsg{finalLSN: r.u64(), commitTime: r.time(), xid: r.u32()}
	return m, r.done("begin")
}

func parseCommit(b []byte) (commitMsg, error) {
	r := msgReader{b: b}
	m := commitMsg{flags: r.u8(), commitLSN: r.u64(), endLSN: r.u64(), commitTime: r.time()}
	return m, r.done("commit")
}

func parseRelation(b []byte) (relationMsg, error) {
	r := msgReader{b: b}
	m := relationMsg{id: r.u32(), namespace: r.str(), name: r.str(), identity: r.u8()}
	n := int(r.u16())
	if r.err == nil && n > len(r.b)/10 {
		return m, fmt.Errorf("pgoutput relation: %d columns in %d bytes: %w", n, len(r.b), errShort)
	}
	m.columns = make([]relationColumn, 0, n)
	for i := 0; i < n && r.err == nil; i++ {
		c := relationColumn{key: r.u8()&1 != 0, name: r.str(), typeID: r.u32(), typmod: int32(r.u32())}
		m.columns = append(m.columns, c)
	}
	return m, r.done("relation")
}

func parseType(b []byte) (typeMsg, error) {
	r := msgReader{b: b}
	m := typeMsg{id: r.u32(), namespace: r.str(), name: r.str()}
	return m, r.done("type")
}

// parseTuple decodes a TupleData into cols (reused when large enough).
func parseTuple(r *msgReader, cols []tupleCol) []tupleCol {
	n := int(r.u16())
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.err = errShort
		return nil
	}
	cols = cols[:0]
	for i := 0; i < n && r.err == nil; i++ {
		c := tupleCol{kind: r.u8()}
		switch c.kind {
		case 'n', 'u':
		case 't', 'b':
			c.data = r.bytes(int(r.u32()))
		default:
			if r.err == nil {
				r.err = fmt.Errorf("unknown tuple column kind %q", c.kind)
			}
		}
		cols = append(cols, c)
	}
	return cols
}

// parseInsert, parseUpdate and parseDelete decode change messages; their
// tuples reuse the slices of m.
func parseInsert(b []byte, m *changeMsg) error {
	r := msgReader{b: b}
	m.relation = r.u32()
	m.oldKind, m.old = 0, m.old[:0]
	if k := r.u8(); r.err == nil && k != 'N' {
		return fmt.Errorf("pgoutput insert: tuple kind %q, want 'N'", k)
	}
	m.new = parseTuple(&r, m.new)
	return r.done("insert")
}

func parseUpdate(b []byte, m *changeMsg) error {
	r := msgReader{b: b}
	m.relation = r.u32()
	m.oldKind, m.old = 0, m.old[:0]
	k := r.u8()
	if k == 'K' || k == 'O' {
		m.oldKind = k
		m.old = parseTuple(&r, m.old)
		k = r.u8()
	}
	if r.err == nil && k != 'N' {
		return fmt.Errorf("pgoutput update: tuple kind %q, want 'N'", k)
	}
	m.new = parseTuple(&r, m.new)
	return r.done("update")
}

func parseDelete(b []byte, m *changeMsg) error {
	r := msgReader{b: b}
	m.relation = r.u32()
	m.new = m.new[:0]
	m.oldKind = r.u8()
	if r.err == nil && m.oldKind != 'K' && m.oldKind != 'O' {
		return fmt.Errorf("pgoutput delete: tuple kind %q, want 'K' or 'O'", m.oldKind)
	}
	m.old = parseTuple(&r, m.old)
	return r.done("delete")
}

func parseTruncate(b []byte) (truncateMsg, error) {
	r := msgReader{b: b}
	n := int(r.u32())
	m := truncateMsg{options: r.u8()}
	if r.err == nil && n > len(r.b)/4 {
		return m, fmt.Errorf("pgoutput truncate: %w", errShort)
	}
	for i := 0; i < n && r.err == nil; i++ {
		m.relations = append(m.relations, r.u32())
	}
	return m, r.done("truncate")
}

func parseLogicalMessage(b []byte) (logicalMsg, error) {
	r := msgReader{b: b}
	m := logicalMsg{transactional: r.u8()&1 != 0, lsn: r.u64(), prefix: r.str()}
	m.content = r.bytes(int(r.u32()))
	return m, r.done("message")
}
