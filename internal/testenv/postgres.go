package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// PGOptions configures StartPostgres. The zero value is the usual test server.
type PGOptions struct {
	// BinDir is the directory holding initdb and postgres. Empty (the
	// default) looks in `pg_config --bindir`, the highest
	// /usr/lib/postgresql/*/bin, then PATH.
	BinDir string
	// ExtraConf holds postgresql.conf settings that are added after, and so
	// override, ours; e.g. {"shared_buffers": "256MB"}. Values are quoted for
	// you.
	ExtraConf map[string]string
	// Fsync turns fsync, synchronous_commit and full_page_writes on.
	// Default off: fast, and only an OS crash loses data.
	Fsync bool
}

// PG is a private PostgreSQL server listening on Host:Port with the
// superuser postgres, trusted without a password (also for replication),
// wal_level=logical. Its exported fields are read-only.
type PG struct {
	Host    string // always 127.0.0.1
	Port    int
	DataDir string // also holds the unix socket
	BinDir  string // where initdb and postgres were found
	LogFile string // the server's stdout and stderr

	dir  string  // the temp directory holding DataDir and LogFile
	user *osUser // the OS user the server runs as; nil: ourselves

	mu     sync.Mutex
	proc   *process // nil before the first start
	closed bool
}

// StartPostgres makes a new cluster (superuser postgres, UTF-8, locale
// C.UTF-8) in a new directory under os.TempDir and starts a server for it on
// a free port of 127.0.0.1. It blocks until the server accepts connections
// or ctx ends. The server is configured with wal_level=logical,
// max_replication_slots and max_wal_senders 40, max_connections 200,
// TimeZone UTC, and fsync, synchronous_commit and full_page_writes off (see
// PGOptions), with wal_writer_delay 10ms so that logical decoding sees a
// commit within milliseconds. The caller must Close it; Main closes the ones
// left open.
func StartPostgres(ctx context.Context, opts PGOptions) (*PG, error) {
	binDir := opts.BinDir
	if binDir == "" {
		var err error
		if binDir, err = findPGBinDir(); err != nil {
			return nil, err
		}
	}
	for _, b := range []string{"initdb", "postgres"} {
		if !isExecutable(filepath.Join(binDir, b)) {
			return nil, &BinaryNotFoundError{Name: b, Searched: []string{binDir}, Package: "postgresql"}
		}
	}
	u, err := serverUser("postgres", "postgresql")
	if err != nil {
		return nil, err
	}
	dir, err := newServerDir("pg", u)
	if err != nil {
		return nil, err
	}
	p := &PG{
		Host:    "127.0.0.1",
		DataDir: filepath.Join(dir, "data"),
		BinDir:  binDir,
		LogFile: filepath.Join(dir, "postgres.log"),
		dir:     dir,
		user:    u,
	}
	if err := p.setup(ctx, opts); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		if p.Port, err = freePort(); err != nil {
			break
		}
		if err = p.launch(ctx); err == nil || !addrInUse(err) || attempt == portAttempts {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	register(p, p.Close)
	return p, nil
}

// findPGBinDir finds the directory of initdb and postgres.
func findPGBinDir() (string, error) {
	var searched []string
	has := func(dir string) bool {
		searched = append(searched, dir)
		return isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres"))
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); has(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	version := func(d string) float64 {
		v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(d)), 64)
		return v
	}
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	// On PATH, initdb may be a symlink to the real one (/usr/local/bin/initdb
	// here): postgres must come from the same directory.
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
	}
	return "", &BinaryNotFoundError{Name: "initdb", Searched: append(searched, "pg_config --bindir", "/usr/lib/postgresql/*/bin", "PATH"), Package: "postgresql"}
}

