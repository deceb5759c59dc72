package mysql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	gm "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/google/uuid"
)

// stream owns the binlog connection of one Open: go-mysql's syncer reads
// and frames events on its goroutine, and the stream's goroutine turns
// them into batches for Read.
type stream struct {
	s      *Source
	meta   *metaConn
	syncer *replication.BinlogSyncer
	bs     *replication.BinlogStreamer
	info   *event.SourceInfo
	out    chan event.Batch

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has returned
	err    error         // why run returned; written before out is closed

	flavor    string
	zeroNull  bool
	deadAfter time.Duration

	// Where the stream is.
	fde       *replication.FormatDescriptionEvent
	file      string // binlog file being read
	fileIdx   uint64
	gtid      gm.GTIDSet // transactions read wholly
	gtidText  string     // gtid.String(), "" when stale
	gtidDirty bool
	nextFile  string // the resume point after the last whole transaction
	nextPos   uint32
	inPayload bool // handling the events of a MySQL compressed transaction

	cat     *catalog
	ddl     *ddlApplier
	schemas []byte // encodeSchemas(cat); nil when stale
	decs    map[uint64]*tableDec

	resume event.Position // events at or before it were delivered before
	last   event.Position // greatest position emitted or pending as idle

	// The transaction being read.
	inTx           bool
	txBegun        bool // inside BEGIN … COMMIT (else a lone statement ends it)
	txCommit       uint64
	txID           string
	txTime         time.Time
	txIndex        uint32
	txSkip         bool // delivered wholly before the restart
	txEmitted      bool // a part was emitted
	txStartFile    string
	txStartPos     uint32
	txStartSchemas []byte
	txMariaGTID    *gm.MariadbGTID
	txMySQLSID     uuid.UUID
	txMySQLTag     gm.Tag
	txMySQLGNO     int64
	cur            []event.Event
	curBytes       int

	idlePending bool
	idlePos     event.Position
	idleNext    time.Time
}

func newStream(s *Source, meta *metaConn, syncer *replication.BinlogSyncer, bs *replication.BinlogStreamer,
	info *event.SourceInfo, si serverInfo, at start, gset gm.GTIDSet) *stream {
	ctx, cancel := context.WithCancel(context.Background())
	st := &stream{
		s: s, meta: meta, syncer: syncer, bs: bs, info: info,
		out: make(chan event.Batch, s.opts.QueueBatches),
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		flavor: si.flavor, zeroNull: s.opts.ZeroDate == "null", deadAfter: deadAfter(s.opts.Heartbeat),
		file: at.pos.file, gtid: gset, gtidText: at.pos.gtid,
		nextFile: at.pos.file, nextPos: at.pos.pos,
		cat: at.cat, decs: map[uint64]*tableDec{},
		resume: at.resume, last: at.resume,
	}
	st.fileIdx, _ = fileIndex(at.pos.file)
	st.ddl = newDDLApplier(lookupShape(meta, si, at.cat), func(msg string, args ...any) { s.log.Warn(msg, args...) })
	return st
}

func (st *stream) start() {
	go func() {
		err := st.run()
		if st.ctx.Err() != nil {
			err = ErrClosed
		} else {
			st.s.log.Error("binlog stream failed", "err", err)
		}
		st.err = err
		close(st.out)
		st.cancel()
		st.syncer.Close()
		close(st.done)
	}()
}

// stop ends the goroutine and waits for it.
func (st *stream) stop() {
	st.cancel()
	<-st.done
}

// error returns why the stream ended; valid once out is closed.
func (st *stream) error() error { return st.err }

func (st *stream) run() error {
	var wait deadlineCtx
	defer wait.stop()
	lastEvent := time.Now()
	for {
		now := time.Now()
		st.maybeIdle(now)
		deadline := lastEvent.Add(st.deadAfter)
		if st.idlePending && st.idleNext.Before(deadline) {
			deadline = st.idleNext
		}
		ev, err := st.bs.GetEvent(wait.until(st.ctx, deadline))
		if err != nil {
			if st.ctx.Err() != nil {
				return st.ctx.Err()
			}
			if errors.Is(err, context.DeadlineExceeded) {
				if time.Since(lastEvent) >= st.deadAfter {
					return fmt.Errorf("mysql source: nothing received from the server for %s (heartbeat %s): connection lost",
						time.Since(lastEvent).Round(time.Millisecond), st.s.opts.Heartbeat)
				}
				continue
			}
			return st.streamError(err)
		}
		lastEvent = time.Now()
		if err := st.handle(ev); err != nil {
			return err
		}
	}
}

