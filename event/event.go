package event

import (
	"time"
)

// TableID names a table: Namespace is the Postgres schema or the MySQL database.
type TableID struct {
	Namespace string
	Name      string
}

// String returns "namespace.name".
func (t TableID) String() string {
	if t.Namespace == "" {
		return t.Name
	}
	return t.Namespace + "." + t.Name
}

// Column describes one column of a table as the source knows it.
type Column struct {
	Name     string
	Type     string // the source's type name as declared, e.g. "numeric(10,2)", "bigint unsigned"
	Kind     Kind   // the normalized kind its values take (KindText for fallbacks)
	Nullable bool
	Key      bool // part of the primary key or replica identity
}

// TableSchema is the shape of a table at one point of its source's history.
// Version increases every time the shape changes (a Postgres Relation message
// that differs, a MySQL DDL), so consumers can tell rows of different shapes
// apart. Schemas are shared between events and must not be modified once an
// event refers to them.
type TableSchema struct {
	Table   TableID
	Columns []Column
	Version uint64
}

// Column returns the column named name, or nil.
func (s *TableSchema) Column(name string) *Column {
	for i := range s.Columns {
		if s.Columns[i].Name == name {
			return &s.Columns[i]
		}
	}
	return nil
}

// KeyNames returns the names of the key columns in column order.
func (s *TableSchema) KeyNames() []string {
	var ks []string
	for _, c := range s.Columns {
		if c.Key {
			ks = append(ks, c.Name)
		}
	}
	return ks
}

// Field is one named value of a row.
type Field struct {
	Name  string
	Value Value
}

// Row is a row as an ordered list of named values, in the table's column
// order. A column the source did not send is absent (see Event.Unchanged).
type Row []Field

// Get returns the value of the column named name and whether it is present.
func (r Row) Get(name string) (Value, bool) {
	for i := range r {
		if r[i].Name == name {
			return r[i].Value, true
		}
	}
	return Value{}, false
}

// Equal reports whether r and q hold the same names and values in the same order.
func (r Row) Equal(q Row) bool {
	if len(r) != len(q) {
		return false
	}
	for i := range r {
		if r[i].Name != q[i].Name || !r[i].Value.Equal(q[i].Value) {
			return false
		}
	}
	return true
}

// TxInfo describes the source transaction an event belongs to.
type TxInfo struct {
	ID         string    // source transaction id (Postgres xid, MySQL GTID)
	CommitTime time.Time // source commit time, UTC
	Index      uint32    // index of the event within the transaction
	Count      uint32    // number of events in the transaction, 0 when not known when the event is read
}

// SourceInfo describes where events come from. One value is shared by all
// events of a source.
type SourceInfo struct {
	Kind     string // "postgres", "mysql", …
	ServerID string // identifies the source server in event ids (Postgres system identifier, MySQL server UUID or id)
	DB       string // database name
	Pipeline string
}

// Event is one change of one row (or a truncate or a message).
type Event struct {
	Op     Op
	Table  TableID
	Schema *TableSchema // nil for messages
	Key    Row          // key columns; for updates that change the key, the new key (the old one is in Before)
	Before Row          // nil unless the source gives it
	After  Row          // nil for deletes and truncates
	// Unchanged lists columns whose value the source did not send because
	// they did not change (Postgres TOASTed values). They are absent from
	// After; sinks must keep the value they hold.
	Unchanged []string
	Pos       Position
	Tx        TxInfo
	Source    *SourceInfo
	// Message holds the prefix and content of an OpMessage event.
	Message *Message
	// Topic, when set by a transform (route, outbox), overrides the sink's
	// destination for this event (a Kafka topic or a target table name).
	Topic string
}

// Message is the payload of a logical decoding message.
type Message struct {
	Prefix        string
	Content       []byte
	Transactional bool
}

// ID returns the deterministic event id "<source server id>:<position>",
// the same on every replay, so consumers can deduplicate.
func (e *Event) ID() string {
	var b [64]byte
	return string(e.AppendID(b[:0]))
}

// AppendID appends ID() to b.
func (e *Event) AppendID(b []byte) []byte {
	if e.Source != nil {
		b = append(b, e.Source.ServerID...)
	}
	b = append(b, ':')
	return e.Pos.AppendText(b)
}

// Checkpoint is what a pipeline persists to resume: every event at or
// before Pos has been made durable by the sink. State is the source's own
// resume state (e.g. a MySQL GTID set and schema history, snapshot
// progress), opaque to the pipeline and the sinks.
type Checkpoint struct {
	Pos   Position `json:"pos"`
	State []byte   `json:"state,omitempty"`
}

// Batch is a run of consecutive events of one source, the unit the pipeline
// moves. A source transaction is one batch, or several when it is large
// (then only the last has Final set); a sink never makes a transaction
// visible before its final batch unless it is at-least-once.
type Batch struct {
	Events []Event
	// Checkpoint is the resume point once this batch and all before it are
	// durable. For a final batch it is TxEnd of the transaction's commit.
	Checkpoint Checkpoint
	// Final reports whether the batch ends its source transaction.
	Final bool
	// CommitTime is the source commit time of the transaction (for lag).
	CommitTime time.Time
	// Bytes is an estimate of the batch's size in memory, for back-pressure.
	Bytes int
}
