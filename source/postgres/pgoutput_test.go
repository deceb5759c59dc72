package postgres

import (
	"encoding/binary"
	"testing"
	"time"
)

// msg builds a pgoutput message body from its parts: byte, uint16, uint32,
// uint64, string (NUL-terminated) and []byte (raw).
func msg(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case byte:
			b = append(b, v)
		case uint16:
			b = binary.BigEndian.AppendUint16(b, v)
		case uint32:
			b = binary.BigEndian.AppendUint32(b, v)
		case uint64:
			b = binary.BigEndian.AppendUint64(b, v)
		case string:
			b = append(append(b, v...), 0)
		case []byte:
			b = append(b, v...)
		default:
			panic(p)
		}
	}
	return b
}

func TestParsePgoutputMessages(t *testing.T) {
	commitUS := uint64(time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC).UnixMicro() - pgEpochMicros)
	b, err := parseBegin(msg(uint64(0x1234), commitUS, uint32(77)))
	if err != nil || b.finalLSN != 0x1234 || b.xid != 77 || !b.commitTime.Equal(time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("begin %+v %v", b, err)
	}
	c, err := parseCommit(msg(byte(0), uint64(0x1234), uint64(0x1300), commitUS))
	if err != nil || c.commitLSN != 0x1234 || c.endLSN != 0x1300 {
		t.Errorf("commit %+v %v", c, err)
	}
	r, err := parseRelation(msg(uint32(16384), "public", "t", byte('d'), uint16(2),
		byte(1), "id", uint32(23), uint32(0xffffffff), byte(0), "name", uint32(1043), uint32(24)))
	if err != nil || r.id != 16384 || r.namespace != "public" || r.name != "t" || r.identity != 'd' || len(r.columns) != 2 ||
		r.columns[0] != (relationColumn{key: true, name: "id", typeID: 23, typmod: -1}) ||
		r.columns[1] != (relationColumn{name: "name", typeID: 1043, typmod: 24}) {
		t.Errorf("relation %+v %v", r, err)
	}
	var m changeMsg
	tuple := msg(uint16(3), byte('t'), uint32(2), []byte("42"), byte('n'), byte('u'))
	if err := parseInsert(msg(uint32(16384), byte('N'), tuple), &m); err != nil || m.relation != 16384 || len(m.new) != 3 ||
		string(m.new[0].data) != "42" || m.new[1].kind != 'n' || m.new[2].kind != 'u' {
		t.Errorf("insert %+v %v", m, err)
	}
	key := msg(uint16(3), byte('t'), uint32(1), []byte("1"), byte('n'), byte('n'))
	if err := parseUpdate(msg(uint32(1), byte('K'), key, byte('N'), tuple), &m); err != nil || m.oldKind != 'K' ||
		string(m.old[0].data) != "1" || len(m.new) != 3 {
		t.Errorf("update %+v %v", m, err)
	}
	if err := parseUpdate(msg(uint32(1), byte('N'), tuple), &m); err != nil || m.oldKind != 0 || len(m.old) != 0 {
		t.Errorf("update without old %+v %v", m, err)
	}
	if err := parseDelete(msg(uint32(1), byte('O'), tuple), &m); err != nil || m.oldKind != 'O' || len(m.old) != 3 || len(m.new) != 0 {
		t.Errorf("delete %+v %v", m, err)
	}
	tr, err := parseTruncate(msg(uint32(2), byte(1), uint32(5), uint32(6)))
	if err != nil || len(tr.relations) != 2 || tr.relations[1] != 6 || tr.options != 1 {
		t.Errorf("truncate %+v %v", tr, err)
	}
	lm, err := parseLogicalMessage(msg(byte(1), uint64(99), "app", uint32(5), []byte("hello")))
	if err != nil || !lm.transactional || lm.lsn != 99 || lm.prefix != "app" || string(lm.content) != "hello" {
		t.Errorf("message %+v %v", lm, err)
	}

	bad := map[string]error{}
	_, bad["begin short"] = parseBegin(msg(uint64(1)))
	_, bad["commit trailing"] = parseCommit(msg(byte(0), uint64(1), uint64(2), uint64(3), byte(9)))
	_, bad["relation unterminated"] = parseRelation(msg(uint32(1), []byte("public")))
	_, bad["relation too many columns"] = parseRelation(msg(uint32(1), "s", "t", byte('d'), uint16(1000)))
	bad["insert wrong kind"] = parseInsert(msg(uint32(1), byte('X'), tuple), &m)
	bad["insert column too long"] = parseInsert(msg(uint32(1), byte('N'), uint16(1), byte('t'), uint32(100), []byte("x")), &m)
	bad["insert unknown column kind"] = parseInsert(msg(uint32(1), byte('N'), uint16(1), byte('z')), &m)
	bad["delete without old"] = parseDelete(msg(uint32(1), byte('N'), tuple), &m)
	_, bad["truncate short"] = parseTruncate(msg(uint32(3), byte(0), uint32(1)))
	_, bad["message short"] = parseLogicalMessage(msg(byte(0), uint64(1), "p", uint32(10), []byte("x")))
	for name, err := range bad {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzParsePgoutput(f *testing.F) {
	tuple := msg(uint16(2), byte('t'), uint32(2), []byte("42"), byte('u'))
	f.Add(msg(byte('I'), uint32(1), byte('N'), tuple))
	f.Add(msg(byte('U'), uint32(1), byte('O'), tuple, byte('N'), tuple))
	f.Add(msg(byte('D'), uint32(1), byte('K'), tuple))
	f.Add(msg(byte('R'), uint32(1), "s", "t", byte('f'), uint16(1), byte(1), "id", uint32(23), uint32(0)))
	f.Add(msg(byte('T'), uint32(1), byte(0), uint32(1)))
	f.Add(msg(byte('M'), byte(0), uint64(1), "p", uint32(1), []byte("x")))
	f.Add(msg(byte('B'), uint64(1), uint64(2), uint32(3)))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		var m changeMsg
		body := b[1:]
		switch b[0] {
		case 'B':
			parseBegin(body)
		case 'C':
			parseCommit(body)
		case 'R':
			parseRelation(body)
		case 'Y':
			parseType(body)
		case 'I':
			parseInsert(body, &m)
		case 'U':
			parseUpdate(body, &m)
		case 'D':
			parseDelete(body, &m)
		case 'T':
			parseTruncate(body)
		case 'M':
			parseLogicalMessage(body)
		}
	})
}