// makeCluster fills p.DataDir with a new cluster: a copy of a cached
// initdb result given a system identifier of its own, or, when that fails,
// the output of initdb itself.
func (p *PG) makeCluster(ctx context.Context) error {
	initdb := filepath.Join(p.BinDir, "initdb")
	key := strings.Join([]string{fileStamp(initdb), fileStamp(filepath.Join(p.BinDir, "postgres")), fmt.Sprint(p.user)}, "\x00")
	h := sha256.Sum256([]byte(key))
	tmpl, err := template(fmt.Sprintf("pg-%x", h[:8]), p.user, func(dir string) error {
		return runInitdb(ctx, initdb, filepath.Join(dir, "data"), dir, p.user)
	})
	if err == nil {
		if err = copyTree(filepath.Join(tmpl, "data"), p.DataDir, p.user); err == nil {
			if err = p.renewSystemIdentifier(ctx); err == nil {
				return nil
			}
		}
	}
	os.RemoveAll(p.DataDir)
	return runInitdb(ctx, initdb, p.DataDir, p.dir, p.user)
}

// runInitdb makes a cluster in dataDir with the superuser postgres, trust
// authentication and UTF-8, logging to dir/initdb.log.
func runInitdb(ctx context.Context, initdb, dataDir, dir string, u *osUser) error {
	log := filepath.Join(dir, "initdb.log")
	args := func(locale string) []string {
		return []string{"-D", dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=" + locale, "--no-sync", "--no-instructions"}
	}
	err := run(ctx, "initdb", initdb, args("C.UTF-8"), dir, u, log)
	var se *StartError
	if errors.As(err, &se) && strings.Contains(se.Log, "locale") {
		// No C.UTF-8 on this system: plain C still stores UTF-8.
		os.RemoveAll(dataDir)
		err = run(ctx, "initdb", initdb, args("C"), dir, u, log)
	}
	return err
}

// renewSystemIdentifier gives the copied cluster in p.DataDir a system
// identifier of its own, as initdb would have (IDENTIFY_SYSTEM reports it;
// code may use it to tell servers apart). It rewrites the identifier in
// global/pg_control with a fresh CRC, then has pg_resetwal write WAL that
// carries it.
func (p *PG) renewSystemIdentifier(ctx context.Context) error {
	path := filepath.Join(p.DataDir, "global", "pg_control")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	// The CRC-32C of ControlFileData up to its crc field follows that
	// prefix; find where, rather than hard-coding a version's layout.
	crcAt := -1
	for off := 16; off+4 <= len(b) && off <= 1024; off += 4 {
		if crc32.Checksum(b[:off], castagnoli) == binary.NativeEndian.Uint32(b[off:]) {
			crcAt = off
			break
		}
	}
	if crcAt < 0 {
		return fmt.Errorf("testenv: no CRC found in %s", path)
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	id := uint64(time.Now().Unix())<<32 | uint64(binary.NativeEndian.Uint32(rnd[:]))
	binary.NativeEndian.PutUint64(b[0:], id) // system_identifier is the first field
	binary.NativeEndian.PutUint32(b[crcAt:], crc32.Checksum(b[:crcAt], castagnoli))
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return err
	}
	return run(ctx, "pg_resetwal", filepath.Join(p.BinDir, "pg_resetwal"), []string{"-D", p.DataDir}, p.dir, p.user, filepath.Join(p.dir, "pg_resetwal.log"))
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// setup makes the cluster and writes our configuration.
func (p *PG) setup(ctx context.Context, opts PGOptions) error {
	if err := p.makeCluster(ctx); err != nil {
		return err
	}

	conf := map[string]string{
		"listen_addresses":        "127.0.0.1",
		"unix_socket_directories": p.DataDir,
		"wal_level":               "logical",
		"max_replication_slots":   "40",
		"max_wal_senders":         "40",
		"max_connections":         "200",
		"fsync":                   "off",
		"synchronous_commit":      "off",
		"full_page_writes":        "off",
		// Logical decoding reads only flushed WAL; with synchronous_commit
		// off a commit waits for the WAL writer, so let it run often.
		"wal_writer_delay": "10ms",
		// In the data directory, so a killed server leaves nothing in /dev/shm.
		"dynamic_shared_memory_type": "mmap",
		"timezone":                   "UTC",
		"log_timezone":               "UTC",
		"log_line_prefix":            "%m [%p] %q%u@%d ",
	}
	if len(p.DataDir)+len("/.s.PGSQL.65535") >= 108 {
		conf["unix_socket_directories"] = "" // too long for a socket path; TCP only
	}
	if opts.Fsync {
		conf["fsync"], conf["synchronous_commit"], conf["full_page_writes"] = "on", "on", "on"
	}
	var b strings.Builder
	b.WriteString("\n# cdcd internal/testenv\n")
	write := func(m map[string]string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "%s = '%s'\n", k, strings.ReplaceAll(m[k], "'", "''"))
		}
	}
	write(conf)
	write(opts.ExtraConf)
	if err := appendFile(filepath.Join(p.DataDir, "postgresql.conf"), b.String()); err != nil {
		return fmt.Errorf("testenv: write postgresql.conf: %w", err)
	}
	hba := "local all all trust\nhost all all 127.0.0.1/32 trust\n" +
		"local replication all trust\nhost replication all 127.0.0.1/32 trust\n"
	if err := os.WriteFile(filepath.Join(p.DataDir, "pg_hba.conf"), []byte(hba), 0o600); err != nil {
		return fmt.Errorf("testenv: write pg_hba.conf: %w", err)
	}
	return chownAll(p.DataDir, p.user)
}

