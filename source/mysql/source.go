package mysql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/source"
	gm "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

var _ source.Source = (*Source)(nil)

// Source reads a MySQL or MariaDB server's row-based binary log as a
// replica would. See the package doc for its states.
//
// Read must be called from one goroutine; Ack, Stats and Close may be
// called concurrently with it.
type Source struct {
	opts Options
	pats []tablePattern
	dsn  dsn
	log  *slog.Logger

	mu     sync.Mutex
	closed bool
	st     *stream   // the running stream, nil before Open
	meta   *metaConn // normal connection: catalog, preflight

	posMu       sync.Mutex
	lastEmitted event.Position // greatest checkpoint handed to the pipeline

	unparsedDDL atomic.Uint64
	skippedTx   atomic.Uint64
}

// New validates opts and returns a Source that is not connected yet.
func New(opts Options) (*Source, error) {
	pats, d, err := opts.validate()
	if err != nil {
		return nil, err
	}
	return &Source{opts: opts, pats: pats, dsn: d,
		log: opts.Logger.With("source", "mysql", "server_id", opts.ServerID)}, nil
}

// Options returns the options with their defaults filled in.
func (s *Source) Options() Options { return s.opts }

// Stats are counters for metrics. They only grow.
type Stats struct {
	// UnparsedDDL counts DDL statements the source could not parse and
	// skipped because they named no captured table.
	UnparsedDDL uint64
	// IdleTransactions counts transactions without captured changes.
	IdleTransactions uint64
}

// Stats returns the counters. It is safe for concurrent use.
func (s *Source) Stats() Stats {
	return Stats{UnparsedDDL: s.unparsedDDL.Load(), IdleTransactions: s.skippedTx.Load()}
}

// Open connects, runs the preflight checks, reads the schema of the
// captured tables (from the checkpoint's state, else from
// information_schema) and starts streaming just after cp (from the
// server's current binlog position when cp is nil). Calling Open again,
// e.g. after Read failed, stops the previous stream first.
//
// Open may also follow Close: the pipeline closes the source at the end
// of every session and opens it again for the next.
//
// It returns a *PermanentError when the server, the user, the tables or
// the checkpoint need someone's action; any other error is transient.
func (s *Source) Open(ctx context.Context, cp *event.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = false
	s.stopLocked()
	meta, err := connectMeta(ctx, s.dsn)
	if err != nil {
		return err
	}
	s.meta = meta
	st, err := s.open(ctx, meta, cp)
	if err != nil {
		s.stopLocked()
		return err
	}
	s.st = st
	st.start()
	return nil
}

// start is where a stream begins.
type start struct {
	pos     binlogPos
	useGTID bool
	cat     *catalog
	resume  event.Position
}

func (s *Source) open(ctx context.Context, meta *metaConn, cp *event.Checkpoint) (*stream, error) {
	si, err := detectServer(ctx, meta)
	if err != nil {
		return nil, err
	}
	if err := checkBinlog(ctx, meta, si); err != nil {
		return nil, err
	}
	files, err := binaryLogs(ctx, meta, si)
	if err != nil {
		return nil, err
	}
	if err := checkServerID(ctx, meta, si, s.opts.ServerID); err != nil {
		return nil, err
	}
	cat := newCatalog(s.pats, si.lower)
	all, err := listTables(ctx, meta, cat)
	if err != nil {
		return nil, err
	}
	captured, err := resolveTables(cat, all, si.user)
	if err != nil {
		return nil, err
	}
	if err := checkSelect(ctx, meta, si.user, captured); err != nil {
		return nil, err
	}

	var at start
	if cp == nil {
		if at, err = s.freshStart(ctx, meta, si, cat, captured); err != nil {
			return nil, err
		}
	} else {
		if at, err = s.resumeStart(ctx, meta, si, cp, files, captured); err != nil {
			return nil, err
		}
	}
	var bad []string
	for _, t := range at.cat.tables {
		if !t.Dropped {
			bad = append(bad, t.unsupported()...)
		}
	}
	if len(bad) > 0 {
		return nil, unsupportedTypesError(bad)
	}

	gset, err := gm.ParseGTIDSet(si.flavor, at.pos.gtid)
	if err != nil {
		return nil, &PermanentError{What: fmt.Sprintf("GTID set %q", at.pos.gtid), Err: err}
	}
	syncer := replication.NewBinlogSyncer(s.syncerConfig(si))
	var bs *replication.BinlogStreamer
	if at.useGTID {
		bs, err = syncer.StartSyncGTID(gset)
	} else {
		bs, err = syncer.StartSync(gm.Position{Name: at.pos.file, Pos: at.pos.pos})
	}
	if err != nil {
		syncer.Close()
		switch myErrorCode(err) {
		case gm.ER_SPECIFIC_ACCESS_DENIED_ERROR, gm.ER_ACCESS_DENIED_ERROR:
			return nil, privilegeError(si.user, "REPLICATION SLAVE", si.flavor, err)
		}
		return nil, fmt.Errorf("mysql source: start binlog stream at %s:%d: %w", at.pos.file, at.pos.pos, err)
	}
	how := "position"
	if at.useGTID {
		how = "gtid"
	}
	s.log.Info("streaming", "flavor", si.flavor, "version", si.version, "from", how,
		"file", at.pos.file, "pos", at.pos.pos, "gtid", at.pos.gtid, "resume_after", at.resume.String())
	s.setLastEmitted(at.resume)
	info := &event.SourceInfo{Kind: "mysql", ServerID: si.sourceID(), DB: s.dsn.db, Pipeline: s.opts.Pipeline}
	return newStream(s, meta, syncer, bs, info, si, at, gset), nil
}

