package config

import "strings"

// MatchTable reports whether the table namespace.table matches pattern, a
// "namespace.table" pattern as written in a config file's tables lists:
// each side of the dot is matched on its own, '*' matches any run of
// characters (including none) and '?' exactly one; everything else matches
// itself, case-sensitively. A pattern without exactly one dot matches
// nothing.
func MatchTable(pattern, namespace, table string) bool {
	pns, ptab, ok := strings.Cut(pattern, ".")
	if !ok || strings.Contains(ptab, ".") {
		return false
	}
	return globMatch(pns, namespace) && globMatch(ptab, table)
}

// globMatch matches s against p, where '*' is any run of characters and '?'
// any one character (counted in runes).
func globMatch(p, s string) bool {
	pr, sr := []rune(p), []rune(s)
	// Iterative matcher with backtracking to the last '*': linear in
	// practice, never exponential.
	pi, si := 0, 0
	star, mark := -1, 0
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
