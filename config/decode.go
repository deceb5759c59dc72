package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// decoder walks yaml.Node trees of one file, collecting every problem.
type decoder struct {
	file   string
	lookup func(string) (string, bool)
	errs   Errors
	// explained holds the dotted paths of required keys whose absence an
	// earlier "unknown key" error already explains (a misspelling, a key
	// one level off); their "missing" errors would repeat the mistake.
	explained map[string]bool
}

// errorf records a problem at n (which may be nil for whole-file problems).
func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	e := &Error{File: d.file, Key: key, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.errs = append(d.errs, e)
}

// field is one value to decode: a mapping entry (key set) or a list
// element (key nil). val has its aliases resolved.
type field struct {
	key  *yaml.Node
	val  *yaml.Node
	path string
}

// at is where problems with the field as a whole are reported.
func (f field) at() *yaml.Node {
	if f.key != nil {
		return f.key
	}
	return f.val
}

// join appends key to a dotted path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// resolve follows aliases.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// describe names the kind of value n holds, for "expected X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing (null)"
		case "!!bool":
			return "a boolean"
		case "!!int", "!!float":
			return "a number"
		}
		return "a string"
	}
	return "an unsupported YAML node"
}

// isNull reports whether n is an explicit or implicit YAML null.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// quote renders a user value for a message: passwords redacted, long values
// cut, quoted.
func quote(s string) string {
	return strconv.Quote(truncate(RedactDSN(s), 80))
}

// block is a decoded YAML mapping whose keys have been checked against the
// keys allowed at its place.
type block struct {
	d      *decoder
	path   string
	at     *yaml.Node
	fields map[string]field
}

// get returns the entry for key, if the mapping has it.
func (b *block) get(key string) (field, bool) {
	f, ok := b.fields[key]
	return f, ok
}

// has reports whether the mapping has key.
func (b *block) has(key string) bool {
	_, ok := b.fields[key]
	return ok
}

// missing reports that a required key is absent, unless an unknown key
// was reported as its misspelling or misplacement.
func (b *block) missing(key, format string, args ...any) {
	if b.d.explained[join(b.path, key)] {
		return
	}
	b.d.errorf(b.at, join(b.path, key), "missing; "+format, args...)
}

// block checks that f is a mapping (null counts as an empty one) whose keys
// are all in allowed, reporting unknown keys with a suggestion (hints maps
// keys that belong in another block to that block's path), duplicate keys,
// non-string keys and variables in keys. ok is false when f is not a
// mapping at all.
func (d *decoder) block(f field, allowed []string, hints map[string]string) (*block, bool) {
	b := &block{d: d, path: f.path, at: f.at(), fields: map[string]field{}}
	n := f.val
	if isNull(n) {
		return b, true
	}
	if n.Kind != yaml.MappingNode {
		what := "a mapping of " + oneOf(allowed)
		if f.path == "" {
			what = "a mapping with keys " + oneOf(allowed)
		}
		d.errorf(n, f.path, "expected %s, got %s", what, describe(n))
		return b, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, f.path, "keys must be strings, got %s", describe(k))
			continue
		}
		path := join(f.path, k.Value)
		switch {
		case k.Value == "<<":
			d.errorf(k, path, "YAML merge keys (<<) are not supported; write the keys out")
			continue
		case strings.Contains(k.Value, "${"):
			d.errorf(k, path, "${...} variables are expanded in values only, not in keys")
			continue
		}
		if prev, dup := b.fields[k.Value]; dup {
			d.errorf(k, path, "set twice (first at line %d)", prev.key.Line)
			continue
		}
		known := false
		for _, a := range allowed {
			if a == k.Value {
				known = true
				break
			}
		}
		if !known {
			msg := "unknown key"
			if h, ok := hints[k.Value]; ok {
				msg += "; it belongs in " + h
				d.explained[join(h, k.Value)] = true
			} else if s := suggest(k.Value, allowed); s != "" {
				msg += " (did you mean " + s + "?)"
				d.explained[join(f.path, s)] = true
			} else {
				msg += "; valid keys here: " + oneOf(allowed)
			}
			d.errorf(k, path, "%s", msg)
			continue
		}
		b.fields[k.Value] = field{key: k, val: v, path: path}
	}
	return b, true
}

// scalar returns the expanded text of f's value, and whether the value was
// null. ok is false (and a problem recorded) when f is not a scalar or its
// variables do not expand; want names the expected type for the message.
func (d *decoder) scalar(f field, want string) (s string, null, ok bool) {
	n := f.val
	if n.Kind != yaml.ScalarNode {
		d.errorf(n, f.path, "expected %s, got %s", want, describe(n))
		return "", false, false
	}
	if isNull(n) {
		return "", true, true
	}
	s, _, problems := expand(n.Value, d.lookup)
	for _, p := range problems {
		d.errorf(n, f.path, "%s", p)
	}
	return s, false, len(problems) == 0
}

