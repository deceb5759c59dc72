package sqlapply

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink"
)

// Dialect describes a target database engine to the Engine.
type Dialect struct {
	// Name names the engine in messages ("postgres", "mysql").
	Name string
	// Connect opens a session. It is called by Open.
	Connect func(ctx context.Context) (Conn, error)
	// TransactionalDDL reports whether CREATE and ALTER TABLE take part
	// in the open transaction (Postgres) rather than committing it
	// (MySQL).
	TransactionalDDL bool
	// CountedApply reports whether Apply returns exact Counts, so that
	// strategies other than error need no Probe when on_missing is upsert.
	CountedApply bool
	// MaxRows bounds the rows of one step. Default 1000.
	MaxRows int
}

// Conn is one session with a target database, as a dialect implements
// it. The engine calls its methods from one goroutine, in this order:
// Open once, then any number of transactions (Begin, catalog and apply
// calls, Savepoint, Commit or Rollback), then Close. Catalog calls may
// also come outside a transaction.
type Conn interface {
	Catalog
	Applier
	// Open creates cdcd's own tables when they are missing (checkpoints;
	// tombstones when newer_wins is used; the dead-letter table when one
	// is configured), takes the pipeline over by bumping its leader epoch
	// in the checkpoint table, and returns the last committed checkpoint,
	// ok false when there is none. It runs outside a transaction.
	Open(ctx context.Context) (cp event.Checkpoint, ok bool, err error)
	// Begin starts a transaction.
	Begin(ctx context.Context) error
	// Savepoint runs SAVEPOINT, ROLLBACK TO SAVEPOINT or RELEASE
	// SAVEPOINT name in the open transaction.
	Savepoint(ctx context.Context, op SavepointOp, name string) error
	// Commit writes cp as the pipeline's checkpoint, failing with
	// ErrFenced (and committing nothing) when the leader epoch is no
	// longer the one Open took, and commits.
	Commit(ctx context.Context, cp event.Checkpoint) error
	// Rollback rolls the open transaction back.
	Rollback(ctx context.Context) error
	// Classify tells what kind of failure err is.
	Classify(err error) ErrorClass
	// Close ends the session, rolling back whatever is open.
	Close() error
}

// Catalog reads and changes table definitions.
type Catalog interface {
	// Describe returns the target table id, or nil (and no error) when it
	// does not exist.
	Describe(ctx context.Context, id event.TableID) (*Table, error)
	// CreateTable creates table id (and its schema or database when
	// missing) for rows of schema, mapping the column types of a source
	// of kind source ("postgres", "mysql"), with the version column when
	// version is set.
	CreateTable(ctx context.Context, id event.TableID, schema *event.TableSchema, source string, version bool) error
	// AddColumns adds cols (and the version column when version is set)
	// to t.
	AddColumns(ctx context.Context, t *Table, cols []event.Column, source string, version bool) error
}

// Applier runs steps.
type Applier interface {
	// Apply runs steps in order in the open transaction (an upsert or a
	// delete with the SQL guard of its table's strategy, or a truncate)
	// and returns what each did. A dialect may send them all at once.
	Apply(ctx context.Context, steps []*Step) ([]Counts, error)
	// Probe returns what the target holds for each row of st (aligned
	// with st.Rows), locking the rows that exist. Tomb is looked up only
	// for upserts into newer_wins tables.
	Probe(ctx context.Context, st *Step) ([]Found, error)
	// DeadLetter inserts rows into the dead-letter table.
	DeadLetter(ctx context.Context, rows []DeadLetter) error
}

// SavepointOp is the savepoint statement to run.
type SavepointOp uint8

// The savepoint statements.
const (
	SavepointSet SavepointOp = iota + 1
	SavepointRollback
	SavepointRelease
)

// Counts is what an Apply did.
type Counts struct {
	// Inserted counts rows an upsert inserted; Written rows it inserted
	// or updated.
	Inserted, Written int
	// Deleted counts rows a delete removed; Existing, for deletes from
	// newer_wins tables, the rows that existed before it.
	Deleted, Existing int
}

// Found is what the target holds for one row of a step.
type Found struct {
	Exists bool
	// Version is the row's VersionColumn, "" when NULL or absent.
	Version string
	// Tomb is the version of the newest delete of the key recorded in the
	// tombstone table, "" when none.
	Tomb string
}