// deadlineCtx is a context with a deadline that is made anew only when
// it expired or an earlier deadline is wanted: one per wait, not one per
// event.
type deadlineCtx struct {
	ctx    context.Context
	cancel context.CancelFunc
	at     time.Time
}

func (d *deadlineCtx) until(parent context.Context, at time.Time) context.Context {
	if d.ctx == nil || d.ctx.Err() != nil || at.Before(d.at) {
		d.stop()
		d.ctx, d.cancel = context.WithDeadline(parent, at)
		d.at = at
	}
	return d.ctx
}

func (d *deadlineCtx) stop() {
	if d.cancel != nil {
		d.cancel()
	}
}

// streamError classifies an error of the binlog stream.
func (st *stream) streamError(err error) error {
	if myErrorCode(err) == gm.ER_MASTER_FATAL_ERROR_READING_BINLOG {
		// 1236: the position or GTID asked for is not in the binlogs any
		// more (purged), or the server cannot read them.
		return &PermanentError{
			What: "the server cannot send the binlog from the checkpoint's position (purged binlogs?)",
			Err:  err,
			Fix:  "re-snapshot with snapshot: when_needed, or delete the pipeline's checkpoint (and clear the target) and restart",
		}
	}
	return fmt.Errorf("mysql source: binlog stream: %w", err)
}

// handle processes one binlog event.
func (st *stream) handle(ev *replication.BinlogEvent) error {
	h := ev.Header
	switch e := ev.Event.(type) {
	case *replication.RotateEvent:
		return st.rotate(string(e.NextLogName), uint32(e.Position))
	case *replication.FormatDescriptionEvent:
		st.fde = e
	case *replication.MariadbGTIDEvent:
		g := e.GTID
		if err := st.begin(h, !e.IsStandalone()); err != nil {
			return err
		}
		st.txMariaGTID = &g
		st.txID = mariaGTID(&g)
		if set, ok := st.gtid.(*gm.MariadbGTIDSet); ok && st.txSkip {
			if last := set.Sets[g.DomainID]; last == nil || last.SequenceNumber < g.SequenceNumber {
				return st.rewound()
			}
		}
	case *replication.GTIDEvent:
		return st.mysqlGTID(h, e, gm.Tag{})
	case *replication.GtidTaggedLogEvent:
		return st.mysqlGTID(h, &e.GTIDEvent, e.Tag)
	case *replication.QueryEvent:
		return st.query(h, e)
	case *replication.XIDEvent:
		return st.commit(h)
	case *replication.RowsEvent:
		return st.rows(ev, e)
	case *replication.TransactionPayloadEvent:
		st.inPayload = true
		defer func() { st.inPayload = false }()
		for _, in := range e.Events {
			if err := st.handle(in); err != nil {
				return err
			}
		}
	case *replication.GenericEvent:
		if h.EventType == replication.XA_PREPARE_LOG_EVENT {
			return st.xaPrepare(h)
		}
	}
	return nil
}

func (st *stream) rotate(name string, pos uint32) error {
	idx, err := fileIndex(name)
	if err != nil {
		return &DecodeError{Pos: st.last, Err: err}
	}
	st.file, st.fileIdx = name, idx
	if !st.inTx {
		st.nextFile, st.nextPos = name, pos
	}
	return nil
}

