package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unsafe"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// relation is what the stream knows of one relation id from its last
// Relation message.
type relation struct {
	table    event.TableID
	captured bool
	shape    uint64
	schema   *event.TableSchema
	decs     []decoder
	ident    []bool // replica identity flags from the Relation message
}

// stream owns the replication connection of one Open: a goroutine
// receives and decodes messages into batches for Read, answers keepalives
// and sends standby status updates, also while Read is not called.
type stream struct {
	s    *Source
	conn *pgconn.PgConn
	info *event.SourceInfo
	out  chan event.Batch

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when every goroutine has returned
	err    error         // why run returned; written before out is closed

	resume   event.Position // events at or before it were delivered before
	last     event.Position // greatest position emitted or pending as idle
	rels     map[uint32]*relation
	types    *typeCache
	versions map[event.TableID]versionEntry
	state    []byte // encodeState(versions), shared by batches

	inTx      bool
	txCommit  uint64
	txID      string
	txTime    time.Time
	txIndex   uint32
	txEmitted bool // a part of the transaction was emitted
	partLen   int  // events in the last part emitted of the transaction
	cur       []event.Event
	curBytes  int
	change    changeMsg

	idlePending bool
	idlePos     event.Position
	idleNext    time.Time
	nextStatus  time.Time     // when a status update is due in any case
	lastStatus  time.Time     // when the last status update went out
	reported    uint64        // the LSN the last status update reported
	ackDelay    time.Duration // see ackReportDelay
}

func newStream(s *Source, conn *pgconn.PgConn, info *event.SourceInfo, resume event.Position, versions map[event.TableID]versionEntry) *stream {
	if versions == nil {
		versions = map[event.TableID]versionEntry{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &stream{
		s: s, conn: conn, info: info,
		out: make(chan event.Batch, s.opts.QueueBatches),
		ctx: ctx, cancel: cancel, done: make(chan struct{}),
		resume: resume, last: resume,
		rels: map[uint32]*relation{}, types: newTypeCache(),
		versions: versions, state: encodeState(versions),
		ackDelay: min(ackReportDelay, s.opts.StatusInterval),
	}
}

// ackReportDelay is the longest an acknowledgement that moved the position
// waits for a status update (StatusInterval when that is shorter): soon
// enough that the server can release WAL as fast as it logs the
// running-transactions records that let restart_lsn move, rare enough to
// cost nothing under load.
const ackReportDelay = time.Second

func (st *stream) start() {
	hb := st.s.opts.Heartbeat > 0
	var hbDone chan struct{}
	if hb {
		hbDone = make(chan struct{})
		go func() {
			defer close(hbDone)
			st.heartbeat()
		}()
	}
	discDone := make(chan struct{})
	go func() {
		defer close(discDone)
		st.discover(st.s.opts.StatusInterval)
	}()
	go func() {
		err := st.run()
		if errors.Is(err, context.Canceled) && st.ctx.Err() != nil {
			err = ErrClosed
		} else {
			st.s.log.Error("replication stream failed", "err", err)
		}
		st.err = err
		close(st.out)
		st.cancel()
		if hb {
			<-hbDone
		}
		<-discDone
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		st.conn.Close(ctx)
		cancel()
		close(st.done)
	}()
}

// stop ends the goroutines and waits for them.
func (st *stream) stop() {
	st.cancel()
	<-st.done
}

// error returns why the stream ended; valid once out is closed.
func (st *stream) error() error { return st.err }

func (st *stream) heartbeat() {
	t := time.NewTicker(st.s.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-st.ctx.Done():
			return
		case <-t.C:
		}
		err := st.s.withMeta(func(c *pgx.Conn) error {
			_, err := c.Exec(st.ctx, `SELECT pg_logical_emit_message(false, $1, '')`, HeartbeatPrefix)
			return err
		})
		if err != nil && st.ctx.Err() == nil {
			st.s.log.Warn("heartbeat failed", "err", err)
		}
	}
}

func (st *stream) run() error {
	var (
		rctx      context.Context
		rcancel   context.CancelFunc = func() {}
		rdeadline time.Time
	)
	defer func() { rcancel() }()
	st.nextStatus = time.Now()
	for {
		now := time.Now()
		if !now.Before(st.nextStatus) || st.ackDue(now) {
			if err := st.sendStatus(); err != nil {
				return err
			}
		}
		st.maybeIdle(now)
		deadline := st.nextStatus
		// The idle deadline only matters between transactions: inside one,
		// maybeIdle neither emits nor advances idleNext, and a deadline
		// already past would make every receive time out at once.
		if st.idlePending && !st.inTx && st.idleNext.Before(deadline) {
			deadline = st.idleNext
		}
		// An acknowledgement not reported yet has its own deadline; while
		// there is none, Ack wakes the receive.
		waiting := st.s.acked.Load() != st.reported
		if waiting {
			if d := st.lastStatus.Add(st.ackDelay); d.Before(deadline) {
				deadline = d
			}
		}
		if rctx == nil || rctx.Err() != nil || !deadline.Equal(rdeadline) {
			rcancel()
			rctx, rcancel = receiveContext(st.ctx, deadline)
			rdeadline = deadline
		}
		if !waiting {
			st.s.setWake(rcancel)
			if st.s.acked.Load() != st.reported { // an Ack came in between
				st.s.setWake(nil)
				continue
			}
		}
		msg, err := st.conn.ReceiveMessage(rctx)
		if !waiting {
			st.s.setWake(nil)
		}
		if err != nil {
			if st.ctx.Err() != nil {
				return st.ctx.Err()
			}
			if rctx.Err() != nil || pgconn.Timeout(err) {
				continue // a deadline passed or an Ack woke us
			}
			return fmt.Errorf("postgres source: receive: %w", err)
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			if len(m.Data) == 0 {
				continue
			}
			switch m.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				pkm, err := pglogrepl.ParsePrimaryKeepaliveMessage(m.Data[1:])
				if err != nil {
					return &DecodeError{Pos: st.last, Err: err}
				}
				st.keepalive(uint64(pkm.ServerWALEnd))
				if pkm.ReplyRequested {
					if err := st.sendStatus(); err != nil {
						return err
					}
				}
			case pglogrepl.XLogDataByteID:
				xld, err := pglogrepl.ParseXLogData(m.Data[1:])
				if err != nil {
					return &DecodeError{Pos: st.last, Err: err}
				}
				if err := st.handle(xld.WALData); err != nil {
					return err
				}
			}
		case *pgproto3.ErrorResponse:
			return fmt.Errorf("postgres source: replication: %w", pgconn.ErrorResponseToPgError(m))
		case *pgproto3.CopyDone:
			return errors.New("postgres source: the server ended the replication stream")
		}
	}
}

