package postgres

import (
	"errors"
	"fmt"

	"github.com/cdcd-dev/cdcd/event"
)

// errArrayBounds is returned by parseArray for an array whose lower bounds
// are not 1 ("[0:1]={a,b}"); its caller falls back to the text form so
// that the bounds are not lost.
var errArrayBounds = errors.New("array with explicit bounds")

// arrayDecoder returns the decoder of an array type whose elements are
// decoded by elem and separated by delim (',' for every built-in type but
// box, whose delimiter is ';'). Arrays of several dimensions become nested
// arrays; NULL elements become NULL values. An array with lower bounds
// other than 1 is carried as its text form (KindText) instead.
func arrayDecoder(elem decoder, delim byte) decoder {
	return func(b []byte) (event.Value, error) {
		v, err := parseArray(b, delim, elem)
		if errors.Is(err, errArrayBounds) {
			return decodeText(b)
		}
		return v, err
	}
}

// parseArray parses the text form of a Postgres array (array_out).
func parseArray(b []byte, delim byte, elem decoder) (event.Value, error) {
	if len(b) > 0 && b[0] == '[' {
		return event.Value{}, errArrayBounds
	}
	p := arrayParser{src: b, delim: delim, elem: elem}
	v, err := p.parse(0)
	if err != nil {
		return event.Value{}, err
	}
	if p.i != len(b) {
		return event.Value{}, fmt.Errorf("array: trailing data at offset %d", p.i)
	}
	return v, nil
}

// maxArrayDepth is Postgres's MAXDIM.
const maxArrayDepth = 6

type arrayParser struct {
	src   []byte
	i     int
	delim byte
	elem  decoder
	buf   []byte
}

func (p *arrayParser) parse(depth int) (event.Value, error) {
	if depth > maxArrayDepth {
		return event.Value{}, fmt.Errorf("array: more than %d dimensions", maxArrayDepth)
	}
	if p.i >= len(p.src) || p.src[p.i] != '{' {
		return event.Value{}, fmt.Errorf("array: want '{' at offset %d", p.i)
	}
	p.i++
	elems := []event.Value{}
	if p.i < len(p.src) && p.src[p.i] == '}' {
		p.i++
		return event.Array(elems), nil
	}
	for {
		if p.i >= len(p.src) {
			return event.Value{}, errors.New("array: unterminated")
		}
		var v event.Value
		var err error
		switch p.src[p.i] {
		case '{':
			v, err = p.parse(depth + 1)
		case '"':
			v, err = p.quoted()
		default:
			v, err = p.unquoted()
		}
		if err != nil {
			return event.Value{}, err
		}
		elems = append(elems, v)
		if p.i >= len(p.src) {
			return event.Value{}, errors.New("array: unterminated")
		}
		switch c := p.src[p.i]; {
		case c == '}':
			p.i++
			return event.Array(elems), nil
		case c == p.delim:
			p.i++
		default:
			return event.Value{}, fmt.Errorf("array: unexpected %q at offset %d", c, p.i)
		}
	}
}

func (p *arrayParser) quoted() (event.Value, error) {
	p.i++ // opening quote
	p.buf = p.buf[:0]
	for p.i < len(p.src) {
		c := p.src[p.i]
		p.i++
		switch c {
		case '\\':
			if p.i >= len(p.src) {
				return event.Value{}, errors.New("array: unterminated escape")
			}
			p.buf = append(p.buf, p.src[p.i])
			p.i++
		case '"':
			return p.elem(p.buf)
		default:
			p.buf = append(p.buf, c)
		}
	}
	return event.Value{}, errors.New("array: unterminated quoted element")
}

func (p *arrayParser) unquoted() (event.Value, error) {
	start := p.i
	for p.i < len(p.src) {
		c := p.src[p.i]
		if c == p.delim || c == '}' {
			break
		}
		if c == '{' || c == '"' || c == '\\' {
			return event.Value{}, fmt.Errorf("array: unexpected %q at offset %d", c, p.i)
		}
		p.i++
	}
	s := p.src[start:p.i]
	if len(s) == 0 {
		return event.Value{}, fmt.Errorf("array: empty element at offset %d", start)
	}
	if len(s) == 4 && (s[0]|0x20) == 'n' && (s[1]|0x20) == 'u' && (s[2]|0x20) == 'l' && (s[3]|0x20) == 'l' {
		return event.Null(), nil
	}
	return p.elem(s)
}
