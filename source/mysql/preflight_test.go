package mysql

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

func TestPreflightMessagesCarryTheFix(t *testing.T) {
	cases := []struct {
		err  error
		want []string
	}{
		{logBinError(), []string{"binary log is off", "log_bin", "restart"}},
		{binlogFormatError("STATEMENT"), []string{"binlog_format is STATEMENT", "SET GLOBAL binlog_format = 'ROW';", "my.cnf"}},
		{binlogRowImageError("MINIMAL"), []string{"binlog_row_image is MINIMAL", "SET GLOBAL binlog_row_image = 'FULL';"}},
		{rowValueOptionsError("PARTIAL_JSON"), []string{"SET GLOBAL binlog_row_value_options = '';"}},
		{privilegeError("'cdc'@'%'", "REPLICATION SLAVE", flavorMySQL, nil), []string{"lacks the REPLICATION SLAVE privilege", "GRANT REPLICATION SLAVE ON *.* TO 'cdc'@'%';"}},
		{privilegeError("'cdc'@'%'", "REPLICATION CLIENT", flavorMariaDB, nil), []string{"GRANT BINLOG MONITOR ON *.* TO 'cdc'@'%';"}},
		{selectPrivilegeError("'cdc'@'%'", event.TableID{Namespace: "shop", Name: "orders"}, nil), []string{"GRANT SELECT ON `shop`.`orders` TO 'cdc'@'%';"}},
		{missingTableError("shop.ord*", "'cdc'@'%'"), []string{`"shop.ord*" matches no table`}},
		{serverIDClashError(7, "the replica at h:3306"), []string{"server id 7 is already used by the replica at h:3306", "server_id"}},
		{purgedError("mysql-bin.000001", "mysql-bin.000003"), []string{"binlog mysql-bin.000001 is no longer on the server; the oldest is mysql-bin.000003", "re-snapshot with snapshot: when_needed", "delete the pipeline's checkpoint"}},
	}
	for _, c := range cases {
		if !isPermanent(c.err) {
			t.Errorf("%v is not permanent", c.err)
		}
		for _, w := range c.want {
			if !strings.Contains(c.err.Error(), w) {
				t.Errorf("%q does not contain %q", c.err, w)
			}
		}
	}
}

// openErr opens a source with opts at cp and returns Open's error.
func openErr(t *testing.T, opts Options, cp *event.Checkpoint) error {
	t.Helper()
	src, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return src.Open(ctx, cp)
}

func wantPermanent(t *testing.T, what string, err error, contains ...string) {
	t.Helper()
	if !isPermanent(err) {
		t.Errorf("%s: Open = %v, want a permanent error", what, err)
		return
	}
	for _, c := range contains {
		if !strings.Contains(err.Error(), c) {
			t.Errorf("%s: %q does not contain %q", what, err, c)
		}
	}
}

func TestPreflightOnAMisconfiguredServer(t *testing.T) {
	m := privateServer(t)
	f := privateFixture(t, m, `CREATE TABLE t (id int PRIMARY KEY)`)

	t.Run("binlog_format", func(t *testing.T) {
		f.exec(`SET GLOBAL binlog_format = 'STATEMENT'`)
		defer f.exec(`SET GLOBAL binlog_format = 'ROW'`)
		wantPermanent(t, "STATEMENT", openErr(t, f.options("t"), nil), "binlog_format is STATEMENT", "SET GLOBAL binlog_format = 'ROW';")
		f.exec(`SET GLOBAL binlog_format = 'MIXED'`)
		wantPermanent(t, "MIXED", openErr(t, f.options("t"), nil), "binlog_format is MIXED")
	})
	t.Run("binlog_row_image", func(t *testing.T) {
		f.exec(`SET GLOBAL binlog_row_image = 'MINIMAL'`)
		defer f.exec(`SET GLOBAL binlog_row_image = 'FULL'`)
		wantPermanent(t, "MINIMAL", openErr(t, f.options("t"), nil), "binlog_row_image is MINIMAL", "SET GLOBAL binlog_row_image = 'FULL';")
	})
	t.Run("privileges", func(t *testing.T) {
		f.exec(`CREATE USER cdc@'%'`)
		f.exec(`GRANT SELECT ON app.* TO cdc@'%'`)
		opts := f.options("t")
		opts.DSN = strings.Replace(opts.DSN, "root@", "cdc@", 1)
		wantPermanent(t, "no BINLOG MONITOR", openErr(t, opts, nil), "lacks the REPLICATION CLIENT privilege", "GRANT BINLOG MONITOR ON *.* TO 'cdc'@'%';")
		f.exec(`GRANT BINLOG MONITOR ON *.* TO cdc@'%'`)
		wantPermanent(t, "no REPLICATION SLAVE", openErr(t, opts, nil), "lacks the REPLICATION SLAVE privilege", "GRANT REPLICATION SLAVE ON *.* TO 'cdc'@'%';")
		f.exec(`GRANT REPLICATION SLAVE ON *.* TO cdc@'%'`)
		f.exec(`REVOKE SELECT ON app.* FROM cdc@'%'`)
		f.exec(`GRANT INSERT ON app.t TO cdc@'%'`)
		wantPermanent(t, "no SELECT", openErr(t, opts, nil), "may not SELECT from table app.t", "GRANT SELECT ON `app`.`t` TO 'cdc'@'%';")
		f.exec(`GRANT SELECT ON app.t TO cdc@'%'`)
		if err := openErr(t, opts, nil); err != nil {
			t.Errorf("with every privilege: %v", err)
		}
	})
	t.Run("purged binlog", func(t *testing.T) {
		opts := f.options("t")
		src := f.open(opts, nil)
		f.exec(`INSERT INTO t VALUES (1)`)
		cp := read(t, src).Checkpoint
		src.Close()
		f.exec(`FLUSH BINARY LOGS`)
		f.exec(`FLUSH BINARY LOGS`)
		r, err := m.Connect(t, "").Execute(`SHOW MASTER STATUS`)
		if err != nil {
			t.Fatal(err)
		}
		current, _ := r.GetString(0, 0)
		// MariaDB keeps a binlog until its binlog checkpoint passed it
		// (and while a dump thread reads it): purge until it is gone.
		checkFor(t, 10*time.Second, "the old binlogs are purged", func() bool {
			f.exec(`PURGE BINARY LOGS TO '` + current + `'`)
			r, err := m.Connect(t, "").Execute(`SHOW BINARY LOGS`)
			if err != nil {
				t.Fatal(err)
			}
			first, _ := r.GetString(0, 0)
			return first == current
		})
		err = openErr(t, opts, &cp)
		wantPermanent(t, "purged", err, "is no longer on the server; the oldest is "+current, "re-snapshot")
	})
	t.Run("server id", func(t *testing.T) {
		opts := f.options("t")
		opts.ServerID = 1 // the server's own
		wantPermanent(t, "own id", openErr(t, opts, nil), "server id 1 is already used by the server itself")
		opts = f.options("t")
		f.open(opts, nil)
		wantPermanent(t, "clash", openErr(t, opts, nil), "is already used by the replica at")
	})
}