func appendFile(path, s string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// launch starts the postmaster on p.Port and waits until it accepts
// connections. Callers hold p.mu or own p alone.
func (p *PG) launch(ctx context.Context) error {
	off := fileSize(p.LogFile)
	proc, err := startProcess(filepath.Join(p.BinDir, "postgres"),
		[]string{"-D", p.DataDir, "-p", strconv.Itoa(p.Port)}, p.dir, p.user, p.LogFile)
	if err != nil {
		return err
	}
	p.proc = proc
	return waitReady(ctx, "postgres", proc, p.LogFile, off, func(ctx context.Context) error {
		c, err := pgx.Connect(ctx, p.DSN("postgres"))
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		// Another process may have taken the port while ours starts.
		var dir string
		if err := c.QueryRow(ctx, "SELECT current_setting('data_directory')").Scan(&dir); err != nil {
			return err
		}
		if !sameDir(dir, p.DataDir) {
			return fmt.Errorf("port %d is served by another server (data directory %s)", p.Port, dir)
		}
		return nil
	})
}

// Postgres returns the PostgreSQL server shared by the tests of this
// package, starting it on first use; Main closes it. It fails the test when
// the server cannot start. Tests must not stop or close it: start a private
// one with StartPostgres for that.
func Postgres(t testing.TB) *PG {
	t.Helper()
	pg, err := sharedPG.get(func(ctx context.Context) (*PG, error) { return StartPostgres(ctx, PGOptions{}) })
	if err != nil {
		t.Fatalf("testenv: shared Postgres: %v", err)
	}
	return pg
}

var sharedPG shared[*PG]

// DSN returns the URL of database db as the superuser postgres, e.g.
// "postgres://postgres@127.0.0.1:PORT/DB?sslmode=disable".
func (p *PG) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@%s:%d/%s?sslmode=disable", p.Host, p.Port, url.PathEscape(db))
}

// ReplicationDSN returns DSN(db) for a logical replication connection
// (replication=database), as pglogrepl needs.
func (p *PG) ReplicationDSN(db string) string {
	return p.DSN(db) + "&replication=database"
}

// Connect returns a connection to database db, closed at the end of the
// test. It fails the test on error.
func (p *PG) Connect(t testing.TB, db string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, p.DSN(db))
	if err != nil {
		t.Fatalf("testenv: connect to postgres %s: %v", db, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Close(ctx)
	})
	return c
}