// str decodes a string; null is the empty string.
func (d *decoder) str(f field) (string, bool) {
	s, _, ok := d.scalar(f, "a string")
	return s, ok
}

// nonEmpty decodes a string that must not be empty; what describes the
// value for the message.
func (d *decoder) nonEmpty(f field, what string) (string, bool) {
	s, ok := d.str(f)
	if ok && strings.TrimSpace(s) == "" {
		d.errorf(f.val, f.path, "must not be empty; expected %s", what)
		return "", false
	}
	return s, ok
}

// boolean decodes true or false (any case).
func (d *decoder) boolean(f field) (bool, bool) {
	s, null, ok := d.scalar(f, "a boolean (true or false)")
	if !ok {
		return false, false
	}
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	if null {
		d.errorf(f.val, f.path, "expected a boolean (true or false), got nothing")
	} else {
		d.errorf(f.val, f.path, "expected a boolean (true or false), got %s", quote(s))
	}
	return false, false
}

// integer decodes a decimal integer in [lo, hi].
func (d *decoder) integer(f field, lo, hi int64) (int64, bool) {
	s, null, ok := d.scalar(f, "an integer")
	if !ok {
		return 0, false
	}
	if null {
		d.errorf(f.val, f.path, "expected an integer, got nothing")
		return 0, false
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			d.errorf(f.val, f.path, "%s is out of range %d..%d", quote(s), lo, hi)
		} else {
			d.errorf(f.val, f.path, "expected an integer, got %s", quote(s))
		}
		return 0, false
	}
	if v < lo || v > hi {
		d.errorf(f.val, f.path, "%d is out of range %d..%d", v, lo, hi)
		return 0, false
	}
	return v, true
}

// duration decodes a Duration, optionally requiring it to be positive.
func (d *decoder) duration(f field, positive bool) (Duration, bool) {
	s, null, ok := d.scalar(f, `a duration such as "30s"`)
	if !ok {
		return 0, false
	}
	if null {
		d.errorf(f.val, f.path, `expected a duration such as "30s" or "500ms", got nothing`)
		return 0, false
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.errorf(f.val, f.path, "%s", strings.Replace(err.Error(), strconv.Quote(s), quote(s), 1))
		return 0, false
	}
	if positive && v <= 0 {
		d.errorf(f.val, f.path, "must be greater than 0")
		return 0, false
	}
	return v, true
}

// byteSize decodes a ByteSize, optionally requiring it to be positive.
func (d *decoder) byteSize(f field, positive bool) (ByteSize, bool) {
	s, null, ok := d.scalar(f, `a size such as "16MiB"`)
	if !ok {
		return 0, false
	}
	if null {
		d.errorf(f.val, f.path, `expected a size such as "16MiB" or a number of bytes, got nothing`)
		return 0, false
	}
	v, err := ParseByteSize(s)
	if err != nil {
		d.errorf(f.val, f.path, "%s", strings.Replace(err.Error(), strconv.Quote(s), quote(s), 1))
		return 0, false
	}
	if positive && v <= 0 {
		d.errorf(f.val, f.path, "must be greater than 0")
		return 0, false
	}
	return v, true
}

// enum decodes one of choices, listing them when the value is not one.
func (d *decoder) enum(f field, choices []string) (string, bool) {
	s, null, ok := d.scalar(f, "one of "+oneOf(choices))
	if !ok {
		return "", false
	}
	for _, c := range choices {
		if s == c {
			return s, true
		}
	}
	if null || s == "" {
		d.errorf(f.val, f.path, "missing value; expected one of %s", oneOf(choices))
	} else {
		d.errorf(f.val, f.path, "%s is not one of %s%s", quote(s), oneOf(choices), didYouMean(s, choices))
	}
	return "", false
}

// item is one decoded scalar of a list.
type item struct {
	val  string
	node *yaml.Node
	path string
}

// strList decodes a list of scalars; null is the empty list. Elements that
// fail are left out and make ok false.
func (d *decoder) strList(f field) ([]item, bool) {
	n := f.val
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		msg := fmt.Sprintf("expected a list of strings, got %s", describe(n))
		if n.Kind == yaml.ScalarNode {
			msg += fmt.Sprintf("; write [%s] for a list of one", truncate(RedactDSN(n.Value), 80))
		}
		d.errorf(n, f.path, "%s", msg)
		return nil, false
	}
	out := make([]item, 0, len(n.Content))
	ok := true
	for i, c := range n.Content {
		e := field{val: resolve(c), path: fmt.Sprintf("%s[%d]", f.path, i)}
		if e.val == nil {
			continue
		}
		s, null, sok := d.scalar(e, "a string")
		switch {
		case !sok:
			ok = false
		case null || strings.TrimSpace(s) == "":
			d.errorf(e.val, e.path, "empty entry")
			ok = false
		default:
			out = append(out, item{val: s, node: e.val, path: e.path})
		}
	}
	return out, ok
}

