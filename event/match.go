package event

import "strings"

// MatchTable reports whether t matches pattern, a "namespace.table"
// pattern as written in a config file's tables lists: each side of the dot
// is matched on its own with Glob. A pattern without exactly one dot
// matches nothing. Sources, transforms, sinks and the config all match
// tables with it, so a pattern means the same everywhere.
func MatchTable(pattern string, t TableID) bool {
	ns, name, ok := strings.Cut(pattern, ".")
	if !ok || strings.Contains(name, ".") {
		return false
	}
	return Glob(ns, t.Namespace) && Glob(name, t.Name)
}

// Glob matches s against p, where '*' is any run of characters (including
// none) and '?' exactly one character (rune); everything else matches
// itself, case-sensitively. It backtracks to the last '*' only, so it is
// linear in practice and never exponential.
func Glob(p, s string) bool {
	pr, sr := []rune(p), []rune(s)
	pi, si, star, mark := 0, 0, -1, 0
	for si < len(sr) {
		switch {
		case pi < len(pr) && (pr[pi] == '?' || pr[pi] == sr[si]):
			pi++
			si++
		case pi < len(pr) && pr[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(pr) && pr[pi] == '*' {
		pi++
	}
	return pi == len(pr)
}
