// Package sqlapply is what the replica sinks (sink/postgres, sink/mysql)
// share: the Engine that implements sink.Sink over a Dialect, the
// planner that turns events into set operations, the conflict rules, the
// version column, and the type mapping of create_tables.
//
// # Transactions and checkpoints
//
//	Open ──► Write … Write ──► Flush ──► Write … ──► Flush … ──► Close
//	 │                          │
//	 │  connect, create cdcd's  │  apply the written batches in the open target
//	 │  tables, bump the        │  transaction (BEGIN at the first apply after a
//	 │  pipeline's leader epoch,│  commit); up to the last Final batch: upsert the
//	 │  read the checkpoint     │  checkpoint row (if the epoch is still ours) and
//	 │                          │  COMMIT; what follows stays in the open transaction
//
// Write only queues a batch. Flush applies what was written: batches up
// to the last one with Final set are applied, the pipeline's row in the
// checkpoint table (cdcd_checkpoints: pipeline, pos, state, updated_at,
// leader_epoch) is updated to that batch's checkpoint in the same
// transaction, and the transaction commits; Flush returns that
// checkpoint. Batches after the last Final one (the first part of a large
// source transaction) are applied into a transaction left open, and Flush
// returns the previous checkpoint. So a source transaction is never
// visible in part, several source transactions share one target
// transaction under load, and the checkpoint the source resumes from is
// exactly what the target holds: exactly once, across kill -9, with no
// store outside the target. Close (or a crash) rolls the open
// transaction back; Open reads the committed checkpoint and the pipeline
// replays from there.
//
// Open bumps leader_epoch; the checkpoint update of every commit matches
// only the epoch its session read, so a second instance running the same
// pipeline on the same target makes the first one's next Flush fail with
// ErrFenced (permanent) without committing anything.
//
// Any error ends the session: the connection is closed (rolling back),
// and the error is returned by later Writes and Flushes until the sink is
// reopened. Connection loss, deadlocks, serialization failures, lock
// timeouts and server shutdowns are transient: the pipeline reopens source
// and sink and replays from the checkpoint. Errors that retrying cannot
// fix are permanent (see errors.go): a missing table or column without
// create_tables (*SchemaError), a conflict under the error strategy
// (*ConflictError), a missing row under on_missing error
// (*MissingRowError), an event failing for a data reason without a
// dead-letter table (*ApplyError), privileges and unknown objects.
//
// # Apply
//
// A Flush's events (a window) become steps, each one SQL statement over
// many rows of one table:
//
//   - Events are grouped by target table and key. Consecutive events on
//     one key are folded when the result equals applying them in order
//     (insert then updates: one upsert of the merged row; an upsert then a
//     delete: one delete), else the table's pending steps are emitted
//     first (a write after a delete of the same key waits for the delete).
//     Per-key order is therefore preserved; order across keys is not.
//   - An update whose old key (Before) differs from its new key is a
//     delete of the old key and an insert of the new one.
//   - Upserts are grouped by the set of columns they carry, so an update
//     without its unchanged TOAST columns (Event.Unchanged) writes only the
//     columns it has: the target keeps the others. Generated columns are
//     never written.
//   - A table's deletes run before its upserts; tables run in order of
//     first appearance. A truncate erases the table's pending operations
//     and is replicated in order (unless IgnoreTruncate).
//   - Steps hold at most Dialect.MaxRows rows.
//
// Before planning, the engine makes sure each target table fits the
// events (its schema cached per source schema version): a missing table
// is created and missing columns are added when create_tables is set (a
// Postgres target does it inside the transaction; MySQL's DDL commits, so
// a DDL needed while a transaction holds part of a source transaction
// rolls it back and returns ErrSchemaReplay, which replays). Columns the
// source dropped are left in the target (they get NULL or their default
// on insert). A table needs a primary key, or a unique index over NOT
// NULL columns.
//
// A window runs under a savepoint. When a step fails for a data reason
// (which the reordering across keys can cause, e.g. a unique constraint
// on another column, or a foreign key), the window is rolled back to the
// savepoint and applied again event by event, in order; an event that
// still fails is written to the dead-letter table (under its own
// savepoint, with the error, the event id, its position and the event as
// JSON) and the stream goes on, or, without a dead-letter table, stops
// the pipeline with an *ApplyError naming table, key and position.
//
// # Conflict rules
//
// Each target table ("schema.table", matched by Conflict.Rules, else
// Conflict.Default) has a strategy:
//
//   - source_wins (default): upsert; the event overwrites the row.
//   - newer_wins: apply an event only if it is newer than the row, by the
//     row's _cdcd_version column, which cdcd adds to the table and keeps:
//     Version(event) = source commit time (fixed-width UTC text), source
//     server id, position, compared bytewise. The guard is in the SQL
//     (Postgres: ON CONFLICT … DO UPDATE … WHERE t._cdcd_version <
//     excluded._cdcd_version; MySQL: IF() in ON DUPLICATE KEY UPDATE, the
//     version assigned last), so it holds against concurrent writers. A
//     row without a version counts as older. Deletes are guarded the same
//     way and leave a tombstone (cdcd_tombstones: table, key, version of
//     the newest delete), so an older insert or update arriving after a
//     newer delete does not bring the row back. Replays and events
//     arriving out of order from several sources become harmless.
//   - target_wins: insert rows that are missing, never overwrite a row
//     that exists. Deletes are applied: the strategy protects rows'
//     contents, not their existence.
//   - error: stop with a *ConflictError naming table, key and both
//     versions when an insert finds its row present or any event finds
//     the row's version not older than its own. It keeps versions like
//     newer_wins.
//
// on_missing decides what an update or delete whose row is absent does:
// upsert (the update inserts the row with the columns it carries; a
// delete does nothing), skip, or error (*MissingRowError).
//
// Every conflict is counted through Observer.Conflict(table, strategy,
// outcome, n) once its transaction commits, outcome being one of
// overwritten (an insert replaced a present row), kept (the row was kept:
// target_wins, or newer_wins with an event not newer), upserted (an update
// inserted its missing row), skipped (an update or delete found nothing
// to do), error, and dead_letter. A dialect that counts exactly (Postgres:
// RETURNING) runs steps directly when no per-row decision is needed; else
// (MySQL, the error strategy, on_missing skip or error) a probe first
// reads and locks (SELECT … FOR UPDATE) the rows of the step and the
// decision is made per row.
//
// # What is guaranteed, and what is not
//
//   - Exactly once, also across crashes: a target transaction holds whole
//     source transactions and the checkpoint that follows them.
//   - Per key, the target ends in the state applying the events one by
//     one would give (under each strategy). Within a window, statements
//     across keys and tables are reordered; constraints that span rows
//     (unique constraints on other columns, foreign keys) may then fail
//     and trigger the event-by-event fallback, which costs speed, not
//     correctness. Deferrable foreign keys (INITIALLY DEFERRED) avoid it.
//   - newer_wins orders by source commit time first: clocks that jump
//     back can make a later change look older. Tombstones are kept
//     forever; delete old ones by hand (DELETE FROM cdcd_tombstones WHERE
//     at < …). A truncate leaves no tombstones.
//   - Values are written exactly or not at all: a value the target column
//     cannot hold (out of range, too long, an infinity or BC date in
//     MySQL, NaN in MySQL) is a data error, never truncated, rounded
//     beyond the column's declared scale, or replaced.
//
// # Type mapping of create_tables
//
// A table created for a Postgres source on a Postgres target has the
// source's column types (format_type); a type the target does not know
// (an enum or domain of the source) becomes the type of its values' kind
// (text for enums). Created tables have the source's primary key; other
// columns are nullable; defaults, constraints and indexes are not copied.
//
// Postgres source → MySQL/MariaDB target:
//
//	smallint, integer, bigint          SMALLINT, INT, BIGINT
//	numeric(p,s)                       DECIMAL(p,s); p capped at 65, s at 30 (wider values fail)
//	numeric                            DECIMAL(65,30) (values beyond it fail)
//	real, double precision             FLOAT, DOUBLE (NaN and infinities fail)
//	boolean                            TINYINT(1)
//	text                               LONGTEXT (a key: VARCHAR(255))
//	varchar(n)                         VARCHAR(n), LONGTEXT above 16383 (a key: at most VARCHAR(768))
//	char(n)                            CHAR(n) (MySQL strips the trailing spaces Postgres pads with)
//	uuid                               CHAR(36)
//	bytea                              LONGBLOB (a key: VARBINARY(255))
//	date                               DATE (BC dates and infinity fail)
//	timestamp[(p)]                     DATETIME(p), default 6
//	timestamptz[(p)]                   DATETIME(p), default 6, in UTC (the session's time zone is +00:00)
//	time[(p)]                          TIME(p), default 6
//	json, jsonb                        JSON (on MariaDB: LONGTEXT with a JSON check)
//	arrays                             JSON (an array of the elements)
//	enums                              VARCHAR(255)
//	oid, xid / xid8                    INT UNSIGNED / BIGINT UNSIGNED
//	anything else (interval, timetz,   LONGTEXT holding the Postgres text form
//	inet, ranges, geometry, …)
//
// MySQL/MariaDB source → Postgres target:
//
//	tinyint(1) read as bool            boolean
//	tinyint, smallint                  smallint
//	smallint unsigned, mediumint       integer
//	int                                integer
//	int unsigned                       bigint
//	bigint                             bigint
//	bigint unsigned                    numeric(20,0)
//	decimal(p,s)                       numeric(p,s)
//	float, double                      real, double precision
//	char(n), varchar(n)                varchar(n) (no padding)
//	tinytext … longtext                text (jsonb for a MariaDB JSON column)
//	binary, varbinary, blobs           bytea
//	date                               date
//	datetime(p)                        timestamp(p) without time zone
//	timestamp(p)                       timestamp(p) with time zone
//	time(p)                            interval (MySQL TIME is a duration: -838:59:59 to 838:59:59)
//	year                               smallint
//	json                               jsonb
//	enum, set                          text
//	anything else                      the type of the values' kind (bytea, numeric(20,0), text, …)
//
// MySQL to MySQL keeps the source's column types (JSON for JSON values).
// Tables cdcd creates in MySQL are InnoDB, utf8mb4, collation utf8mb4_bin
// (comparisons of keys as exact as Postgres's).
package sqlapply
