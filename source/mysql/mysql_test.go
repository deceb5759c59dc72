package mysql

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	gm "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/uuid"
)

// The tests in this file feed the stream binlog events as go-mysql
// decodes them from a MySQL 8 server, with row bodies recorded from MySQL
// (go-mysql's test data): the machine has no MySQL server.

// recordedRows is the body of a WRITE_ROWS_EVENTv2 recorded from MySQL
// 5.7 for INSERT INTO t10 VALUES ('{"key1": "value1", "key2": "value2"}', 1)
// with t10 (c1 json, c2 decimal(10,0)).
const recordedRows = "m\x00\x00\x00\x00\x00\x01\x00\x02\x00\x02\xff\xfc)\x00\x00\x00\x00\x02\x00(\x00\x12\x00\x04\x00\x16\x00\x04\x00\f\x1a\x00\f!\x00key1key2\x06value1\x06value2\x80\x00\x00\x00\x01"

var t10Map = &replication.TableMapEvent{TableID: 0x6d, Schema: []byte("test"), Table: []byte("t10"), ColumnCount: 2,
	ColumnType: []byte{gm.MYSQL_TYPE_JSON, gm.MYSQL_TYPE_NEWDECIMAL}, ColumnMeta: []uint16{4, 10 << 8}}

const serverUUID = "3e11fa47-71ca-11e1-9e33-c80aa9429562"

// feeder builds binlog events at increasing positions of one file.
type feeder struct {
	pos uint32
	crc bool // the events carry a CRC32 checksum
}

func (f *feeder) header(t replication.EventType, size uint32) *replication.EventHeader {
	f.pos += size
	return &replication.EventHeader{Timestamp: 1700000000, EventType: t, ServerID: 1, EventSize: size, LogPos: f.pos}
}

func (f *feeder) ev(t replication.EventType, e replication.Event) *replication.BinlogEvent {
	return &replication.BinlogEvent{Header: f.header(t, 50), Event: e}
}

func (f *feeder) gtid(gno int64) *replication.BinlogEvent {
	sid := uuid.MustParse(serverUUID)
	return f.ev(replication.GTID_EVENT, &replication.GTIDEvent{SID: sid[:], GNO: gno, OriginalCommitTimestamp: 1700000000123456})
}

func (f *feeder) query(db, q string) *replication.BinlogEvent {
	return f.ev(replication.QUERY_EVENT, &replication.QueryEvent{Schema: []byte(db), Query: []byte(q)})
}

func (f *feeder) rows(t replication.EventType, tm *replication.TableMapEvent, body string) *replication.BinlogEvent {
	raw := make([]byte, replication.EventHeaderSize, replication.EventHeaderSize+len(body)+4)
	raw = append(raw, body...)
	if f.crc {
		raw = append(raw, 0xde, 0xad, 0xbe, 0xef)
	}
	h := f.header(t, uint32(len(raw)))
	return &replication.BinlogEvent{Header: h, RawData: raw, Event: &replication.RowsEvent{Table: tm}}
}

func (f *feeder) xid() *replication.BinlogEvent {
	return f.ev(replication.XID_EVENT, &replication.XIDEvent{})
}

// testStream is a stream without a server, for flavor, catalog and resume
// point.
func testStream(t *testing.T, flavor, gtid string, cat *catalog, resume event.Position) *stream {
	t.Helper()
	s := &Source{opts: Options{MaxBatchEvents: 100, MaxBatchBytes: 1 << 20, QueueBatches: 16, ZeroDate: "null", Heartbeat: time.Second},
		log: slog.New(slog.DiscardHandler)}
	gset, err := gm.ParseGTIDSet(flavor, gtid)
	if err != nil {
		t.Fatal(err)
	}
	st := &stream{s: s, out: make(chan event.Batch, 16), ctx: context.Background(), flavor: flavor, zeroNull: true,
		gtid: gset, gtidText: gtid, cat: cat, decs: map[uint64]*tableDec{}, resume: resume, last: resume,
		info: &event.SourceInfo{Kind: "mysql", ServerID: serverUUID}}
	st.ddl = newDDLApplier(nil, func(string, ...any) {})
	return st
}

