package testenv

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"
)

// MariaDBOptions configures StartMariaDB. The zero value is the usual test
// server.
type MariaDBOptions struct {
	// ServerID is --server-id. Default 1.
	ServerID int
	// Durable turns innodb_flush_log_at_trx_commit=1, sync_binlog=1 and the
	// doublewrite buffer on. Default off: fast, and only an OS crash loses
	// data.
	Durable bool
	// Args are extra mariadbd options put after, and so overriding, ours;
	// e.g. "--binlog-row-image=MINIMAL".
	Args []string
}

// MariaDBServer is a private MariaDB server listening on Host:Port, with user
// root and an empty password, a ROW binlog with full row images and GTIDs
// (gtid_strict_mode). Its exported fields are read-only.
type MariaDBServer struct {
	Host    string // always 127.0.0.1
	Port    int
	DataDir string // also holds the binlogs (mysql-bin.*)
	Socket  string // the unix socket
	LogFile string // the server's stdout and stderr

	dir    string
	user   *osUser // the OS user the server runs as; nil: ourselves
	bin    string  // mariadbd
	args   []string
	mu     sync.Mutex
	proc   *process
	closed bool
}

// StartMariaDB makes a new data directory with mariadb-install-db under
// os.TempDir and starts mariadbd for it on a free port of 127.0.0.1. It
// blocks until the server accepts connections or ctx ends. The server runs
// with --log-bin --binlog-format=ROW --binlog-row-image=FULL
// --log-slave-updates --gtid-strict-mode, utf8mb4, time zone +00:00, and
// --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 (see MariaDBOptions).
// The caller must Close it; Main closes the ones left open.
func StartMariaDB(ctx context.Context, opts MariaDBOptions) (*MariaDBServer, error) {
	installDB, err := findBinary("mariadb-install-db", "mariadb-server", "/usr/bin", "/usr/local/bin", "/usr/local/mysql/scripts")
	if err != nil {
		return nil, err
	}
	mariadbd, err := findBinary("mariadbd", "mariadb-server", "/usr/sbin", "/usr/local/sbin", "/usr/local/mysql/bin")
	if err != nil {
		return nil, err
	}
	// As root, run as mysql so that no privilege change clears the
	// parent-death signal; without that account, run as root.
	var u *osUser
	runAsRoot := false
	if os.Geteuid() == 0 {
		if u, err = serverUser("mysql", "mariadb-server"); err != nil {
			u, runAsRoot = nil, true
		}
	}
	dir, err := newServerDir("mariadb", u)
	if err != nil {
		return nil, err
	}
	m := &MariaDBServer{
		Host:    "127.0.0.1",
		DataDir: filepath.Join(dir, "data"),
		Socket:  filepath.Join(dir, "mysqld.sock"),
		LogFile: filepath.Join(dir, "mariadbd.log"),
		dir:     dir,
		user:    u,
		bin:     mariadbd,
	}
	serverID := opts.ServerID
	if serverID == 0 {
		serverID = 1
	}
	m.args = []string{
		"--no-defaults", // must be first: ignore /etc/mysql, which configures the system's server
		"--datadir=" + m.DataDir,
		"--socket=" + m.Socket,
		"--pid-file=" + filepath.Join(dir, "mariadbd.pid"),
		"--tmpdir=" + dir,
		"--bind-address=127.0.0.1",
		"--skip-name-resolve",
		"--log-bin=mysql-bin",
		"--binlog-format=ROW",
		"--binlog-row-image=FULL",
		"--server-id=" + strconv.Itoa(serverID),
		"--log-slave-updates",
		"--gtid-strict-mode=1",
		"--character-set-server=utf8mb4",
		"--collation-server=utf8mb4_general_ci",
		"--default-time-zone=+00:00",
		"--max-connections=200",
	}
	if opts.Durable {
		m.args = append(m.args, "--innodb-flush-log-at-trx-commit=1", "--sync-binlog=1")
	} else {
		m.args = append(m.args, "--innodb-flush-log-at-trx-commit=2", "--sync-binlog=0", "--innodb-doublewrite=0")
	}
	installArgs := []string{
		"--no-defaults",
		"--auth-root-authentication-method=normal", // root@127.0.0.1 with an empty password
		"--skip-test-db",
		"--skip-name-resolve",
	}
	if runAsRoot {
		m.args = append(m.args, "--user=root")
		installArgs = append(installArgs, "--user=root")
	}
	m.args = append(m.args, opts.Args...)

	// mariadb-install-db takes a second or more of CPU; its result holds
	// nothing server-specific (MariaDB has no server UUID), so it is made
	// once per machine and copied.
	h := sha256.Sum256([]byte(strings.Join(append([]string{fileStamp(installDB), fileStamp(mariadbd), fmt.Sprint(u)}, installArgs...), "\x00")))
	tmpl, err := template(fmt.Sprintf("mariadb-%x", h[:8]), u, func(tdir string) error {
		args := append(slices.Clone(installArgs), "--datadir="+filepath.Join(tdir, "data"))
		return run(ctx, "mariadb-install-db", installDB, args, tdir, u, filepath.Join(tdir, "install-db.log"))
	})
	if err == nil {
		err = copyTree(filepath.Join(tmpl, "data"), m.DataDir, u)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		if m.Port, err = freePort(); err != nil {
			break
		}
		if err = m.launch(ctx); err == nil || !addrInUse(err) || attempt == portAttempts {
			break
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	register(m, m.Close)
	return m, nil
}

// launch starts mariadbd on m.Port and waits until it accepts connections.
// Callers hold m.mu or own m alone.
func (m *MariaDBServer) launch(ctx context.Context) error {
	off := fileSize(m.LogFile)
	args := append(m.args[:1:1], append([]string{"--port=" + strconv.Itoa(m.Port)}, m.args[1:]...)...)
	proc, err := startProcess(m.bin, args, m.dir, m.user, m.LogFile)
	if err != nil {
		return err
	}
	m.proc = proc
	return waitReady(ctx, "mariadbd", proc, m.LogFile, off, func(ctx context.Context) error {
		c, err := client.ConnectWithContext(ctx, m.Addr(), "root", "", "", time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		// Another process may have taken the port while ours starts.
		r, err := c.Execute("SELECT @@datadir")
		if err != nil {
			return err
		}
		dir, err := r.GetString(0, 0)
		if err != nil {
			return err
		}
		if !sameDir(dir, m.DataDir) {
			return fmt.Errorf("port %d is served by another server (datadir %s)", m.Port, dir)
		}
		return nil
	})
}

// MariaDB returns the MariaDB server shared by the tests of this package,
// starting it on first use; Main closes it. It fails the test when the
// server cannot start. Tests must not stop or close it: start a private one
// with StartMariaDB for that.
func MariaDB(t testing.TB) *MariaDBServer {
	t.Helper()
	m, err := sharedMariaDB.get(func(ctx context.Context) (*MariaDBServer, error) { return StartMariaDB(ctx, MariaDBOptions{}) })
	if err != nil {
		t.Fatalf("testenv: shared MariaDB: %v", err)
	}
	return m
}

var sharedMariaDB shared[*MariaDBServer]

// Addr returns "127.0.0.1:PORT", the address go-mysql's client and canal
// take.
func (m *MariaDBServer) Addr() string {
	return net.JoinHostPort(m.Host, strconv.Itoa(m.Port))
}

// DSN returns the go-sql-driver/mysql style DSN of database db as root,
// "root@tcp(127.0.0.1:PORT)/DB".
func (m *MariaDBServer) DSN(db string) string {
	return fmt.Sprintf("root@tcp(%s)/%s", m.Addr(), db)
}

// Connect returns a go-mysql connection to database db ("" for none) as
// root, closed at the end of the test. It fails the test on error.
func (m *MariaDBServer) Connect(t testing.TB, db string) *client.Conn {
	t.Helper()
	c, err := m.connect(db)
	if err != nil {
		t.Fatalf("testenv: connect to mariadb %s: %v", db, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (m *MariaDBServer) connect(db string) (*client.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return client.ConnectWithContext(ctx, m.Addr(), "root", "", db, 10*time.Second)
}

// Exec runs one statement sql with args (a prepared statement when there
// are args) in database db ("" for none) on a new connection, and fails the
// test on error.
func (m *MariaDBServer) Exec(t testing.TB, db, sql string, args ...any) {
	t.Helper()
	if err := m.exec(db, sql, args...); err != nil {
		t.Fatalf("testenv: mariadb %s: %s: %v", db, sql, err)
	}
}

func (m *MariaDBServer) exec(db, sql string, args ...any) error {
	c, err := m.connect(db)
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.Execute(sql, args...)
	if err != nil {
		return err
	}
	r.Close()
	return nil
}

// NewDatabase creates a database with a unique name (t_<test>_<n>) and
// returns the name. It is dropped at the end of the test, if the server is
// running then; a failure there fails the test.
func (m *MariaDBServer) NewDatabase(t testing.TB) string {
	t.Helper()
	name := uniqueName(t)
	m.Exec(t, "", "CREATE DATABASE "+quoteMySQL(name))
	t.Cleanup(func() {
		if !m.running() {
			return
		}
		if err := m.exec("", "DROP DATABASE IF EXISTS "+quoteMySQL(name)); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	return name
}

func quoteMySQL(ident string) string {
	return "`" + strings.ReplaceAll(ident, "`", "``") + "`"
}

func (m *MariaDBServer) running() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return !m.closed && m.proc != nil && !m.proc.exited()
}

// Stop shuts the server down cleanly (SIGTERM) and blocks until it has
// exited. If ctx ends first the server is killed and ctx's error returned.
// Stopping a stopped server does nothing.
func (m *MariaDBServer) Stop(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.proc == nil {
		return nil
	}
	return m.proc.stop(ctx, syscall.SIGTERM)
}

// Kill kills the server (SIGKILL), as a crash would, and waits for it to
// exit. Start recovers it.
func (m *MariaDBServer) Kill() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.proc == nil {
		return nil
	}
	return m.proc.stop(context.Background(), syscall.SIGKILL)
}

// Start starts a stopped server again with the same data directory and
// port, and blocks until it accepts connections. Starting a running server
// does nothing. It fails if another process took the port meanwhile.
func (m *MariaDBServer) Start(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.proc != nil && !m.proc.exited() {
		return nil
	}
	return m.launch(ctx)
}

// Close kills the server and removes its directory. It is idempotent and
// safe to call concurrently.
func (m *MariaDBServer) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	unregister(m)
	var err error
	if m.proc != nil {
		// Its files are about to go: a clean shutdown would only cost time.
		err = m.proc.stop(context.Background(), syscall.SIGKILL)
	}
	if rerr := os.RemoveAll(m.dir); rerr != nil {
		err = errors.Join(err, fmt.Errorf("testenv: remove %s: %w", m.dir, rerr))
	}
	return err
}
