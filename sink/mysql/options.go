package mysql

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

// Options configure a Sink. The zero value of each optional field selects
// the documented default.
type Options struct {
	// DSN is the target server: "user:password@tcp(host:port)/db" (or
	// @unix(/path)), or "mysql://user:password@host:port/db", with
	// optional parameters tls (true, skip-verify, false) and timeout (the
	// dial timeout). Required. The user needs INSERT, UPDATE, DELETE and
	// SELECT on the target tables, CREATE on the checkpoint database
	// unless cdcd's tables exist, and CREATE and ALTER with CreateTables.
	DSN string
	// Pipeline is the pipeline's name: the key of its row in the
	// checkpoint table. Required.
	Pipeline string
	// SchemaMap maps source namespaces to target databases; unmapped
	// namespaces keep their name.
	SchemaMap map[string]string
	// CreateTables creates missing target tables (and databases) from the
	// events' schemas, with the type mapping of the package doc, and adds
	// columns the source gained. Default false: a missing table or column
	// stops the pipeline.
	CreateTables bool
	// CheckpointSchema is the database of cdcd_checkpoints (and of
	// cdcd_tombstones under newer_wins). Default: the DSN's database;
	// required when the DSN names none.
	CheckpointSchema string
	// Conflict holds the conflict rules; the zero value is source_wins
	// with on_missing upsert.
	Conflict sqlapply.Conflict
	// DeadLetterTable is the table ("table" in CheckpointSchema, or
	// "db.table") that receives events failing for data reasons, instead
	// of the pipeline stopping; it is created when missing. Default "":
	// none.
	DeadLetterTable string
	// IgnoreTruncate drops truncate events instead of replicating them
	// (as DELETE FROM, see the package doc). Default false.
	IgnoreTruncate bool
	// Observer, if set, is told conflict outcomes (for
	// cdcd_conflicts_total).
	Observer sqlapply.Observer
	// Logger receives warnings and schema changes. Default: discard.
	Logger *slog.Logger
}

const (
	checkpointTable = "cdcd_checkpoints"
	tombstoneTable  = "cdcd_tombstones"
)

// names are the quoted names of cdcd's own tables.
type names struct {
	checkpoints, tombstones, deadLetter string
	databases                           []string // to create when missing
}

func (o *Options) validate() (dsn, names, error) {
	var errs []error
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
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
	if o.CheckpointSchema == "" {
		o.CheckpointSchema = d.db
	}
	if o.CheckpointSchema == "" && o.DSN != "" {
		errs = append(errs, errors.New("checkpoint schema: the DSN names no database, so say which database holds the checkpoint table"))
	}
	n := names{
		checkpoints: quote(o.CheckpointSchema) + "." + quote(checkpointTable),
		tombstones:  quote(o.CheckpointSchema) + "." + quote(tombstoneTable),
		databases:   []string{o.CheckpointSchema},
	}
	if o.DeadLetterTable != "" {
		db, table := o.CheckpointSchema, o.DeadLetterTable
		if s, t, ok := strings.Cut(o.DeadLetterTable, "."); ok {
			db, table = s, t
		}
		if db == "" || table == "" || strings.Contains(table, ".") {
			errs = append(errs, fmt.Errorf("dead-letter table %q: want \"table\" or \"database.table\"", o.DeadLetterTable))
		}
		n.deadLetter = quote(db) + "." + quote(table)
		if db != o.CheckpointSchema {
			n.databases = append(n.databases, db)
		}
	}
	if len(errs) > 0 {
		return dsn{}, names{}, fmt.Errorf("mysql sink options: %w", errors.Join(errs...))
	}
	return d, n, nil
}