// values returns the strings of items.
func values(items []item) []string {
	if len(items) == 0 {
		return nil
	}
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.val
	}
	return out
}

// unique reports entries listed more than once; what names them ("table
// pattern", "column").
func (d *decoder) unique(items []item, what string) bool {
	seen := map[string]*yaml.Node{}
	ok := true
	for _, it := range items {
		if prev, dup := seen[it.val]; dup {
			d.errorf(it.node, it.path, "%s %s is listed twice (also at line %d)", what, quote(it.val), prev.Line)
			ok = false
			continue
		}
		seen[it.val] = it.node
	}
	return ok
}

// strMap decodes a mapping of strings to strings; null is the empty map.
// Keys must be non-empty and are not expanded.
func (d *decoder) strMap(f field) (map[string]string, bool) {
	n := f.val
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, f.path, "expected a mapping of strings to strings, got %s", describe(n))
		return nil, false
	}
	out := make(map[string]string, len(n.Content)/2)
	lines := map[string]int{}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if k == nil || v == nil {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, f.path, "keys must be strings, got %s", describe(k))
			ok = false
			continue
		}
		path := f.path + "." + k.Value
		switch {
		case strings.TrimSpace(k.Value) == "" || isNull(k):
			d.errorf(k, f.path, "empty key")
			ok = false
			continue
		case strings.Contains(k.Value, "${"):
			d.errorf(k, path, "${...} variables are expanded in values only, not in keys")
			ok = false
			continue
		}
		if l, dup := lines[k.Value]; dup {
			d.errorf(k, path, "set twice (first at line %d)", l)
			ok = false
			continue
		}
		lines[k.Value] = k.Line
		s, sok := d.str(field{key: k, val: v, path: path})
		if !sok {
			ok = false
			continue
		}
		out[k.Value] = s
	}
	return out, ok
}

// list returns the elements of a list of mappings (or anything else; the
// caller decodes each); null is the empty list.
func (d *decoder) list(f field, what string) ([]field, bool) {
	n := f.val
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, f.path, "expected a list of %s, got %s", what, describe(n))
		return nil, false
	}
	out := make([]field, 0, len(n.Content))
	for i, c := range n.Content {
		if v := resolve(c); v != nil {
			out = append(out, field{val: v, path: fmt.Sprintf("%s[%d]", f.path, i)})
		}
	}
	return out, true
}

// yamlLine splits yaml.v3's "yaml: line N: msg".
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse reads the single document of data. It reports an empty file, a
// second document and YAML syntax errors, and returns nil then.
func (d *decoder) parse(data []byte) (root *yaml.Node) {
	defer func() {
		// yaml.v3 panics on some internal errors instead of returning
		// them; a bad file must never crash the process.
		if r := recover(); r != nil {
			d.errorf(nil, "", "invalid YAML: %v", r)
			root = nil
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			d.errorf(nil, "", "the file is empty; expected a pipeline (pipeline:, source:, sink:)")
		} else {
			d.syntaxError(err, data)
		}
		return nil
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case err == io.EOF:
	case err != nil:
		d.syntaxError(err, data)
		return nil
	case len(next.Content) == 1 && isNull(next.Content[0]) && next.Content[0].Value == "":
		// A trailing "---" with nothing after it.
	default:
		d.errorf(&next, "", "a second YAML document starts here; a file holds one pipeline (put each pipeline in its own file of a directory)")
		return nil
	}
	if len(doc.Content) != 1 {
		d.errorf(nil, "", "the file is empty; expected a pipeline (pipeline:, source:, sink:)")
		return nil
	}
	return doc.Content[0]
}

// syntaxError records a yaml.v3 parse error with the best line it can find.
func (d *decoder) syntaxError(err error, data []byte) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		line = guessLine(msg, data)
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Msg: "invalid YAML: " + msg})
}

// guessLine finds the line of a yaml.v3 error whose message has none: the
// first bad byte for encoding errors, the reference for unknown anchors,
// otherwise line 1 (yaml.v3 leaves out "line 1").
func guessLine(msg string, data []byte) int {
	lineOf := func(off int) int { return 1 + bytes.Count(data[:off], []byte{'\n'}) }
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name, _, _ = strings.Cut(name, "'")
		if i := bytes.Index(data, []byte("*"+name)); i >= 0 {
			return lineOf(i)
		}
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		bad := r == utf8.RuneError && size <= 1
		bad = bad || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || (r >= 0x7F && r <= 0x9F && r != 0x85)
		bad = bad || r == 0xFFFE || r == 0xFFFF || (r >= 0xD800 && r <= 0xDFFF)
		if bad {
			return lineOf(i)
		}
		i += size
	}
	return 1
}
