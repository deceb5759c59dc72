package transform

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"unicode/utf8"

	"github.com/cdcd-dev/cdcd/event"
)

// redacted is what MaskRedact writes.
const redacted = "***"

// mask replaces the values of the named columns in the key, before and
// after rows. NULL stays NULL whatever the method. Masked values are never
// put in errors or logs.
type mask struct {
	site
	tables    tableSet
	names     []string
	method    MaskMethod
	salt      []byte
	keep      int
	keepFirst int
	mac       hash.Hash // MaskHMAC: keyed with salt, reused
	buf       []byte    // scratch for the value's text
	plans     planCache[maskPlan]
}

// maskPlan is what mask works out once per input schema.
type maskPlan struct {
	out *event.TableSchema // the schema with the masked columns' new kinds
}

func newMask(at site, tables tableSet, sp *Spec) (Transform, error) {
	if err := checkColumns(at, sp.Columns); err != nil {
		return nil, err
	}
	m := &mask{site: at, tables: tables, names: sp.Columns, method: sp.Method,
		salt: []byte(sp.Salt), keep: sp.Keep, keepFirst: sp.KeepFirst}
	switch sp.Method {
	case MaskSHA256, MaskRedact, MaskNull:
	case MaskHMAC:
		if sp.Salt == "" {
			return nil, at.failf("salt", "hmac needs a key (salt)")
		}
		m.mac = hmac.New(sha256.New, m.salt)
	case MaskPartial, MaskTruncate:
		if sp.Keep < 0 || sp.KeepFirst < 0 {
			return nil, at.failf("keep", "must not be negative")
		}
	case "":
		return nil, at.failf("method", "missing; want sha256, hmac, redact, null, partial or truncate")
	default:
		return nil, at.failf("method", "unknown mask method %q (want sha256, hmac, redact, null, partial or truncate)", sp.Method)
	}
	return m, nil
}

// keepsKeys reports whether the method keeps distinct keys distinct (up to
// hash collisions), so that it may mask key columns.
func (m *mask) keepsKeys() bool { return m.method == MaskSHA256 || m.method == MaskHMAC }

func (m *mask) keyError(i int, col string, t event.TableID) error {
	return m.fail(fmt.Sprintf("columns[%d]", i), fmt.Errorf("%w: %s is a key column of %s; only sha256 and hmac may mask key columns (%s would merge distinct keys)", ErrKeyColumn, col, t, m.method))
}

func (m *mask) plan(in *event.TableSchema) (*maskPlan, error) {
	if in == nil {
		return &maskPlan{}, nil
	}
	var out *event.TableSchema
	for i, n := range m.names {
		c := in.Column(n)
		if c == nil {
			continue
		}
		if c.Key && !m.keepsKeys() {
			return nil, m.keyError(i, n, in.Table)
		}
		if out == nil {
			out = cloneSchema(in)
		}
		m.maskColumn(out.Column(n))
	}
	if out == nil {
		out = in
	}
	return &maskPlan{out: out}, nil
}

// maskColumn changes c to describe the values the method writes.
func (m *mask) maskColumn(c *event.Column) {
	toString := func() {
		c.Kind, c.Type = event.KindString, "text"
	}
	switch m.method {
	case MaskSHA256, MaskHMAC, MaskRedact:
		toString()
	case MaskNull:
		c.Nullable = true
	case MaskPartial:
		if c.Kind != event.KindString {
			toString()
		}
	case MaskTruncate:
		if c.Kind != event.KindString && c.Kind != event.KindBytes {
			toString()
		}
	}
}

// Apply implements Transform.
func (m *mask) Apply(e *event.Event) (bool, error) {
	if !m.tables.match(e.Table) {
		return true, nil
	}
	p, err := m.plans.get(e.Schema, m.plan)
	if err != nil {
		return false, err
	}
	if e.Schema == nil && !m.keepsKeys() {
		for i, n := range m.names {
			if _, isKey := e.Key.Get(n); isKey {
				return false, m.keyError(i, n, e.Table)
			}
		}
	}
	m.maskRow(e.Key)
	m.maskRow(e.Before)
	m.maskRow(e.After)
	e.Schema = p.out
	return true, nil
}

func (m *mask) maskRow(r event.Row) {
	for i := range r {
		if contains(m.names, r[i].Name) {
			r[i].Value = m.value(r[i].Value)
		}
	}
}

// value returns v masked.
func (m *mask) value(v event.Value) event.Value {
	if v.IsNull() {
		return v
	}
	switch m.method {
	case MaskSHA256:
		m.buf = textOf(append(m.buf[:0], m.salt...), v)
		sum := sha256.Sum256(m.buf)
		return hexValue(sum[:])
	case MaskHMAC:
		m.buf = textOf(m.buf[:0], v)
		m.mac.Reset()
		m.mac.Write(m.buf)
		var sum [sha256.Size]byte
		return hexValue(m.mac.Sum(sum[:0]))
	case MaskRedact:
		return event.String(redacted)
	case MaskNull:
		return event.Null()
	case MaskPartial:
		return m.partial(v)
	case MaskTruncate:
		return m.truncate(v)
	}
	return v
}

// hexValue returns the lower-case hex of a digest as a string value.
func hexValue(sum []byte) event.Value {
	var h [2 * sha256.Size]byte
	n := hex.Encode(h[:], sum)
	return event.String(string(h[:n]))
}

// text returns the text of v, without copying when v holds text.
func (m *mask) text(v event.Value) string {
	if v.Kind() == event.KindString {
		return v.Str()
	}
	m.buf = textOf(m.buf[:0], v)
	return string(m.buf)
}

// partial keeps the first keepFirst and last keep characters of v's text
// and writes '*' for each other one. A value no longer than what would be
// kept is masked entirely, so that short values are not given away.
func (m *mask) partial(v event.Value) event.Value {
	s := m.text(v)
	n := utf8.RuneCountInString(s)
	if n <= m.keepFirst+m.keep {
		return event.String(strings.Repeat("*", n))
	}
	out := make([]byte, 0, len(s))
	i := 0
	for _, r := range s {
		if i < m.keepFirst || i >= n-m.keep {
			out = utf8.AppendRune(out, r)
		} else {
			out = append(out, '*')
		}
		i++
	}
	return event.String(string(out))
}

// truncate keeps the first keep characters of v's text, or bytes of a
// binary value.
func (m *mask) truncate(v event.Value) event.Value {
	if v.Kind() == event.KindBytes {
		if s := v.Str(); len(s) > m.keep {
			return event.BytesString(s[:m.keep])
		}
		return v
	}
	s := m.text(v)
	i, n := 0, 0
	for i < len(s) && n < m.keep {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return event.String(s[:i])
}

// schema implements schemaChecker.
func (m *mask) schema(s *event.TableSchema) (*event.TableSchema, error) {
	if s == nil || !m.tables.match(s.Table) {
		return s, nil
	}
	if m.tables.isExact(s.Table) {
		for i, n := range m.names {
			if s.Column(n) == nil {
				return nil, m.fail(fmt.Sprintf("columns[%d]", i), fmt.Errorf("%w: %s has no column %s", ErrUnknownColumn, s.Table, n))
			}
		}
	}
	p, err := m.plan(s)
	if err != nil {
		return nil, err
	}
	return p.out, nil
}
