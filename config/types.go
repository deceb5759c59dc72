package config

// Pipeline is one pipeline file: one source, an ordered list of transforms,
// one sink. Load fills in every default stated below.
type Pipeline struct {
	// Name (YAML key "pipeline") is required and unique within a process.
	// It names the replication slot, the Kafka transactional id and the
	// checkpoint key, so it must match ^[a-z0-9][a-z0-9_.-]{0,62}$.
	Name string
	// File is the file the pipeline was read from; Line is the line of its
	// "pipeline" key. Both are for messages about the pipeline.
	File string
	Line int

	// Source is the database whose change log is read.
	Source Source
	// Transforms run in order on every event (YAML key "transforms",
	// optional).
	Transforms []Transform
	// Sink is where the events go.
	Sink Sink
	// Admin is the HTTP server for metrics, health and status. It is shared
	// by all pipelines of a process, so all files of a directory must agree.
	Admin Admin

	// StateDir (YAML key "state_dir") holds local state such as the stdout
	// sink's checkpoint file. Default "./cdcd-state".
	StateDir string
	// CheckpointInterval (YAML key "checkpoint_interval") is the least time
	// between two saves of a checkpoint file (stdout and discard sinks):
	// data is synced at every flush, the checkpoint at most this often and
	// at shutdown, so a crash repeats at most this much. "0s" saves at
	// every flush. Default 1s. Sinks that commit their checkpoint with
	// their data (Kafka, replicas) ignore it.
	CheckpointInterval Duration
	// Batch bounds the batches between source and sink.
	Batch Batch
	// Shutdown (YAML key "shutdown_grace") is how long a graceful stop may
	// take to drain in-flight batches and checkpoint. Default 20s.
	Shutdown Duration
	// Retry is the backoff after a transient failure.
	Retry Retry
}

// Source types (Source.Type).
const (
	SourcePostgres = "postgres"
	SourceMySQL    = "mysql"
)

// Snapshot modes (Source.Snapshot).
const (
	// SnapshotInitial copies the tables once, when the pipeline has no
	// checkpoint yet, then streams changes.
	SnapshotInitial = "initial"
	// SnapshotNever only streams changes from the current position.
	SnapshotNever = "never"
	// SnapshotInitialOnly copies the tables once and stops.
	SnapshotInitialOnly = "initial_only"
	// SnapshotAlways copies the tables at every start, then streams.
	SnapshotAlways = "always"
	// SnapshotWhenNeeded copies when there is no checkpoint or the
	// checkpoint's position is no longer available at the source.
	SnapshotWhenNeeded = "when_needed"
)

// Source is the database whose change log a pipeline reads.
type Source struct {
	// Type is "postgres" or "mysql" (required).
	Type string
	// DSN (YAML key "dsn") is the connection string (required): a
	// postgres:// URL or key=value string for Postgres,
	// "user:pass@tcp(host:port)/" for MySQL. Use ${VAR} for passwords, and
	// RedactDSN before logging it.
	DSN string
	// Tables are the "namespace.table" patterns to capture (required,
	// non-empty); * and ? are globs, see MatchTable.
	Tables []string
	// Snapshot is one of initial, never, initial_only, always,
	// when_needed. Default "initial".
	Snapshot string
	// Postgres holds the Postgres settings; filled (with defaults) only
	// when Type is "postgres".
	Postgres PostgresSource
	// MySQL holds the MySQL/MariaDB settings; filled (with defaults) only
	// when Type is "mysql".
	MySQL MySQLSource
}

// PostgresSource is the "source.postgres" block.
type PostgresSource struct {
	// Slot is the logical replication slot (^[a-z0-9_]{1,63}$). Default
	// "cdcd_" followed by the pipeline name with '-' and '.' replaced by
	// '_'.
	Slot string
	// Publication is the pgoutput publication. Default: the same as the
	// default slot name.
	Publication string
	// CreateSlot (YAML "create_slot") creates the slot when it is missing.
	// Default true.
	CreateSlot bool
	// CreatePublication (YAML "create_publication") creates the
	// publication for Tables when it is missing. Default true.
	CreatePublication bool
	// Heartbeat, when positive, is how often a heartbeat is written so that
	// an idle captured database still lets the slot advance. Default 0
	// (off).
	Heartbeat Duration
	// Toast says what to do with unchanged TOASTed columns the source did
	// not send: "keep" (report them in Event.Unchanged) or "reselect"
	// (read them back). Default "keep".
	Toast string
	// MissingIdentity (YAML "missing_identity") says what to do with a
	// table without a primary key or replica identity: "error" or "warn".
	// Default "error".
	MissingIdentity string
	// StatusInterval (YAML "status_interval") is the longest time between
	// standby status updates. Default 10s.
	StatusInterval Duration
}

// MySQLSource is the "source.mysql" block.
type MySQLSource struct {
	// ServerID (YAML "server_id") is the replica server id cdcd uses; it
	// must be unique among the server's replicas (required, 1..4294967295).
	ServerID uint32
	// Heartbeat is the binlog heartbeat period asked from the server; 0
	// turns it off. Default 10s.
	Heartbeat Duration
	// ZeroDate (YAML "zero_date") says what a zero date/datetime
	// ('0000-00-00') becomes: "null" or "error". Default "null".
	ZeroDate string
}

