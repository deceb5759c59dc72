package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// benchDB is the database every Postgres scenario works in.
const benchDB = "postgres"

// startPostgres starts a private server for one scenario run. Autovacuum
// is off so that it does not compete with the consumers for the CPU right
// after a load.
func startPostgres(ctx context.Context) (*testenv.PG, error) {
	pg, err := testenv.StartPostgres(ctx, testenv.PGOptions{ExtraConf: map[string]string{"autovacuum": "off"}})
	if err != nil {
		return nil, fmt.Errorf("starting Postgres: %w", err)
	}
	return pg, nil
}

// benchTableDDL creates the 10-column table the Postgres scenarios load.
const benchTableDDL = `CREATE TABLE public.bench (
	id bigint PRIMARY KEY,
	name text,
	amount numeric(12,2),
	created timestamptz,
	payload jsonb,
	flag bool,
	qty int,
	note text,
	ratio float8,
	day date)`

// benchRowsSelect is the select list of one bench row numbered g.
const benchRowsSelect = `g, 'name-' || g, (g % 100000) / 100.0,
	timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second',
	jsonb_build_object('id', g, 'tags', jsonb_build_array('a', 'b'), 'score', g % 97),
	g % 2 = 0, (g % 1000)::int, md5(g::text), (g / 7.0)::float8,
	date '2026-01-01' + (g % 365)::int`

// loadOneTxn inserts rows 1..n into bench in one transaction.
func loadOneTxn(ctx context.Context, c *pgx.Conn, n int) error {
	_, err := c.Exec(ctx, fmt.Sprintf(`INSERT INTO public.bench SELECT %s FROM generate_series(1, %d) g`, benchRowsSelect, n))
	if err != nil {
		return fmt.Errorf("loading %d rows in one transaction: %w", n, err)
	}
	return nil
}

// loadSmallTxns inserts rows 1..n into bench in transactions of size rows
// (the last may be smaller). They are sent as simple-protocol strings of
// many "BEGIN; INSERT …; COMMIT;" each, which commit one by one but cost
// one round trip per string.
func loadSmallTxns(ctx context.Context, c *pgx.Conn, n, size int) error {
	const txnsPerString = 500
	var b strings.Builder
	flush := func() error {
		if b.Len() == 0 {
			return nil
		}
		_, err := c.Exec(ctx, b.String(), pgx.QueryExecModeSimpleProtocol)
		b.Reset()
		if err != nil {
			return fmt.Errorf("loading %d rows in %d-row transactions: %w", n, size, err)
		}
		return nil
	}
	for i, k := 1, 0; i <= n; i, k = i+size, k+1 {
		fmt.Fprintf(&b, "BEGIN; INSERT INTO public.bench SELECT %s FROM generate_series(%d, %d) g; COMMIT;\n",
			benchRowsSelect, i, min(i+size-1, n))
		if k%txnsPerString == txnsPerString-1 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// createSlot creates a pgoutput logical replication slot.
func createSlot(ctx context.Context, c *pgx.Conn, name string) error {
	if _, err := c.Exec(ctx, `SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, name); err != nil {
		return fmt.Errorf("creating slot %s: %w", name, err)
	}
	return nil
}

// insertLSN returns pg_current_wal_insert_lsn(): the end of the last WAL
// record inserted, whether or not it has been written out yet.
func insertLSN(ctx context.Context, c *pgx.Conn) (uint64, error) {
	var s string
	if err := c.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&s); err != nil {
		return 0, fmt.Errorf("reading the WAL insert position: %w", err)
	}
	return parseLSN(s)
}

// waitSlotActive polls until a walsender holds slot, i.e. its consumer is
// streaming.
func waitSlotActive(ctx context.Context, c *pgx.Conn, slot string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		var active bool
		err := c.QueryRow(ctx, `SELECT active FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&active)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("waiting for slot %s to be active: %w", slot, err)
		}
		if active {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("slot %s not active after %s: %w", slot, timeout, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// recvlogicalPath finds pg_recvlogical next to the server's binaries (the
// same version, and not Debian's Perl wrapper), else on PATH.
func recvlogicalPath(pg *testenv.PG) (string, error) {
	p := filepath.Join(pg.BinDir, "pg_recvlogical")
	if _, err := exec.LookPath(p); err == nil {
		return p, nil
	}
	p, err := exec.LookPath("pg_recvlogical")
	if err != nil {
		return "", fmt.Errorf("pg_recvlogical not in %s nor on PATH (Debian package postgresql-client)", pg.BinDir)
	}
	return p, nil
}

// walsenderCPU follows the CPU time of the walsender that serves a slot:
// it waits for a walsender to hold the slot, then reads its
// /proc/PID/stat every interval until it exits or stop is called. The
// figure lags by at most one interval and one clock tick (10 ms).
type walsenderCPU struct {
	cancel context.CancelFunc
	done   chan struct{}
	cpu    time.Duration // the last sample; read after done is closed
	err    error
}

// followWalsender starts following the walsender of slot in database db
// of pg, on a connection of its own.
func followWalsender(ctx context.Context, pg *testenv.PG, slot string, interval time.Duration) *walsenderCPU {
	ctx, cancel := context.WithCancel(ctx)
	w := &walsenderCPU{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		w.err = w.follow(ctx, pg, slot, interval)
	}()
	return w
}

func (w *walsenderCPU) follow(ctx context.Context, pg *testenv.PG, slot string, interval time.Duration) error {
	c, err := pgx.Connect(ctx, pg.DSN(benchDB))
	if err != nil {
		return fmt.Errorf("connecting to find the walsender: %w", err)
	}
	defer c.Close(context.WithoutCancel(ctx))
	var pid int
	for pid == 0 {
		var p *int
		err := c.QueryRow(ctx, `SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1`, slot).Scan(&p)
		if ctx.Err() != nil {
			return nil // stopped before a walsender took the slot
		}
		if err != nil {
			return fmt.Errorf("finding the walsender of slot %s: %w", slot, err)
		}
		if p != nil {
			pid = *p
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(2 * time.Millisecond):
		}
	}
	path := filepath.Join("/proc", strconv.Itoa(pid), "stat")
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil // the walsender has exited; keep the last sample
		}
		cpu, err := parseProcStatCPU(string(b))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		w.cpu = cpu
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// stop ends the following and returns the walsender's CPU time at the
// last sample.
func (w *walsenderCPU) stop() (time.Duration, error) {
	w.cancel()
	<-w.done
	return w.cpu, w.err
}

// clockTick is the unit of utime and stime in /proc/PID/stat: 1/USER_HZ,
// which is 100 on every Linux architecture Go supports.
const clockTick = 10 * time.Millisecond

// parseProcStatCPU returns utime + stime of a /proc/PID/stat line.
func parseProcStatCPU(stat string) (time.Duration, error) {
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("no command name")
	}
	f := strings.Fields(stat[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("%d fields after the command name, want at least 13", len(f))
	}
	ut, err1 := strconv.ParseUint(f[11], 10, 64)
	st, err2 := strconv.ParseUint(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * clockTick, nil
}
