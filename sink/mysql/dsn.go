package mysql

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// dsn is a parsed connection string.
type dsn struct {
	user, password string
	addr           string // host:port, or a unix socket path
	db             string
	tls            string // "", "true", "skip-verify"
	timeout        time.Duration
}

// parseDSN parses the two forms cdcd accepts: the go-sql-driver form
// "user:password@tcp(host:port)/db?param=value" (also @unix(/path)) and
// the URL form "mysql://user:password@host:port/db?param=value". The
// parameters understood are tls (true, skip-verify, false) and timeout
// (the dial timeout, a Go duration); others are rejected.
func parseDSN(s string) (dsn, error) {
	var d dsn
	var query string
	if rest, ok := strings.CutPrefix(s, "mysql://"); ok {
		u, err := url.Parse("mysql://" + rest)
		if err != nil {
			return d, err
		}
		d.user = u.User.Username()
		d.password, _ = u.User.Password()
		d.addr = u.Host
		if u.Port() == "" && d.addr != "" {
			d.addr += ":3306"
		}
		d.db = strings.TrimPrefix(u.Path, "/")
		query = u.RawQuery
	} else {
		rest := s
		if q := strings.LastIndexByte(rest, '?'); q >= 0 && q > strings.LastIndexByte(rest, ')') {
			rest, query = rest[:q], rest[q+1:]
		}
		slash := strings.LastIndexByte(rest, '/')
		if slash < 0 || slash < strings.LastIndexByte(rest, ')') {
			return d, fmt.Errorf("want user:password@tcp(host:port)/database")
		}
		rest, d.db = rest[:slash], rest[slash+1:]
		if at := strings.LastIndexByte(rest, '@'); at >= 0 {
			cred := rest[:at]
			rest = rest[at+1:]
			d.user, d.password, _ = strings.Cut(cred, ":")
		}
		switch {
		case rest == "":
			d.addr = "127.0.0.1:3306"
		case strings.HasPrefix(rest, "tcp(") && strings.HasSuffix(rest, ")"):
			d.addr = rest[4 : len(rest)-1]
			if !strings.Contains(d.addr, ":") {
				d.addr += ":3306"
			}
		case strings.HasPrefix(rest, "unix(") && strings.HasSuffix(rest, ")"):
			d.addr = rest[5 : len(rest)-1]
		default:
			return d, fmt.Errorf("address %q: want tcp(host:port) or unix(/path)", rest)
		}
	}
	if query != "" {
		vals, err := url.ParseQuery(query)
		if err != nil {
			return d, err
		}
		for k, v := range vals {
			val := v[len(v)-1]
			switch k {
			case "tls":
				switch val {
				case "true", "skip-verify":
					d.tls = val
				case "false", "":
				default:
					return d, fmt.Errorf("tls=%s: want true, skip-verify or false", val)
				}
			case "timeout":
				t, err := time.ParseDuration(val)
				if err != nil {
					return d, fmt.Errorf("timeout: %w", err)
				}
				d.timeout = t
			case "charset", "parseTime", "loc", "collation", "interpolateParams":
				// Connection settings cdcd sets itself.
			default:
				return d, fmt.Errorf("unknown parameter %s (cdcd understands tls and timeout)", strconv.Quote(k))
			}
		}
	}
	if d.addr == "" {
		return d, fmt.Errorf("no host")
	}
	return d, nil
}
