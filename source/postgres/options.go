package postgres

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cdcd-dev/cdcd/event"
)

// Options configures a Source. The zero value of each optional field
// selects the documented default.
type Options struct {
	// DSN is the connection string (URL or key=value). Required. The role
	// needs the REPLICATION attribute (or superuser) and SELECT on the
	// tables; creating the publication needs ownership of the tables.
	DSN string
	// Pipeline is the pipeline's name. Required; it names the default slot
	// and publication and appears in every event's SourceInfo.
	Pipeline string
	// Tables lists the tables to capture as "schema.table" patterns; each
	// part may use the globs of event.Glob, '*' and '?' ("public.order*"). Required;
	// every pattern must match at least one table when Open runs.
	Tables []string
	// Slot is the logical replication slot. Default "cdcd_<pipeline>",
	// with characters other than [a-z0-9_] replaced by '_'.
	Slot string
	// Publication is the publication read from. Default the slot's name.
	Publication string
	// CreateSlot creates the slot (plugin pgoutput) when it is missing and
	// no checkpoint exists. The config layer defaults it to true.
	CreateSlot bool
	// CreatePublication creates the publication when missing and, when it
	// exists, sets its table list to the resolved tables. When false, the
	// publication must exist and cover the tables. The config layer
	// defaults it to true.
	CreatePublication bool
	// StatusInterval is the longest time between two standby status
	// updates, which report the acknowledged position to the server
	// whether or not the pipeline is reading; an acknowledgement that
	// moves the position is reported sooner, within a second. Default
	// 10s; it must stay well below the server's wal_sender_timeout
	// (default 60s).
	StatusInterval time.Duration
	// Heartbeat, when positive, emits a non-transactional logical decoding
	// message (prefix "cdcd.heartbeat") this often on a normal connection,
	// so that the slot advances on servers whose WAL moves without
	// decodable transactions. Default 0: off.
	Heartbeat time.Duration
	// Toast decides what an update event holds for a TOASTed column that
	// the update did not change, whose value the server does not send:
	// "keep" (default) leaves it out of After and lists it in
	// Event.Unchanged; "reselect" fills it into After, from the old row
	// when REPLICA IDENTITY FULL sent it, else read from the table by the
	// row's key on the normal connection (one query per such update). A
	// read-back value is the row's value when it is read, not when it was
	// updated: a later committed change of the column shows early. A
	// column that cannot be read back (the row was deleted since) stays in
	// Unchanged.
	Toast string
	// MissingIdentity decides what Open does about a captured table that
	// has neither a primary key nor REPLICA IDENTITY FULL/INDEX (its
	// updates and deletes cannot be replicated): "error" (default) or
	// "warn".
	MissingIdentity string
	// MaxBatchEvents bounds the events of one batch; larger transactions
	// are split into several batches. Default 4096.
	MaxBatchEvents int
	// MaxBatchBytes bounds the estimated memory of one batch (events,
	// values and their Go overhead; Batch.Bytes); larger transactions are
	// split. Default 256 KiB: the pipeline queues up to its QueueBatches
	// batches, so the batch size bounds the memory a large transaction
	// holds in flight (64 batches: 16 MiB).
	MaxBatchBytes int
	// QueueBatches is how many batches the stream goroutine may hold ahead
	// of Read. Default 16.
	QueueBatches int
	// Logger receives warnings and progress. Default: discard.
	Logger *slog.Logger
}

// HeartbeatPrefix is the prefix of the logical decoding messages that the
// heartbeat emits; the source consumes them and never emits them as events.
const HeartbeatPrefix = "cdcd.heartbeat"

// Default values of Options.
const (
	DefaultStatusInterval = 10 * time.Second
	DefaultMaxBatchEvents = 4096
	DefaultMaxBatchBytes  = 256 << 10
	DefaultQueueBatches   = 16
)

// idleInterval is the least time between two empty batches (transactions
// without captured changes, keepalives) handed to the pipeline.
const idleInterval = 200 * time.Millisecond

// tablePattern is one parsed entry of Options.Tables.
type tablePattern struct {
	text, schema, name string
}

func (p tablePattern) match(schema, name string) bool {
	return event.Glob(p.schema, schema) && event.Glob(p.name, name)
}

// validate fills defaults and rejects invalid options.
func (o *Options) validate() ([]tablePattern, error) {
	var errs []error
	if o.DSN == "" {
		errs = append(errs, errors.New("dsn is required"))
	} else if _, err := pgconn.ParseConfig(o.DSN); err != nil {
		errs = append(errs, fmt.Errorf("dsn: %w", err))
	}
	if o.Pipeline == "" {
		errs = append(errs, errors.New("pipeline name is required"))
	}
	if len(o.Tables) == 0 {
		errs = append(errs, errors.New("tables: at least one \"schema.table\" pattern is required"))
	}
	var pats []tablePattern
	for _, t := range o.Tables {
		schema, name, ok := strings.Cut(t, ".")
		if !ok || schema == "" || name == "" {
			errs = append(errs, fmt.Errorf("tables: %q: want \"schema.table\" (globs allowed)", t))
			continue
		}
		pats = append(pats, tablePattern{text: t, schema: schema, name: name})
	}
	if o.Slot == "" {
		o.Slot = defaultSlotName(o.Pipeline)
	}
	if !validSlotName(o.Slot) {
		errs = append(errs, fmt.Errorf("slot %q: only lower-case letters, digits and '_', at most 63", o.Slot))
	}
	if o.Publication == "" {
		o.Publication = o.Slot
	}
	if o.StatusInterval == 0 {
		o.StatusInterval = DefaultStatusInterval
	}
	if o.StatusInterval < 0 {
		errs = append(errs, errors.New("status interval must be positive"))
	}
	if o.Heartbeat < 0 {
		errs = append(errs, errors.New("heartbeat must not be negative"))
	}
	switch o.Toast {
	case "":
		o.Toast = ToastKeep
	case ToastKeep, ToastReselect:
	default:
		errs = append(errs, fmt.Errorf("toast %q: want %q or %q", o.Toast, ToastKeep, ToastReselect))
	}
	switch o.MissingIdentity {
	case "":
		o.MissingIdentity = "error"
	case "error", "warn":
	default:
		errs = append(errs, fmt.Errorf("missing identity %q: want \"error\" or \"warn\"", o.MissingIdentity))
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
		return nil, fmt.Errorf("postgres source options: %w", errors.Join(errs...))
	}
	return pats, nil
}

func defaultSlotName(pipeline string) string {
	var b strings.Builder
	b.WriteString("cdcd_")
	for _, r := range strings.ToLower(pipeline) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 63 {
		s = s[:63]
	}
	return s
}

func validSlotName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, r := range s {
		if !((r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_') {
			return false
		}
	}
	return true
}
