package kafka

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
)

// The Debezium JSON envelope, as Kafka Connect's JsonConverter writes
// Debezium 2.x change events (see the package doc for what differs).

// unavailablePlaceholder stands for a TOASTed column the source did not
// send, as Debezium's unavailable.value.placeholder default.
const unavailablePlaceholder = "__debezium_unavailable_value"

// dbzConnector returns Debezium's connector name for a source kind.
func dbzConnector(kind string) string {
	if kind == "postgres" {
		return "postgresql"
	}
	return kind
}

// appendDebeziumKey appends the record key of e: the key columns as an
// object ({"prefix":…} for messages), wrapped in {"schema","payload"} with
// Schemas. It reports false when the record has no key (truncates, rows
// without a key).
func (s *Sink) appendDebeziumKey(b []byte, e *event.Event) ([]byte, bool) {
	switch {
	case e.Op == event.OpMessage:
		if s.opts.Schemas {
			b = append(b, `{"schema":{"type":"struct","fields":[{"type":"string","optional":false,"field":"prefix"}],"optional":false,"name":"io.debezium.connector.common.MessageKey"},"payload":`...)
		}
		b = append(b, `{"prefix":`...)
		if e.Message != nil {
			b = event.String(e.Message.Prefix).AppendJSON(b)
		} else {
			b = append(b, `""`...)
		}
		b = append(b, '}')
	case e.Op == event.OpTruncate || e.Key == nil:
		return b, false
	default:
		if s.opts.Schemas {
			b = append(b, `{"schema":`...)
			b = append(b, s.schemasOf(e).key...)
			b = append(b, `,"payload":`...)
		}
		b = appendDbzRow(b, e.Key, nil, nil)
	}
	if s.opts.Schemas {
		b = append(b, '}')
	}
	return b, true
}

// appendDebezium appends the Debezium value of e.
func (s *Sink) appendDebezium(b []byte, e *event.Event) []byte {
	if s.opts.Schemas {
		b = append(b, `{"schema":`...)
		if e.Op == event.OpMessage {
			b = append(b, s.messageSchema(e)...)
		} else {
			b = append(b, s.schemasOf(e).envelope...)
		}
		b = append(b, `,"payload":`...)
	}
	nowMicros := s.opts.now().UnixMicro()
	if e.Op == event.OpMessage {
		b = append(b, `{"op":"m","ts_ms":`...)
		b = appendTS(b, nowMicros)
		b = append(b, `,"source":`...)
		b = s.appendDbzSource(b, e, nowMicros)
		b = append(b, `,"message":{"prefix":`...)
		if m := e.Message; m != nil {
			b = event.String(m.Prefix).AppendJSON(b)
			b = append(b, `,"content":"`...)
			b = base64.StdEncoding.AppendEncode(b, m.Content)
			b = append(b, `"}}`...)
		} else {
			b = append(b, `"","content":null}}`...)
		}
	} else {
		var schema *event.TableSchema
		if len(e.Unchanged) > 0 {
			schema = e.Schema
		}
		b = append(b, `{"before":`...)
		b = appendDbzRow(b, e.Before, nil, nil)
		b = append(b, `,"after":`...)
		b = appendDbzRow(b, e.After, schema, e.Unchanged)
		b = append(b, `,"source":`...)
		b = s.appendDbzSource(b, e, nowMicros)
		b = append(b, `,"transaction":null,"op":"`...)
		b = append(b, byte(e.Op))
		b = append(b, `","ts_ms":`...)
		b = appendTS(b, nowMicros)
		b = append(b, '}')
	}
	if s.opts.Schemas {
		b = append(b, '}')
	}
	return b
}

// appendTS appends micros as milliseconds followed by ts_us and ts_ns.
func appendTS(b []byte, micros int64) []byte {
	b = strconv.AppendInt(b, floorDiv(micros, 1000), 10)
	b = append(b, `,"ts_us":`...)
	b = strconv.AppendInt(b, micros, 10)
	b = append(b, `,"ts_ns":`...)
	return strconv.AppendInt(b, micros*1000, 10)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) {
		q--
	}
	return q
}

