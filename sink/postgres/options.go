package postgres

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

// Options configure a Sink. The zero value of each optional field selects
// the documented default.
type Options struct {
	// DSN is the target database's connection string (URL or key=value).
	// Required. The role needs INSERT, UPDATE, DELETE (and TRUNCATE, when
	// truncates are replicated) on the target tables, CREATE on the
	// checkpoint schema unless cdcd's tables exist, and CREATE on target
	// schemas with CreateTables.
	DSN string
	// Pipeline is the pipeline's name: the key of its row in the
	// checkpoint table. Required.
	Pipeline string
	// SchemaMap maps source namespaces to target schemas; unmapped
	// namespaces keep their name.
	SchemaMap map[string]string
	// CreateTables creates missing target tables (and schemas) from the
	// events' schemas and adds columns the source gained. Default false:
	// a missing table or column stops the pipeline.
	CreateTables bool
	// CheckpointSchema is the schema of cdcd_checkpoints (and of
	// cdcd_tombstones under newer_wins). Default "public".
	CheckpointSchema string
	// Conflict holds the conflict rules; the zero value is source_wins
	// with on_missing upsert.
	Conflict sqlapply.Conflict
	// DeadLetterTable is the table ("table" in CheckpointSchema, or
	// "schema.table") that receives events failing for data reasons,
	// instead of the pipeline stopping; it is created when missing.
	// Default "": none.
	DeadLetterTable string
	// IgnoreTruncate drops truncate events instead of replicating them.
	// Default false.
	IgnoreTruncate bool
	// Observer, if set, is told conflict outcomes (for
	// cdcd_conflicts_total).
	Observer sqlapply.Observer
	// Logger receives warnings and schema changes. Default: discard.
	Logger *slog.Logger
}

// names are the quoted names of cdcd's own tables.
type names struct {
	checkpoints, tombstones, deadLetter string
	schemas                             []string // schemas to create when missing
}

const (
	checkpointTable = "cdcd_checkpoints"
	tombstoneTable  = "cdcd_tombstones"
)

func (o *Options) validate() (*pgx.ConnConfig, names, error) {
	var errs []error
	if o.CheckpointSchema == "" {
		o.CheckpointSchema = "public"
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	var cfg *pgx.ConnConfig
	if o.DSN == "" {
		errs = append(errs, errors.New("dsn is required"))
	} else {
		var err error
		if cfg, err = pgx.ParseConfig(o.DSN); err != nil {
			errs = append(errs, fmt.Errorf("dsn: %w", err))
		} else if cfg.RuntimeParams["application_name"] == "" {
			cfg.RuntimeParams["application_name"] = "cdcd " + o.Pipeline
		}
	}
	if o.Pipeline == "" {
		errs = append(errs, errors.New("pipeline name is required"))
	}
	n := names{
		checkpoints: pgx.Identifier{o.CheckpointSchema, checkpointTable}.Sanitize(),
		tombstones:  pgx.Identifier{o.CheckpointSchema, tombstoneTable}.Sanitize(),
		schemas:     []string{o.CheckpointSchema},
	}
	if o.DeadLetterTable != "" {
		schema, table := o.CheckpointSchema, o.DeadLetterTable
		if s, t, ok := strings.Cut(o.DeadLetterTable, "."); ok {
			schema, table = s, t
		}
		if schema == "" || table == "" || strings.Contains(table, ".") {
			errs = append(errs, fmt.Errorf("dead-letter table %q: want \"table\" or \"schema.table\"", o.DeadLetterTable))
		}
		n.deadLetter = pgx.Identifier{schema, table}.Sanitize()
		if schema != o.CheckpointSchema {
			n.schemas = append(n.schemas, schema)
		}
	}
	if len(errs) > 0 {
		return nil, names{}, fmt.Errorf("postgres sink options: %w", errors.Join(errs...))
	}
	return cfg, n, nil
}
