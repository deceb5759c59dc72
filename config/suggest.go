package config

import (
	"strings"
)

// suggest returns the candidate closest to s when it is a plausible
// misspelling: equal ignoring case, or at most two edits (insertions,
// deletions, substitutions, transpositions) away and fewer edits than s has
// characters. It returns "" when nothing is close.
func suggest(s string, candidates []string) string {
	for _, c := range candidates {
		if strings.EqualFold(s, c) {
			return c
		}
	}
	best, bestDist := "", 3
	ls := strings.ToLower(s)
	for _, c := range candidates {
		d := editDistance(ls, strings.ToLower(c))
		if d < bestDist && d < len(s) {
			best, bestDist = c, d
		}
	}
	return best
}

// didYouMean formats suggest's answer as " (did you mean X?)", or "".
func didYouMean(s string, candidates []string) string {
	if c := suggest(s, candidates); c != "" {
		return " (did you mean " + c + "?)"
	}
	return ""
}

// editDistance is the optimal-string-alignment distance between a and b,
// counting bytes: Levenshtein plus transposition of adjacent characters.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		// Long strings are never near misses of a key; skip the work.
		if a == b {
			return 0
		}
		return 1 << 20
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// oneOf formats choices as "a, b, c".
func oneOf(choices []string) string { return strings.Join(choices, ", ") }
