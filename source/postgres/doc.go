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
// publication, type names, heartbeat, SlotStats) and a replication
// connection whose session settings (DateStyle=ISO, TimeZone=UTC,
// IntervalStyle=iso_8601, extra_float_digits=3, bytea_output=hex) fix the
// text form of the values the walsender sends. The preflight checks
// wal_level, the REPLICATION privilege, free WAL senders and slots, that
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
// and sends a standby status update every Options.StatusInterval, also
// while it waits for room in the queue because the pipeline is slow, so
// the walsender never times out on a stalled sink.
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
