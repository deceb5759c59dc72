package config

import (
	"fmt"
	"strings"
)

// expand replaces ${VAR} with the value of VAR, ${VAR:-default} with the
// value of VAR or, when VAR is unset or empty, with default, and $$ with a
// single $. Any other $ is kept as it is. It reports whether a variable was
// read, and one message per problem (an unset variable without default, a
// malformed reference); on problems the returned text is not meaningful.
func expand(s string, lookup func(string) (string, bool)) (out string, usedVar bool, problems []string) {
	if !strings.Contains(s, "$") {
		return s, false, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '{':
		default:
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			problems = append(problems, fmt.Sprintf("unterminated variable reference %q: missing '}' (write $$ for a literal $)", truncate(s[i:], 20)))
			break
		}
		ref := s[i+2 : i+2+end]
		i += 2 + end
		name, def, hasDef := strings.Cut(ref, ":-")
		if !validVarName(name) {
			problems = append(problems, fmt.Sprintf("invalid variable reference ${%s}: a name is letters, digits and '_', not starting with a digit (write $$ for a literal $)", truncate(ref, 40)))
			continue
		}
		usedVar = true
		v, ok := lookup(name)
		switch {
		case ok && (v != "" || !hasDef):
			b.WriteString(v)
		case hasDef:
			b.WriteString(def)
		default:
			problems = append(problems, fmt.Sprintf("environment variable %s is not set (set it, or write ${%s:-default})", name, name))
		}
	}
	return b.String(), usedVar, problems
}

// validVarName reports whether s is a shell-style variable name.
func validVarName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// truncate shortens s to at most n bytes (on a rune boundary), marking the
// cut with "…".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
