// Package e2e runs every built-in transform end to end: rows written to a
// private Postgres flow through the postgres source, a transform chain and
// the pipeline into the jsonl (stdout) sink, and the test reads the file.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/checkpoint"
	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/cdcd-dev/cdcd/pipeline"
	"github.com/cdcd-dev/cdcd/sink/stdout"
	"github.com/cdcd-dev/cdcd/source/postgres"
	"github.com/cdcd-dev/cdcd/transform"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// line is one event of the jsonl file, decoded loosely.
type line struct {
	Op     string `json:"op"`
	Source struct {
		Namespace string `json:"namespace"`
		Table     string `json:"table"`
	} `json:"source"`
	Key     map[string]any `json:"key"`
	Before  map[string]any `json:"before"`
	After   map[string]any `json:"after"`
	Topic   string         `json:"topic"`
	Message *struct {
		Prefix  string `json:"prefix"`
		Content []byte `json:"content"`
	} `json:"message"`
}

func (l line) table() string { return l.Source.Namespace + "." + l.Source.Table }

// checkFor polls cond until it holds or d passes.
func checkFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readLines decodes the events written to path so far.
func readLines(t *testing.T, path string) []line {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []line
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		out = append(out, l)
	}
	return out
}

// TestEveryTransformEndToEnd runs one pipeline whose chain holds every
// built-in transform, each limited to a table of its own.
func TestEveryTransformEndToEnd(t *testing.T) {
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `
CREATE TABLE f_orders (id int PRIMARY KEY, status text);
CREATE TABLE c_users (id int PRIMARY KEY, name text, password_hash text);
CREATE TABLE c_prefs (id int PRIMARY KEY, theme text, secret text, other text);
CREATE TABLE m_customers (id int PRIMARY KEY, email text, phone text, ssn text, note text, name text);
CREATE TABLE r_old (id int PRIMARY KEY, nm text);
CREATE TABLE rt_events (id int PRIMARY KEY);
CREATE TABLE s_items (id int PRIMARY KEY, qty int);
CREATE TABLE ob_outbox (id uuid PRIMARY KEY, aggregatetype text, aggregateid text, type text, payload jsonb);
CREATE TABLE bz_noise (id int PRIMARY KEY, pad text);
`)
	specs := []transform.Spec{
		{Type: transform.TypeFilter, Line: 1, Tables: []string{"public.f_orders"}, Ops: []event.Op{event.OpInsert, event.OpUpdate}, Where: "after.status != 'draft'"},
		{Type: transform.TypeFilter, Line: 2, Tables: []string{"public.bz_noise"}, Where: "false"},
		{Type: transform.TypeDropColumns, Line: 3, Tables: []string{"public.c_users"}, Columns: []string{"password_hash"}},
		{Type: transform.TypeIncludeColumns, Line: 4, Tables: []string{"public.c_prefs"}, Columns: []string{"theme"}},
		{Type: transform.TypeMask, Line: 5, Tables: []string{"public.m_customers"}, Columns: []string{"email"}, Method: transform.MaskSHA256, Salt: "pepper"},
		{Type: transform.TypeMask, Line: 6, Tables: []string{"public.m_customers"}, Columns: []string{"phone"}, Method: transform.MaskPartial, Keep: 4},
		{Type: transform.TypeMask, Line: 7, Tables: []string{"public.m_customers"}, Columns: []string{"ssn"}, Method: transform.MaskRedact},
		{Type: transform.TypeMask, Line: 8, Tables: []string{"public.m_customers"}, Columns: []string{"note"}, Method: transform.MaskNull},
		{Type: transform.TypeMask, Line: 9, Tables: []string{"public.m_customers"}, Columns: []string{"name"}, Method: transform.MaskTruncate, Keep: 3},
		{Type: transform.TypeRename, Line: 10, Tables: []string{"public.r_old"}, To: "crm.r_new", RenameColumns: map[string]string{"nm": "name"}},
		{Type: transform.TypeRoute, Line: 11, Tables: []string{"public.rt_events"}, Topic: "audit.{table}.{op}"},
		{Type: transform.TypeSet, Line: 12, Tables: []string{"public.s_items"}, Set: map[string]string{"tenant": "eu-1", "double_qty": "=after.qty * 2", "by": "=source.pipeline"}},
		{Type: transform.TypeOutbox, Line: 13, Tables: []string{"public.ob_outbox"}},
	}
	chain, err := transform.Build(specs, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "events.jsonl")
	store, err := checkpoint.NewFile(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	snk, err := stdout.New(stdout.Options{Pipeline: "tf", Path: out, Store: store, CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	src, err := postgres.New(postgres.Options{DSN: pg.DSN(db), Pipeline: "tf", Tables: []string{"public.*"},
		CreateSlot: true, CreatePublication: true, StatusInterval: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(src, chain, snk, pipeline.Options{Name: "tf", Linger: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("pipeline: %v", err)
		}
	})

	conn := pg.Connect(t, db)
	checkFor(t, 30*time.Second, "the slot is streaming", func() bool {
		select {
		case err := <-done:
			t.Fatalf("pipeline stopped: %v", err)
		default:
		}
		var active bool
		conn.QueryRow(ctx, `SELECT active FROM pg_replication_slots WHERE slot_name = 'cdcd_tf'`).Scan(&active)
		return active
	})

	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	// The busy table first: every event of it is filtered out.
	for range 20 {
		exec(`INSERT INTO bz_noise SELECT i, repeat('x', 500) FROM generate_series(1, 500) i ON CONFLICT (id) DO UPDATE SET pad = excluded.pad || 'y'`)
	}
	var afterNoise string
	if err := conn.QueryRow(ctx, `SELECT pg_current_wal_insert_lsn()::text`).Scan(&afterNoise); err != nil {
		t.Fatal(err)
	}
	exec(`INSERT INTO f_orders VALUES (1, 'draft'), (2, 'new')`)
	exec(`UPDATE f_orders SET status = 'paid' WHERE id = 1`)
	exec(`DELETE FROM f_orders WHERE id = 2`)
	exec(`INSERT INTO c_users VALUES (1, 'ada', 'bcrypt$x')`)
	exec(`INSERT INTO c_prefs VALUES (1, 'dark', 's3cr3t', 'o')`)
	exec(`INSERT INTO m_customers VALUES (1, 'ada@example.com', '+44 20 7946 0958', '123-45-6789', 'vip', 'Ada Lovelace')`)
	exec(`INSERT INTO r_old VALUES (1, 'x')`)
	exec(`INSERT INTO rt_events VALUES (1); DELETE FROM rt_events`)
	exec(`INSERT INTO s_items VALUES (1, 21)`)
	exec(`BEGIN; INSERT INTO ob_outbox VALUES ('4d47e190-0402-4048-bc2c-89dd54343cdc', 'Order', '42', 'OrderCreated', '{"id": 42}'); DELETE FROM ob_outbox; COMMIT`)
	exec(`INSERT INTO f_orders VALUES (99, 'last')`)

	var lines []line
	checkFor(t, 30*time.Second, "the last event", func() bool {
		lines = readLines(t, out)
		return len(lines) > 0 && lines[len(lines)-1].table() == "public.f_orders" && lines[len(lines)-1].After["id"] == 99.0
	})
	byTable := map[string][]line{}
	for _, l := range lines {
		byTable[l.table()] = append(byTable[l.table()], l)
	}

	t.Run("filter", func(t *testing.T) {
		got := byTable["public.f_orders"]
		var desc []string
		for _, l := range got {
			desc = append(desc, l.Op+":"+l.After["status"].(string))
		}
		if s := strings.Join(desc, " "); s != "c:new u:paid c:last" {
			t.Errorf("f_orders events %q, want the non-draft inserts and updates: c:new u:paid c:last", s)
		}
		if n := len(byTable["public.bz_noise"]); n != 0 {
			t.Errorf("%d bz_noise events passed filter false", n)
		}
	})
	t.Run("filter of a busy table still advances the slot", func(t *testing.T) {
		checkFor(t, 30*time.Second, "the slot's confirmed position passes the filtered writes", func() bool {
			var passed bool
			conn.QueryRow(ctx, `SELECT confirmed_flush_lsn >= $1::text::pg_lsn FROM pg_replication_slots WHERE slot_name = 'cdcd_tf'`, afterNoise).Scan(&passed)
			return passed
		})
	})
	t.Run("drop_columns", func(t *testing.T) {
		l := one(t, byTable, "public.c_users")
		if _, ok := l.After["password_hash"]; ok || l.After["name"] != "ada" {
			t.Errorf("after %v, want name without password_hash", l.After)
		}
	})
	t.Run("include_columns", func(t *testing.T) {
		l := one(t, byTable, "public.c_prefs")
		if len(l.After) != 2 || l.After["theme"] != "dark" || l.After["id"] != 1.0 {
			t.Errorf("after %v, want id and theme only", l.After)
		}
	})
	t.Run("mask", func(t *testing.T) {
		l := one(t, byTable, "public.m_customers")
		sum := sha256.Sum256([]byte("pepperada@example.com"))
		want := map[string]any{"id": 1.0, "email": hex.EncodeToString(sum[:]), "phone": "************0958",
			"ssn": "***", "note": nil, "name": "Ada"}
		for k, v := range want {
			if l.After[k] != v {
				t.Errorf("after.%s = %v, want %v", k, l.After[k], v)
			}
		}
	})
	t.Run("rename", func(t *testing.T) {
		l := one(t, byTable, "crm.r_new")
		if l.After["name"] != "x" || len(byTable["public.r_old"]) != 0 {
			t.Errorf("after %v", l.After)
		}
	})
	t.Run("route", func(t *testing.T) {
		got := byTable["public.rt_events"]
		if len(got) != 2 || got[0].Topic != "audit.rt_events.c" || got[1].Topic != "audit.rt_events.d" {
			t.Errorf("rt_events %+v, want topics audit.rt_events.c and .d", got)
		}
	})
	t.Run("set", func(t *testing.T) {
		l := one(t, byTable, "public.s_items")
		if l.After["tenant"] != "eu-1" || l.After["double_qty"] != 42.0 || l.After["by"] != "tf" {
			t.Errorf("after %v", l.After)
		}
	})
	t.Run("outbox", func(t *testing.T) {
		l := one(t, byTable, "public.ob_outbox")
		if l.Op != "m" || l.Topic != "outbox.event.Order" || l.Key["aggregateid"] != "42" || l.Message == nil {
			t.Fatalf("outbox event %+v", l)
		}
		if string(l.Message.Content) != `{"id": 42}` || l.Message.Prefix != "4d47e190-0402-4048-bc2c-89dd54343cdc" {
			t.Errorf("message prefix %q content %q (%s)", l.Message.Prefix, l.Message.Content, base64.StdEncoding.EncodeToString(l.Message.Content))
		}
	})
}

// one returns the only event of table.
func one(t *testing.T, byTable map[string][]line, table string) line {
	t.Helper()
	got := byTable[table]
	if len(got) != 1 {
		t.Fatalf("%d events of %s, want 1: %+v", len(got), table, got)
	}
	return got[0]
}