// freshStart reads the current binlog position and the captured tables'
// schema. A DDL statement that runs between the two would leave the
// schema out of step with the position, so the DDL counters are read
// around both and the reading is repeated when they moved.
func (s *Source) freshStart(ctx context.Context, meta *metaConn, si serverInfo, cat *catalog, captured []event.TableID) (start, error) {
	const attempts = 5
	for i := 0; ; i++ {
		c1, err := ddlCount(ctx, meta)
		if err != nil {
			return start{}, err
		}
		pos, err := currentPos(ctx, meta, si)
		if err != nil {
			return start{}, err
		}
		shapes, dbcs, err := loadShapes(ctx, meta, si, cat, captured)
		if err != nil {
			return start{}, err
		}
		c2, err := ddlCount(ctx, meta)
		if err != nil {
			return start{}, err
		}
		if c1 == c2 {
			for _, t := range shapes {
				cat.put(t)
			}
			for db, cs := range dbcs {
				cat.dbCharset[db] = cs
			}
			return start{pos: pos, cat: cat}, nil
		}
		if i == attempts-1 {
			return start{}, errors.New("mysql source: DDL statements kept running while the schema was read; retrying later")
		}
	}
}

// resumeStart takes the position and schema from the checkpoint.
func (s *Source) resumeStart(ctx context.Context, meta *metaConn, si serverInfo, cp *event.Checkpoint, files []binlogFile, captured []event.TableID) (start, error) {
	rs, err := decodeState(cp.State, s.pats, si.lower)
	if err != nil {
		return start{}, &PermanentError{What: "checkpoint state", Err: err,
			Fix: "delete the pipeline's checkpoint and re-snapshot"}
	}
	if rs.Flavor != si.flavor {
		return start{}, &PermanentError{
			What: fmt.Sprintf("the checkpoint was written reading a %s server, this is %s", rs.Flavor, si.flavor),
			Fix:  "point source.dsn at the server the checkpoint belongs to, or delete the checkpoint and re-snapshot",
		}
	}
	if err := checkNotPurged(files, rs.File); err != nil {
		return start{}, err
	}
	cat := rs.Catalog
	// Tables of the state that the patterns no longer match are forgotten;
	// captured tables the state does not know are read from
	// information_schema (the patterns changed since the checkpoint).
	for id := range cat.tables {
		if !cat.captured(id) {
			delete(cat.tables, id)
		}
	}
	var missing []event.TableID
	for _, id := range captured {
		if cat.tables[id] == nil {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		shapes, dbcs, err := loadShapes(ctx, meta, si, cat, missing)
		if err != nil {
			return start{}, err
		}
		for id, t := range shapes {
			s.log.Warn("captured table not in the checkpoint's schema; its current schema is used", "table", id.String())
			cat.put(t)
		}
		for db, cs := range dbcs {
			if cat.dbCharset[db] == "" {
				cat.dbCharset[db] = cs
			}
		}
	}
	useGTID := si.gtidMode && rs.GTID != ""
	return start{pos: binlogPos{file: rs.File, pos: rs.Pos, gtid: rs.GTID}, useGTID: useGTID, cat: cat, resume: cp.Pos}, nil
}

func (s *Source) syncerConfig(si serverInfo) replication.BinlogSyncerConfig {
	host, port := s.dsn.addr, 0
	if h, p, err := net.SplitHostPort(s.dsn.addr); err == nil {
		if n, err := strconv.Atoi(p); err == nil {
			host, port = h, n
		}
	}
	local := "cdcd-" + s.opts.Pipeline
	if len(local) > 60 {
		local = local[:60]
	}
	return replication.BinlogSyncerConfig{
		ServerID:        s.opts.ServerID,
		Flavor:          si.flavor,
		Host:            host,
		Port:            uint16(port),
		User:            s.dsn.user,
		Password:        s.dsn.password,
		Localhost:       local,
		HeartbeatPeriod: s.opts.Heartbeat,
		// Reconnecting is the pipeline's job: it reopens from the last
		// durable checkpoint.
		DisableRetrySync: true,
		// Only the post-header: rows of tables that are not captured are
		// never decoded, the others are decoded by decodeRows.
		RowsEventDecodeFunc: func(e *replication.RowsEvent, data []byte) error {
			_, err := e.DecodeHeader(data)
			return err
		},
		DiscardGTIDSet:  true,
		EventCacheCount: eventCache,
		Logger:          s.log.With("component", "go-mysql"),
	}
}

// eventCache is how many binlog events go-mysql may read ahead.
const eventCache = 512

// Read returns the next batch: one source transaction, or a part of a
// large one (only the last part has Final set), or an empty Final batch
// that only advances the checkpoint (transactions without captured
// changes). It blocks until a batch is ready or ctx is done. After the
// stream failed it returns the batches already decoded, then the error.
func (s *Source) Read(ctx context.Context) (event.Batch, error) {
	s.mu.Lock()
	st, closed := s.st, s.closed
	s.mu.Unlock()
	if closed {
		return event.Batch{}, ErrClosed
	}
	if st == nil {
		return event.Batch{}, ErrNotOpen
	}
	select {
	case b, ok := <-st.out:
		if !ok {
			return event.Batch{}, st.error()
		}
		return b, nil
	case <-ctx.Done():
		return event.Batch{}, ctx.Err()
	}
}

// Ack records that every event up to cp is durable. MySQL has nothing
// upstream to confirm (the checkpoint is the replica's own), so Ack only
// checks the order: an ack past anything Read returned is an error.
func (s *Source) Ack(_ context.Context, cp event.Checkpoint) error {
	s.posMu.Lock()
	last := s.lastEmitted
	s.posMu.Unlock()
	if last.Less(cp.Pos) {
		return fmt.Errorf("mysql source: ack of %s, past the last position read %s", cp.Pos, last)
	}
	return nil
}

func (s *Source) setLastEmitted(p event.Position) {
	s.posMu.Lock()
	if s.lastEmitted.Less(p) {
		s.lastEmitted = p
	}
	s.posMu.Unlock()
}

// Close stops streaming and closes the connections; Read then returns
// ErrClosed until the next Open. It is idempotent.
func (s *Source) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.stopLocked()
	return nil
}