func (st *stream) mysqlGTID(h *replication.EventHeader, e *replication.GTIDEvent, tag gm.Tag) error {
	if err := st.begin(h, false); err != nil {
		return err
	}
	if e.OriginalCommitTimestamp != 0 {
		st.txTime = time.UnixMicro(int64(e.OriginalCommitTimestamp)).UTC()
	}
	sid, err := uuid.FromBytes(e.SID)
	if err != nil || sid == (uuid.UUID{}) || e.GNO == 0 {
		return nil // an anonymous transaction (gtid_mode OFF)
	}
	st.txMySQLSID, st.txMySQLTag, st.txMySQLGNO = sid, tag, e.GNO
	st.txID = sid.String() + ":"
	if tag.String() != "" {
		st.txID += tag.String() + ":"
	}
	st.txID += strconv.FormatInt(e.GNO, 10)
	if set, ok := st.gtid.(*gm.MysqlGTIDSet); ok && st.txSkip {
		one := gm.NewMysqlGTIDSet()
		one.AddGTIDWithTag(sid, tag, e.GNO)
		if !set.Contain(&one) {
			return st.rewound()
		}
	}
	return nil
}

// rewound is the error for a transaction at or before the checkpoint's
// position whose GTID the checkpoint does not hold: the binlog was reset
// (RESET MASTER) or belongs to another server, and positions cannot be
// trusted to skip what was delivered.
func (st *stream) rewound() error {
	return &PermanentError{
		What: fmt.Sprintf("transaction %s at %s is at or before the checkpoint %s but not in its GTID set %q: the binary log was reset or is another server's",
			st.txID, event.Position{Commit: st.txCommit}, st.resume, st.gtidString()),
		Fix: "re-snapshot: delete the pipeline's checkpoint (and clear the target) and restart",
	}
}

// pos returns the position of the transaction's next change.
func (st *stream) pos() event.Position {
	return event.Position{Commit: st.txCommit, Index: st.txIndex}
}

// begin starts a transaction at the event with header h (a GTID event, or
// a BEGIN or lone statement without one); begun is whether its changes
// come up to an XID or COMMIT (else the next statement ends it).
func (st *stream) begin(h *replication.EventHeader, begun bool) error {
	if st.inTx {
		if st.txBegun {
			return &DecodeError{Pos: st.pos(), Err: fmt.Errorf("%s inside a transaction", h.EventType)}
		}
		// A group without BEGIN that no statement ended: it ends where
		// this event starts.
		if err := st.commit(&replication.EventHeader{LogPos: h.LogPos - h.EventSize}); err != nil {
			return err
		}
	}
	st.inTx, st.txBegun = true, begun
	st.txCommit = st.fileIdx<<32 | uint64(h.LogPos)
	st.txID = "" // the GTID, set by the caller, or the position (see add)
	st.txTime = time.Unix(int64(h.Timestamp), 0).UTC()
	st.txIndex = 0
	st.txSkip = !st.resume.Less(event.TxEnd(st.txCommit))
	st.txEmitted = false
	st.txStartFile, st.txStartPos = st.file, h.LogPos-h.EventSize
	if st.inPayload {
		st.txStartPos = h.LogPos // go-mysql stamps inner events with the payload's start
	}
	st.txStartSchemas = st.schemasJSON()
	st.txMariaGTID, st.txMySQLGNO = nil, 0
	st.cur, st.curBytes = nil, 0
	return nil
}

// commit ends the transaction at the event with header h (XID, COMMIT,
// or the lone statement of the transaction).
func (st *stream) commit(h *replication.EventHeader) error {
	if !st.inTx {
		return nil
	}
	st.inTx = false
	if !st.txSkip {
		// A transaction delivered before is in the resume GTID set already.
		switch {
		case st.txMariaGTID != nil:
			if set, ok := st.gtid.(*gm.MariadbGTIDSet); ok {
				if err := set.AddSet(st.txMariaGTID); err != nil {
					return &DecodeError{Pos: st.pos(), Err: err}
				}
				st.gtidDirty = true
			}
		case st.txMySQLGNO != 0:
			if set, ok := st.gtid.(*gm.MysqlGTIDSet); ok {
				set.AddGTIDWithTag(st.txMySQLSID, st.txMySQLTag, st.txMySQLGNO)
				st.gtidDirty = true
			}
		}
	}
	st.nextFile, st.nextPos = st.file, h.LogPos
	end := event.TxEnd(st.txCommit)
	if st.txSkip {
		st.cur = nil
		return nil
	}
	if len(st.cur) == 0 && !st.txEmitted {
		st.s.skippedTx.Add(1)
		st.setIdle(end)
		return nil
	}
	for i := range st.cur {
		st.cur[i].Tx.Count = st.txIndex
	}
	batch := event.Batch{
		Events: st.cur, Checkpoint: event.Checkpoint{Pos: end, State: st.state(true)}, Final: true,
		CommitTime: st.txTime, Bytes: st.curBytes,
	}
	st.cur = nil
	return st.emit(batch)
}

