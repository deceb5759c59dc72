package transform

import (
	"fmt"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
)

// maxCache bounds the per-transform caches keyed by table, schema or
// routing value; a cache that grows past it is cleared and refilled.
const maxCache = 4096

// tableSet matches tables against "namespace.table" glob patterns. The
// result for each table is cached, so matching costs a comparison with the
// last table seen, or a map lookup, per event. Not safe for concurrent use.
type tableSet struct {
	patterns []string // nil: every table
	last     event.TableID
	lastOK   bool
	primed   bool
	cache    map[event.TableID]bool
}

// newTableSet checks the patterns: each is "namespace.table" where either
// side may use '*' (any run of characters) and '?' (one character).
func newTableSet(patterns []string) (tableSet, error) {
	for i, p := range patterns {
		ns, tab, ok := strings.Cut(p, ".")
		if !ok || ns == "" || tab == "" || strings.Contains(tab, ".") {
			return tableSet{}, fmt.Errorf("tables[%d]: %q is not a \"namespace.table\" pattern", i, p)
		}
	}
	return tableSet{patterns: patterns}, nil
}

// match reports whether t matches one of the patterns (always, without
// patterns).
func (s *tableSet) match(t event.TableID) bool {
	if s.patterns == nil {
		return true
	}
	if s.primed && t.Name == s.last.Name && t.Namespace == s.last.Namespace {
		return s.lastOK
	}
	ok, hit := s.cache[t]
	if !hit {
		ok = false
		for _, p := range s.patterns {
			if matchTable(p, t.Namespace, t.Name) {
				ok = true
				break
			}
		}
		if s.cache == nil || len(s.cache) >= maxCache {
			s.cache = make(map[event.TableID]bool)
		}
		s.cache[t] = ok
	}
	s.last, s.lastOK, s.primed = t, ok, true
	return ok
}

// exact returns the patterns without globs as tables.
func (s *tableSet) exact() []event.TableID {
	var out []event.TableID
	for _, p := range s.patterns {
		if !strings.ContainsAny(p, "*?") {
			ns, tab, _ := strings.Cut(p, ".")
			out = append(out, event.TableID{Namespace: ns, Name: tab})
		}
	}
	return out
}

// isExact reports whether t is named by a pattern without globs.
func (s *tableSet) isExact(t event.TableID) bool {
	for _, x := range s.exact() {
		if x == t {
			return true
		}
	}
	return false
}

// matchTable reports whether namespace.table matches pattern
// (event.MatchTable).
func matchTable(pattern, namespace, table string) bool {
	return event.MatchTable(pattern, event.TableID{Namespace: namespace, Name: table})
}
