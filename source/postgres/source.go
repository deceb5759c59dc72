package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/source"
	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

var _ source.Source = (*Source)(nil)

// Source reads a Postgres database's changes through a logical replication
// slot with the pgoutput plugin. See the package doc for its states.
//
// Read must be called from one goroutine; Ack, SlotStats and Close may be
// called concurrently with it.
type Source struct {
	opts Options
	pats []tablePattern
	log  *slog.Logger

	mu     sync.Mutex
	closed bool
	st     *stream    // the running stream, nil before Open
	meta   *pgx.Conn  // normal connection: catalog, heartbeat, stats
	metaMu sync.Mutex // serializes use of meta

	// acked is the LSN reported as flushed in status updates: only what
	// Ack confirmed, never more.
	acked atomic.Uint64

	posMu       sync.Mutex
	lastEmitted event.Position // greatest checkpoint handed to the pipeline

	wakeMu sync.Mutex
	wake   func() // set by the stream while it waits for an Ack to report
}

// New validates opts and returns a Source that is not connected yet.
func New(opts Options) (*Source, error) {
	pats, err := opts.validate()
	if err != nil {
		return nil, err
	}
	return &Source{opts: opts, pats: pats, log: opts.Logger.With("source", "postgres", "slot", opts.Slot)}, nil
}

// Options returns the options with their defaults filled in.
func (s *Source) Options() Options { return s.opts }

// Open connects, runs the preflight checks, creates or updates the
// publication, creates the slot if needed, and starts streaming just after
// cp (from the slot's confirmed position when cp is nil). Calling Open
// again, e.g. after Read failed, stops the previous stream first.
//
// It returns a *PermanentError when the server, the role, the tables, the
// publication or the slot need someone's action; any other error is
// transient.
func (s *Source) Open(ctx context.Context, cp *event.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Open after Close starts a new session: the pipeline closes its
	// source after a failed session and opens it again to retry.
	s.closed = false
	s.stopLocked()

	meta, err := s.connectMeta(ctx)
	if err != nil {
		return err
	}
	s.metaMu.Lock()
	s.meta = meta
	s.metaMu.Unlock()

	// The walsender of a connection just closed (ours, before a restart)
	// may hold the slot for a moment: retry that for a few seconds.
	var st *stream
	deadline := time.Now().Add(slotBusyWait)
	for {
		st, err = s.open(ctx, meta, cp)
		if !isSlotInUse(err) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err != nil {
		s.stopLocked()
		return err
	}
	s.st = st
	st.start()
	return nil
}

// slotBusyWait is how long Open waits for a slot that is in use.
const slotBusyWait = 5 * time.Second

// isSlotInUse reports whether err says the slot is active for another
// process (SQLSTATE 55006, object_in_use).
func isSlotInUse(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55006"
}

func (s *Source) connectMeta(ctx context.Context) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(s.opts.DSN)
	if err != nil {
		return nil, &PermanentError{What: "parse dsn", Err: err}
	}
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "cdcd"
	}
	// The same text forms as the replication connection, for values read
	// back (Options.Toast "reselect").
	cfg.RuntimeParams["options"] = strings.TrimSpace(cfg.RuntimeParams["options"] + " " + sessionOptions)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres source: connect: %w", err)
	}
	return conn, nil
}

// replicationConfig is the DSN's config for a replication connection whose
// session settings fix the text form of values (see values.go).
func replicationConfig(dsn string) (*pgconn.Config, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["replication"] = "database"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "cdcd"
	}
	opts := strings.TrimSpace(cfg.RuntimeParams["options"] + " " + sessionOptions)
	cfg.RuntimeParams["options"] = opts
	return cfg, nil
}

// sessionOptions are the settings forced on the replication connection,
// which the walsender uses to render values as text.
const sessionOptions = "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=iso_8601 -c extra_float_digits=3 -c bytea_output=hex"

