package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestMain(m *testing.M) { Main(m) }

// checkFor calls f until it returns nil, failing the test with f's last
// error when d has passed.
func checkFor(t *testing.T, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestPostgresIsConfiguredForLogicalReplication(t *testing.T) {
	pg := Postgres(t)
	if pg.Host != "127.0.0.1" || pg.Port == 0 || pg.Port == 5432 {
		t.Fatalf("listens on %s:%d, want a private port on 127.0.0.1", pg.Host, pg.Port)
	}
	if !strings.HasPrefix(filepath.Base(filepath.Dir(pg.DataDir)), dirPrefix) {
		t.Errorf("data dir %s is not under a %s* directory", pg.DataDir, dirPrefix)
	}
	conn := pg.Connect(t, "postgres")
	want := map[string]string{
		"wal_level":                  "logical",
		"max_replication_slots":      "40",
		"max_wal_senders":            "40",
		"max_connections":            "200",
		"fsync":                      "off",
		"synchronous_commit":         "off",
		"full_page_writes":           "off",
		"TimeZone":                   "UTC",
		"server_encoding":            "UTF8",
		"listen_addresses":           "127.0.0.1",
		"wal_writer_delay":           "10ms",
		"dynamic_shared_memory_type": "mmap",
	}
	for name, v := range want {
		var got string
		if err := conn.QueryRow(ctxT(t), "SELECT current_setting($1)", name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	var version, user string
	if err := conn.QueryRow(ctxT(t), "SELECT version(), current_user").Scan(&version, &user); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(version, "PostgreSQL ") || user != "postgres" {
		t.Errorf("version %q, user %q", version, user)
	}
	// The unix socket is in the data directory.
	if _, err := os.Stat(filepath.Join(pg.DataDir, fmt.Sprintf(".s.PGSQL.%d", pg.Port))); err != nil {
		t.Errorf("unix socket: %v", err)
	}
}

func TestPostgresNewDatabaseIsIsolatedAndDroppedWithItsSlots(t *testing.T) {
	pg := Postgres(t)
	var name string
	var repl *pgconn.PgConn
	t.Run("inner", func(t *testing.T) {
		name = pg.NewDatabase(t)
		other := pg.NewDatabase(t)
		if name == other {
			t.Fatalf("two databases named %s", name)
		}
		pg.Exec(t, name, "CREATE TABLE only_here (id int PRIMARY KEY)")
		pg.Exec(t, name, "INSERT INTO only_here VALUES ($1)", 7)
		var n int
		err := pg.Connect(t, other).QueryRow(ctxT(t), "SELECT count(*) FROM pg_class WHERE relname = 'only_here'").Scan(&n)
		if err != nil || n != 0 {
			t.Fatalf("table visible in the other database: n=%d err=%v", n, err)
		}
		// Leave a walsender streaming from a slot of the database: the
		// cleanup must end it to drop the slot and the database.
		pg.Exec(t, name, "CREATE PUBLICATION pub FOR ALL TABLES")
		pg.Exec(t, name, "SELECT pg_create_logical_replication_slot('held', 'pgoutput')")
		var err2 error
		repl, err2 = pgconn.Connect(ctxT(t), pg.ReplicationDSN(name))
		if err2 != nil {
			t.Fatal(err2)
		}
		err2 = pglogrepl.StartReplication(ctxT(t), repl, "held", 0, pglogrepl.StartReplicationOptions{
			Mode: pglogrepl.LogicalReplication, PluginArgs: []string{"proto_version '1'", "publication_names 'pub'"},
		})
		if err2 != nil {
			t.Fatal(err2)
		}
	})
	defer repl.Close(context.Background())
	conn := pg.Connect(t, "postgres")
	var dbs, slots int
	if err := conn.QueryRow(ctxT(t), "SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&dbs); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctxT(t), "SELECT count(*) FROM pg_replication_slots WHERE database = $1", name).Scan(&slots); err != nil {
		t.Fatal(err)
	}
	if dbs != 0 || slots != 0 {
		t.Errorf("after the test: %d databases and %d slots named %s remain", dbs, slots, name)
	}
}

func TestPostgresLogicalReplication(t *testing.T) {
	pg := Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, "CREATE TABLE orders (id bigint PRIMARY KEY, note text); CREATE PUBLICATION cdc FOR TABLE orders")
	pg.Exec(t, db, "SELECT pg_create_logical_replication_slot('x', 'pgoutput')")
	pg.Exec(t, db, "INSERT INTO orders VALUES (1, 'a'), (2, 'b')")

	conn := pg.Connect(t, db)
	// Decoding sees a commit once the WAL writer has flushed it.
	checkFor(t, 5*time.Second, func() error {
		var changes int
		err := conn.QueryRow(ctxT(t), `SELECT count(*) FROM pg_logical_slot_peek_binary_changes('x', NULL, NULL,
			'proto_version', '1', 'publication_names', 'cdc')`).Scan(&changes)
		if err != nil {
			t.Fatal(err)
		}
		if changes < 5 { // begin, relation, 2 inserts, commit
			return fmt.Errorf("%d messages in the slot, want 5", changes)
		}
		return nil
	})

	// The replication protocol over TCP is trusted too.
	repl, err := pgconn.Connect(ctxT(t), pg.ReplicationDSN(db))
	if err != nil {
		t.Fatal(err)
	}
	defer repl.Close(context.Background())
	sys, err := pglogrepl.IdentifySystem(ctxT(t), repl)
	if err != nil {
		t.Fatal(err)
	}
	if sys.DBName != db || sys.XLogPos == 0 {
		t.Errorf("IDENTIFY_SYSTEM = %+v", sys)
	}
}

func TestPostgresRestartKeepsDataAndPort(t *testing.T) {
	t0 := time.Now()
	pg, err := StartPostgres(ctxT(t), PGOptions{ExtraConf: map[string]string{"application_name": "it's private"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("StartPostgres took %v", time.Since(t0))
	t.Cleanup(func() {
		if err := pg.Close(); err != nil {
			t.Error(err)
		}
	})
	pg.Exec(t, "postgres", "CREATE TABLE kept (v text)")
	pg.Exec(t, "postgres", "INSERT INTO kept VALUES ('before')")
	port := pg.Port

	for _, mode := range []string{"fast", "immediate"} {
		t0 := time.Now()
		if err := pg.Stop(ctxT(t), mode); err != nil {
			t.Fatalf("stop %s: %v", mode, err)
		}
		t.Logf("Stop(%s) took %v", mode, time.Since(t0))
		if err := pg.exec("postgres", "SELECT 1"); err == nil {
			t.Fatalf("connected after Stop(%s)", mode)
		}
		t0 = time.Now()
		if err := pg.Start(ctxT(t)); err != nil {
			t.Fatalf("start after %s stop: %v", mode, err)
		}
		t.Logf("Start after Stop(%s) took %v", mode, time.Since(t0))
		var v string
		if err := pg.Connect(t, "postgres").QueryRow(ctxT(t), "SELECT v FROM kept").Scan(&v); err != nil || v != "before" {
			t.Fatalf("after %s restart: %q, %v", mode, v, err)
		}
		if pg.Port != port {
			t.Fatalf("port changed from %d to %d", port, pg.Port)
		}
	}
	var app string
	if err := pg.Connect(t, "postgres").QueryRow(ctxT(t), "SELECT current_setting('application_name')").Scan(&app); err != nil || app != "it's private" {
		t.Errorf("ExtraConf application_name = %q, %v", app, err)
	}

	// A port taken while the server was down: Start fails and says so.
	if err := pg.Stop(ctxT(t), "fast"); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(pg.Host, strconv.Itoa(pg.Port)))
	if err != nil {
		t.Fatal(err)
	}
	go func() { // hang up on the readiness probes
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t0 = time.Now()
	err = pg.Start(ctxT(t))
	t.Logf("Start on a taken port failed after %v", time.Since(t0))
	l.Close()
	if !addrInUse(err) {
		t.Fatalf("start on a taken port: %v, want an address-in-use StartError", err)
	}
	if err := pg.Start(ctxT(t)); err != nil {
		t.Fatalf("start once the port is free again: %v", err)
	}

	t0 = time.Now()
	if err := pg.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Close took %v", time.Since(t0))
	if _, err := os.Stat(pg.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir after Close: %v", err)
	}
	if err := pg.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := pg.Start(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close = %v, want ErrClosed", err)
	}
}

func TestPostgresServersHaveTheirOwnSystemIdentifier(t *testing.T) {
	shared := Postgres(t)
	own, err := StartPostgres(ctxT(t), PGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { own.Close() })
	// own was copied from the cached initdb output, not made by initdb.
	if _, err := os.Stat(filepath.Join(own.dir, "initdb.log")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("initdb ran for a server whose cluster could be copied: %v; log:\n%s", err, logTail(filepath.Join(own.dir, "pg_resetwal.log"), 0))
	}
	sysid := func(pg *PG) string {
		repl, err := pgconn.Connect(ctxT(t), pg.ReplicationDSN("postgres"))
		if err != nil {
			t.Fatal(err)
		}
		defer repl.Close(context.Background())
		sys, err := pglogrepl.IdentifySystem(ctxT(t), repl)
		if err != nil {
			t.Fatal(err)
		}
		return sys.SystemID
	}
	if a, b := sysid(shared), sysid(own); a == b || a == "" {
		t.Errorf("system identifiers %q and %q, want two different ones", a, b)
	}
}

func TestPostgresMissingBinaryNamesItAndTheFix(t *testing.T) {
	_, err := StartPostgres(ctxT(t), PGOptions{BinDir: "/nonexistent/bin"})
	var nf *BinaryNotFoundError
	if !errors.As(err, &nf) || nf.Name != "initdb" {
		t.Fatalf("err = %v, want a BinaryNotFoundError for initdb", err)
	}
	for _, s := range []string{"initdb", "make test", "apt-get install postgresql"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q does not say %q", err, s)
		}
	}
}

func TestMariaDBHasRowBinlogAndGTIDs(t *testing.T) {
	m := MariaDB(t)
	if m.Port == 0 || m.Port == 3306 {
		t.Fatalf("port %d, want a private one", m.Port)
	}
	if want := fmt.Sprintf("root@tcp(127.0.0.1:%d)/x", m.Port); m.DSN("x") != want {
		t.Errorf("DSN = %q, want %q", m.DSN("x"), want)
	}
	db := m.NewDatabase(t)
	c := m.Connect(t, db)
	r, err := c.Execute(`SELECT VERSION(), @@log_bin, @@binlog_format, @@binlog_row_image, @@server_id,
		@@log_slave_updates, @@gtid_strict_mode, @@character_set_server, @@time_zone`)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, 9)
	for i := range got {
		got[i], _ = r.GetString(0, i)
	}
	if !strings.Contains(got[0], "MariaDB") {
		t.Errorf("version %q", got[0])
	}
	want := []string{got[0], "1", "ROW", "FULL", "1", "1", "1", "utf8mb4", "+00:00"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("setting %d (%s) = %q, want %q", i, r.Fields[i].Name, got[i], want[i])
		}
	}

	gtid := func() string {
		r, err := c.Execute("SELECT @@gtid_current_pos")
		if err != nil {
			t.Fatal(err)
		}
		s, _ := r.GetString(0, 0)
		return s
	}
	before := gtid()
	m.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY, v varchar(10))")
	m.Exec(t, db, "INSERT INTO t VALUES (?, ?)", 1, "héllo")
	after := gtid()
	if after == "" || after == before || !strings.HasPrefix(after, "0-1-") {
		t.Errorf("gtid_current_pos %q -> %q, want a new 0-1-N", before, after)
	}

	r, err = c.Execute("SHOW MASTER STATUS")
	if err != nil {
		t.Fatal(err)
	}
	file, _ := r.GetString(0, 0)
	pos, _ := r.GetInt(0, 1)
	if !strings.HasPrefix(file, "mysql-bin.") || pos <= 4 {
		t.Errorf("SHOW MASTER STATUS = %q, %d", file, pos)
	}
	if _, err := os.Stat(filepath.Join(m.DataDir, file)); err != nil {
		t.Errorf("binlog file: %v", err)
	}
}

func TestMariaDBNewDatabaseIsIsolatedAndDropped(t *testing.T) {
	m := MariaDB(t)
	var name string
	t.Run("inner", func(t *testing.T) {
		name = m.NewDatabase(t)
		other := m.NewDatabase(t)
		m.Exec(t, name, "CREATE TABLE only_here (id int PRIMARY KEY)")
		r, err := m.Connect(t, other).Execute("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'only_here'")
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := r.GetInt(0, 0); n != 0 {
			t.Fatalf("table visible in the other database")
		}
	})
	r, err := m.Connect(t, "").Execute("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := r.GetInt(0, 0); n != 0 {
		t.Errorf("database %s still exists after the test", name)
	}
}

func TestMariaDBRestartKeepsData(t *testing.T) {
	t0 := time.Now()
	m, err := StartMariaDB(ctxT(t), MariaDBOptions{ServerID: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("StartMariaDB took %v", time.Since(t0))
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Error(err)
		}
	})
	m.Exec(t, "", "CREATE DATABASE d")
	m.Exec(t, "d", "CREATE TABLE kept (v varchar(10))")
	m.Exec(t, "d", "INSERT INTO kept VALUES ('before')")

	restart := func(name string, stop func() error) {
		t.Helper()
		t0 := time.Now()
		if err := stop(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s took %v", name, time.Since(t0))
		if err := m.exec("", "SELECT 1"); err == nil {
			t.Fatalf("connected after %s", name)
		}
		t0 = time.Now()
		if err := m.Start(ctxT(t)); err != nil {
			t.Fatalf("start after %s: %v", name, err)
		}
		t.Logf("Start after %s took %v", name, time.Since(t0))
		r, err := m.Connect(t, "d").Execute("SELECT v, @@server_id FROM kept")
		if err != nil {
			t.Fatal(err)
		}
		v, _ := r.GetString(0, 0)
		id, _ := r.GetInt(0, 1)
		if v != "before" || id != 7 {
			t.Fatalf("after %s: v=%q server_id=%d", name, v, id)
		}
	}
	restart("Stop", func() error { return m.Stop(ctxT(t)) })
	restart("Kill", m.Kill)

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.DataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data dir after Close: %v", err)
	}
	if err := m.Start(ctxT(t)); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close = %v, want ErrClosed", err)
	}
}

