package kafka

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Format selects the record value encoding.
type Format string

// The formats.
const (
	// FormatNative writes the native event JSON of docs/events.md.
	FormatNative Format = "native"
	// FormatDebezium writes the Debezium JSON envelope (see the package doc).
	FormatDebezium Format = "debezium"
)

// PartitionBy selects what decides a record's partition.
type PartitionBy string

// The partitioning modes. Whatever the mode, the record key is the primary
// key; only the choice of partition changes.
const (
	// PartitionByKey hashes the record key (murmur2, as Kafka's Java
	// producer does), so all changes of one row go to one partition in
	// order. Rows without a key are placed by table.
	PartitionByKey PartitionBy = "key"
	// PartitionByTable hashes "namespace.table": one table, one partition,
	// its changes in source commit order.
	PartitionByTable PartitionBy = "table"
	// PartitionByTxID hashes the source transaction id: one source
	// transaction, one partition. Events without one are placed by table.
	PartitionByTxID PartitionBy = "txid"
)

// Compression is the codec of produced record batches.
type Compression string

// The codecs.
const (
	CompressionNone   Compression = "none"
	CompressionLZ4    Compression = "lz4"
	CompressionZstd   Compression = "zstd"
	CompressionSnappy Compression = "snappy"
	CompressionGzip   Compression = "gzip"
)

// SASL holds the credentials of a SASL mechanism.
type SASL struct {
	// Mechanism is "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512".
	Mechanism string
	User      string
	Password  string
}

// Options configure a Sink. The zero value of each optional field selects
// the documented default.
type Options struct {
	// Pipeline is the pipeline's name. Required. It keys the checkpoint
	// record, and the transactional id is "cdcd-" + Pipeline.
	Pipeline string
	// Brokers are the seed brokers, "host:port". Required.
	Brokers []string
	// Topic is the topic template: {pipeline}, {namespace}, {table} and
	// {db} are replaced by the event's values, with every character Kafka
	// does not allow in a topic name replaced by '_'. An event whose
	// Topic a transform set goes to that topic instead, verbatim.
	// Messages use their prefix as {table} and "message" as {namespace}
	// when they have none. Default "cdc.{namespace}.{table}".
	Topic string
	// Format of record values. Default FormatNative.
	Format Format
	// Schemas adds the Kafka Connect schema section to Debezium keys and
	// values ({"schema":…,"payload":…}), as Kafka Connect's JsonConverter
	// does with schemas.enable=true. Only with FormatDebezium.
	Schemas bool
	// AtLeastOnce turns exactly-once delivery off: an idempotent producer
	// whose checkpoint is saved after the records are acknowledged. The
	// default (false) is exactly once with a transactional producer.
	AtLeastOnce bool
	// OffsetsTopic is the compacted topic that holds checkpoints, keyed by
	// pipeline name; it is created with one partition when missing.
	// Default "cdcd.offsets".
	OffsetsTopic string
	// Compression codec. Default CompressionLZ4.
	Compression Compression
	// PartitionBy picks the partitioning. Default PartitionByKey.
	PartitionBy PartitionBy
	// Tombstones sends a record with the same key and a null value after
	// each delete, so compacted topics drop the row. Default false.
	Tombstones bool
	// Partitions is the partition count of topics the sink creates; -1
	// means the broker default. Default 1.
	Partitions int32
	// ReplicationFactor of topics the sink creates (the offsets topic
	// too); -1 means the broker default. Default -1.
	ReplicationFactor int16
	// TopicConfigs are set on topics the sink creates (not on the offsets
	// topic, nor on topics that exist).
	TopicConfigs map[string]string
	// TransactionTimeout is how long the broker lets a Kafka transaction
	// stay open before aborting it. A source transaction is always written
	// in one Kafka transaction, so this bounds how long writing the
	// largest one may take; it also bounds how long read_committed
	// consumers stall behind a transaction left open by a crashed
	// instance that does not come back. Default 5m.
	TransactionTimeout time.Duration
	// DeliveryTimeout fails records the brokers did not acknowledge in
	// this time (the session then restarts from the checkpoint). Default
	// 2m.
	DeliveryTimeout time.Duration
	// MaxBufferedBytes bounds the bytes of records produced but not yet
	// acknowledged; Write blocks beyond it. Default 32 MiB.
	MaxBufferedBytes int
	// MaxBufferedRecords bounds the records produced but not yet
	// acknowledged. Default 100000.
	MaxBufferedRecords int
	// BatchMaxBytes caps the size of one produce batch (one partition of
	// one request). Default 1 MiB (franz-go's default).
	BatchMaxBytes int32
	// Linger is how long the producer waits for more records to fill a
	// batch; a Flush does not wait. Default 5ms.
	Linger time.Duration
	// TLS, when set, connects with TLS.
	TLS *tls.Config
	// SASL, when set, authenticates with it.
	SASL *SASL
	// Version is cdcd's version, for Debezium's source.version
	// ("cdcd-" + Version). Default "dev".
	Version string
	// Logger receives the sink's logs (franz-go's info logs at debug
	// level). Default slog.Default().
	Logger *slog.Logger
	// ClientOpts are added to every franz-go client the sink makes, after
	// its own (tests use them to inject dialers or shorten timeouts).
	ClientOpts []kgo.Opt

	// now is the clock of Debezium's ts_ms (tests fix it).
	now func() time.Time
}