func (s *Source) open(ctx context.Context, meta *pgx.Conn, cp *event.Checkpoint) (*stream, error) {
	s.metaMu.Lock()
	tables, slot, db, err := s.preflight(ctx, meta)
	if err == nil {
		err = s.ensurePublication(ctx, meta, tables)
	}
	s.metaMu.Unlock()
	if err != nil {
		return nil, err
	}

	if slot.exists {
		switch {
		case slot.slotType != "logical":
			return nil, slotMismatchError(s.opts.Slot, "is a "+slot.slotType+" slot, not a logical one")
		case slot.plugin != "pgoutput":
			return nil, slotMismatchError(s.opts.Slot, fmt.Sprintf("uses plugin %q, not pgoutput", slot.plugin))
		case slot.database != db:
			return nil, slotMismatchError(s.opts.Slot, fmt.Sprintf("belongs to database %q, not %q", slot.database, db))
		case slot.walStatus == "lost":
			return nil, &PermanentError{
				What: fmt.Sprintf("replication slot %q has lost WAL it needs (wal_status lost): changes are missing", s.opts.Slot),
				Fix:  "re-snapshot: drop the slot, delete the pipeline's checkpoint and restart with snapshot: initial; consider max_slot_wal_keep_size",
			}
		}
	} else if cp != nil {
		return nil, slotLostError(s.opts.Slot, cp.Pos)
	} else if !s.opts.CreateSlot {
		return nil, &PermanentError{
			What: fmt.Sprintf("replication slot %q does not exist", s.opts.Slot),
			Fix:  fmt.Sprintf("SELECT pg_create_logical_replication_slot('%s', 'pgoutput'); or enable source.postgres.create_slot", s.opts.Slot),
		}
	}

	// The replication connection.
	rcfg, err := replicationConfig(s.opts.DSN)
	if err != nil {
		return nil, &PermanentError{What: "parse dsn", Err: err}
	}
	conn, err := pgconn.ConnectConfig(ctx, rcfg)
	if err != nil {
		return nil, fmt.Errorf("postgres source: replication connection: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			conn.Close(context.Background())
		}
	}()
	sys, err := pglogrepl.IdentifySystem(ctx, conn)
	if err != nil {
		return nil, fmt.Errorf("postgres source: IDENTIFY_SYSTEM: %w", err)
	}

	var confirmed pglogrepl.LSN
	if slot.exists {
		confirmed = slot.confirmedFlush
	} else {
		res, err := pglogrepl.CreateReplicationSlot(ctx, conn, s.opts.Slot, "pgoutput",
			pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: "NOEXPORT_SNAPSHOT"})
		if err != nil {
			return nil, fmt.Errorf("postgres source: create replication slot %q: %w", s.opts.Slot, err)
		}
		if confirmed, err = pglogrepl.ParseLSN(res.ConsistentPoint); err != nil {
			return nil, fmt.Errorf("postgres source: create replication slot %q: %w", s.opts.Slot, err)
		}
		s.log.Info("created replication slot", "consistent_point", res.ConsistentPoint)
	}

	// Where to start, and what the slot may already have confirmed.
	start := confirmed
	var resume event.Position
	if cp != nil {
		resume = cp.Pos
		need := confirmLSN(cp.Pos) // the slot must not have confirmed past this
		if uint64(confirmed) > need {
			return nil, &PermanentError{
				What: fmt.Sprintf("replication slot %q confirmed position %s, past the checkpoint %s: the changes between were acknowledged but are not in the checkpoint", s.opts.Slot, confirmed, cp.Pos),
				Fix:  "re-snapshot (delete the checkpoint, drop the slot, restart with snapshot: initial), or restore the matching checkpoint",
			}
		}
		start = pglogrepl.LSN(cp.Pos.Commit)
		if need > s.acked.Load() {
			s.acked.Store(need)
		}
	}
	if uint64(confirmed) > s.acked.Load() {
		s.acked.Store(uint64(confirmed))
	}
	s.posMu.Lock()
	if s.lastEmitted.Less(resume) {
		s.lastEmitted = resume
	}
	s.posMu.Unlock()

	var versions map[event.TableID]versionEntry
	if cp != nil {
		if versions, err = decodeState(cp.State); err != nil {
			return nil, &PermanentError{What: "checkpoint state", Err: err}
		}
	}

	qpub := strings.ReplaceAll(pgx.Identifier{s.opts.Publication}.Sanitize(), "'", "''")
	err = pglogrepl.StartReplication(ctx, conn, s.opts.Slot, start, pglogrepl.StartReplicationOptions{
		Mode:       pglogrepl.LogicalReplication,
		PluginArgs: []string{"proto_version '1'", "publication_names '" + qpub + "'", "messages 'true'"},
	})
	if err != nil {
		return nil, fmt.Errorf("postgres source: START_REPLICATION slot %q at %s: %w", s.opts.Slot, start, err)
	}
	s.log.Info("streaming", "start", start.String(), "resume_after", resume.String(), "system_id", sys.SystemID)

	info := &event.SourceInfo{Kind: "postgres", ServerID: sys.SystemID, DB: db, Pipeline: s.opts.Pipeline}
	ok = true
	return newStream(s, conn, info, resume, versions), nil
}