func t10Catalog() *catalog {
	cat := newCatalog([]tablePattern{{text: "test.t10", db: "test", name: "t10"}}, false)
	cat.put(&tableShape{Table: event.TableID{Namespace: "test", Name: "t10"}, Charset: "utf8mb4", Columns: []column{
		{Name: "c1", Type: "json", Data: "json", Nullable: true},
		{Name: "c2", Type: "decimal(10,0)", Data: "decimal", Nullable: true},
	}})
	return cat
}

func feed(t *testing.T, st *stream, evs ...*replication.BinlogEvent) []event.Batch {
	t.Helper()
	for _, e := range evs {
		if err := st.handle(e); err != nil {
			t.Fatalf("handle %s: %v", e.Header.EventType, err)
		}
	}
	var out []event.Batch
	for len(st.out) > 0 {
		out = append(out, <-st.out)
	}
	return out
}

func stateOf(t *testing.T, b event.Batch) (gtid, file string, pos uint32) {
	t.Helper()
	var s struct {
		GTID, File string
		Pos        uint32
	}
	if err := json.Unmarshal(b.Checkpoint.State, &s); err != nil {
		t.Fatalf("state %s: %v", b.Checkpoint.State, err)
	}
	return s.GTID, s.File, s.Pos
}

func TestMySQLTransactionsWithGTIDs(t *testing.T) {
	st := testStream(t, flavorMySQL, serverUUID+":1-41", t10Catalog(), event.Position{})
	f := &feeder{pos: 4, crc: true}
	bs := feed(t, st,
		&replication.BinlogEvent{Header: &replication.EventHeader{EventType: replication.ROTATE_EVENT},
			Event: &replication.RotateEvent{Position: 4, NextLogName: []byte("binlog.000007")}},
		&replication.BinlogEvent{Header: &replication.EventHeader{EventType: replication.FORMAT_DESCRIPTION_EVENT},
			Event: &replication.FormatDescriptionEvent{ChecksumAlgorithm: replication.BINLOG_CHECKSUM_ALG_CRC32}},
		f.gtid(42), f.query("test", "BEGIN"),
		f.rows(replication.WRITE_ROWS_EVENTv2, t10Map, recordedRows),
		f.xid())
	if len(bs) != 1 || len(bs[0].Events) != 1 {
		t.Fatalf("batches %+v", bs)
	}
	e := bs[0].Events[0]
	wantRow(t, "row", e.After, row("c1", event.JSON(`{"key1":"value1","key2":"value2"}`), "c2", event.Decimal("1")))
	if e.Tx.ID != serverUUID+":42" || !e.Tx.CommitTime.Equal(time.UnixMicro(1700000000123456)) {
		t.Errorf("tx %+v", e.Tx)
	}
	if e.Pos.Commit != 7<<32|54 || bs[0].Checkpoint.Pos != event.TxEnd(7<<32|54) {
		t.Errorf("pos %s, checkpoint %s", e.Pos, bs[0].Checkpoint.Pos)
	}
	if g, file, pos := stateOf(t, bs[0]); g != serverUUID+":1-42" || file != "binlog.000007" || pos != f.pos {
		t.Errorf("state gtid %q file %q pos %d", g, file, pos)
	}

	// An anonymous transaction (gtid_mode OFF) leaves the GTID set alone.
	anon := &replication.GTIDEvent{SID: make([]byte, 16)}
	bs = feed(t, st, f.ev(replication.ANONYMOUS_GTID_EVENT, anon), f.query("test", "BEGIN"),
		f.rows(replication.WRITE_ROWS_EVENTv2, t10Map, recordedRows), f.xid())
	if g, _, _ := stateOf(t, bs[0]); g != serverUUID+":1-42" || bs[0].Events[0].Tx.ID == "" {
		t.Errorf("anonymous transaction: gtid %q tx %+v", g, bs[0].Events[0].Tx)
	}

	// DDL has a GTID event and no BEGIN; it ends its transaction.
	feed(t, st, f.gtid(43), f.query("test", "ALTER TABLE t10 ADD COLUMN c3 int"))
	if st.inTx || st.cat.tables[event.TableID{Namespace: "test", Name: "t10"}].Version != 2 {
		t.Errorf("after DDL: in a transaction %v, schema %+v", st.inTx, st.cat.tables)
	}
	if g := st.gtidString(); g != serverUUID+":1-43" {
		t.Errorf("gtid after DDL %q", g)
	}
}

