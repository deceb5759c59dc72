package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidateListsEveryErrorWithFileLineAndKey(t *testing.T) {
	p := writeFile(t, t.TempDir(), "bad.yaml", `pipeline: orders
source:
  type: postgress
  dsn: postgres://localhost/shop
  tables: [public.orders]
sink:
  type: stdout
  stdot: {path: x}
`)
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "--config", p}, &out, &errb); code != exitUsage {
		t.Fatalf("exit %d, want %d", code, exitUsage)
	}
	got := errb.String()
	for _, want := range []string{
		"bad.yaml:3:", "source.type", "postgres", // the enum lists the choices
		"bad.yaml:8:", "stdot", "did you mean stdout", "2 error(s)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("validate output lacks %q:\n%s", want, got)
		}
	}
}

func TestValidateAcceptsARunnableConfig(t *testing.T) {
	p := writeFile(t, t.TempDir(), "ok.yaml", `pipeline: orders
source: {type: postgres, dsn: "postgres://cdc:${PGPW:-x}@db/shop", tables: [public.orders], snapshot: never}
sink: {type: stdout}
`)
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "--config", p}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "pipeline orders: ok") {
		t.Fatalf("output %q", out.String())
	}
}

func TestValidateSaysWhatThisBuildCannotRunYet(t *testing.T) {
	p := writeFile(t, t.TempDir(), "snapshot.yaml", `pipeline: orders
source: {type: postgres, dsn: "postgres://db/shop", tables: [public.orders], snapshot: initial}
sink: {type: kafka, kafka: {brokers: ["k:9092"]}}
`)
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "--config", p}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), `source.snapshot: "initial" is not available in this build yet`) {
		t.Fatalf("exit %d, stderr %q", code, errb.String())
	}
}

func TestVersionAndUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"version"}, &out, &errb); code != exitOK || !strings.HasPrefix(out.String(), "cdcd ") {
		t.Fatalf("version: exit %d, %q", code, out.String())
	}
	if code := run([]string{"frobnicate"}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: exit %d, %q", code, errb.String())
	}
}

// buildBinary builds the cdcd binary once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cdcd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func checkFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer that a child process's output copier and
// the test may use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// adminAddr finds the admin address in cdcd's start-up log line.
func adminAddr(t *testing.T, logs *syncBuffer) string {
	t.Helper()
	var addr string
	checkFor(t, 10*time.Second, "cdcd logs its admin address", func() bool {
		_, after, ok := strings.Cut(logs.String(), "admin=http://")
		if ok {
			addr, _, _ = strings.Cut(after, "\n")
			addr = strings.Fields(addr)[0]
		}
		return ok
	})
	return addr
}

// insertedIDs reads the jsonl file and counts each inserted id.
func insertedIDs(t *testing.T, path string) map[int64]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	seen := map[int64]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var ev struct {
			Op    string `json:"op"`
			After struct {
				ID int64 `json:"id"`
			} `json:"after"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("bad line %q: %v", sc.Text(), err)
		}
		if ev.Op == "c" {
			seen[ev.After.ID]++
		}
	}
	return seen
}

func TestSIGTERMMidStreamExitsZeroAndTheRestartResumesExactly(t *testing.T) {
	bin := buildBinary(t)
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE items (id bigint PRIMARY KEY, note text)`)
	dir := t.TempDir()
	out := filepath.Join(dir, "events.jsonl")
	cfg := writeFile(t, dir, "p.yaml", fmt.Sprintf(`pipeline: sigterm-test
source: {type: postgres, dsn: %q, tables: [public.items], snapshot: never}
sink: {type: stdout, stdout: {path: %q}}
state_dir: %q
admin: {listen: "127.0.0.1:0"}
`, pg.DSN(db), out, filepath.Join(dir, "state")))

	start := func() (*exec.Cmd, *syncBuffer) {
		logs := &syncBuffer{}
		cmd := exec.Command(bin, "run", "--config", cfg, "--log-format", "text")
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, logs
	}
	cmd, logs := start()
	probe := pg.Connect(t, db)
	checkFor(t, 20*time.Second, "the slot is active", func() bool {
		var n int
		probe.QueryRow(context.Background(), `SELECT count(*) FROM pg_replication_slots WHERE active`).Scan(&n)
		return n == 1
	})

	// A writer commits 2,000 one-row transactions; cdcd is stopped in the middle.
	const total = 2000
	writerDone := make(chan struct{})
	writer := pg.Connect(t, db)
	go func() {
		defer close(writerDone)
		for i := 1; i <= total; i++ {
			if _, err := writer.Exec(context.Background(), `INSERT INTO items VALUES ($1, 'x')`, i); err != nil {
				t.Errorf("insert %d: %v", i, err)
				return
			}
		}
	}()
	checkFor(t, 20*time.Second, "some events delivered", func() bool { return len(insertedIDs(t, out)) > 200 })
	var status bytes.Buffer
	if code := run([]string{"status", "--admin", adminAddr(t, logs)}, &status, &status); code != exitOK ||
		!strings.Contains(status.String(), "sigterm-test") || !strings.Contains(status.String(), "streaming") {
		t.Fatalf("cdcd status: exit %d\n%s", code, status.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cdcd exited with %v after SIGTERM, want 0\n%s", err, logs)
	}
	atStop := len(insertedIDs(t, out))
	<-writerDone

	cmd, logs = start()
	defer cmd.Process.Kill()
	checkFor(t, 30*time.Second, "every insert delivered after the restart", func() bool { return len(insertedIDs(t, out)) == total })
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("second run exited with %v\n%s", err, logs)
	}
	// Graceful stops checkpoint what they wrote: no event twice.
	for id, n := range insertedIDs(t, out) {
		if n != 1 {
			t.Fatalf("id %d delivered %d times", id, n)
		}
	}
	t.Logf("stopped after %d of %d inserts; the restart delivered the rest exactly once", atStop, total)
}

func TestValidateCompilesTransformsAndRunsASample(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", `pipeline: orders
source: {type: postgres, dsn: "postgres://db/shop", tables: [public.orders], snapshot: never}
transforms:
  - {type: filter, where: "aftr.status != 'draft'"}
sink: {type: stdout}
`)
	var out, errb bytes.Buffer
	if code := run([]string{"validate", "--config", bad}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "bad.yaml:4") || !strings.Contains(errb.String(), "aftr") {
		t.Fatalf("a CEL typo must be a load-time error with file:line: exit %d, %q", code, errb.String())
	}
	good := writeFile(t, dir, "good.yaml", `pipeline: orders
source: {type: postgres, dsn: "postgres://db/shop", tables: [public.orders], snapshot: never}
transforms:
  - {type: filter, where: "after.status != 'draft'"}
  - {type: mask, tables: [public.orders], columns: [email], method: redact}
sink: {type: stdout}
`)
	sample := writeFile(t, dir, "sample.json", `{"v":1,"id":"1:0000000000000001/00000000","op":"c","source":{"kind":"postgres","pipeline":"orders","db":"shop","namespace":"public","table":"orders","pos":"0000000000000001/00000000","txid":"7","commit_ts":"2026-01-02T03:04:05.000000Z"},"schema_version":1,"key":{"id":1},"before":null,"after":{"id":1,"status":"paid","email":"ada@example.com"},"unchanged":[]}`)
	out.Reset()
	errb.Reset()
	if code := run([]string{"validate", "--config", good, "--sample", sample}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if got := out.String(); !strings.Contains(got, `"email":"***"`) || strings.Contains(got, "ada@example.com") {
		t.Fatalf("the sample must come out masked:\n%s", got)
	}
}
