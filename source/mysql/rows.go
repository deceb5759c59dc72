package mysql

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/cdcd-dev/cdcd/event"
	gm "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// errNotFullImage is returned for a row image without every column:
// binlog_row_image is not FULL (for that session).
var errNotFullImage = errors.New("a row image lacks columns (binlog_row_image is not FULL for the session that wrote it)")

// rowsOp returns the operation of a rows event type and whether its rows
// have two images.
func rowsOp(t replication.EventType) (event.Op, bool, error) {
	switch t {
	case replication.WRITE_ROWS_EVENTv1, replication.WRITE_ROWS_EVENTv2, replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1:
		return event.OpInsert, false, nil
	case replication.UPDATE_ROWS_EVENTv1, replication.UPDATE_ROWS_EVENTv2, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1:
		return event.OpUpdate, true, nil
	case replication.DELETE_ROWS_EVENTv1, replication.DELETE_ROWS_EVENTv2, replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		return event.OpDelete, false, nil
	case replication.PARTIAL_UPDATE_ROWS_EVENT:
		return 0, false, errors.New("partial JSON updates (binlog_row_value_options = PARTIAL_JSON) cannot be decoded into whole rows")
	}
	return 0, false, fmt.Errorf("rows event type %s is not supported", t)
}

// rowsImages parses the post-header of a rows event body (without the
// common header and checksum) and returns the row images and the column
// bitmaps (the second only for updates). idSize is the width of the table
// id (6, or 4 for servers before 5.1.4).
func rowsImages(body []byte, t replication.EventType, idSize, columns int, update bool) (data, bm1, bm2 []byte, err error) {
	pos := idSize + 2 // table id, flags
	if len(body) < pos {
		return nil, nil, nil, errShort
	}
	switch t {
	case replication.WRITE_ROWS_EVENTv2, replication.UPDATE_ROWS_EVENTv2, replication.DELETE_ROWS_EVENTv2:
		if len(body) < pos+2 {
			return nil, nil, nil, errShort
		}
		extra := int(body[pos]) | int(body[pos+1])<<8 // includes its own two bytes
		if extra < 2 {
			return nil, nil, nil, fmt.Errorf("extra data length %d", extra)
		}
		pos += extra
	}
	if len(body) <= pos {
		return nil, nil, nil, errShort
	}
	n, _, w := gm.LengthEncodedInt(body[pos:])
	pos += w
	if int(n) != columns {
		return nil, nil, nil, fmt.Errorf("%w: the rows event has %d columns, the table map %d", ErrSchemaMismatch, n, columns)
	}
	bl := (columns + 7) / 8
	if len(body) < pos+bl {
		return nil, nil, nil, errShort
	}
	bm1 = body[pos : pos+bl]
	pos += bl
	if update {
		if len(body) < pos+bl {
			return nil, nil, nil, errShort
		}
		bm2 = body[pos : pos+bl]
		pos += bl
	}
	data = body[pos:]
	switch t {
	case replication.MARIADB_WRITE_ROWS_COMPRESSED_EVENT_V1, replication.MARIADB_UPDATE_ROWS_COMPRESSED_EVENT_V1,
		replication.MARIADB_DELETE_ROWS_COMPRESSED_EVENT_V1:
		if data, err = gm.DecompressMariadbData(data); err != nil {
			return nil, nil, nil, fmt.Errorf("decompress rows: %w", err)
		}
	}
	return data, bm1, bm2, nil
}

// fieldArena hands out rows carved from larger allocations: a rows event's
// rows are allocated together.
type fieldArena struct {
	buf     []event.Field
	perRow  int // bytes the last row image took
	perEvt  int // rows images per change: 2 for updates
	waiting int // bytes of row images still to decode
}

// take returns a row of n fields.
func (a *fieldArena) take(n int) event.Row {
	if cap(a.buf)-len(a.buf) < n {
		rows := 1
		if a.perRow > 0 {
			rows = a.waiting/a.perRow + 1
		}
		a.buf = make([]event.Field, 0, n*min(rows, 1024))
	}
	l := len(a.buf)
	a.buf = a.buf[:l+n]
	return event.Row(a.buf[l : l+n : l+n])
}

// image decodes one row image from the start of b (s holds the same
// bytes) whose columns are those set in present; it returns the row and
// the bytes it took, and adds the row's estimated size to *size.
func (td *tableDec) image(b []byte, s string, present []byte, arena *fieldArena, size *int, pos event.Position) (event.Row, int, error) {
	n := len(td.cols)
	set := 0
	for i, c := range present {
		if rest := n - 8*i; rest < 8 {
			c &= 1<<rest - 1 // bits past the last column are not columns
		}
		set += bits.OnesCount8(c)
	}
	if set != n {
		return nil, 0, &DecodeError{Table: td.id, Pos: pos, Err: errNotFullImage}
	}
	nb := (n + 7) / 8
	if len(b) < nb {
		return nil, 0, &DecodeError{Table: td.id, Pos: pos, Err: errShort}
	}
	nulls := b[:nb]
	off := nb
	row := arena.take(n)
	cols := td.shape.Columns
	for i, d := range td.cols {
		row[i].Name = cols[i].Name
		if nulls[i>>3]&(1<<(i&7)) != 0 {
			*size += 16
			continue
		}
		v, w, err := d.decodeAt(b[off:], s[off:])
		if err != nil {
			return nil, 0, &DecodeError{Table: td.id, Column: cols[i].Name, Type: cols[i].Type, Pos: pos, Err: err}
		}
		row[i].Value = v
		off += w
		*size += 48 + w
	}
	arena.perRow = off
	arena.waiting = len(b) - off
	return row, off, nil
}