// Transform types (Transform.Type).
const (
	TransformFilter         = "filter"
	TransformIncludeColumns = "include_columns"
	TransformDropColumns    = "drop_columns"
	TransformMask           = "mask"
	TransformRename         = "rename"
	TransformRoute          = "route"
	TransformSet            = "set"
	TransformOutbox         = "outbox"
)

// Mask methods (Transform.Method).
const (
	MaskSHA256   = "sha256"
	MaskHMAC     = "hmac"
	MaskRedact   = "redact"
	MaskNull     = "null"
	MaskPartial  = "partial"
	MaskTruncate = "truncate"
)

// Transform is one entry of "transforms". Which keys a type allows and
// requires is checked by Load (docs/config.md has the table); keys a type
// does not use stay zero. Expressions are not compiled here.
type Transform struct {
	// Type is one of filter, include_columns, drop_columns, mask, rename,
	// route, set, outbox (required).
	Type string
	// Tables are the "namespace.table" patterns the transform applies to;
	// empty means every table (required for rename with "to" and for
	// outbox).
	Tables []string
	// Where (filter) is an expression; events for which it is false are
	// dropped.
	Where string
	// Ops (filter) keeps only events of these operations: c, u, d, r, t, m.
	// A filter needs Where, Ops or both.
	Ops []string
	// Columns (include_columns, drop_columns, mask) are column names
	// (required for those types).
	Columns []string
	// Method (mask) is one of sha256, hmac, redact, null, partial, truncate
	// (required for mask).
	Method string
	// Salt (mask) is prepended before hashing with sha256, or the key for
	// hmac (required for hmac; allowed only with those two).
	Salt string
	// Keep (mask) is how many characters partial leaves visible, or how
	// many truncate keeps (required for, and allowed only with, those two).
	Keep int
	// To (rename) is the new table name, "namespace.table" or "table".
	To string
	// RenameColumns (rename, YAML "rename_columns") maps old column names
	// to new ones. A rename needs To, RenameColumns or both.
	RenameColumns map[string]string
	// Topic (route, outbox) is the Kafka topic, a template like
	// sink.kafka.topic (required for route).
	Topic string
	// Set (set, YAML "values") maps column names to the values to set
	// (required, non-empty, for set).
	Set map[string]string
	// KeepFirst (YAML "keep_first") is, for the partial mask, how many
	// characters stay visible at the start (Keep counts those at the end).
	KeepFirst int
	// IDColumn, KeyColumn, PayloadColumn and RouteByColumn (YAML
	// "id_column", "key_column", "payload_column", "route_by_column") name
	// the outbox table's columns; defaults id, aggregateid, payload,
	// aggregatetype (Debezium's EventRouter defaults).
	IDColumn, KeyColumn, PayloadColumn, RouteByColumn string
	// Line is the line of the transform in its file, for later errors.
	Line int
}

// Sink types (Sink.Type).
const (
	SinkKafka    = "kafka"
	SinkPostgres = "postgres"
	SinkMySQL    = "mysql"
	SinkStdout   = "stdout"
	// SinkDiscard reads and checkpoints but writes nothing: for measuring
	// a source, and for advancing a slot on purpose.
	SinkDiscard = "discard"
)

// Sink is where a pipeline delivers events.
type Sink struct {
	// Type is one of kafka, postgres, mysql, stdout, discard (required).
	Type string
	// DSN (YAML "dsn") is the target database (required for postgres and
	// mysql sinks, not allowed for the others).
	DSN string
	// Stdout holds the "stdout" block; filled (with defaults) only when
	// Type is "stdout".
	Stdout StdoutSink
	// Kafka holds the "kafka" block; filled only when Type is "kafka".
	Kafka KafkaSink
	// Postgres holds the "postgres" block; filled only when Type is
	// "postgres".
	Postgres SQLSink
	// MySQL holds the "mysql" block; filled only when Type is "mysql".
	MySQL SQLSink
	// Conflict holds the conflict rules of a replica sink; filled only
	// when Type is postgres or mysql.
	Conflict Conflict
	// DeadLetter (YAML "dead_letter") is the table for rows that fail to
	// apply; only for postgres and mysql sinks. Default: none (a failing
	// row stops the pipeline).
	DeadLetter DeadLetter
}

// StdoutSink is the "sink.stdout" block: JSON lines to stdout or a file.
type StdoutSink struct {
	// Path is the file to append to; "-" is standard output. Default "-".
	Path string
	// Fsync syncs the file before each checkpoint (ignored for "-").
	// Default true.
	Fsync bool
}

// Kafka formats (KafkaSink.Format).
const (
	FormatNative   = "native"
	FormatDebezium = "debezium"
)