// xaPrepare ends the event group of an XA PREPARE. Its changes are
// committed or rolled back by a later XA COMMIT/ROLLBACK, which the
// source cannot follow: rows of captured tables in it are an error.
func (st *stream) xaPrepare(h *replication.EventHeader) error {
	if len(st.cur) > 0 || st.txEmitted {
		return &PermanentError{
			What: fmt.Sprintf("an XA transaction changed captured table %s (at %s:%d): XA transactions are not supported", st.cur[0].Table, st.file, h.LogPos),
			Fix:  "use ordinary transactions for the captured tables",
		}
	}
	return st.commit(h)
}

// gtidString returns the GTID set of the transactions read wholly.
func (st *stream) gtidString() string {
	if st.gtidDirty {
		if set, ok := st.gtid.(*gm.MariadbGTIDSet); ok {
			st.gtidText = mariaGTIDString(set)
		} else {
			st.gtidText = st.gtid.String()
		}
		st.gtidDirty = false
	}
	return st.gtidText
}

// schemasJSON returns the encoded catalog.
func (st *stream) schemasJSON() []byte {
	if st.schemas == nil {
		st.schemas = encodeSchemas(st.cat)
	}
	return st.schemas
}

// state returns the checkpoint state after the last whole transaction
// (final), or at the start of the current one.
func (st *stream) state(final bool) []byte {
	if final {
		sc := st.schemasJSON()
		return appendState(make([]byte, 0, len(sc)+160), st.flavor, st.gtidString(), st.nextFile, st.nextPos, sc)
	}
	sc := st.txStartSchemas
	return appendState(make([]byte, 0, len(sc)+160), st.flavor, st.gtidString(), st.txStartFile, st.txStartPos, sc)
}

func (st *stream) setIdle(p event.Position) {
	if st.last.Less(p) {
		st.last = p
		st.idlePos = p
		st.idlePending = true
	}
}

// maybeIdle hands the pipeline an empty batch carrying the pending idle
// position, when nothing else is queued and the last one is old enough.
// The state is the current one: between transactions it is the idle
// position's.
func (st *stream) maybeIdle(now time.Time) {
	if !st.idlePending || st.inTx || now.Before(st.idleNext) {
		return
	}
	st.idleNext = now.Add(idleInterval)
	if len(st.out) > 0 {
		return
	}
	b := event.Batch{Checkpoint: event.Checkpoint{Pos: st.idlePos, State: st.state(true)}, Final: true}
	st.s.setLastEmitted(st.idlePos)
	select {
	case st.out <- b:
		st.idlePending = false
	default:
	}
}

// emit hands b to Read, blocking until there is room.
func (st *stream) emit(b event.Batch) error {
	st.s.setLastEmitted(b.Checkpoint.Pos)
	if st.last.Less(b.Checkpoint.Pos) {
		st.last = b.Checkpoint.Pos
	}
	st.idlePending = false
	select {
	case st.out <- b:
		return nil
	case <-st.ctx.Done():
		return st.ctx.Err()
	}
}

// add appends an event to the transaction and emits a part when it is
// full.
func (st *stream) add(ev event.Event, size int) error {
	if st.txID == "" { // no GTID: the transaction's binlog position
		st.txID = st.txStartFile + ":" + strconv.FormatUint(st.txCommit&0xffffffff, 10)
	}
	ev.Tx = event.TxInfo{ID: st.txID, CommitTime: st.txTime, Index: ev.Pos.Index}
	ev.Source = st.info
	if st.cur == nil {
		st.cur = make([]event.Event, 0, 4)
	}
	st.cur = append(st.cur, ev)
	st.curBytes += size
	if len(st.cur) < st.s.opts.MaxBatchEvents && st.curBytes < st.s.opts.MaxBatchBytes {
		return nil
	}
	batch := event.Batch{
		Events: st.cur, Checkpoint: event.Checkpoint{Pos: ev.Pos, State: st.state(false)},
		CommitTime: st.txTime, Bytes: st.curBytes,
	}
	st.cur = nil
	st.curBytes = 0
	st.txEmitted = true
	return st.emit(batch)
}

