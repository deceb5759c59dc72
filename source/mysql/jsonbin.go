package mysql

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// MySQL's binary JSON (sql-common/json_binary.cc): a type byte, then the
// value. Objects and arrays come in a small form (16-bit counts and
// offsets) and a large one (32-bit).
const (
	jsonbSmallObject = 0x00
	jsonbLargeObject = 0x01
	jsonbSmallArray  = 0x02
	jsonbLargeArray  = 0x03
	jsonbLiteral     = 0x04
	jsonbInt16       = 0x05
	jsonbUint16      = 0x06
	jsonbInt32       = 0x07
	jsonbUint32      = 0x08
	jsonbInt64       = 0x09
	jsonbUint64      = 0x0a
	jsonbDouble      = 0x0b
	jsonbString      = 0x0c
	jsonbOpaque      = 0x0f
)

// maxJSONDepth bounds the nesting the decoder follows (MySQL allows 100).
const maxJSONDepth = 200

var errJSONCorrupt = errors.New("corrupt binary JSON")

// jsonBinaryText renders a MySQL binary JSON document as compact JSON
// text: integers exact, doubles in their shortest form, DECIMAL values as
// exact numbers, dates and times as MySQL renders them ("2024-01-02",
// "2024-01-02 03:04:05.000000", "03:04:05.000000"), other opaque values as
// "base64:type<N>:<data>", object members in stored order. An empty
// document (MySQL writes one for a JSON column set to ” in non-strict
// mode) is the JSON null.
func jsonBinaryText(b []byte) (string, error) {
	if len(b) == 0 {
		return "null", nil
	}
	out, err := appendJSONBinary(make([]byte, 0, len(b)+len(b)/4), b[0], b[1:], 0)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// appendJSONBinary appends the value of type tp stored at data.
func appendJSONBinary(out []byte, tp byte, data []byte, depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d", errJSONCorrupt, maxJSONDepth)
	}
	switch tp {
	case jsonbSmallObject, jsonbLargeObject, jsonbSmallArray, jsonbLargeArray:
		return appendJSONContainer(out, tp, data, depth)
	case jsonbLiteral:
		if len(data) < 1 {
			return nil, errJSONCorrupt
		}
		switch data[0] {
		case 0x00:
			return append(out, "null"...), nil
		case 0x01:
			return append(out, "true"...), nil
		case 0x02:
			return append(out, "false"...), nil
		}
		return nil, fmt.Errorf("%w: literal %#x", errJSONCorrupt, data[0])
	case jsonbInt16:
		if len(data) < 2 {
			return nil, errJSONCorrupt
		}
		return strconv.AppendInt(out, int64(int16(binary.LittleEndian.Uint16(data))), 10), nil
	case jsonbUint16:
		if len(data) < 2 {
			return nil, errJSONCorrupt
		}
		return strconv.AppendUint(out, uint64(binary.LittleEndian.Uint16(data)), 10), nil
	case jsonbInt32:
		if len(data) < 4 {
			return nil, errJSONCorrupt
		}
		return strconv.AppendInt(out, int64(int32(binary.LittleEndian.Uint32(data))), 10), nil
	case jsonbUint32:
		if len(data) < 4 {
			return nil, errJSONCorrupt
		}
		return strconv.AppendUint(out, uint64(binary.LittleEndian.Uint32(data)), 10), nil
	case jsonbInt64:
		if len(data) < 8 {
			return nil, errJSONCorrupt
		}
		return strconv.AppendInt(out, int64(binary.LittleEndian.Uint64(data)), 10), nil
	case jsonbUint64:
		if len(data) < 8 {
			return nil, errJSONCorrupt
		}
		return strconv.AppendUint(out, binary.LittleEndian.Uint64(data), 10), nil
	case jsonbDouble:
		if len(data) < 8 {
			return nil, errJSONCorrupt
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(data))
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: double %v", errJSONCorrupt, f)
		}
		return strconv.AppendFloat(out, f, 'g', -1, 64), nil
	case jsonbString:
		s, err := jsonVarBytes(data)
		if err != nil {
			return nil, err
		}
		return appendJSONString(out, s), nil
	case jsonbOpaque:
		if len(data) < 1 {
			return nil, errJSONCorrupt
		}
		ft := data[0]
		v, err := jsonVarBytes(data[1:])
		if err != nil {
			return nil, err
		}
		return appendJSONOpaque(out, ft, v)
	}
	return nil, fmt.Errorf("%w: type %#x", errJSONCorrupt, tp)
}

// jsonVarBytes reads a variable-length (7 bits a byte) length and the bytes
// it announces.
func jsonVarBytes(data []byte) ([]byte, error) {
	var l uint64
	for i := 0; i < 5 && i < len(data); i++ {
		l |= uint64(data[i]&0x7f) << (7 * i)
		if data[i]&0x80 == 0 {
			rest := data[i+1:]
			if l > uint64(len(rest)) {
				return nil, fmt.Errorf("%w: length %d past the end", errJSONCorrupt, l)
			}
			return rest[:l], nil
		}
	}
	return nil, fmt.Errorf("%w: bad variable length", errJSONCorrupt)
}