func TestKafkaTransactionalRoundTrip(t *testing.T) {
	k := Kafka(t)
	topic := "t-" + uniqueName(t)
	k.CreateTopic(t, topic, 1, nil)
	prod := k.Client(t, kgo.TransactionalID(topic), kgo.DefaultProduceTopic(topic))
	ctx := ctxT(t)

	txn := func(commit kgo.TransactionEndTry, values ...string) {
		t.Helper()
		if err := prod.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			if err := prod.ProduceSync(ctx, kgo.StringRecord(v)).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := prod.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	txn(kgo.TryCommit, "a", "b", "c")
	txn(kgo.TryAbort, "aborted")
	txn(kgo.TryCommit, "end")

	cons := k.Client(t, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []string
	checkFor(t, 20*time.Second, func() error {
		pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		defer cancel()
		fs := cons.PollFetches(pctx)
		for _, r := range fs.Records() {
			got = append(got, string(r.Value))
		}
		if len(got) > 0 && got[len(got)-1] == "end" {
			return nil
		}
		return fmt.Errorf("consumed %q, waiting for \"end\"", got)
	})
	if strings.Join(got, ",") != "a,b,c,end" {
		t.Errorf("read_committed consumer got %q, want a,b,c,end", got)
	}
}

func TestKafkaCreateTopic(t *testing.T) {
	k, err := StartKafka()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		k.Close()
		k.Close() // idempotent
	})
	if b := k.Brokers(); len(b) != 1 || !strings.HasPrefix(b[0], "127.0.0.1:") {
		t.Fatalf("brokers %v", b)
	}
	k.CreateTopic(t, "compacted", 3, map[string]string{"cleanup.policy": "compact"})
	cl := k.Client(t, kgo.DefaultProduceTopic("compacted"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	r := kgo.StringRecord("v")
	r.Partition = 2
	if err := cl.ProduceSync(ctxT(t), r).FirstErr(); err != nil {
		t.Fatalf("produce to partition 2 of a 3-partition topic: %v", err)
	}
}

func TestSweepRemovesDirectoriesOfDeadProcesses(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	mk := func(pid int) string {
		dir, err := os.MkdirTemp(os.TempDir(), dirPrefix+"sweeptest-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	orphan, ours := mk(dead.Process.Pid), mk(os.Getpid())
	sweepStale()
	if _, err := os.Stat(orphan); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory of dead pid %d survived: %v", dead.Process.Pid, err)
	}
	if _, err := os.Stat(ours); err != nil {
		t.Errorf("directory of a live process was removed: %v", err)
	}
}

func TestUniqueNameIsAValidLowercaseIdentifier(t *testing.T) {
	a, b := uniqueName(t), uniqueName(t)
	if a == b || len(a) > 63 || strings.ToLower(a) != a || !strings.HasPrefix(a, "t_testuniquename") {
		t.Errorf("names %q, %q", a, b)
	}
}