// ackDue reports whether an acknowledgement waits to be reported and the
// last status update is at least ackDelay old.
func (st *stream) ackDue(now time.Time) bool {
	return st.s.acked.Load() != st.reported && !now.Before(st.lastStatus.Add(st.ackDelay))
}

// receiveContext returns the context bounding a wait for messages; the
// caller cancels it when it makes the next one.
func receiveContext(parent context.Context, deadline time.Time) (context.Context, context.CancelFunc) {
	return context.WithDeadline(parent, deadline)
}

// sendStatus reports the acknowledged LSN as written, flushed and applied.
func (st *stream) sendStatus() error {
	acked := st.s.acked.Load()
	lsn := pglogrepl.LSN(acked)
	err := pglogrepl.SendStandbyStatusUpdate(st.ctx, st.conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: lsn, WALFlushPosition: lsn, WALApplyPosition: lsn,
	})
	if err != nil {
		return fmt.Errorf("postgres source: send standby status: %w", err)
	}
	st.reported = acked
	st.lastStatus = time.Now()
	st.nextStatus = st.lastStatus.Add(st.s.opts.StatusInterval)
	return nil
}

// keepalive makes the server's WAL end a pending idle position when no
// transaction is open: every commit not sent yet starts at or after it.
func (st *stream) keepalive(walEnd uint64) {
	if st.inTx || walEnd == 0 {
		return
	}
	st.setIdle(event.TxEnd(walEnd - 1))
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
func (st *stream) maybeIdle(now time.Time) {
	if !st.idlePending || st.inTx || now.Before(st.idleNext) {
		return
	}
	st.idleNext = now.Add(idleInterval)
	if len(st.out) > 0 {
		return
	}
	b := event.Batch{Checkpoint: event.Checkpoint{Pos: st.idlePos, State: st.state}, Final: true}
	// Before the send: the reader may ack it at once. If the send fails,
	// the same position goes out later.
	st.s.setLastEmitted(st.idlePos)
	select {
	case st.out <- b:
		st.idlePending = false
	default:
	}
}

func (s *Source) setLastEmitted(p event.Position) {
	s.posMu.Lock()
	if s.lastEmitted.Less(p) {
		s.lastEmitted = p
	}
	s.posMu.Unlock()
}

// emit hands b to Read, blocking until there is room; meanwhile it keeps
// sending standby status updates so that the server does not time out.
func (st *stream) emit(b event.Batch) error {
	b.Checkpoint.State = st.state
	st.s.setLastEmitted(b.Checkpoint.Pos)
	if st.last.Less(b.Checkpoint.Pos) {
		st.last = b.Checkpoint.Pos
	}
	st.idlePending = false
	select {
	case st.out <- b:
		return nil
	default:
	}
	acked := make(chan struct{}, 1)
	wake := func() {
		select {
		case acked <- struct{}{}:
		default:
		}
	}
	defer st.s.setWake(nil)
	for {
		deadline := st.nextStatus
		if st.s.acked.Load() != st.reported {
			st.s.setWake(nil)
			if d := st.lastStatus.Add(st.ackDelay); d.Before(deadline) {
				deadline = d
			}
		} else {
			st.s.setWake(wake)
		}
		t := time.NewTimer(time.Until(deadline))
		select {
		case st.out <- b:
			t.Stop()
			return nil
		case <-st.ctx.Done():
			t.Stop()
			return st.ctx.Err()
		case <-acked:
			t.Stop()
		case <-t.C:
			if now := time.Now(); !now.Before(st.nextStatus) || st.ackDue(now) {
				if err := st.sendStatus(); err != nil {
					return err
				}
			}
		}
	}
}

// handle processes one pgoutput message.
func (st *stream) handle(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	body := data[1:]
	var err error
	switch data[0] {
	case 'B':
		err = st.begin(body)
	case 'C':
		err = st.commit(body)
	case 'R':
		err = st.relation(body)
	case 'I', 'U', 'D':
		err = st.dml(data[0], body)
	case 'T':
		err = st.truncate(body)
	case 'M':
		err = st.message(body)
	case 'Y', 'O':
		// Type and Origin messages: types are looked up in pg_type, origins unused.
	default:
		err = fmt.Errorf("unknown pgoutput message %q", data[0])
	}
	if err != nil {
		var de *DecodeError
		var pe *PermanentError
		var ce *catalogError
		if errors.As(err, &ce) {
			return ce.err // transient: the catalog connection failed
		}
		if errors.As(err, &de) || errors.As(err, &pe) || errors.Is(err, context.Canceled) {
			return err
		}
		return &DecodeError{Pos: event.Position{Commit: st.txCommit, Index: st.txIndex}, Err: err}
	}
	return nil
}

func (st *stream) begin(b []byte) error {
	m, err := parseBegin(b)
	if err != nil {
		return err
	}
	if st.inTx {
		return errors.New("begin inside a transaction")
	}
	st.inTx = true
	st.txCommit = m.finalLSN
	st.txID = strconv.FormatUint(uint64(m.xid), 10)
	st.txTime = m.commitTime
	st.txIndex = 0
	st.txEmitted = false
	st.partLen = 0
	st.cur = st.cur[:0:0]
	st.curBytes = 0
	return nil
}

func (st *stream) commit(b []byte) error {
	m, err := parseCommit(b)
	if err != nil {
		return err
	}
	if !st.inTx {
		return errors.New("commit outside a transaction")
	}
	if m.commitLSN != st.txCommit {
		return fmt.Errorf("commit at %s, but its begin announced %s",
			pglogrepl.LSN(m.commitLSN), pglogrepl.LSN(st.txCommit))
	}
	st.inTx = false
	end := event.TxEnd(st.txCommit)
	if !st.resume.Less(end) {
		st.cur = nil // delivered before the restart
		return nil
	}
	if len(st.cur) == 0 && !st.txEmitted {
		st.setIdle(end)
		return nil
	}
	for i := range st.cur {
		st.cur[i].Tx.Count = st.txIndex
	}
	batch := event.Batch{
		Events: st.cur, Checkpoint: event.Checkpoint{Pos: end}, Final: true,
		CommitTime: st.txTime, Bytes: st.curBytes + (cap(st.cur)-len(st.cur))*eventSize,
	}
	st.cur = nil
	return st.emit(batch)
}

// next returns the position of the transaction's next change and whether
// it must be emitted (it was not delivered before a restart).
func (st *stream) next() (event.Position, bool, error) {
	if !st.inTx {
		return event.Position{}, false, errors.New("change outside a transaction")
	}
	p := event.Position{Commit: st.txCommit, Index: st.txIndex}
	st.txIndex++
	return p, st.resume.Less(p), nil
}

// add appends an event to the transaction and emits a part when it is
// full.
func (st *stream) add(ev event.Event, size int) error {
	ev.Tx = event.TxInfo{ID: st.txID, CommitTime: st.txTime, Index: ev.Pos.Index}
	ev.Source = st.info
	if st.cur == nil {
		// The parts of a large transaction are alike: size the next one
		// like the last.
		st.cur = make([]event.Event, 0, max(8, st.partLen))
	}
	st.cur = append(st.cur, ev)
	st.curBytes += size
	if len(st.cur) < st.s.opts.MaxBatchEvents && st.curBytes < st.s.opts.MaxBatchBytes {
		return nil
	}
	batch := event.Batch{
		Events: st.cur, Checkpoint: event.Checkpoint{Pos: ev.Pos},
		CommitTime: st.txTime, Bytes: st.curBytes + (cap(st.cur)-len(st.cur))*eventSize,
	}
	st.partLen = len(st.cur)
	st.cur = nil
	st.curBytes = 0
	st.txEmitted = true
	return st.emit(batch)
}

// Batch.Bytes estimates the memory a batch holds, so that the pipeline's
// byte bounds are bounds on memory: the events in the batch's slice
// (unused capacity included), one event.Field per value with the value's
// bytes, and a little for allocation rounding.
const (
	eventSize     = int(unsafe.Sizeof(event.Event{}))
	fieldSize     = int(unsafe.Sizeof(event.Field{})) + 16
	eventOverhead = eventSize + 32 // an event without its rows
)

func (st *stream) dml(kind byte, b []byte) error {
	m := &st.change
	var err error
	switch kind {
	case 'I':
		err = parseInsert(b, m)
	case 'U':
		err = parseUpdate(b, m)
	default:
		err = parseDelete(b, m)
	}
	if err != nil {
		return err
	}
	pos, want, err := st.next()
	if err != nil {
		return err
	}
	rel := st.rels[m.relation]
	if rel == nil {
		return fmt.Errorf("change of relation %d before its Relation message", m.relation)
	}
	if !want || !rel.captured {
		return nil
	}
	ev := event.Event{Table: rel.table, Schema: rel.schema, Pos: pos}
	size := eventOverhead
	switch kind {
	case 'I':
		ev.Op = event.OpInsert
		if ev.After, _, err = st.decodeRow(rel, m.new, pos, false, &size); err != nil {
			return err
		}
	case 'U':
		ev.Op = event.OpUpdate
		if m.oldKind != 0 {
			if ev.Before, _, err = st.decodeRow(rel, m.old, pos, m.oldKind == 'K', &size); err != nil {
				return err
			}
		}
		if ev.After, ev.Unchanged, err = st.decodeRow(rel, m.new, pos, false, &size); err != nil {
			return err
		}
		if len(ev.Unchanged) > 0 && st.s.opts.Toast == ToastReselect {
			if err := st.fillUnchanged(rel, &ev, m.new, m.old, &size); err != nil {
				return err
			}
		}
	default:
		ev.Op = event.OpDelete
		if ev.Before, _, err = st.decodeRow(rel, m.old, pos, m.oldKind == 'K', &size); err != nil {
			return err
		}
	}
	ev.Key = keyOf(rel.schema, ev.After, ev.Before)
	size += cap(ev.Key) * fieldSize
	return st.add(ev, size)
}

// keyOf picks the key columns from row, or from fallback for those row
// lacks (unchanged TOAST values, deletes).
func keyOf(s *event.TableSchema, row, fallback event.Row) event.Row {
	var key event.Row
	for _, c := range s.Columns {
		if !c.Key {
			continue
		}
		if v, ok := row.Get(c.Name); ok {
			key = append(key, event.Field{Name: c.Name, Value: v})
		} else if v, ok := fallback.Get(c.Name); ok {
			key = append(key, event.Field{Name: c.Name, Value: v})
		}
	}
	return key
}

// decodeRow decodes a tuple. With identOnly, only the replica identity
// columns are kept (an old key tuple sends the others as NULL). Unchanged
// TOAST columns are left out of the row and listed in unchanged.
func (st *stream) decodeRow(rel *relation, cols []tupleCol, pos event.Position, identOnly bool, size *int) (event.Row, []string, error) {
	if len(cols) != len(rel.schema.Columns) {
		return nil, nil, &DecodeError{Table: rel.table, Pos: pos,
			Err: fmt.Errorf("tuple has %d columns, relation has %d", len(cols), len(rel.schema.Columns))}
	}
	row := make(event.Row, 0, len(cols))
	var unchanged []string
	for i, c := range cols {
		col := &rel.schema.Columns[i]
		if identOnly && !rel.ident[i] {
			continue
		}
		var v event.Value
		switch c.kind {
		case 'n':
		case 'u':
			unchanged = append(unchanged, col.Name)
			continue
		case 't':
			var err error
			if v, err = rel.decs[i](c.data); err != nil {
				return nil, nil, &DecodeError{Table: rel.table, Column: col.Name, Type: col.Type, Pos: pos, Err: err}
			}
		default:
			return nil, nil, &DecodeError{Table: rel.table, Column: col.Name, Type: col.Type, Pos: pos,
				Err: fmt.Errorf("unexpected tuple column kind %q", c.kind)}
		}
		*size += fieldSize + len(c.data)
		row = append(row, event.Field{Name: col.Name, Value: v})
	}
	return row, unchanged, nil
}

func (st *stream) truncate(b []byte) error {
	m, err := parseTruncate(b)
	if err != nil {
		return err
	}
	for _, id := range m.relations {
		pos, want, err := st.next()
		if err != nil {
			return err
		}
		rel := st.rels[id]
		if rel == nil {
			return fmt.Errorf("truncate of relation %d before its Relation message", id)
		}
		if !want || !rel.captured {
			continue
		}
		if err := st.add(event.Event{Op: event.OpTruncate, Table: rel.table, Schema: rel.schema, Pos: pos}, eventOverhead); err != nil {
			return err
		}
	}
	return nil
}

func (st *stream) message(b []byte) error {
	m, err := parseLogicalMessage(b)
	if err != nil {
		return err
	}
	msg := &event.Message{Prefix: m.prefix, Content: append([]byte(nil), m.content...), Transactional: m.transactional}
	if m.transactional {
		pos, want, err := st.next()
		if err != nil {
			return err
		}
		if !want || m.prefix == HeartbeatPrefix {
			return nil
		}
		return st.add(event.Event{Op: event.OpMessage, Pos: pos, Message: msg}, eventOverhead+len(m.content))
	}
	// A non-transactional message stands alone at its own LSN.
	if st.inTx {
		return errors.New("non-transactional message inside a transaction")
	}
	pos := event.Position{Commit: m.lsn}
	if !st.resume.Less(pos) {
		return nil
	}
	if m.prefix == HeartbeatPrefix {
		st.setIdle(event.TxEnd(m.lsn))
		return nil
	}
	ev := event.Event{Op: event.OpMessage, Pos: pos, Message: msg, Source: st.info}
	return st.emit(event.Batch{
		Events: []event.Event{ev}, Checkpoint: event.Checkpoint{Pos: event.TxEnd(m.lsn)}, Final: true,
		Bytes: eventOverhead + len(m.content),
	})
}