// DeadLetter is one row of the dead-letter table.
type DeadLetter struct {
	Pipeline string
	EventID  string
	Pos      string
	Table    string // target table, "schema.table"
	Key      string // the event's key as a JSON object
	Error    string
	Event    string // the event in the native JSON encoding
}

// Options configure an Engine.
type Options struct {
	// Pipeline is the pipeline's name, the key of its checkpoint row.
	// Required.
	Pipeline string
	// SchemaMap maps source namespaces to target schemas (MySQL:
	// databases); unmapped namespaces keep their name.
	SchemaMap map[string]string
	// CreateTables creates missing target tables and adds missing columns.
	CreateTables bool
	// Conflict holds the conflict rules. The zero value is source_wins,
	// on_missing upsert.
	Conflict Conflict
	// DeadLetter reports whether the dialect has a dead-letter table;
	// without one, a data error stops the pipeline.
	DeadLetter bool
	// IgnoreTruncate drops truncate events instead of replicating them.
	IgnoreTruncate bool
	// Observer, if set, is told conflict outcomes.
	Observer Observer
	// Logger receives warnings. Default: discard.
	Logger *slog.Logger
}

// Engine is the replica sink shared by the dialects: it implements
// sink.Sink over a Dialect (see the package doc for the algorithm). Its
// methods are called from one goroutine, as package sink requires.
type Engine struct {
	d    Dialect
	opts Options
	log  *slog.Logger

	conn   Conn
	tables map[event.TableID]*Table

	pending  []*event.Batch
	finalIdx int // index in pending of the last Final batch, -1 when none

	inTx      bool
	replay    bool // DDL rolled back the open transaction (non-transactional DDL)
	committed event.Checkpoint
	broken    error
	txTally   tally // outcomes of the open transaction
}

var _ sink.Sink = (*Engine)(nil)

// New validates opts and returns an engine. It connects to nothing.
func New(d Dialect, opts Options) (*Engine, error) {
	if d.Connect == nil {
		return nil, errors.New("sqlapply: dialect without Connect")
	}
	if d.MaxRows <= 0 {
		d.MaxRows = 1000
	}
	opts.Conflict.setDefaults()
	var errs []error
	if opts.Pipeline == "" {
		errs = append(errs, errors.New("pipeline name is required"))
	}
	if err := opts.Conflict.validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s sink options: %w", d.Name, errors.Join(errs...))
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{d: d, opts: opts, log: opts.Logger, finalIdx: -1}, nil
}

// Open connects, creates cdcd's tables in the target when missing, takes
// the pipeline over (another instance still running it fails its next
// Flush with ErrFenced) and returns the last committed checkpoint. It
// blocks until then or until ctx ends. The sink may be opened again after
// Close.
func (g *Engine) Open(ctx context.Context) (event.Checkpoint, bool, error) {
	g.Close()
	c, err := g.d.Connect(ctx)
	if err != nil {
		return event.Checkpoint{}, false, err
	}
	cp, ok, err := c.Open(ctx)
	if err != nil {
		c.Close()
		return event.Checkpoint{}, false, err
	}
	g.conn = c
	g.tables = map[event.TableID]*Table{}
	g.pending, g.finalIdx = nil, -1
	g.inTx, g.replay, g.broken = false, false, nil
	g.committed = cp
	g.txTally = tally{}
	return cp, ok, nil
}

// Write queues a batch; it is applied by the next Flush. It does not block.
func (g *Engine) Write(ctx context.Context, b *event.Batch) error {
	if g.conn == nil {
		return ErrNotOpen
	}
	if g.broken != nil {
		return g.broken
	}
	g.pending = append(g.pending, b)
	if b.Final {
		g.finalIdx = len(g.pending) - 1
	}
	return nil
}

