// Package testenv starts private database and Kafka servers for tests, the
// demo and the benchmarks: a PostgreSQL server ([PG]), a MariaDB server
// ([MariaDBServer]) and an in-process Kafka ([KafkaServer], franz-go kfake).
// Nothing here touches the servers that may already run on the standard
// ports.
//
// # Tests
//
// A package that uses testenv runs its tests through [Main], so that every
// server they started is stopped and its files are removed afterwards:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// [Postgres], [MariaDB] and [Kafka] return a server shared by all tests of the
// package, started on first use. Tests isolate themselves with
// [PG.NewDatabase] and [MariaDBServer.NewDatabase] (a fresh database, dropped
// at cleanup) and with their own topic names. A test that stops, restarts or
// reconfigures a server starts its own with [StartPostgres] or
// [StartMariaDB] and closes it.
//
//	pg := testenv.Postgres(t)
//	db := pg.NewDatabase(t)
//	pg.Exec(t, db, "CREATE TABLE t (id int PRIMARY KEY)")
//	src := postgres.New(pg.DSN(db), ...)
//
// Kafka topics are created on first use only for clients made with
// kgo.AllowAutoTopicCreation; otherwise create them with
// [KafkaServer.CreateTopic].
//
// # Servers
//
// Each server gets a directory under [os.TempDir] named cdcd-testenv-* and a
// free port on 127.0.0.1 chosen by the kernel; a start that loses its port to
// another process (go test runs packages in parallel) retries on a new one,
// and readiness is only declared once the server on the port is ours (its
// data directory matches). Servers are tuned for speed, not durability:
// fsync off for Postgres; innodb_flush_log_at_trx_commit=2, sync_binlog=0
// for MariaDB.
//
// The server processes are started directly, not through pg_ctl or
// mysqld_safe, so this package owns them: Stop sends the shutdown signal and
// waits, and the servers get SIGKILL when the test process dies (the Linux
// parent-death signal, set from one OS thread that lives as long as the
// process). Directories left by a killed process are removed by the next
// process that starts a server. As root, PostgreSQL runs as the postgres OS
// user and MariaDB as the mysql OS user (their directories are chown'ed to
// them); as a normal user both run as that user.
//
// Making a data directory costs a second or more of CPU (initdb,
// mariadb-install-db), so each is made once per machine and user into
// os.TempDir()/cdcd-testenv-cache-<uid>, keyed by the programs' size and
// time, and copied for each server. A copied Postgres cluster gets a system
// identifier of its own (rewritten in pg_control, then pg_resetwal), so
// IDENTIFY_SYSTEM tells servers apart as it would after initdb; if that
// fails, initdb runs instead. MariaDB's data directory holds nothing
// server-specific.
//
// Programs are looked up as follows: PostgreSQL in `pg_config --bindir`, the
// highest /usr/lib/postgresql/*/bin, then PATH (following symlinks such as
// /usr/local/bin/initdb to the real directory); MariaDB (mariadb-install-db,
// mariadbd) in /usr/bin, /usr/sbin and PATH. A missing program is a
// [*BinaryNotFoundError]; `make test` (scripts/install-deps.sh) installs them.
//
// Startup, measured on the 2-core development machine: Postgres about 0.3 s
// from the template (0.8 s more for initdb the first time), a restart 60 ms;
// MariaDB about 0.3 s from the template (1-2 s more the first time), a
// restart 100-150 ms; Kafka under a millisecond. Several times that when the
// machine is loaded.
//
// # Concurrency
//
// All exported functions and methods are safe for concurrent use; Stop and
// Start of one server are serialized.
package testenv