// confirmLSN is the LSN to report as flushed once every event up to p is
// durable: past the commit of a whole transaction, or up to (not past) the
// commit of a transaction delivered in part, which the server then sends
// again (its delivered events are skipped by position).
func confirmLSN(p event.Position) uint64 {
	if p.IsTxEnd() {
		return p.Commit + 1
	}
	return p.Commit
}

// Read returns the next batch: one source transaction, or a part of a
// large one (only the last part has Final set), or an empty Final batch
// that only advances the checkpoint (transactions without captured
// changes, server keepalives while idle). It blocks until a batch is ready
// or ctx is done. After the stream failed it returns the batches already
// decoded, then the error.
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

// Ack records that every event up to cp is durable. A standby status
// update reports it to the server as flushed within a second (or
// StatusInterval, when shorter), which lets the slot release the WAL. It
// does not block on the network. Acks must come in order; an older one is
// ignored, and one past anything Read returned is an error.
func (s *Source) Ack(_ context.Context, cp event.Checkpoint) error {
	s.posMu.Lock()
	last := s.lastEmitted
	s.posMu.Unlock()
	if last.Less(cp.Pos) {
		return fmt.Errorf("postgres source: ack of %s, past the last position read %s", cp.Pos, last)
	}
	lsn := confirmLSN(cp.Pos)
	for {
		cur := s.acked.Load()
		if lsn <= cur {
			return nil
		}
		if s.acked.CompareAndSwap(cur, lsn) {
			s.wakeStream()
			return nil
		}
	}
}

// setWake registers f to be called once by the next Ack that moves the
// acknowledged position; nil unregisters.
func (s *Source) setWake(f func()) {
	s.wakeMu.Lock()
	s.wake = f
	s.wakeMu.Unlock()
}

func (s *Source) wakeStream() {
	s.wakeMu.Lock()
	f := s.wake
	s.wake = nil
	s.wakeMu.Unlock()
	if f != nil {
		f()
	}
}

// Acked returns the LSN the source reports to the server as flushed.
func (s *Source) Acked() pglogrepl.LSN { return pglogrepl.LSN(s.acked.Load()) }

// Close stops streaming and closes the connections. It is idempotent.
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
	s.metaMu.Lock()
	if s.meta != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.meta.Close(ctx)
		cancel()
		s.meta = nil
	}
	s.metaMu.Unlock()
}

// withMeta runs f with the normal connection, serialized with other users.
func (s *Source) withMeta(f func(*pgx.Conn) error) error {
	s.metaMu.Lock()
	defer s.metaMu.Unlock()
	if s.meta == nil {
		return ErrNotOpen
	}
	return f(s.meta)
}

// SlotStats describes the replication slot for metrics.
type SlotStats struct {
	// RetainedWALBytes is how much WAL the slot holds back
	// (pg_current_wal_lsn() - restart_lsn).
	RetainedWALBytes int64
	// ConfirmedLagBytes is pg_current_wal_lsn() - confirmed_flush_lsn.
	ConfirmedLagBytes int64
	// WALStatus is pg_replication_slots.wal_status: reserved, extended,
	// unreserved or lost.
	WALStatus string
	// SafeWALSize is how many more bytes of WAL can be written before the
	// slot risks losing WAL (max_slot_wal_keep_size); -1 when unlimited.
	SafeWALSize int64
	// Active reports whether a walsender is streaming from the slot.
	Active bool
}

// ErrNoSlot is returned by SlotStats when the slot does not exist.
var ErrNoSlot = errors.New("postgres source: replication slot does not exist")

// SlotStats reads the slot's numbers on the normal connection. It needs
// an open Source and is safe for concurrent use.
func (s *Source) SlotStats(ctx context.Context) (SlotStats, error) {
	var st SlotStats
	err := s.withMeta(func(c *pgx.Conn) error {
		var safe *int64
		var status *string
		err := c.QueryRow(ctx, `SELECT COALESCE((pg_current_wal_lsn() - restart_lsn)::int8, 0),
			COALESCE((pg_current_wal_lsn() - confirmed_flush_lsn)::int8, 0), wal_status, safe_wal_size, active
			FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`, s.opts.Slot).Scan(
			&st.RetainedWALBytes, &st.ConfirmedLagBytes, &status, &safe, &st.Active)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoSlot
		}
		st.WALStatus = deref(status)
		st.SafeWALSize = -1
		if safe != nil {
			st.SafeWALSize = *safe
		}
		return err
	})
	if err != nil {
		return st, fmt.Errorf("postgres source: slot stats: %w", err)
	}
	return st, nil
}
