package testenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// dirPrefix starts the name of every directory this package makes under
// os.TempDir.
const dirPrefix = "cdcd-testenv-"

// Main runs the package's tests, then closes every server they started
// (shared or not) and exits with the tests' exit code, or 1 when closing
// failed. Use it as the whole of TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if err := closeAll(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: closing servers: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// registry holds a close function for every server that is running, so that
// Main can close what the tests left.
var registry struct {
	mu      sync.Mutex
	closers map[any]func() error
}

func register(key any, closeFn func() error) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	if registry.closers == nil {
		registry.closers = make(map[any]func() error)
	}
	registry.closers[key] = closeFn
}

func unregister(key any) {
	registry.mu.Lock()
	defer registry.mu.Unlock()
	delete(registry.closers, key)
}

func closeAll() error {
	registry.mu.Lock()
	fns := make([]func() error, 0, len(registry.closers))
	for _, fn := range registry.closers {
		fns = append(fns, fn)
	}
	registry.mu.Unlock()
	var errs []error
	for _, fn := range fns {
		errs = append(errs, fn())
	}
	return errors.Join(errs...)
}

// shared is a server started on first use and kept for the whole process.
// A failed start is remembered: every later call reports the same error.
type shared[T any] struct {
	mu   sync.Mutex
	done bool
	v    T
	err  error
}

func (s *shared[T]) get(start func(context.Context) (T, error)) (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		s.v, s.err = start(ctx)
		cancel()
		s.done = true
	}
	return s.v, s.err
}

// spawner starts child processes from one OS thread that never exits.
// The parent-death signal (Pdeathsig) fires when the thread that forked the
// child exits, not the process; Go may end a thread, so we fork from a
// thread we keep locked for the life of the process.
var spawner struct {
	once sync.Once
	reqs chan spawnReq
}

type spawnReq struct {
	cmd  *exec.Cmd
	errc chan error
}

func spawn(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for r := range spawner.reqs {
				r.errc <- r.cmd.Start()
			}
		}()
	})
	errc := make(chan error, 1)
	spawner.reqs <- spawnReq{cmd: cmd, errc: errc}
	return <-errc
}

// osUser is the account a server runs as when we are root.
type osUser struct {
	name     string
	uid, gid uint32
}

// serverUser returns the account named name when we are root, and nil (run
// as ourselves) otherwise.
func serverUser(name, pkg string) (*osUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("testenv: running as root, the server must run as the OS user %q: %w (apt-get install %s creates it)", name, err, pkg)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("testenv: uid of %q: %w", name, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("testenv: gid of %q: %w", name, err)
	}
	return &osUser{name: name, uid: uint32(uid), gid: uint32(gid)}, nil
}

// chownAll gives dir and everything in it to u; a nil u changes nothing.
func chownAll(dir string, u *osUser) error {
	if u == nil {
		return nil
	}
	return filepath.WalkDir(dir, func(path string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(path, int(u.uid), int(u.gid))
	})
}

// childEnv is our environment without the variables that libpq, Postgres
// and MariaDB programs read, so the caller's settings cannot leak in.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "PG") || strings.HasPrefix(k, "MYSQL") || strings.HasPrefix(k, "MARIADB") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// process is a running server program that we own.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the program has exited
	err  error         // its exit status, set before done is closed
}

// startProcess starts bin with args in dir, as u (nil: as ourselves), with
// stdout and stderr appended to logPath. The program gets SIGKILL if this
// process dies.
func startProcess(bin string, args []string, dir string, u *osUser, logPath string) (*process, error) {
	lf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("testenv: open log: %w", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = childEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Pdeathsig: syscall.SIGKILL,
		Setpgid:   true, // a terminal's Ctrl-C goes to the tests, which then stop the servers
	}
	if u != nil {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.uid, Gid: u.gid}
	}
	if err := spawn(cmd); err != nil {
		lf.Close()
		return nil, fmt.Errorf("testenv: start %s: %w", bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits for the program to exit. When ctx ends first, it
// kills the program and returns ctx's error.
func (p *process) stop(ctx context.Context, sig syscall.Signal) error {
	if p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("testenv: signal %v to pid %d: %w", sig, p.cmd.Process.Pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("testenv: waiting for pid %d to exit after %v: %w", p.cmd.Process.Pid, sig, ctx.Err())
	}
}

// run runs a program to completion (initdb, mariadb-install-db).
func run(ctx context.Context, name, bin string, args []string, dir string, u *osUser, logPath string) error {
	off := fileSize(logPath)
	p, err := startProcess(bin, args, dir, u, logPath)
	if err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		<-p.done
		return &StartError{Server: name, LogFile: logPath, Log: logTail(logPath, off), Err: ctx.Err()}
	}
	if p.err != nil {
		return &StartError{Server: name, LogFile: logPath, Log: logTail(logPath, off), Err: p.err}
	}
	return nil
}

// readyTimeout bounds how long a server may take to accept connections,
// whatever the caller's context says.
const readyTimeout = 2 * time.Minute

// waitReady polls ready until it succeeds, the program exits, or ctx ends
// (or readyTimeout passes); then it kills the program.
func waitReady(ctx context.Context, name string, p *process, logPath string, logOff int64, ready func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	fail := func(err error) error {
		return &StartError{Server: name, LogFile: logPath, Log: logTail(logPath, logOff), Err: err}
	}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		if p.exited() {
			return fail(fmt.Errorf("exited before accepting connections: %v", p.err))
		}
		actx, cancel := context.WithTimeout(ctx, time.Second)
		last = ready(actx)
		cancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			_ = p.cmd.Process.Kill()
			<-p.done
			return fail(fmt.Errorf("not ready (%v): %w", last, ctx.Err()))
		case <-p.done:
		case <-tick.C:
		}
	}
}

