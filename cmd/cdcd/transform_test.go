package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// TestRunAppliesTheConfiguredTransforms: the binary's run wiring builds the
// chain from the config: drafts are filtered out, emails masked.
func TestRunAppliesTheConfiguredTransforms(t *testing.T) {
	bin := buildBinary(t)
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE orders (id bigint PRIMARY KEY, status text, email text)`)
	dir := t.TempDir()
	out := filepath.Join(dir, "events.jsonl")
	cfg := writeFile(t, dir, "p.yaml", fmt.Sprintf(`pipeline: transformed
source: {type: postgres, dsn: %q, tables: [public.orders], snapshot: never}
transforms:
  - {type: filter, where: "after.status != 'draft'"}
  - {type: mask, tables: [public.orders], columns: [email], method: redact}
sink: {type: stdout, stdout: {path: %q}}
state_dir: %q
admin: {listen: "127.0.0.1:0"}
`, pg.DSN(db), out, filepath.Join(dir, "state")))
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "run", "--config", cfg, "--log-format", "text")
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	probe := pg.Connect(t, db)
	checkFor(t, 30*time.Second, "the slot is active", func() bool {
		var n int
		probe.QueryRow(context.Background(), `SELECT count(*) FROM pg_replication_slots WHERE active`).Scan(&n)
		return n == 1
	})
	pg.Exec(t, db, `INSERT INTO orders VALUES (1, 'draft', 'ada@example.com'), (2, 'paid', 'grace@example.com'), (3, 'paid', 'ken@example.com')`)
	checkFor(t, 20*time.Second, "the kept events delivered", func() bool { return len(insertedIDs(t, out)) == 2 })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cdcd exited with %v\n%s", err, logs)
	}
	data, _ := os.ReadFile(out)
	got := string(data)
	if ids := insertedIDs(t, out); ids[1] != 0 || ids[2] != 1 || ids[3] != 1 {
		t.Fatalf("ids %v: the draft must be filtered, the others kept once", ids)
	}
	if strings.Contains(got, "@example.com") || strings.Count(got, `"email":"***"`) != 2 {
		t.Fatalf("emails must be redacted:\n%s", got)
	}
}