// query handles a QueryEvent: transaction boundaries, DDL, and the
// statements of statement-based logging.
func (st *stream) query(h *replication.EventHeader, q *replication.QueryEvent) error {
	kind := classifyQuery(q.Query)
	switch kind {
	case qBegin:
		if !st.inTx {
			if err := st.begin(h, true); err != nil {
				return err
			}
		}
		st.txBegun = true
		return nil
	case qCommit, qRollback:
		// ROLLBACK ends a group whose changes to non-transactional tables
		// stayed: its rows are real.
		return st.commit(h)
	case qXA:
		w := leadingWords(q.Query, 2)
		switch {
		case len(w) > 1 && (w[1] == "START" || w[1] == "BEGIN"):
			if !st.inTx {
				return st.begin(h, true)
			}
			st.txBegun = true
			return nil
		case len(w) > 1 && (w[1] == "COMMIT" || w[1] == "ROLLBACK"):
			if len(st.cur) > 0 {
				return &PermanentError{What: "an XA transaction changed a captured table: XA transactions are not supported",
					Fix: "use ordinary transactions for the captured tables"}
			}
			if st.inTx && !st.txBegun {
				return st.commit(h)
			}
		}
		return nil
	}
	lone := !st.inTx
	if lone {
		if err := st.begin(h, false); err != nil {
			return err
		}
	}
	if kind != qOther && !st.txSkip {
		if err := st.statement(h, q, kind); err != nil {
			return err
		}
	}
	if !st.txBegun {
		return st.commit(h)
	}
	return nil
}

// statement applies a DDL statement to the schema, or checks that a
// statement-based change does not touch a captured table.
func (st *stream) statement(h *replication.EventHeader, q *replication.QueryEvent, kind queryKind) error {
	query := string(q.Query)
	pos := st.pos()
	ch, err := st.ddl.apply(st.cat, string(q.Schema), query, pos)
	ddlErr := func(err error) error {
		return &DDLError{Pos: pos, File: st.file, At: h.LogPos, Query: query, Err: err}
	}
	switch {
	case errors.Is(err, errStatementDML):
		return &PermanentError{What: "the binlog holds a statement-based change to a captured table, which cannot be replicated row by row",
			Err: ddlErr(err), Fix: "SET GLOBAL binlog_format = 'ROW'; and make sure no session sets binlog_format (reconnect the applications)"}
	case err != nil && ch.changed == nil && errorIsParse(err):
		st.s.unparsedDDL.Add(1)
		if id, ok := mentions(st.cat, string(q.Schema), query); ok {
			return &PermanentError{What: fmt.Sprintf("a statement naming captured table %s cannot be parsed, so the rows after it could not be decoded safely", id),
				Err: ddlErr(err), Fix: "apply the change with syntax MySQL 8 also understands, or exclude the table; then delete the checkpoint and re-snapshot"}
		}
		st.s.log.Warn("statement not parsed; it names no captured table, so it is skipped",
			"file", st.file, "pos", h.LogPos, "position", pos.String(), "query", truncate(query, 200), "err", err)
		return nil
	case err != nil:
		return &PermanentError{What: "a DDL statement on a captured table cannot be applied to the tracked schema",
			Err: ddlErr(err), Fix: "delete the pipeline's checkpoint and re-snapshot"}
	}
	if len(ch.changed) > 0 || ch.charsets {
		st.schemas = nil
		for _, id := range ch.changed {
			if t := st.cat.tables[id]; t != nil {
				st.s.log.Info("schema changed", "table", id.String(), "version", t.Version, "dropped", t.Dropped,
					"file", st.file, "pos", h.LogPos)
			}
		}
	}
	for _, id := range ch.truncated {
		p, want := st.next()
		if !want {
			continue
		}
		t := st.cat.tables[id]
		if err := st.add(event.Event{Op: event.OpTruncate, Table: id, Schema: t.eventSchema(), Pos: p}, eventOverhead); err != nil {
			return err
		}
	}
	return nil
}

