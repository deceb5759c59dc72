package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

// Sink applies events to a Postgres database (see the package doc). Its
// methods are those of sqlapply.Engine: Open, Write, Flush and Close,
// called from one goroutine as package sink requires.
type Sink struct {
	*sqlapply.Engine
}

var _ sink.Sink = (*Sink)(nil)

// maxRows bounds the rows of one statement.
const maxRows = 2000

// New validates opts and returns a sink. It connects to nothing.
func New(opts Options) (*Sink, error) {
	cfg, n, err := opts.validate()
	if err != nil {
		return nil, err
	}
	log := opts.Logger.With("sink", "postgres")
	d := sqlapply.Dialect{
		Name: "postgres",
		Connect: func(ctx context.Context) (sqlapply.Conn, error) {
			return connect(ctx, cfg, &opts, n, log)
		},
		TransactionalDDL: true,
		CountedApply:     true,
		MaxRows:          maxRows,
	}
	eng, err := sqlapply.New(d, sqlapply.Options{
		Pipeline:       opts.Pipeline,
		SchemaMap:      opts.SchemaMap,
		CreateTables:   opts.CreateTables,
		Conflict:       opts.Conflict,
		DeadLetter:     n.deadLetter != "",
		IgnoreTruncate: opts.IgnoreTruncate,
		Observer:       opts.Observer,
		Logger:         log,
	})
	if err != nil {
		return nil, err
	}
	return &Sink{Engine: eng}, nil
}

// conn is one session with the target: a pgx connection and the leader
// epoch Open took.
type conn struct {
	c     *pgx.Conn
	opts  *Options
	names names
	log   *slog.Logger
	epoch int64
	buf   []byte // arena for value texts, reused per Apply

	// prelude holds transaction-control statements (BEGIN, SAVEPOINT,
	// RELEASE) not sent yet: they go with the next statement, in the same
	// round trip.
	prelude []string
}

func connect(ctx context.Context, cfg *pgx.ConnConfig, opts *Options, n names, log *slog.Logger) (*conn, error) {
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		err = fmt.Errorf("connect to the target: %w", err)
		if classify(err) == sqlapply.Fatal {
			err = sqlapply.Permanent(err)
		}
		return nil, err
	}
	return &conn{c: c, opts: opts, names: n, log: log}, nil
}

// Open implements sqlapply.Conn.
func (c *conn) Open(ctx context.Context) (event.Checkpoint, bool, error) {
	fail := func(what string, err error) (event.Checkpoint, bool, error) {
		err = fmt.Errorf("%s: %w", what, err)
		if classify(err) == sqlapply.Fatal {
			err = sqlapply.Permanent(err)
		}
		return event.Checkpoint{}, false, err
	}
	for _, s := range c.names.schemas {
		if err := c.ensureSchema(ctx, s); err != nil {
			return fail("create schema "+s, err)
		}
	}
	tables := []struct{ name, ddl string }{
		{c.names.checkpoints, `(pipeline text PRIMARY KEY, pos text, state bytea,
			updated_at timestamptz NOT NULL DEFAULT now(), leader_epoch bigint NOT NULL DEFAULT 0)`},
	}
	if c.opts.Conflict.Uses(sqlapply.NewerWins) {
		tables = append(tables, struct{ name, ddl string }{c.names.tombstones, `(tbl text NOT NULL, key text NOT NULL,
			version text COLLATE "C" NOT NULL, at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tbl, key))`})
	}
	if c.names.deadLetter != "" {
		tables = append(tables, struct{ name, ddl string }{c.names.deadLetter, `(id bigserial PRIMARY KEY,
			pipeline text NOT NULL, event_id text NOT NULL, pos text NOT NULL, "table" text NOT NULL,
			key json, error text NOT NULL, event json, at timestamptz NOT NULL DEFAULT now())`})
	}
	for _, t := range tables {
		var exists bool
		if err := c.c.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, t.name).Scan(&exists); err != nil {
			return fail("look up "+t.name, err)
		}
		if !exists {
			if _, err := c.c.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+t.name+` `+t.ddl); err != nil {
				return fail("create "+t.name, err)
			}
		}
	}
	var (
		pos   *string
		state []byte
	)
	err := c.c.QueryRow(ctx, `INSERT INTO `+c.names.checkpoints+` AS c (pipeline, leader_epoch) VALUES ($1, 1)
		ON CONFLICT (pipeline) DO UPDATE SET leader_epoch = c.leader_epoch + 1
		RETURNING pos, state, leader_epoch`, c.opts.Pipeline).Scan(&pos, &state, &c.epoch)
	if err != nil {
		return fail("take over pipeline "+c.opts.Pipeline+" in "+c.names.checkpoints, err)
	}
	if pos == nil {
		return event.Checkpoint{}, false, nil
	}
	p, err := event.ParsePosition(*pos)
	if err != nil {
		return event.Checkpoint{}, false, sqlapply.Permanent(fmt.Errorf("checkpoint of pipeline %s in %s: %w", c.opts.Pipeline, c.names.checkpoints, err))
	}
	return event.Checkpoint{Pos: p, State: state}, true, nil
}

func (c *conn) ensureSchema(ctx context.Context, schema string) error {
	q := pgx.Identifier{schema}.Sanitize()
	var exists bool
	if err := c.c.QueryRow(ctx, `SELECT to_regnamespace($1) IS NOT NULL`, q).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err := c.c.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+q)
	return err
}

// Begin implements sqlapply.Conn. BEGIN is sent with the next statement.
func (c *conn) Begin(ctx context.Context) error {
	c.prelude = append(c.prelude, "BEGIN")
	return nil
}