func TestMySQLCompressedTransactionPayload(t *testing.T) {
	st := testStream(t, flavorMySQL, "", t10Catalog(), event.Position{})
	f := &feeder{pos: 4, crc: true}
	feed(t, st, &replication.BinlogEvent{Header: &replication.EventHeader{EventType: replication.ROTATE_EVENT},
		Event: &replication.RotateEvent{Position: 4, NextLogName: []byte("binlog.000002")}},
		&replication.BinlogEvent{Header: &replication.EventHeader{EventType: replication.FORMAT_DESCRIPTION_EVENT},
			Event: &replication.FormatDescriptionEvent{ChecksumAlgorithm: replication.BINLOG_CHECKSUM_ALG_CRC32}})
	gtid := f.gtid(7)
	// The events inside a payload carry no checksum.
	inner := &feeder{pos: f.pos}
	payload := &replication.TransactionPayloadEvent{Events: []*replication.BinlogEvent{
		inner.query("test", "BEGIN"),
		inner.rows(replication.WRITE_ROWS_EVENTv2, t10Map, recordedRows),
		inner.rows(replication.WRITE_ROWS_EVENTv2, t10Map, recordedRows),
		inner.xid(),
	}}
	bs := feed(t, st, gtid, f.ev(replication.TRANSACTION_PAYLOAD_EVENT, payload))
	if len(bs) != 1 || len(bs[0].Events) != 2 || bs[0].Events[1].Pos.Index != 1 {
		t.Fatalf("batches %+v", bs)
	}
	wantRow(t, "row", bs[0].Events[1].After, row("c1", event.JSON(`{"key1":"value1","key2":"value2"}`), "c2", event.Decimal("1")))
}

func TestMySQLPartialJSONUpdatesAreRefused(t *testing.T) {
	st := testStream(t, flavorMySQL, "", t10Catalog(), event.Position{})
	f := &feeder{pos: 4}
	feed(t, st, f.gtid(1), f.query("test", "BEGIN"))
	err := st.handle(f.rows(replication.PARTIAL_UPDATE_ROWS_EVENT, t10Map, recordedRows))
	if !isPermanent(err) {
		t.Errorf("partial update: %v", err)
	}
}

func TestRowsOfTablesNotCapturedAreNotDecoded(t *testing.T) {
	st := testStream(t, flavorMySQL, "", t10Catalog(), event.Position{})
	f := &feeder{pos: 4}
	other := &replication.TableMapEvent{TableID: 9, Schema: []byte("test"), Table: []byte("other"), ColumnCount: 1,
		ColumnType: []byte{gm.MYSQL_TYPE_LONG}, ColumnMeta: []uint16{0}}
	// A body that would not decode: the table is skipped before decoding.
	bs := feed(t, st, f.gtid(1), f.query("test", "BEGIN"),
		f.rows(replication.WRITE_ROWS_EVENTv2, other, "garbage"), f.xid())
	if len(bs) != 0 || !st.idlePending {
		t.Errorf("batches %+v, idle %v", bs, st.idlePending)
	}
}