// Flush applies the written batches in the open target transaction (one
// is begun when none is open). When batches up to a Final one are
// applied it writes that batch's checkpoint in the same transaction and
// commits; what follows the last Final batch stays in the open
// transaction. It returns the last committed checkpoint. It blocks until
// then or until ctx ends. After an error the sink must be reopened.
func (g *Engine) Flush(ctx context.Context) (event.Checkpoint, error) {
	if g.conn == nil {
		return event.Checkpoint{}, ErrNotOpen
	}
	if g.broken != nil {
		return g.committed, g.broken
	}
	pending, fi := g.pending, g.finalIdx
	g.pending, g.finalIdx = nil, -1
	if fi >= 0 {
		head := pending[:fi+1]
		if err := g.apply(ctx, head); err != nil {
			return g.committed, g.fail(err)
		}
		cp := head[fi].Checkpoint
		if g.inTx || g.committed.Pos.Less(cp.Pos) {
			if err := g.commit(ctx, cp); err != nil {
				return g.committed, g.fail(err)
			}
		}
	}
	if tail := pending[fi+1:]; len(tail) > 0 {
		if err := g.apply(ctx, tail); err != nil {
			return g.committed, g.fail(err)
		}
	}
	return g.committed, nil
}

// Close closes the session without committing. It is safe to call more
// than once.
func (g *Engine) Close() error {
	if g.conn == nil {
		return nil
	}
	err := g.conn.Close()
	g.conn = nil
	g.pending, g.finalIdx = nil, -1
	g.inTx = false
	return err
}

// fail ends the session's usefulness: the connection is closed (rolling
// back), and err, made permanent when retrying cannot help, is returned
// by every later Write and Flush until the sink is reopened.
func (g *Engine) fail(err error) error {
	if !IsPermanent(err) && !errors.Is(err, ErrSchemaReplay) && ctxErr(err) == nil {
		if c := g.conn.Classify(err); c == Fatal || c == Data {
			err = Permanent(err)
		}
	}
	g.conn.Close()
	g.inTx = false
	g.txTally = tally{}
	g.broken = err
	return err
}

