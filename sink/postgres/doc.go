// Package postgres is the Postgres replica sink: it applies events to
// tables of a Postgres database, exactly once, with the conflict rules
// of package sqlapply, whose doc describes the algorithm, the guarantees
// and the type mapping. This doc covers what is particular to Postgres.
//
// # Session
//
// One pgx connection (application_name "cdcd <pipeline>" unless the DSN
// sets one), with pgx's statement cache: each statement shape (table,
// operation, column set) is prepared once per session. Open creates,
// when missing, the checkpoint schema and cdcd_checkpoints (pipeline text
// primary key, pos text, state bytea, updated_at timestamptz,
// leader_epoch bigint), cdcd_tombstones when a table may use newer_wins,
// and the dead-letter table when one is configured (id bigserial,
// pipeline, event_id, pos, "table", key json, error, event json, at:
// json rather than jsonb, which would reject \u0000 in an event that
// failed precisely because of it). It then bumps the pipeline's
// leader_epoch and reads its checkpoint in one INSERT … ON CONFLICT …
// RETURNING.
//
// BEGIN, SAVEPOINT and RELEASE are not sent on their own: they travel
// with the next statement, in one pipelined round trip (pgx batch), and
// the steps of a window that need no probe go in one batch too. Commit
// sends the checkpoint update and COMMIT together; the update divides by
// the number of rows it matched, so a lost leader epoch aborts the
// transaction before COMMIT (reported as ErrFenced). DDL (create_tables)
// runs inside the transaction, atomically with the data.
//
// # Statements
//
// Each column of a step is one text[] parameter, unnested into rows and
// cast to the column's type: values travel in Postgres's own text input
// syntax (numbers, decimals and JSON as the source wrote them, instants
// as "YYYY-MM-DD HH:MM:SS.ffffff+00" with BC years, bytea as \x hex,
// arrays as array literals, or JSON for json/jsonb columns), so Postgres
// parses them exactly; the cast is to the type without its modifier
// (varchar(3) is assigned text, checking its length, where an explicit
// cast would truncate; char(n) and bit(n) are cast to bpchar and varbit).
//
//	WITH w AS (
//	  INSERT INTO s.t AS t (k, a, b, _cdcd_version) [OVERRIDING SYSTEM VALUE]
//	  SELECT s.c0::int, s.c1::numeric, s.c2, s.v FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS s(c0, c1, c2, v)
//	  [WHERE NOT EXISTS (a tombstone as new as s.v)]                       -- newer_wins
//	  ON CONFLICT (k) DO UPDATE SET a = excluded.a, b = excluded.b, _cdcd_version = excluded._cdcd_version
//	    [WHERE t._cdcd_version IS NULL OR t._cdcd_version < excluded._cdcd_version]   -- newer_wins, error
//	  | ON CONFLICT (k) DO NOTHING                                         -- target_wins
//	  RETURNING (xmax = 0) AS ins)
//	SELECT count(*) FILTER (WHERE ins), count(*) FROM w
//
//	WITH s AS (SELECT * FROM unnest($1::text[], …) AS s(c0, v, kt)),
//	d AS (DELETE FROM s.t AS t USING s WHERE t.k = s.c0::int [AND version guard] RETURNING 1)
//	[, tb AS (INSERT INTO cdcd_tombstones … ON CONFLICT … keep the newest)]     -- newer_wins
//	SELECT (SELECT count(*) FROM d), [rows that existed]
//
// The counts give the conflict outcomes without a probe; the error
// strategy and on_missing skip or error probe first (SELECT … JOIN t …
// FOR UPDATE OF t). Version comparisons use COLLATE "C". Truncates are
// TRUNCATE TABLE, inside the transaction. Columns with GENERATED ALWAYS
// AS IDENTITY are written with OVERRIDING SYSTEM VALUE; generated
// columns are not written.
//
// # Errors
//
// SQLSTATE classes 08 (connection), 40 (serialization failure,
// deadlock), 53 (resources), 57 (shutdown, cancel), 58, XX, and 55P03 and
// 55006 (locks) are transient; 21, 22 and 23 (cardinality, data,
// integrity) are data errors, blamed on an event; the rest (28
// authentication, 42 privileges and undefined objects, 3D unknown
// database) is permanent. Errors without a SQLSTATE (the network) are
// transient.
package postgres
