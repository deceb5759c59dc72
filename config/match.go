package config

import "github.com/cdcd-dev/cdcd/event"

// MatchTable reports whether the table namespace.table matches pattern, a
// "namespace.table" pattern as written in a config file's tables lists:
// each side of the dot is matched on its own, '*' matches any run of
// characters (including none) and '?' exactly one; everything else matches
// itself, case-sensitively. A pattern without exactly one dot matches
// nothing.
func MatchTable(pattern, namespace, table string) bool {
	return event.MatchTable(pattern, event.TableID{Namespace: namespace, Name: table})
}
