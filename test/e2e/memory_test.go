package e2e

import (
	"bytes"
	"context"
	"io"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// TestMillionRowTransactionStreamsInBoundedMemory commits one INSERT …
// SELECT of 1,000,000 rows while the sink stalls (it writes into a FIFO
// nobody reads), so that every queue between the walsender and the sink
// fills to its bound, then lets it drain. cdcd must deliver every row with
// a peak RSS under 150 MB: a transaction is streamed in bounded parts,
// never held whole.
func TestMillionRowTransactionStreamsInBoundedMemory(t *testing.T) {
	const rows = 1_000_000
	const limit = 150 << 20
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE big (id int PRIMARY KEY, v int NOT NULL, s text NOT NULL);
		CREATE TABLE marker (id int PRIMARY KEY)`)
	s := newSetup(t, pg, db, "million", []string{"public.big", "public.marker"}, extra{Sink: "fsync: false"})
	if err := syscall.Mkfifo(s.out, 0o600); err != nil {
		t.Fatal(err)
	}
	p := s.start()

	// The reader: stalled until release is closed, then counts lines
	// until cdcd exits (EOF once no writer is left).
	release := make(chan struct{})
	var lines atomic.Int64
	counted := make(chan int64, 1)
	opened := make(chan *os.File, 1)
	go func() {
		f, err := os.Open(s.out) // returns once cdcd opened it
		if err != nil {
			t.Error(err)
			close(opened)
			counted <- -1
			return
		}
		defer f.Close()
		opened <- f
		<-release
		buf := make([]byte, 1<<20)
		for {
			k, err := f.Read(buf)
			lines.Add(int64(bytes.Count(buf[:k], []byte{'\n'})))
			if err == io.EOF {
				counted <- lines.Load()
				return
			}
			if err != nil {
				t.Error(err)
				counted <- -1
				return
			}
		}
	}()
	var released bool
	defer func() {
		if !released {
			close(release)
		}
	}()
	fifo := <-opened
	if fifo == nil {
		t.FailNow()
	}
	fd := fifo.Fd()

	conn := pg.Connect(t, db)
	ctx := context.Background()
	checkFor(t, 30*time.Second, "the slot is streaming", func() bool {
		p.mustRun(t)
		var active bool
		conn.QueryRow(ctx, `SELECT active FROM pg_replication_slots WHERE slot_name = 'cdcd_million'`).Scan(&active)
		return active
	})
	start := time.Now()
	if _, err := conn.Exec(ctx, `INSERT INTO big SELECT i, i * 7, 'row ' || i FROM generate_series(1, $1) i`, rows); err != nil {
		t.Fatal(err)
	}
	inserted := time.Since(start)
	if _, err := conn.Exec(ctx, `INSERT INTO marker VALUES (1)`); err != nil {
		t.Fatal(err)
	}

	// The sink stalls: once the FIFO is full, cdcd's writes block, its
	// queues fill, and its memory stops growing.
	checkFor(t, 60*time.Second, "the sink's FIFO is full", func() bool {
		p.mustRun(t)
		return pipeBytes(t, fd) >= 32<<10
	})
	var stalled int64
	stable := time.Now()
	checkFor(t, 60*time.Second, "cdcd's memory stops growing while the sink stalls", func() bool {
		p.mustRun(t)
		rss := procStatus(t, p.cmd.Process.Pid, "VmRSS")
		if rss > stalled+1<<20 {
			stalled, stable = rss, time.Now()
		}
		return time.Since(stable) > 2*time.Second
	})
	released = true
	close(release)
	checkFor(t, 120*time.Second, "every row and the marker are delivered", func() bool {
		p.mustRun(t)
		return lines.Load() >= rows+1
	})
	delivered := time.Since(start)
	p.stop(t, 20*time.Second)
	if n := <-counted; n != rows+1 {
		t.Errorf("the sink wrote %d events, want %d", n, rows+1)
	}
	rss := p.peakRSS()
	cpu := p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
	t.Logf("insert %s; delivered %s after the insert began; cdcd used %s of CPU; RSS %.1f MB with the sink stalled, peak %.1f MB",
		inserted.Round(100*time.Millisecond), delivered.Round(100*time.Millisecond), cpu.Round(100*time.Millisecond),
		float64(stalled)/(1<<20), float64(rss)/(1<<20))
	if rss >= limit {
		t.Errorf("peak RSS %d bytes, want under %d", rss, limit)
	}
}

// pipeBytes returns how many bytes wait in the pipe fd (FIONREAD).
func pipeBytes(t *testing.T, fd uintptr) int {
	t.Helper()
	var n int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n))); errno != 0 {
		t.Fatalf("FIONREAD: %v", errno)
	}
	return int(n)
}

// procStatus returns a "kB" field of /proc/<pid>/status in bytes.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", l, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