// appendDbzSource appends the source block of e.
func (s *Sink) appendDbzSource(b []byte, e *event.Event, nowMicros int64) []byte {
	var src event.SourceInfo
	if e.Source != nil {
		src = *e.Source
	}
	ts := nowMicros
	if !e.Tx.CommitTime.IsZero() {
		ts = e.Tx.CommitTime.UnixMicro()
	}
	b = append(b, `{"version":"cdcd-`...)
	b = append(b, s.opts.Version...)
	b = append(b, `","connector":`...)
	b = event.String(dbzConnector(src.Kind)).AppendJSON(b)
	b = append(b, `,"name":`...)
	b = event.String(s.opts.Pipeline).AppendJSON(b)
	b = append(b, `,"ts_ms":`...)
	b = strconv.AppendInt(b, floorDiv(ts, 1000), 10)
	b = append(b, `,"snapshot":"`...)
	if e.Op == event.OpRead {
		b = append(b, "true"...)
	} else {
		b = append(b, "false"...)
	}
	b = append(b, `","db":`...)
	b = event.String(src.DB).AppendJSON(b)
	b = append(b, `,"sequence":null,"ts_us":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"ts_ns":`...)
	b = strconv.AppendInt(b, ts*1000, 10)
	table := e.Table.Name
	if e.Op == event.OpMessage {
		table = ""
	}
	if src.Kind == "mysql" {
		b = append(b, `,"table":`...)
		b = event.String(table).AppendJSON(b)
		b = append(b, `,"server_id":`...)
		id, err := strconv.ParseInt(src.ServerID, 10, 64)
		if err != nil {
			id = 0
		}
		b = strconv.AppendInt(b, id, 10)
		b = append(b, `,"gtid":`...)
		if e.Tx.ID != "" {
			b = event.String(e.Tx.ID).AppendJSON(b)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, `,"file":"`...)
		file := e.Pos.Commit >> 32
		for p := uint64(100000); p > file && p > 1; p /= 10 {
			b = append(b, '0')
		}
		b = strconv.AppendUint(b, file, 10)
		b = append(b, `","pos":`...)
		b = strconv.AppendUint(b, e.Pos.Commit&0xFFFFFFFF, 10)
		b = append(b, `,"row":`...)
		b = strconv.AppendUint(b, uint64(e.Pos.Index), 10)
		return append(b, `,"thread":null,"query":null}`...)
	}
	b = append(b, `,"schema":`...)
	ns := e.Table.Namespace
	if e.Op == event.OpMessage {
		ns = ""
	}
	b = event.String(ns).AppendJSON(b)
	b = append(b, `,"table":`...)
	b = event.String(table).AppendJSON(b)
	b = append(b, `,"txId":`...)
	if id, err := strconv.ParseUint(e.Tx.ID, 10, 63); err == nil {
		b = strconv.AppendUint(b, id, 10)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"lsn":`...)
	b = strconv.AppendUint(b, e.Pos.Commit&(1<<63-1), 10)
	return append(b, `,"xmin":null}`...)
}

// appendDbzRow appends r as a Debezium row object, or null. When schema is
// set, the unchanged columns are added in column order with Debezium's
// placeholder.
func appendDbzRow(b []byte, r event.Row, schema *event.TableSchema, unchanged []string) []byte {
	if r == nil {
		return append(b, "null"...)
	}
	b = append(b, '{')
	if schema == nil {
		for i := range r {
			if i > 0 {
				b = append(b, ',')
			}
			b = event.String(r[i].Name).AppendJSON(b)
			b = append(b, ':')
			b = appendDbzValue(b, r[i].Value)
		}
		return append(b, '}')
	}
	first := true
	for _, c := range schema.Columns {
		v, ok := r.Get(c.Name)
		placeholder := false
		if !ok {
			for _, u := range unchanged {
				placeholder = placeholder || u == c.Name
			}
			if !placeholder {
				continue
			}
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = event.String(c.Name).AppendJSON(b)
		b = append(b, ':')
		if placeholder {
			b = append(b, `"`+unavailablePlaceholder+`"`...)
		} else {
			b = appendDbzValue(b, v)
		}
	}
	return append(b, '}')
}

// appendDbzValue renders v as Debezium's default converters do where the
// mapping is exact: dates as days (io.debezium.time.Date), date-times as
// microseconds (MicroTimestamp), times as microseconds (MicroTime), JSON
// as a string holding the document (io.debezium.data.Json); everything
// else as the native encoding (decimals as strings, timestamps as ISO 8601
// strings like ZonedTimestamp, bytes as base64).
func appendDbzValue(b []byte, v event.Value) []byte {
	switch v.Kind() {
	case event.KindDate:
		if d := v.Days(); d != event.PosInfinity && d != event.NegInfinity {
			return strconv.AppendInt(b, d, 10)
		}
	case event.KindDateTime:
		if us := v.Micros(); us != event.PosInfinity && us != event.NegInfinity {
			return strconv.AppendInt(b, us, 10)
		}
	case event.KindTime:
		return strconv.AppendInt(b, v.Micros(), 10)
	case event.KindJSON:
		return event.String(v.Str()).AppendJSON(b)
	case event.KindArray:
		b = append(b, '[')
		for i, x := range v.Elems() {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendDbzValue(b, x)
		}
		return append(b, ']')
	}
	return v.AppendJSON(b)
}

// dbzSchemas are the Kafka Connect schemas of one table schema version.
type dbzSchemas struct {
	kind     string // the source kind they were made for
	key      []byte // the key struct
	envelope []byte // the value envelope
}

// schemasOf returns the cached schemas of e's table.
func (s *Sink) schemasOf(e *event.Event) *dbzSchemas {
	kind := ""
	if e.Source != nil {
		kind = e.Source.Kind
	}
	if sc, ok := s.dbzSchema[e.Schema]; ok && sc.kind == kind {
		return sc
	}
	sc := &dbzSchemas{kind: kind}
	prefix := s.opts.Pipeline + "." + e.Table.String()
	var cols []event.Column
	if e.Schema != nil {
		cols = e.Schema.Columns
	}
	// Key.
	var keyCols []event.Column
	for _, c := range cols {
		if c.Key {
			c.Nullable = false
			keyCols = append(keyCols, c)
		}
	}
	if len(keyCols) == 0 && e.Key != nil { // a key without a schema: name its columns as strings
		for _, f := range e.Key {
			keyCols = append(keyCols, event.Column{Name: f.Name, Kind: f.Value.Kind()})
		}
	}
	b := appendStruct(nil, keyCols, prefix+".Key", false, "")
	sc.key = b

	// Envelope.
	b = []byte(`{"type":"struct","fields":[`)
	b = appendStruct(b, cols, prefix+".Value", true, "before")
	b = append(b, ',')
	b = appendStruct(b, cols, prefix+".Value", true, "after")
	b = append(b, ',')
	b = appendSourceSchema(b, kind)
	b = append(b, `,{"type":"struct","fields":[{"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},{"type":"int64","optional":false,"field":"data_collection_order"}],"optional":true,"name":"event.block","version":1,"field":"transaction"}`...)
	b = append(b, `,{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"}],"optional":false,"name":`...)
	b = event.String(prefix + ".Envelope").AppendJSON(b)
	b = append(b, `,"version":2}`...)
	sc.envelope = b
	s.dbzSchema[e.Schema] = sc
	return sc
}

// messageSchema returns the value schema of a logical decoding message.
func (s *Sink) messageSchema(e *event.Event) []byte {
	kind := ""
	if e.Source != nil {
		kind = e.Source.Kind
	}
	b := []byte(`{"type":"struct","fields":[{"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"},`)
	b = appendSourceSchema(b, kind)
	b = append(b, `,{"type":"struct","fields":[{"type":"string","optional":false,"field":"prefix"},{"type":"bytes","optional":true,"field":"content"}],"optional":false,"name":"io.debezium.connector.postgresql.Message","field":"message"}],"optional":false,"name":"io.debezium.connector.postgresql.MessageValue"}`...)
	return b
}

// appendSourceSchema appends the schema of the source block.
func appendSourceSchema(b []byte, kind string) []byte {
	b = append(b, `{"type":"struct","fields":[{"type":"string","optional":false,"field":"version"},{"type":"string","optional":false,"field":"connector"},{"type":"string","optional":false,"field":"name"},{"type":"int64","optional":false,"field":"ts_ms"},{"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,"parameters":{"allowed":"true,last,false,incremental"},"default":"false","field":"snapshot"},{"type":"string","optional":false,"field":"db"},{"type":"string","optional":true,"field":"sequence"},{"type":"int64","optional":true,"field":"ts_us"},{"type":"int64","optional":true,"field":"ts_ns"},`...)
	connector := dbzConnector(kind)
	if kind == "mysql" {
		b = append(b, `{"type":"string","optional":true,"field":"table"},{"type":"int64","optional":false,"field":"server_id"},{"type":"string","optional":true,"field":"gtid"},{"type":"string","optional":false,"field":"file"},{"type":"int64","optional":false,"field":"pos"},{"type":"int32","optional":false,"field":"row"},{"type":"int64","optional":true,"field":"thread"},{"type":"string","optional":true,"field":"query"}]`...)
	} else {
		b = append(b, `{"type":"string","optional":false,"field":"schema"},{"type":"string","optional":false,"field":"table"},{"type":"int64","optional":true,"field":"txId"},{"type":"int64","optional":true,"field":"lsn"},{"type":"int64","optional":true,"field":"xmin"}]`...)
	}
	b = append(b, `,"optional":false,"name":`...)
	b = event.String("io.debezium.connector." + connector + ".Source").AppendJSON(b)
	return append(b, `,"field":"source"}`...)
}

// appendStruct appends a Connect struct schema of cols; field is the name
// of the field it describes in its parent ("" for a top-level schema).
func appendStruct(b []byte, cols []event.Column, name string, optional bool, field string) []byte {
	b = append(b, `{"type":"struct","fields":[`...)
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendFieldSchema(b, c.Kind, c.Type, c.Nullable, c.Name)
	}
	b = append(b, `],"optional":`...)
	b = strconv.AppendBool(b, optional)
	b = append(b, `,"name":`...)
	b = event.String(name).AppendJSON(b)
	if field != "" {
		b = append(b, `,"field":`...)
		b = event.String(field).AppendJSON(b)
	}
	return append(b, '}')
}

// appendFieldSchema appends the Connect schema of a column (or, with an
// empty field name, of an array's items).
func appendFieldSchema(b []byte, kind event.Kind, typeName string, optional bool, field string) []byte {
	typ, name := connectType(kind, typeName)
	b = append(b, `{"type":"`...)
	b = append(b, typ...)
	b = append(b, `","optional":`...)
	b = strconv.AppendBool(b, optional)
	if name != "" {
		b = append(b, `,"name":"`...)
		b = append(b, name...)
		b = append(b, `","version":1`...)
	}
	if kind == event.KindArray {
		elem := elementType(typeName)
		b = append(b, `,"items":`...)
		b = appendFieldSchema(b, kindOfTypeName(elem), elem, true, "")
	}
	if field != "" {
		b = append(b, `,"field":`...)
		b = event.String(field).AppendJSON(b)
	}
	return append(b, '}')
}

// connectType returns the Connect type and logical name of a column.
func connectType(kind event.Kind, typeName string) (typ, name string) {
	base := baseType(typeName)
	switch kind {
	case event.KindBool:
		return "boolean", ""
	case event.KindInt:
		switch base {
		case "smallint", "int2", "tinyint", "smallserial":
			return "int16", ""
		case "integer", "int", "int4", "mediumint", "serial":
			return "int32", ""
		}
		return "int64", ""
	case event.KindUint:
		switch base {
		case "tinyint":
			return "int16", ""
		case "smallint", "mediumint":
			return "int32", ""
		}
		return "int64", ""
	case event.KindFloat:
		if base == "real" || base == "float4" || base == "float" {
			return "float32", ""
		}
		return "float64", ""
	case event.KindBytes:
		return "bytes", ""
	case event.KindTimestamp:
		return "string", "io.debezium.time.ZonedTimestamp"
	case event.KindDateTime:
		return "int64", "io.debezium.time.MicroTimestamp"
	case event.KindDate:
		return "int32", "io.debezium.time.Date"
	case event.KindTime:
		return "int64", "io.debezium.time.MicroTime"
	case event.KindJSON:
		return "string", "io.debezium.data.Json"
	case event.KindArray:
		return "array", ""
	}
	return "string", "" // decimal, string, text, null
}

// baseType returns a type name without modifiers, "unsigned" and array
// brackets, in lower case: "numeric(12,2)" → "numeric".
func baseType(t string) string {
	t = strings.ToLower(strings.TrimSpace(t))
	if i := strings.IndexAny(t, "(["); i >= 0 {
		t = t[:i]
	}
	t = strings.TrimSuffix(strings.TrimSpace(t), " unsigned")
	return strings.TrimSpace(t)
}

// elementType returns the element type name of an array type name
// ("integer[]" → "integer", "_int4" → "int4").
func elementType(t string) string {
	t = strings.TrimSpace(t)
	if i := strings.Index(t, "["); i >= 0 {
		return t[:i]
	}
	return strings.TrimPrefix(t, "_")
}

// kindOfTypeName guesses the kind of an array element from its type name.
func kindOfTypeName(t string) event.Kind {
	switch baseType(t) {
	case "boolean", "bool":
		return event.KindBool
	case "smallint", "int2", "integer", "int", "int4", "bigint", "int8":
		return event.KindInt
	case "real", "float4", "double precision", "float8":
		return event.KindFloat
	case "bytea":
		return event.KindBytes
	case "timestamp with time zone", "timestamptz":
		return event.KindTimestamp
	case "timestamp without time zone", "timestamp":
		return event.KindDateTime
	case "date":
		return event.KindDate
	case "time without time zone", "time":
		return event.KindTime
	case "json", "jsonb":
		return event.KindJSON
	}
	return event.KindString
}