// Exec runs sql with args in database db on a new connection and fails the
// test on error. Without args, sql may hold several statements.
func (p *PG) Exec(t testing.TB, db, sql string, args ...any) {
	t.Helper()
	if err := p.exec(db, sql, args...); err != nil {
		t.Fatalf("testenv: postgres %s: %s: %v", db, sql, err)
	}
}

func (p *PG) exec(db, sql string, args ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, p.DSN(db))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql, args...)
	return err
}

// NewDatabase creates a database with a unique name (t_<test>_<n>) and
// returns the name. At the end of the test it terminates the walsenders of
// that database's replication slots, drops the slots and drops the database
// WITH (FORCE); a failure there fails the test. Nothing is dropped if the
// server is not running then.
func (p *PG) NewDatabase(t testing.TB) string {
	t.Helper()
	name := uniqueName(t)
	p.Exec(t, "postgres", "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	t.Cleanup(func() {
		if !p.running() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.dropDatabase(ctx, name); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	return name
}

func (p *PG) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closed && p.proc != nil && !p.proc.exited()
}

// dropDatabase drops db and its replication slots, retrying while a slot is
// still held by a walsender that is going away.
func (p *PG) dropDatabase(ctx context.Context, db string) error {
	c, err := pgx.Connect(ctx, p.DSN("postgres"))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	for {
		_, err := c.Exec(ctx, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
			WHERE database = $1 AND active_pid IS NOT NULL`, db)
		if err != nil {
			return fmt.Errorf("terminate walsenders: %w", err)
		}
		_, err = c.Exec(ctx, `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
			WHERE database = $1 AND NOT active`, db)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "55006" {
			err = nil // object_in_use: a walsender took the slot again; terminate it on the next round
		}
		if err != nil {
			return fmt.Errorf("drop replication slots: %w", err)
		}
		var left int
		if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_replication_slots WHERE database = $1`, db).Scan(&left); err != nil {
			return fmt.Errorf("count replication slots: %w", err)
		}
		if left == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d replication slots still active: %w", left, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	_, err = c.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
	return err
}

// pgStopSignals maps pg_ctl's shutdown modes to the postmaster's signals.
var pgStopSignals = map[string]syscall.Signal{
	"smart":     syscall.SIGTERM,
	"fast":      syscall.SIGINT,
	"immediate": syscall.SIGQUIT,
}

// Stop shuts the server down like `pg_ctl stop -m mode`, mode being
// "smart", "fast" (also "") or "immediate" (a crash: the next Start
// recovers), and blocks until it has exited. If ctx ends first the server
// is killed and ctx's error returned. Stopping a stopped server does
// nothing.
func (p *PG) Stop(ctx context.Context, mode string) error {
	if mode == "" {
		mode = "fast"
	}
	sig, ok := pgStopSignals[mode]
	if !ok {
		return fmt.Errorf("testenv: unknown postgres stop mode %q (want smart, fast or immediate)", mode)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.proc == nil {
		return nil
	}
	return p.proc.stop(ctx, sig)
}

// Start starts a stopped server again with the same data directory and
// port, and blocks until it accepts connections. Starting a running server
// does nothing. It fails if another process took the port meanwhile.
func (p *PG) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return ErrClosed
	}
	if p.proc != nil && !p.proc.exited() {
		return nil
	}
	return p.launch(ctx)
}

// Close stops the server (immediate mode) and removes its directory. It is
// idempotent and safe to call concurrently.
func (p *PG) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	unregister(p)
	var err error
	if p.proc != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err = p.proc.stop(ctx, syscall.SIGQUIT)
		cancel()
	}
	if rerr := os.RemoveAll(p.dir); rerr != nil {
		err = errors.Join(err, fmt.Errorf("testenv: remove %s: %w", p.dir, rerr))
	}
	return err
}