// KafkaSink is the "sink.kafka" block.
type KafkaSink struct {
	// Brokers are the seed brokers, "host:port" (required, non-empty).
	Brokers []string
	// Topic is the topic template; {namespace}, {table} and {pipeline} are
	// replaced. Default "cdc.{namespace}.{table}".
	Topic string
	// Format is "native" (docs/events.md) or "debezium". Default "native".
	Format string
	// ExactlyOnce (YAML "exactly_once") uses a transactional producer that
	// commits the checkpoint with the data; false means an idempotent
	// producer and at-least-once delivery. Default true.
	ExactlyOnce bool
	// OffsetsTopic (YAML "offsets_topic") is the compacted topic holding
	// checkpoints, keyed by pipeline name. Default "cdcd.offsets".
	OffsetsTopic string
	// Compression is none, lz4, zstd or snappy. Default "lz4".
	Compression string
	// PartitionBy (YAML "partition_by") picks the record key's source:
	// "key" (primary key), "table" or "txid". Default "key".
	PartitionBy string
	// Tombstones sends a null-value record after each delete, for
	// compacted topics. Default false.
	Tombstones bool
	// Schemas includes the table schema in each record. Default false.
	Schemas bool
	// Partitions is the partition count of topics cdcd creates; -1 is the
	// broker default. Default 1.
	Partitions int
	// ReplicationFactor (YAML "replication_factor") of topics cdcd
	// creates; -1 is the broker default. Default -1.
	ReplicationFactor int
	// MaxBatchEvents (YAML "max_batch_events") caps the events of one
	// Kafka transaction (several source transactions under load; a larger
	// source transaction still goes into one). 0: batch.max_events.
	MaxBatchEvents int
	// MaxBatchBytes (YAML "max_batch_bytes") caps the bytes of one Kafka
	// transaction in the same way. 0: batch.max_bytes.
	MaxBatchBytes ByteSize
	// Linger is the longest a Kafka transaction stays open to take more
	// source transactions; 0 commits as soon as the source is idle, so
	// latency stays low when traffic is light. 0: batch.linger.
	Linger Duration
}

// SQLSink is the "sink.postgres" or "sink.mysql" block.
type SQLSink struct {
	// SchemaMap (YAML "schema_map") maps source namespaces to target
	// schemas (MySQL: databases); unmapped namespaces keep their name.
	SchemaMap map[string]string
	// CreateTables (YAML "create_tables") creates missing target tables
	// from the source schema. Default false.
	CreateTables bool
	// CheckpointSchema (YAML "checkpoint_schema") is where the checkpoint
	// table lives. Default "public" for Postgres; for MySQL, the database
	// named in the sink's DSN (required when the DSN names none).
	CheckpointSchema string
}

// Conflict strategies (Conflict.Default, ConflictRule.Strategy).
const (
	ConflictSourceWins = "source_wins"
	ConflictNewerWins  = "newer_wins"
	ConflictTargetWins = "target_wins"
	ConflictError      = "error"
)

// On-missing actions (Conflict.OnMissing).
const (
	OnMissingUpsert = "upsert"
	OnMissingSkip   = "skip"
	OnMissingError  = "error"
)

// Conflict is the "sink.conflict" block of a replica sink.
type Conflict struct {
	// Default is the strategy for tables no rule matches: source_wins,
	// newer_wins, target_wins or error. Default "source_wins".
	Default string
	// OnMissing (YAML "on_missing") is what an update or delete of an
	// absent row does: upsert, skip or error. Default "upsert".
	OnMissing string
	// Rules override Default per table; the first rule whose pattern
	// matches wins.
	Rules []ConflictRule
}

// ConflictRule is one entry of "sink.conflict.rules".
type ConflictRule struct {
	// Tables are "namespace.table" patterns (required, non-empty).
	Tables []string
	// Strategy is one of the conflict strategies (required).
	Strategy string
}

// DeadLetter is the "sink.dead_letter" block.
type DeadLetter struct {
	// Table is the table ("table" or "schema.table") failing rows go to;
	// empty means no dead-letter table. Required when the block is given.
	Table string
}

// Batch is the "batch" block: bounds of the batches between source and sink.
type Batch struct {
	// MaxEvents (YAML "max_events") caps events per batch. Default 10000.
	MaxEvents int
	// MaxBytes (YAML "max_bytes") caps a batch's size. Default 16MiB.
	MaxBytes ByteSize
	// Linger is how long to wait for more events before flushing; 0
	// flushes as soon as the source is idle. Default 0.
	Linger Duration
	// QueueBatches (YAML "queue_batches") is the capacity, in batches, of
	// the bounded queue between source and sink. Default 64.
	QueueBatches int
}

// Admin is the "admin" block: the process's HTTP server (/metrics,
// /healthz, /readyz, /status).
type Admin struct {
	// Listen is the "host:port" to listen on. Default ":9187".
	Listen string
	// Pprof also serves /debug/pprof/. Default false.
	Pprof bool
}

// Retry is the "retry" block: exponential backoff between attempts after a
// transient failure.
type Retry struct {
	// Initial is the first delay. Default 500ms.
	Initial Duration
	// Max caps the delay. Default 30s.
	Max Duration
}
