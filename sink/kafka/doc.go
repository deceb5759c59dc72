// Package kafka is the Kafka sink: it writes change events to Kafka topics
// with franz-go, exactly once by default, and keeps the pipeline's
// checkpoint in Kafka itself, in a compacted offsets topic.
//
// # Records
//
// One record per event. The key is the primary key as a JSON object in
// column order ({"id":42}), so one row's changes share a partition and
// stay in order; rows without a key, truncates and (native) messages have
// no key. The value is the native event JSON of docs/events.md, or the
// Debezium envelope (below). Every record carries the headers cdcd-id (the
// event id "<server id>:<pos>", the same on every replay, to deduplicate
// on), cdcd-pos, cdcd-op ("c", "u", "d", "r", "t", "m"), cdcd-table
// ("namespace.table"; a message's prefix) and cdcd-schema-version. With
// Tombstones, a delete is followed by a record with the same key and a
// null value, without headers.
//
// The topic is Options.Topic with {pipeline}, {namespace}, {table} and {db}
// replaced (characters Kafka does not allow become '_'); an event whose
// Topic a transform set goes there instead. A topic new to the sink is
// created with Options.Partitions, ReplicationFactor and TopicConfigs; an
// existing one is left as it is. The partition is chosen by PartitionBy:
// the key's murmur2 hash as Kafka's Java producer computes it (default),
// the table, or the source transaction id.
//
// # Exactly once: the transaction state machine
//
// The producer is transactional with transactional.id "cdcd-" + pipeline.
// Per session (Open … Close) the sink moves through these states:
//
//	Open ── InitProducerID (fences older producers of the id and aborts
//	   │    the transaction they left open), then read the checkpoint
//	   ▼
//	idle ── Write: BeginTransaction, produce ──────────────► in transaction
//	   ▲                                                       │  │  │
//	   │   Flush after a final batch: produce the checkpoint   │  │  │
//	   └── record, Flush, EndTxn(commit) ◄─────────────────────┘  │  │
//	                                                              │  │
//	       Write; Flush after a non-final batch: commit nothing,  │  │
//	       return the previous checkpoint ◄───────────────────────┘  │
//	                                                                 │
//	       a produce or commit failure, an unknown commit outcome,   │
//	       a fence ──────────────────────────────────────────────────┘
//	         ▼
//	broken ── EndTxn(abort), best effort (not when fenced); Write and
//	          Flush return the error until Close and Open
//
// A Kafka transaction begins with the first Write after a commit. Records
// are produced into it asynchronously as they are written; the producer's
// buffer (MaxBufferedBytes, MaxBufferedRecords) bounds memory and makes
// Write block, so a source transaction of any size streams through in one
// Kafka transaction without being held in memory. Flush commits only when
// the last batch written ends a source transaction: it produces the
// checkpoint record (key: the pipeline name; value
// {"v":1,"pipeline":…,"pos":…,"state":…}) into the offsets topic inside
// the same transaction, waits for every record to be acknowledged, and
// commits. Records and checkpoint become visible together or not at all.
// Many source transactions share one Kafka transaction when the pipeline
// batches under load; when it is idle, each is committed on its own.
//
// On any failure (a record refused, the brokers unreachable past
// DeliveryTimeout, a commit refused or whose outcome is unknown) the sink
// aborts and returns a retryable error; the pipeline closes it, opens it
// again and replays the source from the checkpoint Open returns. Whether
// an unknown commit happened or not, Open tells: the checkpoint is in the
// transaction. A newer instance with the same pipeline name fences this
// one: Write and Flush then return ErrFenced, a permanent error, and this
// instance stops. A transaction the broker aborted because it stayed open
// longer than TransactionTimeout looks like fencing to the client; the
// sink tells the two apart by the time it has been open and retries the
// former.
//
// # Guarantees
//
//   - Exactly once for read_committed consumers, also across kill -9: every
//     event is visible once, after its whole source transaction, in source
//     commit order per partition. Nothing is acknowledged to the source
//     before the Kafka transaction holding it and its checkpoint commits.
//   - A transaction left open by a crash stays invisible; the next Open
//     aborts it at once (or the broker does after TransactionTimeout), and
//     read_committed consumers wait behind it until then.
//   - read_uncommitted consumers see aborted records too, and therefore
//     duplicates after failures; the cdcd-id header identifies them.
//   - With AtLeastOnce: an idempotent producer; Flush waits for every
//     record's acknowledgement, then saves the checkpoint of the last batch
//     (final or not) as a plain record. A crash between the two repeats
//     events after the checkpoint, with the same cdcd-id.
//
// Open reads the checkpoint from partition 0 of the offsets topic, from the
// start to the high watermark as of the read, with a read_committed
// consumer, keeping the last record keyed by the pipeline. Pipelines share
// the offsets topic, so a read may wait until another pipeline's commit in
// flight completes (or, if that instance died mid-commit, until its
// transaction times out).
//
// # Debezium format
//
// Format "debezium" writes what Debezium 2.x's PostgreSQL and MySQL
// connectors write through Kafka Connect's JsonConverter
// (schemas.enable=false; Schemas adds the {"schema","payload"} wrapping of
// schemas.enable=true): key {"id":42}; value {"before", "after", "source",
// "transaction": null, "op", "ts_ms", "ts_us", "ts_ns"}; truncates with
// op "t" and a null key; messages as {"op":"m", "ts_ms", "source",
// "message":{"prefix","content"}} keyed {"prefix":…}. The source block has
// version ("cdcd-<version>"), connector ("postgresql", "mysql", else the
// source kind), name (the pipeline), ts_ms (commit time; processing time
// for snapshot reads), snapshot ("true" for snapshot reads, else
// "false"), db, sequence, ts_us, ts_ns, then for Postgres schema, table,
// txId, lsn, xmin, and for MySQL table, server_id, gtid, file, pos, row,
// thread, query. Values follow Debezium's default converters where cdcd's
// normalized values allow it exactly, with these differences:
//
//	what                      Debezium default                          cdcd
//	decimal, numeric          bytes (precise mode, base64 of the        string "-12.50" (as Debezium's
//	                          unscaled value) with a scale parameter    decimal.handling.mode=string)
//	timestamptz / timestamp   ZonedTimestamp, ISO 8601 with the         ISO 8601 UTC, always 6 fraction
//	(instant)                 fraction trimmed                          digits "…05.120000Z"
//	date, timestamp w/o zone, Date (days), MicroTimestamp (µs),         the same; but ±infinity dates and
//	time                      MicroTime (µs); MySQL DATETIME(0-3) as    date-times are the strings
//	                          Timestamp (ms)                            "infinity"/"-infinity", and MySQL
//	                                                                    DATETIME is always µs
//	json, jsonb               Json: string holding the document         the same
//	bigint unsigned           int64 (wraps above 2^63-1)                exact integer (may exceed int64)
//	interval, geometry, …     MicroDuration, structs, …                 the source's text form (string)
//	NaN, ±Infinity floats     JSON NaN/Infinity literals                strings "NaN", "Infinity"
//	TOAST column not sent     "__debezium_unavailable_value"            the same
//	source.lsn                the change's LSN                          the transaction's commit LSN
//	source.sequence, xmin     ["last commit","lsn"], xmin               null
//	source.txId (snapshot)    the snapshot transaction's id             null
//	source.snapshot           "first", "true", "last", "false"          "true" or "false" only
//	MySQL source.file         binlog file name                          the binlog file index, 6 digits
//	MySQL source.server_id    the server's numeric id                   the source's server id if numeric, else 0
//	MySQL source.row, thread  row in the binlog event, thread id        index in the transaction, null
//	transaction block         null unless provide.transaction.metadata  null
//	schema "default" values   column defaults                           absent
//	array item schemas        from the column type                      guessed from the type name, else string
//
// # Concurrency
//
// Open, Write, Flush and Close must be called from one goroutine (the
// pipeline's writer). Produce results arrive on franz-go's goroutines and
// are collected under a mutex.
package kafka