// Savepoint implements sqlapply.Conn. The statement is sent with the next
// one.
func (c *conn) Savepoint(ctx context.Context, op sqlapply.SavepointOp, name string) error {
	var sql string
	switch op {
	case sqlapply.SavepointSet:
		sql = "SAVEPOINT "
	case sqlapply.SavepointRollback:
		sql = "ROLLBACK TO SAVEPOINT "
	default:
		sql = "RELEASE SAVEPOINT "
	}
	c.prelude = append(c.prelude, sql+pgx.Identifier{name}.Sanitize())
	return nil
}

// sync sends the prelude now, for statements that do not go through a
// batch.
func (c *conn) sync(ctx context.Context) error {
	if len(c.prelude) == 0 {
		return nil
	}
	sql := strings.Join(c.prelude, "; ")
	c.prelude = c.prelude[:0]
	_, err := c.c.Exec(ctx, sql)
	return err
}

// batch returns a batch holding the prelude, which is then sent with it,
// and the number of prelude statements whose results come first. A
// prelude that rolls back to a savepoint is sent at once instead: pgx
// prepares a batch's new statements before sending it, which an aborted
// transaction refuses.
func (c *conn) batch(ctx context.Context) (*pgx.Batch, int, error) {
	for _, s := range c.prelude {
		if strings.HasPrefix(s, "ROLLBACK") {
			if err := c.sync(ctx); err != nil {
				return nil, 0, err
			}
			break
		}
	}
	b := &pgx.Batch{}
	for _, s := range c.prelude {
		b.Queue(s)
	}
	n := len(c.prelude)
	c.prelude = c.prelude[:0]
	return b, n, nil
}

// send sends b and reads the results of its first n statements (the
// prelude); read reads the rest.
func (c *conn) send(ctx context.Context, b *pgx.Batch, n int, read func(pgx.BatchResults) error) error {
	br := c.c.SendBatch(ctx, b)
	var err error
	for i := 0; i < n && err == nil; i++ {
		_, err = br.Exec()
	}
	if err == nil {
		err = read(br)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// Commit implements sqlapply.Conn: the prelude, the checkpoint update and
// COMMIT go in one round trip. When the leader epoch is no longer ours
// the update matches no row and divides by zero, which aborts the
// transaction before COMMIT.
func (c *conn) Commit(ctx context.Context, cp event.Checkpoint) error {
	b, n, err := c.batch(ctx)
	if err != nil {
		return err
	}
	b.Queue(`WITH u AS (UPDATE `+c.names.checkpoints+` SET pos = $2, state = $3, updated_at = now()
		WHERE pipeline = $1 AND leader_epoch = $4 RETURNING 1) SELECT 1 / count(*)::int FROM u`,
		c.opts.Pipeline, cp.Pos.String(), cp.State, c.epoch)
	b.Queue("COMMIT")
	err = c.send(ctx, b, n, func(br pgx.BatchResults) error {
		var one int
		if err := br.QueryRow().Scan(&one); err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "22012" {
				return sqlapply.Permanent(fmt.Errorf("%w (pipeline %s, epoch %d, table %s)", sqlapply.ErrFenced, c.opts.Pipeline, c.epoch, c.names.checkpoints))
			}
			return fmt.Errorf("write the checkpoint: %w", err)
		}
		tag, err := br.Exec()
		if err != nil {
			return err
		}
		// COMMIT of a failed transaction rolls back without an error.
		if tag.String() != "COMMIT" {
			return fmt.Errorf("the transaction was rolled back (%s)", tag)
		}
		return nil
	})
	if err != nil && sqlapply.IsPermanent(err) {
		c.Rollback(ctx)
	}
	return err
}

// Rollback implements sqlapply.Conn.
func (c *conn) Rollback(ctx context.Context) error {
	if len(c.prelude) > 0 && c.prelude[0] == "BEGIN" {
		// Nothing of the transaction was sent.
		c.prelude = c.prelude[:0]
		return nil
	}
	c.prelude = c.prelude[:0]
	_, err := c.c.Exec(ctx, "ROLLBACK")
	return err
}

// Close implements sqlapply.Conn.
func (c *conn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.c.Close(ctx)
}

// Classify implements sqlapply.Conn.
func (c *conn) Classify(err error) sqlapply.ErrorClass { return classify(err) }

// classify sorts errors by SQLSTATE class: connection trouble, deadlocks,
// serialization failures, lock timeouts and server shutdowns are
// transient; data exceptions, integrity constraint and cardinality
// violations are data errors; the rest (privileges, undefined objects,
// syntax) is fatal. Errors without a SQLSTATE (network) are transient.
func classify(err error) sqlapply.ErrorClass {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return sqlapply.Transient
	}
	switch pe.Code[:2] {
	case "08", "40", "53", "57", "58":
		return sqlapply.Transient
	case "55":
		if pe.Code == "55P03" || pe.Code == "55006" { // lock_not_available, object_in_use
			return sqlapply.Transient
		}
	case "22", "23", "21":
		return sqlapply.Data
	case "XX":
		return sqlapply.Transient
	}
	return sqlapply.Fatal
}

// DeadLetter implements sqlapply.Conn.
func (c *conn) DeadLetter(ctx context.Context, rows []sqlapply.DeadLetter) error {
	if err := c.sync(ctx); err != nil {
		return err
	}
	for _, r := range rows {
		_, err := c.c.Exec(ctx, `INSERT INTO `+c.names.deadLetter+` (pipeline, event_id, pos, "table", key, error, event)
			VALUES ($1, $2, $3, $4, $5::json, $6, $7::json)`, r.Pipeline, r.EventID, r.Pos, r.Table, r.Key, r.Error, r.Event)
		if err != nil {
			return err
		}
	}
	return nil
}
