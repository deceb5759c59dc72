package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDemoStreamsChangesAndStopsCleanly is `make demo` without a terminal:
// the real binary, a private Postgres, a few seconds of writes, a SIGTERM.
func TestDemoStreamsChangesAndStopsCleanly(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "cdcd")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/cdcd").CombinedOutput(); err != nil {
		t.Fatalf("building cdcd: %v\n%s", err, out)
	}
	var stdout, stderr bytes.Buffer
	res, err := run(context.Background(), options{cdcd: bin, duration: 6 * time.Second, rate: 20}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr.String())
	}
	if res.changes < 10 {
		t.Fatalf("the generator made only %d changes", res.changes)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	// Changes committed in the instant before SIGTERM may not have reached
	// cdcd yet; they are not lost, the next run would stream them.
	if int64(len(lines)) != res.events || res.events > res.changes || res.events < res.changes-20 {
		t.Fatalf("the consumer got %d events (%d lines) for %d changes\nlogs:\n%s", res.events, len(lines), res.changes, stderr.String())
	}
	first := lines[0]
	if !strings.HasPrefix(first, "cdc.public.orders[0]@0 key={\"id\":1} ") {
		t.Fatalf("first line %q is not the first record of cdc.public.orders", first)
	}
	var ev struct {
		V      int            `json:"v"`
		Op     string         `json:"op"`
		Source map[string]any `json:"source"`
	}
	if err := json.Unmarshal([]byte(first[strings.Index(first, " {")+1:]), &ev); err != nil || ev.V != 1 || ev.Op != "c" || ev.Source["table"] != "orders" {
		t.Fatalf("first record %q is not an insert into orders (%v)", first, err)
	}
}
