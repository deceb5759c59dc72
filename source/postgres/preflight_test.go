package postgres

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/cdcd-dev/cdcd/event"
)

func TestPreflightMessagesCarryTheFix(t *testing.T) {
	cases := []struct {
		err  error
		want []string
	}{
		{walLevelError("replica"), []string{`wal_level is "replica"`, "ALTER SYSTEM SET wal_level = logical;", "restart the server"}},
		{replicationPrivilegeError("app"), []string{`role "app"`, `ALTER ROLE "app" REPLICATION;`}},
		{selectPrivilegeError("app", event.TableID{Namespace: "s", Name: "t"}), []string{`GRANT SELECT ON "s"."t" TO "app";`}},
		{slotsExhaustedError(10, 10), []string{"max_replication_slots = 10", "pg_drop_replication_slot"}},
		{walSendersExhaustedError(10, 10), []string{"max_wal_senders = 10"}},
		{missingTableError("public.ord*"), []string{`"public.ord*" matches no table`}},
		{missingIdentityError([]event.TableID{{Namespace: "public", Name: "log"}}), []string{"public.log", `ALTER TABLE "public"."log" REPLICA IDENTITY FULL;`}},
		{slotLostError("s", event.TxEnd(10)), []string{`slot "s" does not exist`, "may be missing", "re-snapshot", "never recreated silently"}},
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

func openErr(t *testing.T, opts Options) error {
	t.Helper()
	src, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	return src.Open(context.Background(), nil)
}

func TestPreflightRejectsMissingTablesAndTablesWithoutIdentity(t *testing.T) {
	f := newFixture(t, `CREATE TABLE orders (id int PRIMARY KEY); CREATE TABLE log (msg text)`)

	err := openErr(t, f.options("public.orders", "public.nothing*"))
	if !isPermanent(err) || !strings.Contains(err.Error(), `"public.nothing*" matches no table`) {
		t.Errorf("missing table: %v", err)
	}

	err = openErr(t, f.options("public.*"))
	if !isPermanent(err) || !strings.Contains(err.Error(), `ALTER TABLE "public"."log" REPLICA IDENTITY FULL;`) {
		t.Errorf("no identity: %v", err)
	}

	var logs bytes.Buffer
	opts := f.options("public.*")
	opts.MissingIdentity = "warn"
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	src := f.open(opts, nil)
	if !strings.Contains(logs.String(), "REPLICA IDENTITY FULL") {
		t.Errorf("no warning logged: %s", logs.String())
	}
	// The publication lists exactly the resolved tables.
	var tables []string
	rows, err := f.conn().Query(context.Background(), `SELECT tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY 1`, src.Options().Publication)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		tables = append(tables, s)
	}
	if strings.Join(tables, ",") != "log,orders" {
		t.Errorf("publication tables %v", tables)
	}
	src.Close()

	// A narrower configuration narrows the publication it manages.
	f.open(f.options("public.orders"), nil).Close()
	var n int
	f.conn().QueryRow(context.Background(), `SELECT count(*) FROM pg_publication_tables WHERE pubname = $1`, src.Options().Publication).Scan(&n)
	if n != 1 {
		t.Errorf("publication has %d tables after narrowing, want 1", n)
	}
}

func TestPreflightRequiresTheReplicationPrivilege(t *testing.T) {
	f := newFixture(t, `CREATE TABLE t (id int PRIMARY KEY)`)
	f.exec(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'cdcd_norepl') THEN CREATE ROLE cdcd_norepl LOGIN; END IF; END $$`)
	opts := f.options("public.t")
	opts.DSN = strings.Replace(opts.DSN, "postgres@", "cdcd_norepl@", 1)
	err := openErr(t, opts)
	if !isPermanent(err) || !strings.Contains(err.Error(), `ALTER ROLE "cdcd_norepl" REPLICATION;`) {
		t.Errorf("Open = %v", err)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	good := Options{DSN: "postgres://u@h/db", Pipeline: "Orders-Sync", Tables: []string{"public.t*"}}
	src, err := New(good)
	if err != nil {
		t.Fatal(err)
	}
	o := src.Options()
	if o.Slot != "cdcd_orders_sync" || o.Publication != "cdcd_orders_sync" || o.StatusInterval != DefaultStatusInterval ||
		o.MissingIdentity != "error" || o.MaxBatchEvents != DefaultMaxBatchEvents || o.Logger == nil {
		t.Errorf("defaults: %+v", o)
	}
	bad := []struct {
		mutate func(*Options)
		want   string
	}{
		{func(o *Options) { o.DSN = "" }, "dsn is required"},
		{func(o *Options) { o.Pipeline = "" }, "pipeline name is required"},
		{func(o *Options) { o.Tables = nil }, "at least one"},
		{func(o *Options) { o.Tables = []string{"orders"} }, `"orders": want "schema.table"`},
		{func(o *Options) { o.Slot = "Bad-Slot" }, `slot "Bad-Slot"`},
		{func(o *Options) { o.MissingIdentity = "ignore" }, `missing identity "ignore"`},
		{func(o *Options) { o.StatusInterval = -1 }, "status interval"},
	}
	for _, b := range bad {
		o := good
		b.mutate(&o)
		if _, err := New(o); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("New = %v, want an error containing %q", err, b.want)
		}
	}
}
