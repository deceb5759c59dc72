package config

import (
	"regexp"
	"strings"
)

var (
	// kvPassword matches password=… in libpq key=value strings and URL
	// query strings.
	kvPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]*)`)
	// urlScheme matches the start of a URL.
	urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
)

// RedactDSN returns dsn with its password replaced by "***", for logs and
// messages: "postgres://user:***@host/db", "user:***@tcp(host:3306)/db",
// "host=db password=*** dbname=shop". A string without a recognizable
// password is returned unchanged. It is safe for concurrent use.
func RedactDSN(dsn string) string {
	dsn = kvPassword.ReplaceAllString(dsn, "${1}***")
	rest, prefix := dsn, ""
	if loc := urlScheme.FindStringIndex(dsn); loc != nil {
		prefix, rest = dsn[:loc[1]], dsn[loc[1]:]
	}
	// The userinfo ends at the last '@' before the path (URL) or before the
	// "/dbname" (MySQL DSN, whose address is in parentheses).
	end := len(rest)
	if q := strings.IndexByte(rest, '?'); q >= 0 {
		end = q
	}
	if prefix == "" {
		if s := strings.LastIndexByte(rest[:end], '/'); s >= 0 {
			end = s
		}
	}
	at := strings.LastIndexByte(rest[:end], '@')
	if at < 0 {
		return dsn
	}
	colon := strings.IndexByte(rest[:at], ':')
	if colon < 0 || (prefix == "" && strings.ContainsAny(rest[:colon], " =")) {
		return dsn
	}
	return prefix + rest[:colon+1] + "***" + rest[at:]
}
