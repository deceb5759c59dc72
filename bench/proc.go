package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Usage is what the kernel accounted to one finished process.
type Usage struct {
	User, Sys time.Duration
	// MaxRSS is the peak resident set size in bytes: from wait4 in
	// usageFromRusage, replaced by proc.wait with VmHWM sampled from /proc.
	MaxRSS int64
}

// CPU is User + Sys.
func (u Usage) CPU() time.Duration { return u.User + u.Sys }

// RSSMiB is MaxRSS in MiB.
func (u Usage) RSSMiB() float64 { return float64(u.MaxRSS) / (1 << 20) }

// usageFromRusage converts a wait4 rusage. On Linux ru_maxrss is in KiB.
func usageFromRusage(ru *syscall.Rusage) Usage {
	if ru == nil {
		return Usage{}
	}
	tv := func(t syscall.Timeval) time.Duration {
		return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
	}
	return Usage{User: tv(ru.Utime), Sys: tv(ru.Stime), MaxRSS: int64(ru.Maxrss) * 1024}
}

// proc is a child process whose exit is watched in the background, so that
// the harness can poll for progress and notice an early exit.
type proc struct {
	name    string
	cmd     *exec.Cmd
	start   time.Time
	logPath string

	// hwm is the largest VmHWM sampled from /proc, bytes; 0 if none.
	hwm atomic.Int64

	done    chan struct{} // closed when the process has exited
	end     time.Time     // set before done is closed
	waitErr error         // set before done is closed
}

// startProc starts path with args. Its standard output goes to stdout
// (nil: /dev/null) and its standard error to the file logPath. The process
// is killed if ctx ends before it exits.
func startProc(ctx context.Context, name, path string, args []string, stdout *os.File, logPath string) (*proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating %s log: %w", name, err)
	}
	defer logf.Close() // the child has its own copy
	cmd := exec.Command(path, args...)
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.Stderr = logf
	p := &proc{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go p.sampleHWM(20 * time.Millisecond)
	go func() {
		err := cmd.Wait()
		p.end, p.waitErr = time.Now(), err
		close(p.done)
	}()
	context.AfterFunc(ctx, func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
		}
	})
	return p, nil
}

// sampleHWM records the process's VmHWM (its own peak RSS since exec)
// every interval until it exits; growth in its last interval is missed.
func (p *proc) sampleHWM(interval time.Duration) {
	path := fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if data, err := os.ReadFile(path); err == nil {
			if n, ok := parseVmHWM(string(data)); ok && n > p.hwm.Load() {
				p.hwm.Store(n)
			}
		}
		select {
		case <-p.done:
			return
		case <-t.C:
		}
	}
}

// parseVmHWM returns the VmHWM line of a /proc/PID/status, in bytes.
func parseVmHWM(status string) (int64, bool) {
	for _, line := range strings.Split(status, "\n") {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, false
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, false
		}
		return n * 1024, true
	}
	return 0, false
}

// exited reports whether the process has exited.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait blocks until the process exits or ctx ends, and returns its usage
// and its wall time since start. A non-zero exit is an error that quotes
// the end of the process's log.
func (p *proc) wait(ctx context.Context) (Usage, time.Duration, error) {
	select {
	case <-p.done:
	case <-ctx.Done():
		p.cmd.Process.Kill()
		<-p.done
		return Usage{}, 0, fmt.Errorf("waiting for %s: %w", p.name, ctx.Err())
	}
	wall := p.end.Sub(p.start)
	var u Usage
	if ps := p.cmd.ProcessState; ps != nil {
		ru, _ := ps.SysUsage().(*syscall.Rusage)
		u = usageFromRusage(ru)
	}
	// wait4's ru_maxrss is no good here: Go starts children with
	// CLONE_VM|CLONE_VFORK and Linux keeps the parent's peak RSS across
	// exec, so every child would report at least the harness's own peak
	// (hundreds of MiB with an in-process Kafka broker).
	u.MaxRSS = p.hwm.Load()
	if p.waitErr != nil {
		return u, wall, fmt.Errorf("%s: %w%s", p.name, p.waitErr, p.logTail())
	}
	return u, wall, nil
}

// stop sends SIGTERM and waits for the exit like wait.
func (p *proc) stop(ctx context.Context) (Usage, time.Duration, error) {
	if !p.exited() {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return Usage{}, 0, fmt.Errorf("stopping %s: %w", p.name, err)
		}
	}
	return p.wait(ctx)
}

// dumpAndKill sends SIGQUIT, which makes a Go program print every
// goroutine's stack to its standard error (our log) and exit, and waits
// for the exit. For diagnosing a stalled cdcd.
func (p *proc) dumpAndKill() {
	if p.exited() {
		return
	}
	p.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// logTail returns the last lines of the process's log, for error messages.
func (p *proc) logTail() string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 4 << 10
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - max
	if off < 0 {
		off = 0
	}
	b, _ := io.ReadAll(io.NewSectionReader(f, off, max))
	s := strings.TrimSpace(string(b))
	if s == "" {
		return ""
	}
	return fmt.Sprintf("; end of %s:\n%s", p.logPath, s)
}
