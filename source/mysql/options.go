package mysql

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

// Options configures a Source. The zero value of each optional field
// selects the documented default.
type Options struct {
	// DSN is the server to read, in the go-sql-driver/mysql form
	// "user:password@tcp(host:port)/db" ("unix(/path/to/socket)" also
	// works; db may be empty; no ?parameters). Required. The user needs
	// REPLICATION SLAVE, REPLICATION CLIENT (MariaDB: BINLOG MONITOR) and
	// SELECT on the captured tables.
	DSN string
	// Pipeline is the pipeline's name. Required; it appears in every
	// event's SourceInfo.
	Pipeline string
	// Tables lists the tables to capture as "db.table" patterns; each part
	// may use the globs of event.Glob, '*' and '?' ("shop.order*"). Required; every
	// pattern must match at least one table when Open runs.
	Tables []string
	// ServerID is the replica server id the source registers with; it must
	// differ from the server's own id and from every other replica's.
	// Required.
	ServerID uint32
	// Heartbeat is the period at which the server sends heartbeat events
	// while it has nothing else to send. A stream that receives nothing for
	// three periods is considered dead and Read returns a transient error.
	// Default 10s.
	Heartbeat time.Duration
	// ZeroDate decides what a DATE, DATETIME or TIMESTAMP value that no
	// calendar holds becomes ('0000-00-00', a zero month or day, an invalid
	// day such as '2020-02-31'): "null" (default) or "error" (Read fails
	// with a DecodeError wrapping ErrZeroDate).
	ZeroDate string
	// MaxBatchEvents bounds the events of one batch; larger transactions
	// are split into several batches. Default 4096.
	MaxBatchEvents int
	// MaxBatchBytes bounds the estimated size of one batch. Default 1 MiB.
	MaxBatchBytes int
	// QueueBatches is how many batches the stream goroutine may hold ahead
	// of Read. Default 16.
	QueueBatches int
	// Logger receives warnings and progress. Default: discard.
	Logger *slog.Logger
}

// Default values of Options.
const (
	DefaultHeartbeat      = 10 * time.Second
	DefaultMaxBatchEvents = 4096
	DefaultMaxBatchBytes  = 1 << 20
	DefaultQueueBatches   = 16
)

// idleInterval is the least time between two empty batches (transactions
// without captured changes) handed to the pipeline.
const idleInterval = 200 * time.Millisecond

// tablePattern is one parsed entry of Options.Tables.
type tablePattern struct {
	text, db, name string
}

func (p tablePattern) match(db, name string) bool {
	return event.Glob(p.db, db) && event.Glob(p.name, name)
}

// dbMatch reports whether the pattern can match a table of database db.
func (p tablePattern) dbMatch(db string) bool {
	return event.Glob(p.db, db)
}

// validate fills defaults and rejects invalid options.
func (o *Options) validate() ([]tablePattern, dsn, error) {
	var errs []error
	var d dsn
	if o.DSN == "" {
		errs = append(errs, errors.New("dsn is required"))
	} else {
		var err error
		if d, err = parseDSN(o.DSN); err != nil {
			errs = append(errs, fmt.Errorf("dsn: %w", err))
		}
	}
	if o.Pipeline == "" {
		errs = append(errs, errors.New("pipeline name is required"))
	}
	if len(o.Tables) == 0 {
		errs = append(errs, errors.New("tables: at least one \"db.table\" pattern is required"))
	}
	var pats []tablePattern
	for _, t := range o.Tables {
		db, name, ok := strings.Cut(t, ".")
		if !ok || db == "" || name == "" {
			errs = append(errs, fmt.Errorf("tables: %q: want \"db.table\" (globs allowed)", t))
			continue
		}
		pats = append(pats, tablePattern{text: t, db: db, name: name})
	}
	if o.ServerID == 0 {
		errs = append(errs, errors.New("server id is required (a number no other replica of the server uses)"))
	}
	if o.Heartbeat == 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.Heartbeat < 0 {
		errs = append(errs, errors.New("heartbeat must be positive"))
	} else if o.Heartbeat < time.Millisecond {
		errs = append(errs, errors.New("heartbeat must be at least 1ms"))
	}
	switch o.ZeroDate {
	case "":
		o.ZeroDate = "null"
	case "null", "error":
	default:
		errs = append(errs, fmt.Errorf("zero date %q: want \"null\" or \"error\"", o.ZeroDate))
	}
	if o.MaxBatchEvents == 0 {
		o.MaxBatchEvents = DefaultMaxBatchEvents
	}
	if o.MaxBatchBytes == 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.QueueBatches == 0 {
		o.QueueBatches = DefaultQueueBatches
	}
	if o.MaxBatchEvents < 0 || o.MaxBatchBytes < 0 || o.QueueBatches < 0 {
		errs = append(errs, errors.New("batch and queue limits must be positive"))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if len(errs) > 0 {
		return nil, dsn{}, fmt.Errorf("mysql source options: %w", errors.Join(errs...))
	}
	return pats, d, nil
}

// dsn is a parsed Options.DSN.
type dsn struct {
	user, password string
	addr           string // host:port, or a socket path
	db             string
}

// parseDSN parses "[user[:password]@][tcp(host:port)|unix(path)]/[db]".
func parseDSN(s string) (dsn, error) {
	var d dsn
	slash := strings.LastIndexByte(s, '/')
	if slash < 0 {
		return d, errors.New(`want "user:password@tcp(host:port)/db"`)
	}
	d.db = s[slash+1:]
	if strings.ContainsRune(d.db, '?') {
		return d, errors.New("parameters (?...) are not supported")
	}
	rest := s[:slash]
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
	case rest == "tcp":
		d.addr = "127.0.0.1:3306"
	case strings.HasPrefix(rest, "unix(") && strings.HasSuffix(rest, ")"):
		d.addr = rest[5 : len(rest)-1]
		if !strings.Contains(d.addr, "/") {
			return d, fmt.Errorf("unix socket %q: want an absolute path", d.addr)
		}
	default:
		return d, fmt.Errorf("address %q: want tcp(host:port) or unix(/path)", rest)
	}
	if d.user == "" {
		return d, errors.New("a user is required")
	}
	return d, nil
}