// addrInUse reports whether a failed start lost its port to someone else.
func addrInUse(err error) bool {
	var se *StartError
	return errors.As(err, &se) && strings.Contains(se.Log, "already in use")
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("testenv: find a free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("testenv: find a free port: %w", err)
	}
	return port, nil
}

// portAttempts is how many ports a start tries when it loses one.
const portAttempts = 5

var sweepOnce sync.Once

// newServerDir makes a directory for one server, owned by u, and records
// our pid in it so that a later process can remove it if we die.
func newServerDir(kind string, u *osUser) (string, error) {
	sweepOnce.Do(sweepStale)
	dir, err := os.MkdirTemp(os.TempDir(), dirPrefix+kind+"-")
	if err != nil {
		return "", fmt.Errorf("testenv: make server directory: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("testenv: make server directory: %w", err)
	}
	if err := chownAll(dir, u); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("testenv: give %s to %s: %w", dir, u.name, err)
	}
	return dir, nil
}

// sweepStale removes the server directories of test processes that died
// without cleaning up (their servers died with them).
func sweepStale() {
	tmp := os.TempDir()
	entries, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), dirPrefix) || strings.HasPrefix(e.Name(), cachePrefix) {
			continue
		}
		dir := filepath.Join(tmp, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, "owner.pid"))
		if err != nil {
			// Being made right now, or not ours to judge: only remove it when old.
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > time.Hour {
				os.RemoveAll(dir)
			}
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 || processAlive(pid) {
			continue
		}
		os.RemoveAll(dir)
	}
}

// cachePrefix starts the name of the per-user template cache under
// os.TempDir, which the sweep leaves alone.
const cachePrefix = dirPrefix + "cache-"

// template returns a directory made by build and kept across processes
// under os.TempDir()/cdcd-testenv-cache-<euid>/<name>, building it first if
// needed. name must change whenever what build makes would (programs,
// arguments). build gets an empty directory owned by u; the result is
// complete or absent, also when several processes build it at once.
func template(name string, u *osUser, build func(dir string) error) (string, error) {
	cache := filepath.Join(os.TempDir(), cachePrefix+strconv.Itoa(os.Geteuid()))
	final := filepath.Join(cache, name)
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("testenv: make template cache: %w", err)
	}
	// Leftovers of builders that died.
	if old, _ := filepath.Glob(final + ".tmp-*"); len(old) > 0 {
		for _, o := range old {
			if info, err := os.Stat(o); err == nil && time.Since(info.ModTime()) > 10*time.Minute {
				os.RemoveAll(o)
			}
		}
	}
	tmp, err := os.MkdirTemp(cache, name+".tmp-")
	if err != nil {
		return "", fmt.Errorf("testenv: make template: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("testenv: make template: %w", err)
	}
	if err := chownAll(tmp, u); err != nil {
		return "", fmt.Errorf("testenv: make template: %w", err)
	}
	if err := build(tmp); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, final); err != nil {
		if _, serr := os.Stat(final); serr == nil {
			return final, nil // another process was faster
		}
		return "", fmt.Errorf("testenv: store template: %w", err)
	}
	return final, nil
}

// copyTree copies the directory src to dst (which must not exist) with the
// same permissions, giving everything to u.
func copyTree(src, dst string, u *osUser) error {
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.Mkdir(target, info.Mode().Perm())
		case info.Mode().IsRegular():
			return copyFile(path, target, info.Mode().Perm())
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			return nil // sockets, pid files' kin: not part of a template
		}
	})
	if err != nil {
		return fmt.Errorf("testenv: copy %s: %w", src, err)
	}
	return chownAll(dst, u)
}

func copyFile(src, dst string, perm os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil { // copy_file_range where it can
		out.Close()
		return err
	}
	return out.Close()
}

// fileStamp identifies a program's build: path, size and modification time.
func fileStamp(path string) string {
	info, err := os.Stat(path)
	if err != nil {
		return path
	}
	return fmt.Sprintf("%s:%d:%d", path, info.Size(), info.ModTime().UnixNano())
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func fileSize(path string) int64 {
	info, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return info.Size()
}

// logTail returns the last lines of path written after offset off.
func logTail(path string, off int64) string {
	const max = 4 << 10
	f, err := os.Open(path)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	defer f.Close()
	size := fileSize(path)
	if size-off > max {
		off = size - max
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return fmt.Sprintf("(read log: %v)", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return fmt.Sprintf("(read log: %v)", err)
	}
	return strings.TrimSpace(string(b))
}

var nameSeq atomic.Uint64

// uniqueName returns a database name that tells which test made it and is
// unique in this process: t_<test name>_<n>, lower case, at most 60 bytes.
func uniqueName(t testing.TB) string {
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	base := b.String()
	if len(base) > 40 {
		base = base[:40]
	}
	return fmt.Sprintf("t_%s_%d", base, nameSeq.Add(1))
}

// findBinary returns the first of dirs holding name, then name on PATH.
func findBinary(name, pkg string, dirs ...string) (string, error) {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", &BinaryNotFoundError{Name: name, Searched: append(slices.Clone(dirs), "PATH"), Package: pkg}
}

// sameDir reports whether a and b name the same directory.
func sameDir(a, b string) bool {
	ai, err := os.Stat(a)
	if err != nil {
		return false
	}
	bi, err := os.Stat(b)
	return err == nil && os.SameFile(ai, bi)
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode()&0o111 != 0
}
