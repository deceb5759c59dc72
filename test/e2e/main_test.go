// Package e2e runs the real cdcd binary against private servers and checks
// the promises that only show from outside the process: what survives a
// kill -9, how much memory a huge transaction costs, and that an idle
// pipeline lets its replication slot release WAL.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// binary is the cdcd binary, built once per test process.
var binary struct {
	once sync.Once
	path string
	err  error
}

// cdcdBinary builds ../../cmd/cdcd on first use into
// os.TempDir()/cdcd-e2e-<uid>/cdcd.<pid> (the binaries of dead test
// processes are removed then) and returns its path.
func cdcdBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		dir := filepath.Join(os.TempDir(), "cdcd-e2e-"+strconv.Itoa(os.Geteuid()))
		if binary.err = os.MkdirAll(dir, 0o755); binary.err != nil {
			return
		}
		old, _ := filepath.Glob(filepath.Join(dir, "cdcd.*"))
		for _, o := range old {
			pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Ext(o), "."))
			if err == nil && syscall.Kill(pid, 0) != nil {
				os.Remove(o)
			}
		}
		binary.path = filepath.Join(dir, "cdcd."+strconv.Itoa(os.Getpid()))
		out, err := exec.Command("go", "build", "-o", binary.path, "../../cmd/cdcd").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// setup is one pipeline's files: its config, jsonl output and state.
type setup struct {
	t        *testing.T
	pipeline string
	dir      string
	config   string
	out      string // the jsonl file
	stateDir string
}

// extra adds settings to a setup's config: Source to source.postgres,
// Sink to sink.stdout (YAML flow mapping entries, e.g. "fsync: false"),
// Top to the top level (YAML lines).
type extra struct{ Source, Sink, Top string }

// newSetup writes a config for pipeline reading tables of database db on
// pg into a jsonl file.
func newSetup(t *testing.T, pg *testenv.PG, db, pipeline string, tables []string, x extra) *setup {
	t.Helper()
	dir := t.TempDir()
	s := &setup{t: t, pipeline: pipeline, dir: dir,
		out: filepath.Join(dir, "events.jsonl"), stateDir: filepath.Join(dir, "state")}
	quoted := make([]string, len(tables))
	for i, tb := range tables {
		quoted[i] = strconv.Quote(tb)
	}
	cfg := fmt.Sprintf(`pipeline: %s
source:
  type: postgres
  dsn: %q
  tables: [%s]
  snapshot: never
  postgres: {%s}
sink:
  type: stdout
  stdout: {path: %q%s}
state_dir: %q
admin: {listen: "127.0.0.1:0"}
%s`, pipeline, pg.DSN(db), strings.Join(quoted, ", "), x.Source, s.out, prefixComma(x.Sink), s.stateDir, x.Top)
	s.config = filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(s.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func prefixComma(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

// proc is a running cdcd.
type proc struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{} // closed when it exited; then err is set
	err  error
}

// start runs `cdcd run` on the setup's config; the process is killed at
// the end of the test if it still runs.
func (s *setup) start() *proc {
	s.t.Helper()
	p := &proc{logs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(cdcdBinary(s.t), "run", "--config", s.config, "--log-format", "text")
	p.cmd.Stderr = p.logs
	p.cmd.Stdout = p.logs
	if err := p.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	s.t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	<-p.done
}

// stop sends SIGTERM and fails the test unless cdcd exits 0 within d.
func (p *proc) stop(t *testing.T, d time.Duration) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(d):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("cdcd did not stop within %s after SIGTERM\n%s", d, p.logs)
	}
	if p.err != nil {
		t.Fatalf("cdcd exited with %v after SIGTERM\n%s", p.err, p.logs)
	}
}

// mustRun fails the test, with the logs, if the process has exited.
func (p *proc) mustRun(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("cdcd exited early: %v\n%s", p.err, p.logs)
	default:
	}
}

// peakRSS returns the peak resident set size of the exited process.
func (p *proc) peakRSS() int64 {
	ru, ok := p.cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return -1
	}
	return ru.Maxrss << 10 // KiB on Linux
}

// syncBuffer is a bytes.Buffer safe for a writing process and a reading test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// checkpoint returns the position in the pipeline's checkpoint file, and
// false when there is none yet.
func (s *setup) checkpoint() (event.Position, bool) {
	s.t.Helper()
	data, err := os.ReadFile(filepath.Join(s.stateDir, s.pipeline+".checkpoint.json"))
	if errors.Is(err, os.ErrNotExist) {
		return event.Position{}, false
	}
	if err != nil {
		s.t.Fatal(err)
	}
	var cp struct {
		Pos event.Position `json:"pos"`
	}
	if err := json.Unmarshal(data, &cp); err != nil {
		s.t.Fatalf("checkpoint file %q: %v", data, err)
	}
	return cp.Pos, true
}

// line is what the tests read of one jsonl event.
type line struct {
	ID     string `json:"id"`
	Op     string `json:"op"`
	Source struct {
		Pos   string `json:"pos"`
		Table string `json:"table"`
	} `json:"source"`
	After map[string]json.RawMessage `json:"after"`

	pos event.Position
	off int64 // byte offset of the line in the file
}

// readLines parses the jsonl file from byte offset from; every line must be
// a whole, valid event. It returns the events and the offset after the
// last newline (a torn last line, left by a kill, is not returned).
func readLines(t *testing.T, path string, from int64) ([]line, int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, 0
	}
	if err != nil {
		t.Fatal(err)
	}
	end := int64(bytes.LastIndexByte(data, '\n') + 1)
	if end <= from {
		return nil, from
	}
	var out []line
	sc := bufio.NewScanner(bytes.NewReader(data[from:end]))
	sc.Buffer(nil, 1<<20)
	off := from
	for sc.Scan() {
		l := line{off: off}
		off += int64(len(sc.Bytes())) + 1
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: invalid line %q: %v", path, sc.Text(), err)
		}
		if l.pos, err = event.ParsePosition(l.Source.Pos); err != nil {
			t.Fatalf("%s: line %q: %v", path, sc.Text(), err)
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out, end
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkFor polls cond every 50ms until it holds, failing the test after d.
func checkFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("after %s: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// queryInt runs a query returning one integer on a new connection.
func queryInt(t *testing.T, pg *testenv.PG, db, sql string, args ...any) int64 {
	t.Helper()
	c := pg.Connect(t, db)
	defer c.Close(context.Background())
	var n int64
	if err := c.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}
