package mysql

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
	gomysql "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/sink"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

// Sink applies events to a MySQL or MariaDB database (see the package
// doc). Its methods are those of sqlapply.Engine: Open, Write, Flush and
// Close, called from one goroutine as package sink requires.
type Sink struct {
	*sqlapply.Engine
}

var _ sink.Sink = (*Sink)(nil)

// maxRows bounds the rows of one step (probe and statement); statements
// are also cut at maxStatement bytes.
const (
	maxRows      = 1000
	maxStatement = 4 << 20
)

// sessionSetup makes values mean what cdcd writes: strict (a value the
// column cannot hold is an error), string literals without backslash
// escapes, 0 stored as 0 in AUTO_INCREMENT columns, instants in UTC, and
// READ COMMITTED (no gap locks for the rows a probe finds missing).
var sessionSetup = []string{
	"SET NAMES utf8mb4",
	"SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO'",
	"SET SESSION time_zone = '+00:00'",
	"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
}

// New validates opts and returns a sink. It connects to nothing.
func New(opts Options) (*Sink, error) {
	d, n, err := opts.validate()
	if err != nil {
		return nil, err
	}
	log := opts.Logger.With("sink", "mysql")
	dl := sqlapply.Dialect{
		Name: "mysql",
		Connect: func(ctx context.Context) (sqlapply.Conn, error) {
			return connect(ctx, d, &opts, n, log)
		},
		TransactionalDDL: false,
		CountedApply:     false,
		MaxRows:          maxRows,
	}
	eng, err := sqlapply.New(dl, sqlapply.Options{
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

// conn is one session with the target.
type conn struct {
	c     *client.Conn
	opts  *Options
	names names
	log   *slog.Logger
	epoch int64
	buf   []byte
}

func connect(ctx context.Context, d dsn, opts *Options, n names, log *slog.Logger) (*conn, error) {
	timeout := d.timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	setup := func(c *client.Conn) error {
		// Affected rows count the rows matched, not only those changed:
		// the checkpoint update proves the epoch is still ours.
		if err := c.SetCapability(gomysql.CLIENT_FOUND_ROWS); err != nil {
			return err
		}
		switch d.tls {
		case "true":
			host, _, _ := net.SplitHostPort(d.addr)
			c.SetTLSConfig(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12})
		case "skip-verify":
			c.UseSSL(true)
		}
		return nil
	}
	c, err := client.ConnectWithContext(ctx, d.addr, d.user, d.password, "", timeout, setup)
	if err != nil {
		err = fmt.Errorf("connect to the target %s: %w", d.addr, err)
		if classify(err) == sqlapply.Fatal {
			err = sqlapply.Permanent(err)
		}
		return nil, err
	}
	cn := &conn{c: c, opts: opts, names: n, log: log}
	for _, s := range sessionSetup {
		if _, err := cn.exec(ctx, s); err != nil {
			c.Close()
			return nil, fmt.Errorf("session setup %q: %w", s, err)
		}
	}
	return cn, nil
}

// exec runs one statement; ctx ending interrupts it (the connection is
// then unusable, and the engine closes it).
func (c *conn) exec(ctx context.Context, sql string) (*gomysql.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { c.c.SetDeadline(time.Unix(1, 0)) })
	r, err := c.c.Execute(sql)
	if !stop() {
		if err == nil {
			r.Close()
		}
		return nil, fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return r, err
}

// run is exec for statements whose result is not needed.
func (c *conn) run(ctx context.Context, sql string) (uint64, error) {
	r, err := c.exec(ctx, sql)
	if err != nil {
		return 0, err
	}
	n := r.AffectedRows
	r.Close()
	return n, nil
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
	for _, db := range c.names.databases {
		if err := c.ensureDatabase(ctx, db); err != nil {
			return fail("create database "+db, err)
		}
	}
	const opts = " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"
	tables := []string{`CREATE TABLE IF NOT EXISTS ` + c.names.checkpoints + ` (pipeline VARCHAR(255) NOT NULL PRIMARY KEY,
		pos VARCHAR(64) NULL, state LONGBLOB NULL, updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
		leader_epoch BIGINT NOT NULL DEFAULT 0)` + opts}
	if c.opts.Conflict.Uses(sqlapply.NewerWins) {
		tables = append(tables, `CREATE TABLE IF NOT EXISTS `+c.names.tombstones+` (tbl VARCHAR(255) NOT NULL,
			key_hash BINARY(32) NOT NULL, `+"`key`"+` LONGTEXT NOT NULL, version `+versionType+` NOT NULL,
			at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), PRIMARY KEY (tbl, key_hash))`+opts)
	}
	if c.names.deadLetter != "" {
		tables = append(tables, `CREATE TABLE IF NOT EXISTS `+c.names.deadLetter+` (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
			pipeline VARCHAR(255) NOT NULL, event_id VARCHAR(512) NOT NULL, pos VARCHAR(64) NOT NULL, `+"`table`"+` VARCHAR(512) NOT NULL,
			`+"`key`"+` JSON NULL, error TEXT NOT NULL, event JSON NULL, at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))`+opts)
	}
	for _, t := range tables {
		if _, err := c.run(ctx, t); err != nil {
			return fail("create cdcd's tables", err)
		}
	}
	// Take the pipeline over: bump the epoch and read the checkpoint in
	// one transaction, holding the row's lock.
	p := string(appendString(nil, c.opts.Pipeline))
	var (
		pos   *string
		state []byte
	)
	err := func() error {
		if _, err := c.run(ctx, "BEGIN"); err != nil {
			return err
		}
		if _, err := c.run(ctx, `INSERT INTO `+c.names.checkpoints+` (pipeline, leader_epoch) VALUES (`+p+`, 1)
			ON DUPLICATE KEY UPDATE leader_epoch = leader_epoch + 1`); err != nil {
			return err
		}
		r, err := c.exec(ctx, `SELECT pos, state, leader_epoch FROM `+c.names.checkpoints+` WHERE pipeline = `+p)
		if err != nil {
			return err
		}
		defer r.Close()
		if r.RowNumber() != 1 {
			return fmt.Errorf("the checkpoint row vanished")
		}
		if null, _ := r.IsNull(0, 0); !null {
			s, _ := getString(r, 0, 0)
			pos = &s
		}
		if null, _ := r.IsNull(0, 1); !null {
			s, _ := getString(r, 0, 1)
			state = []byte(s)
		}
		if c.epoch, err = r.GetInt(0, 2); err != nil {
			return err
		}
		_, err = c.run(ctx, "COMMIT")
		return err
	}()
	if err != nil {
		return fail("take over pipeline "+c.opts.Pipeline+" in "+c.names.checkpoints, err)
	}
	if pos == nil {
		return event.Checkpoint{}, false, nil
	}
	cp, err := event.ParsePosition(*pos)
	if err != nil {
		return event.Checkpoint{}, false, sqlapply.Permanent(fmt.Errorf("checkpoint of pipeline %s in %s: %w", c.opts.Pipeline, c.names.checkpoints, err))
	}
	return event.Checkpoint{Pos: cp, State: state}, true, nil
}

func (c *conn) ensureDatabase(ctx context.Context, db string) error {
	r, err := c.exec(ctx, `SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = `+string(appendString(nil, db)))
	if err != nil {
		return err
	}
	exists := r.RowNumber() > 0
	r.Close()
	if exists {
		return nil
	}
	_, err = c.run(ctx, "CREATE DATABASE IF NOT EXISTS "+quote(db)+" DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
	return err
}

// Begin implements sqlapply.Conn.
func (c *conn) Begin(ctx context.Context) error {
	_, err := c.run(ctx, "BEGIN")
	return err
}

// Savepoint implements sqlapply.Conn.
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
	_, err := c.run(ctx, sql+quote(name))
	return err
}

// Commit implements sqlapply.Conn. The connection counts found rows, so
// the update matches exactly one row while the epoch is ours.
func (c *conn) Commit(ctx context.Context, cp event.Checkpoint) error {
	state := "NULL"
	if cp.State != nil {
		state = string(appendLiteral(nil, event.Bytes(cp.State)))
	}
	n, err := c.run(ctx, `UPDATE `+c.names.checkpoints+` SET pos = `+string(appendString(nil, cp.Pos.String()))+
		`, state = `+state+`, updated_at = UTC_TIMESTAMP(6) WHERE pipeline = `+string(appendString(nil, c.opts.Pipeline))+
		fmt.Sprintf(` AND leader_epoch = %d`, c.epoch))
	if err != nil {
		return fmt.Errorf("write the checkpoint: %w", err)
	}
	if n != 1 {
		c.Rollback(ctx)
		return sqlapply.Permanent(fmt.Errorf("%w (pipeline %s, epoch %d, table %s)", sqlapply.ErrFenced, c.opts.Pipeline, c.epoch, c.names.checkpoints))
	}
	_, err = c.run(ctx, "COMMIT")
	return err
}

// Rollback implements sqlapply.Conn.
func (c *conn) Rollback(ctx context.Context) error {
	_, err := c.run(ctx, "ROLLBACK")
	return err
}

// Close implements sqlapply.Conn.
func (c *conn) Close() error { return c.c.Close() }

// Classify implements sqlapply.Conn.
func (c *conn) Classify(err error) sqlapply.ErrorClass { return classify(err) }

// classify sorts server errors: deadlocks, lock wait timeouts, lost
// connections and shutdowns are transient; SQLSTATE classes 22 and 23
// and the codes below (invalid values, constraint and JSON failures) are
// data errors; the rest (privileges, unknown columns, syntax) is fatal.
// Errors without a server code (network) are transient.
func classify(err error) sqlapply.ErrorClass {
	var me *gomysql.MyError
	if !errors.As(err, &me) {
		return sqlapply.Transient
	}
	switch me.Code {
	case 1205, 1213, // lock wait timeout, deadlock
		1040, 1053, 1077, 1078, 1079, 1080, 1152, 1153, 1154, 1155, 1156, 1157, 1158, 1159, 1160, 1161, // connections, shutdown, network
		1317, 1927, 2006, 2013, 3024, 1969: // interrupted, killed, gone away, lost, timeouts
		return sqlapply.Transient
	case 1048, 1062, 1264, 1265, 1292, 1366, 1367, 1406, 1411, 1416, 1451, 1452, 1690, 1365, 1441,
		3140, 3146, 3819, // MySQL: invalid JSON text, JSON type, check constraint
		4025, 4038, 4078: // MariaDB: constraint failed, JSON syntax, illegal value
		return sqlapply.Data
	}
	switch {
	case strings.HasPrefix(me.State, "22"), strings.HasPrefix(me.State, "23"):
		return sqlapply.Data
	case strings.HasPrefix(me.State, "08"), strings.HasPrefix(me.State, "40"):
		return sqlapply.Transient
	}
	return sqlapply.Fatal
}

// DeadLetter implements sqlapply.Conn.
func (c *conn) DeadLetter(ctx context.Context, rows []sqlapply.DeadLetter) error {
	for _, r := range rows {
		b := []byte(`INSERT INTO ` + c.names.deadLetter + " (pipeline, event_id, pos, `table`, `key`, error, event) VALUES (")
		for i, s := range []string{r.Pipeline, r.EventID, r.Pos, r.Table, r.Key, r.Error, r.Event} {
			if i > 0 {
				b = append(b, ", "...)
			}
			b = appendString(b, s)
		}
		b = append(b, ')')
		if _, err := c.run(ctx, string(b)); err != nil {
			return err
		}
	}
	return nil
}