func ctxErr(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func (g *Engine) begin(ctx context.Context) error {
	if g.inTx {
		return nil
	}
	if err := g.conn.Begin(ctx); err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	g.inTx = true
	return nil
}

func (g *Engine) commit(ctx context.Context, cp event.Checkpoint) error {
	if err := g.begin(ctx); err != nil {
		return err
	}
	if err := g.conn.Commit(ctx, cp); err != nil {
		g.inTx = false
		return fmt.Errorf("commit at checkpoint %s: %w", cp.Pos, err)
	}
	g.inTx = false
	g.committed = cp
	g.txTally.report(g.opts.Observer)
	g.txTally = tally{}
	return nil
}

// apply applies the events of batches in the open transaction.
func (g *Engine) apply(ctx context.Context, batches []*event.Batch) error {
	var events []*event.Event
	for _, b := range batches {
		for i := range b.Events {
			e := &b.Events[i]
			switch {
			case e.Schema == nil, e.Op == event.OpMessage:
			case e.Op == event.OpTruncate && g.opts.IgnoreTruncate:
			default:
				events = append(events, e)
			}
		}
	}
	if len(events) == 0 {
		return nil
	}
	if g.d.TransactionalDDL {
		if err := g.begin(ctx); err != nil {
			return err
		}
	}
	tables, err := g.prepare(ctx, events)
	if err != nil {
		return err
	}
	if g.replay {
		return ErrSchemaReplay
	}
	if err := g.begin(ctx); err != nil {
		return err
	}
	return g.applyWindow(ctx, events, tables)
}

// TargetID returns the target table of an event: its Topic when a
// transform set one ("schema.table", or a table name in the mapped
// schema), else its table with the namespace mapped by SchemaMap.
func TargetID(e *event.Event, schemaMap map[string]string) event.TableID {
	if ns, name, ok := strings.Cut(e.Topic, "."); ok {
		return event.TableID{Namespace: ns, Name: name}
	}
	id := e.Table
	if e.Topic != "" {
		id.Name = e.Topic
	}
	if m, ok := schemaMap[id.Namespace]; ok {
		id.Namespace = m
	}
	return id
}

// prepare returns the target table of each event, creating and altering
// tables as needed and allowed.
func (g *Engine) prepare(ctx context.Context, events []*event.Event) ([]*Table, error) {
	tables := make([]*Table, len(events))
	var (
		lastSchema *event.TableSchema
		lastTopic  string
		lastTable  *Table
	)
	for i, e := range events {
		if e.Schema == lastSchema && e.Topic == lastTopic && lastTable != nil {
			tables[i] = lastTable
			continue
		}
		t, err := g.table(ctx, TargetID(e, g.opts.SchemaMap), e)
		if err != nil {
			return nil, err
		}
		tables[i], lastSchema, lastTopic, lastTable = t, e.Schema, e.Topic, t
	}
	return tables, nil
}

func sourceKind(e *event.Event) string {
	if e.Source == nil {
		return ""
	}
	return e.Source.Kind
}

// beforeDDL makes room for a DDL statement: with a dialect whose DDL
// commits, an open transaction is rolled back and the window replayed.
func (g *Engine) beforeDDL(ctx context.Context) error {
	if g.d.TransactionalDDL || !g.inTx {
		return nil
	}
	g.inTx = false
	g.replay = true
	return g.conn.Rollback(ctx)
}

// table returns the target table id for event e, created or extended to
// hold e's columns when allowed.
func (g *Engine) table(ctx context.Context, id event.TableID, e *event.Event) (*Table, error) {
	t := g.tables[id]
	strategy := g.opts.Conflict.For(id)
	if t == nil {
		var err error
		if t, err = g.conn.Describe(ctx, id); err != nil {
			return nil, fmt.Errorf("describe target table %s: %w", id, err)
		}
		if t == nil {
			if !g.opts.CreateTables {
				return nil, &SchemaError{Table: id.String(), What: "does not exist", Fix: "create it, or set create_tables: true"}
			}
			if len(e.Schema.KeyNames()) == 0 {
				return nil, &SchemaError{Table: id.String(), What: fmt.Sprintf("cannot be created: the source table %s has no key columns", e.Table)}
			}
			if err := g.beforeDDL(ctx); err != nil {
				return nil, err
			}
			if err := g.conn.CreateTable(ctx, id, e.Schema, sourceKind(e), strategy.versioned()); err != nil {
				return nil, schemaErr(g.conn, id, "cannot be created", err)
			}
			g.log.Info("created target table", "table", id.String(), "source_table", e.Table.String())
			if t, err = g.conn.Describe(ctx, id); err != nil || t == nil {
				return nil, fmt.Errorf("describe created table %s: %w", id, err)
			}
		}
		if len(t.Key) == 0 {
			return nil, &SchemaError{Table: id.String(), What: "has no primary key (nor a unique index on NOT NULL columns)", Fix: "add a primary key matching the source's"}
		}
		if strategy.versioned() && t.Version < 0 {
			if err := g.beforeDDL(ctx); err != nil {
				return nil, err
			}
			if err := g.conn.AddColumns(ctx, t, nil, sourceKind(e), true); err != nil {
				return nil, schemaErr(g.conn, id, "cannot get the version column "+VersionColumn+" that strategy "+string(strategy)+" needs", err)
			}
			g.log.Info("added the version column", "table", id.String(), "strategy", string(strategy))
			if t, err = g.conn.Describe(ctx, id); err != nil || t == nil {
				return nil, fmt.Errorf("describe altered table %s: %w", id, err)
			}
		}
		t.Strategy = strategy
		g.tables[id] = t
	}
	if !t.checked[e.Schema] {
		var missing []event.Column
		for _, c := range e.Schema.Columns {
			if t.Column(c.Name) < 0 {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			names := make([]string, len(missing))
			for i, c := range missing {
				names[i] = c.Name
			}
			if !g.opts.CreateTables {
				return nil, &SchemaError{Table: id.String(), What: fmt.Sprintf("lacks columns %s of source table %s", strings.Join(names, ", "), e.Table),
					Fix: "add them, drop them with a transform, or set create_tables: true"}
			}
			if err := g.beforeDDL(ctx); err != nil {
				return nil, err
			}
			if err := g.conn.AddColumns(ctx, t, missing, sourceKind(e), false); err != nil {
				return nil, schemaErr(g.conn, id, "cannot get new columns "+strings.Join(names, ", "), err)
			}
			g.log.Info("added columns to target table", "table", id.String(), "columns", names)
			checked := t.checked
			nt, err := g.conn.Describe(ctx, id)
			if err != nil || nt == nil {
				return nil, fmt.Errorf("describe altered table %s: %w", id, err)
			}
			nt.Strategy, nt.checked = strategy, checked
			*t = *nt
		}
		t.checked[e.Schema] = true
	}
	return t, nil
}

func schemaErr(c Conn, id event.TableID, what string, err error) error {
	if IsPermanent(err) || ctxErr(err) != nil || c.Classify(err) == Transient {
		return err
	}
	return &SchemaError{Table: id.String(), What: what, Err: err}
}

// Savepoint names.
const (
	windowSavepoint = "cdcd_window"
	eventSavepoint  = "cdcd_event"
)

// applyWindow applies events as set operations; when one fails for a
// data reason (which may come from the reordering across keys), it rolls
// the window back and applies it again event by event, in order.
func (g *Engine) applyWindow(ctx context.Context, events []*event.Event, tables []*Table) error {
	steps, rejected := plan(events, tables, g.d.MaxRows, !g.opts.IgnoreTruncate)
	if len(rejected) > 0 && !g.opts.DeadLetter {
		r := rejected[0]
		return applyErr(r.Table, r.Event, r.Err)
	}
	if err := g.conn.Savepoint(ctx, SavepointSet, windowSavepoint); err != nil {
		return err
	}
	w := tally{}
	err := g.execSteps(ctx, steps, w)
	if err == nil {
		for _, r := range rejected {
			if err := g.deadLetter(ctx, r.Table, r.Event, r.Err, w); err != nil {
				return err
			}
		}
		if err := g.conn.Savepoint(ctx, SavepointRelease, windowSavepoint); err != nil {
			return err
		}
		g.txTally.merge(w)
		return nil
	}
	if IsPermanent(err) || ctxErr(err) != nil || g.conn.Classify(err) != Data {
		return err
	}
	g.log.Warn("a set operation failed for a data reason; applying the window again event by event",
		"events", len(events), "err", err)
	if err := g.conn.Savepoint(ctx, SavepointRollback, windowSavepoint); err != nil {
		return err
	}
	w = tally{}
	if err := g.applySequential(ctx, events, tables, w); err != nil {
		return err
	}
	if err := g.conn.Savepoint(ctx, SavepointRelease, windowSavepoint); err != nil {
		return err
	}
	g.txTally.merge(w)
	return nil
}

// applySequential applies events one at a time; an event failing for a
// data reason goes to the dead-letter table, or stops with an ApplyError.
func (g *Engine) applySequential(ctx context.Context, events []*event.Event, tables []*Table, w tally) error {
	dl := g.opts.DeadLetter
	for i, e := range events {
		t := tables[i]
		if t == nil {
			continue
		}
		steps, rejected := plan(events[i:i+1], tables[i:i+1], g.d.MaxRows, !g.opts.IgnoreTruncate)
		if len(rejected) > 0 {
			if !dl {
				return applyErr(t, e, rejected[0].Err)
			}
			if err := g.deadLetter(ctx, t, e, rejected[0].Err, w); err != nil {
				return err
			}
			continue
		}
		if dl {
			if err := g.conn.Savepoint(ctx, SavepointSet, eventSavepoint); err != nil {
				return err
			}
		}
		ew := tally{}
		err := g.execSteps(ctx, steps, ew)
		if err == nil {
			w.merge(ew)
			if dl {
				if err := g.conn.Savepoint(ctx, SavepointRelease, eventSavepoint); err != nil {
					return err
				}
			}
			continue
		}
		if IsPermanent(err) || ctxErr(err) != nil || g.conn.Classify(err) != Data {
			return err
		}
		if !dl {
			return applyErr(t, e, err)
		}
		if err := g.conn.Savepoint(ctx, SavepointRollback, eventSavepoint); err != nil {
			return err
		}
		if err := g.deadLetter(ctx, t, e, err, w); err != nil {
			return err
		}
		if err := g.conn.Savepoint(ctx, SavepointRelease, eventSavepoint); err != nil {
			return err
		}
	}
	return nil
}

func applyErr(t *Table, e *event.Event, err error) error {
	return &ApplyError{Table: t.label, Key: string(e.Key.AppendJSON(nil)), Op: e.Op, Pos: e.Pos, EventID: e.ID(), Err: err}
}

func (g *Engine) deadLetter(ctx context.Context, t *Table, e *event.Event, cause error, w tally) error {
	g.log.Warn("event sent to the dead-letter table", "table", t.label, "pos", e.Pos.String(), "err", cause)
	row := DeadLetter{
		Pipeline: g.opts.Pipeline, EventID: e.ID(), Pos: e.Pos.String(), Table: t.label,
		Key: string(e.Key.AppendJSON(nil)), Error: cause.Error(), Event: string(e.AppendJSON(nil)),
	}
	if err := g.conn.DeadLetter(ctx, []DeadLetter{row}); err != nil {
		return fmt.Errorf("writing event %s to the dead-letter table (it failed with: %v): %w", row.EventID, cause, err)
	}
	w.add(t.label, t.Strategy, OutcomeDeadLetter, 1)
	return nil
}

// execSteps runs steps in order: consecutive steps that need no per-row
// decision go to the dialect together; the others one by one after a
// probe.
func (g *Engine) execSteps(ctx context.Context, steps []*Step, w tally) error {
	for i := 0; i < len(steps); {
		j := i
		for j < len(steps) && g.counted(steps[j]) {
			j++
		}
		if j > i {
			cs, err := g.conn.Apply(ctx, steps[i:j])
			if err != nil {
				return err
			}
			for k, st := range steps[i:j] {
				countOutcomes(st, cs[k], w)
			}
			i = j
			continue
		}
		if err := g.execProbed(ctx, steps[i], w); err != nil {
			return err
		}
		i++
	}
	return nil
}

// counted reports whether st runs without a probe: a truncate, or a step
// whose outcomes the dialect counts exactly and that needs no per-row
// decision (strategy other than error, on_missing upsert).
func (g *Engine) counted(st *Step) bool {
	return st.Kind == StepTruncate ||
		g.d.CountedApply && st.Table.Strategy != ErrorOnConflict && g.opts.Conflict.OnMissing == MissingUpsert
}

// execProbed runs one step after a probe of the target rows, deciding per
// row what to do.
func (g *Engine) execProbed(ctx context.Context, st *Step, w tally) error {
	t := st.Table
	om := g.opts.Conflict.OnMissing
	fs, err := g.conn.Probe(ctx, st)
	if err != nil {
		return err
	}
	keep := make([]*Row, 0, len(st.Rows))
	for i, r := range st.Rows {
		act, outcome := decide(t.Strategy, om, st.Kind, st.Class, fs[i], r.Version)
		switch act {
		case actWrite:
			keep = append(keep, r)
		case actError:
			if g.opts.Observer != nil {
				g.opts.Observer.Conflict(t.label, string(t.Strategy), OutcomeError, 1)
			}
			return conflictErr(st, r, fs[i])
		}
		w.add(t.label, t.Strategy, outcome, 1)
	}
	if len(keep) == 0 {
		return nil
	}
	sub := *st
	sub.Rows = keep
	_, err = g.conn.Apply(ctx, []*Step{&sub})
	return err
}

func conflictErr(st *Step, r *Row, f Found) error {
	key := KeyJSON(st.Table.KeyNames(), r.Key)
	e := r.First
	if !f.Exists {
		return &MissingRowError{Table: st.Table.label, Key: key, Op: e.Op, Pos: e.Pos, EventID: e.ID()}
	}
	return &ConflictError{Table: st.Table.label, Key: key, Op: e.Op, Pos: e.Pos, EventID: e.ID(),
		EventVersion: r.Version, RowVersion: f.Version}
}

// countOutcomes turns an Apply's counts into conflict outcomes.
func countOutcomes(st *Step, c Counts, w tally) {
	t := st.Table
	n := len(st.Rows)
	add := func(outcome string, k int) { w.add(t.label, t.Strategy, outcome, k) }
	switch st.Kind {
	case StepUpsert:
		add(OutcomeKept, n-c.Written)
		switch st.Class {
		case ClassInsert:
			add(OutcomeOverwritten, c.Written-c.Inserted)
		case ClassUpdate:
			add(OutcomeUpserted, c.Inserted)
		}
	case StepDelete:
		missing := n - c.Deleted
		if t.Strategy == NewerWins {
			add(OutcomeKept, c.Existing-c.Deleted)
			missing = n - c.Existing
		}
		if st.Class != ClassInsert {
			add(OutcomeSkipped, missing)
		}
	}
}