func TestMariaDBStatementBasedChangeToACapturedTableStops(t *testing.T) {
	st := testStream(t, flavorMariaDB, "0-1-1", t10Catalog(), event.Position{})
	f := &feeder{pos: 4}
	g := &replication.MariadbGTIDEvent{GTID: gm.MariadbGTID{DomainID: 0, ServerID: 1, SequenceNumber: 2}}
	feed(t, st, f.ev(replication.MARIADB_GTID_EVENT, g))
	err := st.handle(f.query("test", "INSERT INTO t10 (c2) VALUES (1)"))
	if !isPermanent(err) {
		t.Errorf("statement-based insert: %v", err)
	}
}

func TestFlavorAndStateOfBothFlavors(t *testing.T) {
	for v, want := range map[string]string{"8.0.36": flavorMySQL, "8.4.0-commercial": flavorMySQL,
		"10.11.19-MariaDB-0+deb12u1": flavorMariaDB, "5.5.5-10.6.12-MariaDB": flavorMariaDB} {
		if got := flavorOf(v); got != want {
			t.Errorf("flavorOf(%q) = %q", v, got)
		}
	}
	for _, c := range []struct{ flavor, gtid string }{
		{flavorMySQL, serverUUID + ":1-42:44," + "4e11fa47-71ca-11e1-9e33-c80aa9429562:1"},
		{flavorMariaDB, "0-1-42,1-2-7"},
	} {
		cat := t10Catalog()
		b := appendState(nil, c.flavor, c.gtid, "binlog.000003", 1234, encodeSchemas(cat))
		rs, err := decodeState(b, cat.pats, false)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if rs.Flavor != c.flavor || rs.GTID != c.gtid || rs.File != "binlog.000003" || rs.Pos != 1234 {
			t.Errorf("decoded %+v", rs)
		}
		if got := shapeString(rs.Catalog.tables[event.TableID{Namespace: "test", Name: "t10"}]); got != "c1:json c2:decimal(10,0)" {
			t.Errorf("decoded schema %s", got)
		}
		if _, err := gm.ParseGTIDSet(rs.Flavor, rs.GTID); err != nil {
			t.Errorf("%s GTID set %q: %v", c.flavor, rs.GTID, err)
		}
	}
}

func TestATransactionBeforeTheCheckpointThatItDoesNotHoldMeansTheBinlogWasReset(t *testing.T) {
	rotate := &replication.BinlogEvent{Header: &replication.EventHeader{EventType: replication.ROTATE_EVENT},
		Event: &replication.RotateEvent{Position: 4, NextLogName: []byte("mysql-bin.000001")}}
	resume := event.TxEnd(1<<32 | 10_000)
	maria := func(seq uint64) *replication.MariadbGTIDEvent {
		return &replication.MariadbGTIDEvent{GTID: gm.MariadbGTID{DomainID: 0, ServerID: 1, SequenceNumber: seq}}
	}

	st := testStream(t, flavorMariaDB, "0-1-5", t10Catalog(), resume)
	f := &feeder{pos: 4}
	// A replayed transaction the checkpoint holds is skipped.
	feed(t, st, rotate, f.ev(replication.MARIADB_GTID_EVENT, maria(3)), f.rows(replication.WRITE_ROWS_EVENTv2, t10Map, recordedRows), f.xid())
	if err := st.handle(f.ev(replication.MARIADB_GTID_EVENT, maria(9))); !isPermanent(err) || !strings.Contains(err.Error(), "reset") {
		t.Errorf("MariaDB: %v", err)
	}

	st = testStream(t, flavorMySQL, serverUUID+":1-41", t10Catalog(), resume)
	f = &feeder{pos: 4}
	feed(t, st, rotate, f.gtid(41), f.query("test", "BEGIN"), f.xid())
	if err := st.handle(f.gtid(50)); !isPermanent(err) || !strings.Contains(err.Error(), "reset") {
		t.Errorf("MySQL: %v", err)
	}
}