// errorIsParse reports whether err is a parse error of ddlApplier.apply.
func errorIsParse(err error) bool {
	var pe parseError
	return errors.As(err, &pe)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// next returns the position of the transaction's next change and whether
// it must be emitted (it was not delivered before a restart).
func (st *stream) next() (event.Position, bool) {
	p := st.pos()
	st.txIndex++
	return p, st.resume.Less(p)
}

const eventOverhead = 256 // estimated bytes of an event without its values

// tableDec is the decoder of one table map: the table, its shape (nil
// when it is not captured) and a decoder per column.
type tableDec struct {
	tm    *replication.TableMapEvent
	db    []byte
	name  []byte
	types []byte
	metas []uint16
	id    event.TableID
	shape *tableShape
	cols  []*colDec
}

// same reports whether tm describes the same table with the same columns.
func (td *tableDec) same(tm *replication.TableMapEvent) bool {
	return bytes.Equal(td.db, tm.Schema) && bytes.Equal(td.name, tm.Table) &&
		bytes.Equal(td.types, tm.ColumnType) && slices.Equal(td.metas, tm.ColumnMeta)
}

// decoder returns the decoder of a table map, building it when the table
// or its shape changed.
func (st *stream) decoder(tm *replication.TableMapEvent) (*tableDec, error) {
	td := st.decs[tm.TableID]
	if td != nil && (td.tm == tm || td.same(tm)) {
		td.tm = tm
		if td.shape == nil || st.cat.tables[td.id] == td.shape {
			return td, nil
		}
	}
	id := st.cat.id(string(tm.Schema), string(tm.Table))
	td = &tableDec{tm: tm, db: slices.Clone(tm.Schema), name: slices.Clone(tm.Table),
		types: slices.Clone(tm.ColumnType), metas: slices.Clone(tm.ColumnMeta), id: id}
	if len(st.decs) > 4096 {
		clear(st.decs)
	}
	st.decs[tm.TableID] = td
	if !st.cat.captured(id) {
		return td, nil
	}
	shape := st.cat.live(id)
	if shape == nil {
		delete(st.decs, tm.TableID)
		return nil, &DecodeError{Table: id, Pos: st.pos(), Err: fmt.Errorf(
			"%w: no schema is known for captured table %s (was a CREATE or RENAME statement for it skipped?)", ErrSchemaMismatch, id)}
	}
	if int(tm.ColumnCount) != len(shape.Columns) {
		delete(st.decs, tm.TableID)
		return nil, &DecodeError{Table: id, Pos: st.pos(), Err: fmt.Errorf(
			"%w: the binlog has %d columns, the schema (version %d) has %d", ErrSchemaMismatch, tm.ColumnCount, shape.Version, len(shape.Columns))}
	}
	td.cols = make([]*colDec, len(shape.Columns))
	for i := range shape.Columns {
		c := &shape.Columns[i]
		d, err := newColDec(tm.ColumnType[i], tm.ColumnMeta[i], c, st.zeroNull)
		if err != nil {
			delete(st.decs, tm.TableID)
			return nil, &DecodeError{Table: id, Column: c.Name, Type: c.Type, Pos: st.pos(), Err: err}
		}
		td.cols[i] = d
	}
	td.shape = shape
	shape.eventSchema()
	return td, nil
}

// rows handles a rows event: one change event per row of a captured table.
func (st *stream) rows(ev *replication.BinlogEvent, e *replication.RowsEvent) error {
	if !st.inTx {
		return &DecodeError{Pos: st.last, Err: fmt.Errorf("%s outside a transaction", ev.Header.EventType)}
	}
	if st.txSkip {
		return nil
	}
	if e.Table == nil {
		return &DecodeError{Pos: st.pos(), Err: errors.New("rows event without its table map")}
	}
	td, err := st.decoder(e.Table)
	if err != nil || td.shape == nil {
		return err
	}
	op, update, err := rowsOp(ev.Header.EventType)
	if err != nil {
		return &DecodeError{Table: td.id, Pos: st.pos(), Err: err}
	}
	checksum := 0
	if !st.inPayload && st.fde != nil && st.fde.ChecksumAlgorithm == replication.BINLOG_CHECKSUM_ALG_CRC32 {
		checksum = replication.BinlogChecksumLength
	}
	idSize := 6
	if st.fde != nil && int(ev.Header.EventType) <= len(st.fde.EventTypeHeaderLengths) &&
		st.fde.EventTypeHeaderLengths[ev.Header.EventType-1] == 6 {
		idSize = 4
	}
	if len(ev.RawData) < replication.EventHeaderSize+checksum {
		return &DecodeError{Table: td.id, Pos: st.pos(), Err: errShort}
	}
	body := ev.RawData[replication.EventHeaderSize : len(ev.RawData)-checksum]
	data, bm1, bm2, err := rowsImages(body, ev.Header.EventType, idSize, len(td.cols), update)
	if err != nil {
		return &DecodeError{Table: td.id, Pos: st.pos(), Err: err}
	}
	schema := td.shape.eventSchema()
	// One string holds every string and bytes value of the event.
	str := string(data)
	var arena fieldArena
	for len(data) > 0 {
		p, want := st.next()
		size := eventOverhead
		first, n, err := td.image(data, str, bm1, &arena, &size, p)
		if err != nil {
			return err
		}
		data, str = data[n:], str[n:]
		used := n
		var second event.Row
		if update {
			if second, n, err = td.image(data, str, bm2, &arena, &size, p); err != nil {
				return err
			}
			data, str = data[n:], str[n:]
			used += n
		}
		if st.cur == nil && want {
			// Room for the event's rows, estimated from the first one.
			st.cur = make([]event.Event, 0, min(len(data)/used+1, st.s.opts.MaxBatchEvents))
		}
		if !want {
			continue
		}
		out := event.Event{Op: op, Table: td.id, Schema: schema, Pos: p}
		switch op {
		case event.OpInsert:
			out.After = first
			out.Key = keyOf(td.shape, first)
		case event.OpUpdate:
			out.Before, out.After = first, second
			out.Key = keyOf(td.shape, second)
		default:
			out.Before = first
			out.Key = keyOf(td.shape, first)
		}
		if err := st.add(out, size); err != nil {
			return err
		}
	}
	return nil
}

// keyOf picks the key columns of row: a part of row when they are
// consecutive columns (they usually are), else a new row.
func keyOf(t *tableShape, row event.Row) event.Row {
	if k := t.keyIdx; len(k) > 0 && k[len(k)-1]-k[0] == len(k)-1 {
		return row[k[0] : k[0]+len(k) : k[0]+len(k)]
	}
	key := make(event.Row, len(t.keyIdx))
	for i, k := range t.keyIdx {
		key[i] = row[k]
	}
	return key
}

// parseError marks an error of the SQL parser.
type parseError struct{ err error }

func (e parseError) Error() string { return e.err.Error() }
func (e parseError) Unwrap() error { return e.err }

// mariaGTIDString renders a MariaDB GTID position as go-mysql does
// ("0-1-42,1-2-7", sorted), without fmt.
func mariaGTIDString(set *gm.MariadbGTIDSet) string {
	if len(set.Sets) == 1 {
		for _, g := range set.Sets {
			return mariaGTID(g)
		}
	}
	parts := make([]string, 0, len(set.Sets))
	for _, g := range set.Sets {
		parts = append(parts, mariaGTID(g))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func mariaGTID(g *gm.MariadbGTID) string {
	if g.DomainID == 0 && g.ServerID == 0 && g.SequenceNumber == 0 {
		return ""
	}
	b := make([]byte, 0, 32)
	b = strconv.AppendUint(b, uint64(g.DomainID), 10)
	b = append(b, '-')
	b = strconv.AppendUint(b, uint64(g.ServerID), 10)
	b = append(b, '-')
	b = strconv.AppendUint(b, g.SequenceNumber, 10)
	return string(b)
}