func TestPreflightWithTheBinaryLogOff(t *testing.T) {
	m := privateServer(t, "--skip-log-bin")
	f := privateFixture(t, m, `CREATE TABLE t (id int PRIMARY KEY)`)
	wantPermanent(t, "log_bin off", openErr(t, f.options("t"), nil), "binary log is off")
}

func TestPreflightRejectsPatternsThatMatchNothing(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	opts := f.options("t", "nothing*")
	wantPermanent(t, "missing table", openErr(t, opts, nil), `"`+f.db+`.nothing*" matches no table`)
}

func TestNewValidatesOptions(t *testing.T) {
	good := Options{DSN: "cdc:pw@tcp(db:3306)/shop", Pipeline: "p", Tables: []string{"shop.t*"}, ServerID: 42}
	src, err := New(good)
	if err != nil {
		t.Fatal(err)
	}
	o := src.Options()
	if o.Heartbeat != DefaultHeartbeat || o.ZeroDate != "null" || o.MaxBatchEvents != DefaultMaxBatchEvents ||
		o.MaxBatchBytes != DefaultMaxBatchBytes || o.QueueBatches != DefaultQueueBatches || o.Logger == nil {
		t.Errorf("defaults: %+v", o)
	}
	if src.dsn != (dsn{user: "cdc", password: "pw", addr: "db:3306", db: "shop"}) {
		t.Errorf("dsn %+v", src.dsn)
	}
	bad := []struct {
		mutate func(*Options)
		want   string
	}{
		{func(o *Options) { o.DSN = "" }, "dsn is required"},
		{func(o *Options) { o.DSN = "cdc@tcp(db)/shop?parseTime=true" }, "parameters"},
		{func(o *Options) { o.DSN = "cdc@db:3306/shop" }, "tcp(host:port)"},
		{func(o *Options) { o.DSN = "tcp(db:3306)/shop" }, "a user is required"},
		{func(o *Options) { o.Pipeline = "" }, "pipeline name is required"},
		{func(o *Options) { o.Tables = nil }, "at least one"},
		{func(o *Options) { o.Tables = []string{"orders"} }, `"orders": want "db.table"`},
		{func(o *Options) { o.ServerID = 0 }, "server id is required"},
		{func(o *Options) { o.ZeroDate = "zero" }, `zero date "zero"`},
		{func(o *Options) { o.Heartbeat = -1 }, "heartbeat"},
	}
	for _, b := range bad {
		o := good
		b.mutate(&o)
		if _, err := New(o); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("New = %v, want an error containing %q", err, b.want)
		}
	}
	for in, want := range map[string]dsn{
		"u@tcp(h)/":            {user: "u", addr: "h:3306"},
		"u:p:q@tcp([::1]:1)/d": {user: "u", password: "p:q", addr: "[::1]:1", db: "d"},
		"u@unix(/run/m.sock)/": {user: "u", addr: "/run/m.sock"},
		"u@/d":                 {user: "u", addr: "127.0.0.1:3306", db: "d"},
	} {
		if got, err := parseDSN(in); err != nil || got != want {
			t.Errorf("parseDSN(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
}