func appendJSONContainer(out []byte, tp byte, data []byte, depth int) ([]byte, error) {
	small := tp == jsonbSmallObject || tp == jsonbSmallArray
	object := tp == jsonbSmallObject || tp == jsonbLargeObject
	osz := 4
	if small {
		osz = 2
	}
	read := func(p []byte) int {
		if small {
			return int(binary.LittleEndian.Uint16(p))
		}
		return int(binary.LittleEndian.Uint32(p))
	}
	if len(data) < 2*osz {
		return nil, errJSONCorrupt
	}
	count, size := read(data), read(data[osz:])
	if size > len(data) || count < 0 || size < 0 {
		return nil, fmt.Errorf("%w: container of %d bytes in %d", errJSONCorrupt, size, len(data))
	}
	data = data[:size]
	keyEntry, valEntry := osz+2, osz+1
	header := 2*osz + count*valEntry
	if object {
		header += count * keyEntry
	}
	if header > size {
		return nil, fmt.Errorf("%w: header of %d bytes in %d", errJSONCorrupt, header, size)
	}
	open, closing := byte('['), byte(']')
	if object {
		open, closing = '{', '}'
	}
	out = append(out, open)
	for i := 0; i < count; i++ {
		if i > 0 {
			out = append(out, ',')
		}
		if object {
			e := 2*osz + i*keyEntry
			off, l := read(data[e:]), int(binary.LittleEndian.Uint16(data[e+osz:]))
			if off < header || off+l > size {
				return nil, fmt.Errorf("%w: key at %d+%d", errJSONCorrupt, off, l)
			}
			out = appendJSONString(out, data[off:off+l])
			out = append(out, ':')
		}
		e := 2*osz + i*valEntry
		if object {
			e += count * keyEntry
		}
		vt := data[e]
		inline := vt == jsonbLiteral || vt == jsonbInt16 || vt == jsonbUint16 ||
			(!small && (vt == jsonbInt32 || vt == jsonbUint32))
		var err error
		if inline {
			out, err = appendJSONBinary(out, vt, data[e+1:e+valEntry], depth+1)
		} else {
			off := read(data[e+1:])
			if off < header || off >= size {
				return nil, fmt.Errorf("%w: value at %d", errJSONCorrupt, off)
			}
			out, err = appendJSONBinary(out, vt, data[off:], depth+1)
		}
		if err != nil {
			return nil, err
		}
	}
	return append(out, closing), nil
}

// appendJSONOpaque renders an opaque value of MySQL field type ft.
func appendJSONOpaque(out []byte, ft byte, v []byte) ([]byte, error) {
	switch ft {
	case gm.MYSQL_TYPE_NEWDECIMAL:
		if len(v) < 2 {
			return nil, errJSONCorrupt
		}
		prec, scale := int(v[0]), int(v[1])
		if prec < 1 || prec > 65 || scale > prec {
			return nil, fmt.Errorf("%w: decimal(%d,%d)", errJSONCorrupt, prec, scale)
		}
		s, _, err := decodeDecimal(v[2:], prec, scale)
		if err != nil {
			return nil, err
		}
		return append(out, s...), nil
	case gm.MYSQL_TYPE_DATE, gm.MYSQL_TYPE_DATETIME, gm.MYSQL_TYPE_TIMESTAMP, gm.MYSQL_TYPE_TIME:
		if len(v) < 8 {
			return nil, errJSONCorrupt
		}
		p := int64(binary.LittleEndian.Uint64(v))
		neg := p < 0
		if neg {
			p = -p
		}
		frac := p & (1<<24 - 1)
		ip := p >> 24
		out = append(out, '"')
		if ft == gm.MYSQL_TYPE_TIME {
			if neg {
				out = append(out, '-')
			}
			out = appendPadded(out, int64(ip>>12&1023), 2)
			out = append(out, ':')
			out = appendPadded(out, ip>>6&63, 2)
			out = append(out, ':')
			out = appendPadded(out, ip&63, 2)
			out = append(out, '.')
			out = appendPadded(out, frac, 6)
			return append(out, '"'), nil
		}
		ymd, hms := ip>>17, ip&(1<<17-1)
		ym := ymd >> 5
		out = appendPadded(out, ym/13, 4)
		out = append(out, '-')
		out = appendPadded(out, ym%13, 2)
		out = append(out, '-')
		out = appendPadded(out, ymd&31, 2)
		if ft != gm.MYSQL_TYPE_DATE {
			out = append(out, ' ')
			out = appendPadded(out, hms>>12, 2)
			out = append(out, ':')
			out = appendPadded(out, hms>>6&63, 2)
			out = append(out, ':')
			out = appendPadded(out, hms&63, 2)
			out = append(out, '.')
			out = appendPadded(out, frac, 6)
		}
		return append(out, '"'), nil
	}
	out = append(out, `"base64:type`...)
	out = strconv.AppendInt(out, int64(ft), 10)
	out = append(out, ':')
	out = base64.StdEncoding.AppendEncode(out, v)
	return append(out, '"'), nil
}

// appendPadded appends v in decimal with at least width digits.
func appendPadded(out []byte, v int64, width int) []byte {
	s := strconv.FormatInt(v, 10)
	for i := len(s); i < width; i++ {
		out = append(out, '0')
	}
	return append(out, s...)
}

// appendJSONString appends s as a JSON string; bytes that are not valid
// UTF-8 become U+FFFD.
func appendJSONString(out []byte, s []byte) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				out = append(out, '\\', c)
			case c == '\n':
				out = append(out, '\\', 'n')
			case c == '\r':
				out = append(out, '\\', 'r')
			case c == '\t':
				out = append(out, '\\', 't')
			case c < 0x20:
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				out = append(out, c)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			out = append(out, `\ufffd`...)
		} else {
			out = append(out, s[i:i+n]...)
		}
		i += n
	}
	return append(out, '"')
}
