// Package mysql is the MySQL/MariaDB replica sink: it applies events to
// InnoDB tables exactly once, with the conflict rules of package
// sqlapply, whose doc describes the algorithm, the guarantees and the
// type mapping (Postgres → MySQL included). This doc covers what is
// particular to MySQL. It speaks the protocol through
// github.com/go-mysql-org/go-mysql/client.
//
// # Session
//
// One connection with CLIENT_FOUND_ROWS (affected rows count matched
// rows) and the session settings cdcd's SQL relies on:
//
//	SET NAMES utf8mb4
//	sql_mode = STRICT_ALL_TABLES, NO_BACKSLASH_ESCAPES, NO_AUTO_VALUE_ON_ZERO,
//	           NO_ENGINE_SUBSTITUTION, ERROR_FOR_DIVISION_BY_ZERO
//	time_zone = '+00:00'
//	TRANSACTION ISOLATION LEVEL READ COMMITTED
//
// Strict mode makes a value the column cannot hold an error (a data
// error, see sqlapply) instead of a warning and a truncated or zeroed
// value. Values are written as literals: numbers as numbers, decimals as
// numeric literals (converted exactly), strings quoted (a quote
// doubled), bytes as X'…' hex, instants as 'YYYY-MM-DD HH:MM:SS.ffffff' in
// UTC, TIME values as '[-]HHH:MM:SS.ffffff', arrays as JSON text.
//
// Open creates, when missing, the checkpoint database and
// cdcd_checkpoints (pipeline VARCHAR(255) primary key, pos, state
// LONGBLOB, updated_at, leader_epoch), cdcd_tombstones (table, SHA-256 of
// the key text, key, version) when a table may use newer_wins, and the
// dead-letter table when one is configured; it then bumps the pipeline's
// leader_epoch and reads its checkpoint in one transaction. Commit
// updates the checkpoint row where the epoch is still ours (no matched
// row: ErrFenced, rolled back) and commits.
//
// # Statements
//
//	INSERT INTO db.t (k, a, b, _cdcd_version) VALUES (…), (…) ON DUPLICATE KEY UPDATE
//	  a = VALUES(a), b = VALUES(b), _cdcd_version = VALUES(_cdcd_version)                  -- source_wins
//	  a = IF(g, VALUES(a), a), …, _cdcd_version = IF(g, VALUES(_cdcd_version), _cdcd_version)
//	      with g = (_cdcd_version IS NULL OR VALUES(_cdcd_version) > _cdcd_version)         -- newer_wins, error
//	  k = k                                                                                 -- target_wins
//	DELETE FROM db.t WHERE k IN (…)
//	DELETE FROM db.t WHERE (k = … AND (_cdcd_version IS NULL OR _cdcd_version < …)) OR …  -- newer_wins, error
//
// The version column is assigned last, because MySQL evaluates the
// assignments left to right and each guard must still read the row's
// old version. Statements are cut at 4 MiB. Every step is preceded by a
// probe, SELECT CASE WHEN k = … THEN i … END, _cdcd_version FROM db.t
// WHERE k IN (…) FOR UPDATE, which locks the rows that exist and tells,
// by the server's own comparison (collations included), which of the
// step's keys they are; the per-row decisions and the conflict counts
// come from it (MySQL's affected-rows count cannot tell an insert from a
// kept row). Under newer_wins the tombstones of an upsert's keys are read
// too, and a delete records its versions in them.
//
// MySQL's DDL commits the open transaction, so tables are created and
// altered before a transaction starts; when that is needed while a
// transaction holds part of a source transaction, the transaction is
// rolled back, the DDL done, and Flush returns sqlapply.ErrSchemaReplay
// (transient): the pipeline replays from the checkpoint. For the same
// reason a truncate is replicated as DELETE FROM, inside the transaction
// (slower than TRUNCATE on large tables; set IgnoreTruncate to skip
// them).
//
// With a case-insensitive collation on a key column, two event keys that
// differ only in case are one row to MySQL: the probe matches the row to
// the first of them, and the second counts as absent (its write still
// goes through ON DUPLICATE KEY UPDATE with its guard). Tables cdcd
// creates use utf8mb4_bin.
//
// # Errors
//
// Deadlocks (1213), lock wait timeouts (1205), lost or killed connections
// and shutdowns are transient; SQLSTATE classes 22 and 23 and the codes
// of invalid values, check constraints (MySQL 3819, MariaDB 4025) and
// JSON errors are data errors, blamed on an event; the rest (access
// denied, unknown column, syntax) is permanent. Errors without a server
// code (the network) are transient.
package mysql