func (o *Options) setDefaults() {
	if o.Topic == "" {
		o.Topic = "cdc.{namespace}.{table}"
	}
	if o.Format == "" {
		o.Format = FormatNative
	}
	if o.OffsetsTopic == "" {
		o.OffsetsTopic = "cdcd.offsets"
	}
	if o.Compression == "" {
		o.Compression = CompressionLZ4
	}
	if o.PartitionBy == "" {
		o.PartitionBy = PartitionByKey
	}
	if o.Partitions == 0 {
		o.Partitions = 1
	}
	if o.ReplicationFactor == 0 {
		o.ReplicationFactor = -1
	}
	if o.TransactionTimeout <= 0 {
		o.TransactionTimeout = 5 * time.Minute
	}
	if o.DeliveryTimeout <= 0 {
		o.DeliveryTimeout = 2 * time.Minute
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = 32 << 20
	}
	if o.MaxBufferedRecords <= 0 {
		o.MaxBufferedRecords = 100000
	}
	if o.Linger <= 0 {
		o.Linger = 5 * time.Millisecond
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.now == nil {
		o.now = time.Now
	}
}

// validate reports every problem with o at once (after setDefaults).
func (o *Options) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if o.Pipeline == "" {
		bad("a pipeline name is required")
	}
	if len(o.Brokers) == 0 {
		bad("at least one broker is required")
	}
	for _, b := range o.Brokers {
		if strings.TrimSpace(b) == "" {
			bad("empty broker address")
		}
	}
	if err := checkTemplate(o.Topic); err != nil {
		bad("topic template %q: %v", o.Topic, err)
	}
	if err := checkTopicName(o.OffsetsTopic); err != nil {
		bad("offsets topic %q: %v", o.OffsetsTopic, err)
	}
	switch o.Format {
	case FormatNative:
		if o.Schemas {
			bad("schemas is only for the debezium format")
		}
	case FormatDebezium:
	default:
		bad("unknown format %q (valid: native, debezium)", o.Format)
	}
	switch o.Compression {
	case CompressionNone, CompressionLZ4, CompressionZstd, CompressionSnappy, CompressionGzip:
	default:
		bad("unknown compression %q (valid: none, lz4, zstd, snappy, gzip)", o.Compression)
	}
	switch o.PartitionBy {
	case PartitionByKey, PartitionByTable, PartitionByTxID:
	default:
		bad("unknown partition_by %q (valid: key, table, txid)", o.PartitionBy)
	}
	if o.Partitions < -1 {
		bad("partitions %d: want at least 1, or -1 for the broker default", o.Partitions)
	}
	if o.ReplicationFactor < -1 {
		bad("replication factor %d: want at least 1, or -1 for the broker default", o.ReplicationFactor)
	}
	if o.TransactionTimeout < time.Second {
		bad("transaction timeout %v: want at least 1s", o.TransactionTimeout)
	}
	if o.SASL != nil {
		switch o.SASL.Mechanism {
		case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		default:
			bad("unknown SASL mechanism %q (valid: PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)", o.SASL.Mechanism)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("kafka sink: %w", errors.Join(errs...))
	}
	return nil
}

// transactionalID is the transactional.id of the pipeline's producer.
func (o *Options) transactionalID() string { return "cdcd-" + o.Pipeline }
