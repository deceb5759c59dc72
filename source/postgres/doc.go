// Package postgres is the Postgres change source: it reads a database's
// changes through a logical replication slot with the built-in pgoutput
// plugin (protocol version 1, text format) and turns them into cdcd
// events, one batch per source transaction.
//
// # States
//
//	New ──► Open ──► streaming ──► Close
//	         │           │
//	         │           └─ error ──► Open again (transient) or stop (permanent)
//	         └─ preflight failed: *PermanentError with the fix
//
// New validates Options and connects to nothing.
//
// Open connects twice: a normal connection for the catalog (preflight,
// publication, type names, heartbeat, new tables, TOAST read-back,
// SlotStats) and a replication connection. Both get the session settings
// (DateStyle=ISO, TimeZone=UTC, IntervalStyle=iso_8601,
// extra_float_digits=3, bytea_output=hex) that fix the text form of the
// values the walsender sends and that a read-back returns. The preflight
// checks wal_level, the REPLICATION privilege, free WAL senders and slots, that
// every table pattern matches a table the role may SELECT, and that every
// table has a primary key or REPLICA IDENTITY FULL/INDEX (an error or a
// warning, per Options.MissingIdentity). Then the publication is created
// or set to exactly the resolved tables, and the slot is checked (plugin
// pgoutput, this database, WAL not lost) or created when it is missing and
// there is no checkpoint. A slot that is missing while a checkpoint exists
// is a permanent error saying that changes may be missing: the slot is
// never recreated silently. So is a slot whose confirmed position is past
// the checkpoint.
//
// Streaming starts at the checkpoint's commit LSN (the slot's confirmed
// position without a checkpoint). A goroutine owns the replication
// connection: it decodes messages into batches and queues them for Read
// (at most Options.QueueBatches), answers keepalives that ask for a reply,
// and sends a standby status update at least every Options.StatusInterval,
// also while it waits for room in the queue because the pipeline is slow,
// so the walsender never times out on a stalled sink. An Ack that moves
// the position is reported within a second (StatusInterval if shorter),
// also while the stream waits: the slot's confirmed_flush_lsn and
// restart_lsn follow the durable checkpoint closely.
//
// # Positions and acknowledgement
//
// An event's Position is (commit LSN of its transaction, index of the
// change in the transaction); the index counts every change the
// publication sends for the transaction. Several events share an LSN, so
// on resume every event at or before the checkpoint's Position is skipped
// (the full position is compared, never the LSN alone), and a
// transaction checkpointed in the middle is resumed after its last
// delivered event.
//
// A transaction is one batch; one with more than Options.MaxBatchEvents
// events or Options.MaxBatchBytes bytes is split, only the last part has
// Final set, and the earlier parts' checkpoint is the position of their
// last event. A final batch's checkpoint is event.TxEnd(commit LSN).
// Batch.Bytes estimates the memory a batch holds (events, values, Go
// overhead), so that the pipeline's bounds on queued batches and bytes
// bound the memory of a transaction of any size: a 1,000,000-row
// transaction streams through in about 60 MB of RSS, also when the sink
// stalls.
//
// Ack(cp) only records a number; the status updates report it as the
// flushed (and written and applied) LSN, never anything the pipeline has
// not acknowledged: commit LSN + 1 for a whole transaction (TxEnd), the
// commit LSN itself for a transaction delivered in part (the server then
// sends it again and its delivered events are skipped).
//
// So that a slot does not hold WAL while the configured tables are idle
// and the database writes elsewhere, the source hands the pipeline empty
// Final batches that only carry a checkpoint: for transactions without a
// captured change, and for server keepalives received between
// transactions (checkpoint TxEnd(WAL end - 1): every commit not yet sent
// starts at or after the keepalive's WAL end). They are coalesced: at
// most one every 200ms, only when no other batch is queued, always with
// the latest position. Options.Heartbeat adds a periodic
// pg_logical_emit_message (prefix HeartbeatPrefix, never an event) for
// servers whose WAL moves without anything decodable.
//
// # New tables
//
// Every Options.StatusInterval, while streaming, a catalog query looks for
// tables that match a pattern of Options.Tables but that the publication
// does not cover (tables created since Open), and ALTER PUBLICATION … ADD
// TABLE adds them (with CreatePublication; without it, each is logged once
// with the statement to run). Like at Open, a table without primary key
// or replica identity is not added under MissingIdentity "error" (its
// updates and deletes would start failing on the server) until it has one;
// one the role may not read, or whose owner the role is not, is logged
// once with the fix. The publication is never changed otherwise while
// streaming.
//
// What is captured of a new table: pgoutput decides per change, with the
// catalog as of the change's place in the WAL. So every change written
// after the ALTER PUBLICATION committed is captured, including the later
// changes of a transaction that was already running (servers before the
// May 2025 minor releases, e.g. 15.13, may miss those: they did not pass
// the publication change on to running transactions); no change written
// before it is, in particular not the rows inserted between CREATE TABLE
// and the next discovery round (at most StatusInterval plus the query).
// The source logs the table and the WAL position capture began at, as a
// warning when the table already held rows then; a snapshot of the table
// is the way to get them. A pattern "schema.*" could be published FOR
// TABLES IN SCHEMA to close that window, but that needs a superuser and
// publishes every new table of the schema at once, also one without a
// replica identity, whose updates and deletes would then fail; the source
// does not do it (with CreatePublication off, a publication made that way
// by hand is used as it is).
//
// # Schemas
//
// Relation messages are tracked per relation id. Column.Type is
// format_type of the column's type and modifier, Column.Kind the kind its
// values take, Column.Key the replica identity columns (for REPLICA
// IDENTITY FULL: the primary key if there is one, else every column),
// Column.Nullable from pg_attribute. Schema.Version starts at 1 and grows
// by one whenever a Relation message describes a different shape (column
// names, types, modifiers, key flags); the versions travel in the
// checkpoint's State so that they keep growing across restarts.
//
// Updates carry Before only when the server sends an old row: the old key
// columns when the key changed, the whole old row under REPLICA IDENTITY
// FULL. An unchanged TOASTed value is not sent: its column is absent from
// After and listed in Event.Unchanged, never replaced by a placeholder.
// With Options.Toast "reselect" the source fills it in instead: from the
// old row when REPLICA IDENTITY FULL sent one (exact), else by reading
// the row by its key on the normal connection while decoding (one query
// per such update, text form decoded as the stream's values). A read-back
// value is not point-in-time: it is the row's value at the read, so a
// change committed after the update may show early (its own event still
// follows). When the row is gone by then, the column stays in Unchanged.
// Key is the new row's key (for deletes, the old one). Truncate gives one
// event per table; pg_logical_emit_message gives an OpMessage event
// (inside its transaction when transactional, else alone in a batch at
// the message's LSN).
//
// # Types
//
//	Postgres type                          Kind       value
//	bool                                   bool
//	int2, int4, int8                       int        exact, at the limits
//	oid, xid, cid, xid8                    uint
//	float4, float8                         float      NaN, ±Infinity, -0 kept; float4 as the float64 of the same value
//	numeric                                decimal    the text with its scale; NaN, Infinity, -Infinity
//	text, varchar, bpchar, name, citext    string     char(n) padding kept
//	uuid                                   string     canonical lower-case form
//	enums                                  string     the label
//	bytea                                  bytes
//	date                                   date       BC dates; ±infinity
//	timestamp                              datetime   wall clock, µs; BC; ±infinity
//	timestamptz                            timestamp  instant in UTC, µs; BC; ±infinity
//	time                                   time       µs since midnight, up to 24:00:00
//	json, jsonb                            json       the document as Postgres renders it
//	arrays of any type                     array      nested for several dimensions, NULL elements;
//	                                                  an array with lower bounds other than 1
//	                                                  ("[0:1]={…}") is carried as text
//	domains                                the kind of their base type
//	timetz, interval (ISO 8601), inet,     text       the Postgres text form, which Postgres
//	cidr, macaddr, money, bit, varbit,                accepts back as input
//	ranges, multiranges, tsvector, xml,
//	geometric types, hstore, PostGIS and
//	every other type
//
// Timestamps are held as int64 microseconds since 1970: a timestamp after
// 294247-01-09 (Postgres allows up to 294276-12-31) cannot be represented and
// fails with a DecodeError wrapping ErrOutOfRange instead of being
// altered. Text must be valid UTF-8 (a UTF8 database).
package postgres