// stopLocked stops the stream and closes the connections; s.mu is held.
func (s *Source) stopLocked() {
	if s.st != nil {
		s.st.stop()
		s.st = nil
	}
	if s.meta != nil {
		s.meta.close()
		s.meta = nil
	}
}

// lookupShape reads one table's shape from information_schema, for DDL
// statements whose result the statement does not tell.
func lookupShape(meta *metaConn, si serverInfo, cat *catalog) lookupFunc {
	return func(id event.TableID) (*tableShape, error) {
		ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
		defer cancel()
		shapes, _, err := loadShapes(ctx, meta, si, cat, []event.TableID{id})
		if err != nil {
			return nil, err
		}
		t := shapes[id]
		if t == nil {
			return nil, fmt.Errorf("table %s does not exist (any more)", id)
		}
		return t, nil
	}
}

// fileIndex returns the number at the end of a binlog file name
// ("mysql-bin.000042" → 42).
func fileIndex(name string) (uint64, error) {
	dot := strings.LastIndexByte(name, '.')
	n, err := strconv.ParseUint(name[dot+1:], 10, 32)
	if err != nil {
		return 0, fmt.Errorf("binlog file name %q does not end in a number", name)
	}
	return n, nil
}

// deadAfter is how long the stream waits for any event (heartbeats
// included) before it declares the server unreachable.
func deadAfter(heartbeat time.Duration) time.Duration {
	return max(3*heartbeat, time.Second)
}
