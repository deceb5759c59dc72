// Command cdcd runs change-data-capture pipelines described by YAML files.
//
//	cdcd run      --config PATH   run every pipeline of PATH (a file or a directory)
//	cdcd validate --config PATH   check PATH and exit non-zero listing every error
//	cdcd status   --admin URL     show a running cdcd's pipelines
//	cdcd version
//
// It only wires: config is loaded by package config, pipelines are built
// from it in wire.go and run by package pipeline.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/metrics"
	"github.com/cdcd-dev/cdcd/transform"
)

// Set by the linker (see Makefile).
var (
	version = "dev"
	commit  = "unknown"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `cdcd streams every row change of your databases, exactly once.

Usage:
  cdcd run      --config PATH   run the pipelines of PATH (a YAML file or a directory of them)
  cdcd validate --config PATH   check the config and list every error
                [--sample EVENT.json]   and show what the transforms make of a sample event
  cdcd status   [--admin URL]   show a running cdcd's pipelines (exit 1 if one is not streaming)
  cdcd version                  print the version

Run 'cdcd COMMAND -h' for a command's flags.
`

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // a pipeline stopped on an error
	exitUsage  = 2 // bad flags or config
)

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return cmdRun(args[1:], stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "status":
		return cmdStatus(args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "cdcd %s (commit %s, %s, %s/%s)\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "cdcd: unknown command %q\n\n%s", args[0], usage)
	return exitUsage
}

// commonFlags are the flags every command that reads a config takes.
type commonFlags struct {
	config    string
	logLevel  string
	logFormat string
}

func newFlagSet(name string, stderr io.Writer, c *commonFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("cdcd "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.config, "config", "", "pipeline YAML file, or a directory of them (required)")
	fs.StringVar(&c.logLevel, "log-level", envOr("CDCD_LOG_LEVEL", "info"), "debug, info, warn or error (env CDCD_LOG_LEVEL)")
	fs.StringVar(&c.logFormat, "log-format", envOr("CDCD_LOG_FORMAT", "auto"), "json, text, or auto: text on a terminal, json otherwise (env CDCD_LOG_FORMAT)")
	return fs
}

func envOr(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && v != "" {
		return v
	}
	return def
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "auto":
		if isTerminal(w) {
			return slog.New(slog.NewTextHandler(w, opts)), nil
		}
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want json, text or auto", format)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	var c commonFlags
	fs := newFlagSet("validate", stderr, &c)
	sample := fs.String("sample", "", "a native JSON event (docs/events.md) to run through each pipeline's transforms")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if c.config == "" {
		fmt.Fprintln(stderr, "cdcd validate: --config PATH is required")
		return exitUsage
	}
	pls, err := config.Load(c.config)
	if err != nil {
		printConfigErrors(stderr, err)
		return exitUsage
	}
	var problems []string
	chains := make([]transform.Chain, len(pls))
	for i, pl := range pls {
		if err := checkBuildable(pl); err != nil {
			problems = append(problems, fmt.Sprintf("%s: pipeline %s: %v", pl.File, pl.Name, err))
		}
		// Transform errors carry their own file:line.
		if chains[i], err = buildTransforms(pl, nil); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		fmt.Fprintln(stderr, strings.Join(problems, "\n"))
		return exitUsage
	}
	for _, pl := range pls {
		fmt.Fprintf(stdout, "%s: pipeline %s: ok (%s → %s, %d transforms)\n", pl.File, pl.Name, pl.Source.Type, pl.Sink.Type, len(pl.Transforms))
	}
	if *sample != "" {
		return runSample(*sample, pls, chains, stdout, stderr)
	}
	return exitOK
}

// runSample shows what each pipeline's transforms make of a sample event.
func runSample(path string, pls []*config.Pipeline, chains []transform.Chain, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(stderr, "cdcd validate:", err)
		return exitUsage
	}
	for i, pl := range pls {
		e, err := event.DecodeJSON(data, nil)
		if err != nil {
			fmt.Fprintf(stderr, "%s: not a native event (docs/events.md): %v\n", path, err)
			return exitUsage
		}
		b := event.Batch{Events: []event.Event{e}}
		if err := chains[i].ApplyBatch(&b); err != nil {
			fmt.Fprintf(stderr, "pipeline %s: %v\n", pl.Name, err)
			return exitFailed
		}
		if len(b.Events) == 0 {
			fmt.Fprintf(stdout, "pipeline %s: the transforms drop the sample\n", pl.Name)
			continue
		}
		fmt.Fprintf(stdout, "pipeline %s: %s\n", pl.Name, b.Events[0].AppendJSON(nil))
	}
	return exitOK
}

func printConfigErrors(w io.Writer, err error) {
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(w, e.Error())
		}
		fmt.Fprintf(w, "%d error(s)\n", len(errs))
		return
	}
	fmt.Fprintln(w, err)
}

func cmdRun(args []string, stderr io.Writer) int {
	var c commonFlags
	fs := newFlagSet("run", stderr, &c)
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	if c.config == "" {
		fmt.Fprintln(stderr, "cdcd run: --config PATH is required")
		return exitUsage
	}
	log, err := newLogger(stderr, c.logLevel, c.logFormat)
	if err != nil {
		fmt.Fprintln(stderr, "cdcd run:", err)
		return exitUsage
	}
	pls, err := config.Load(c.config)
	if err != nil {
		printConfigErrors(stderr, err)
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// After the first signal, a second one kills at once.
	context.AfterFunc(ctx, stop)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg, metrics.BuildInfo{Version: version, Commit: commit, GoVersion: runtime.Version()})
	// Every file of a directory agrees on admin (config checks it).
	admin, err := metrics.NewAdmin(pls[0].Admin.Listen, m, reg, pls[0].Admin.Pprof, log)
	if err != nil {
		fmt.Fprintln(stderr, "cdcd run:", err)
		return exitUsage
	}

	runners := make([]runner, 0, len(pls))
	for _, pl := range pls {
		r, err := build(pl, log, m)
		if err != nil {
			fmt.Fprintf(stderr, "%s: pipeline %s: %v\n", pl.File, pl.Name, err)
			return exitUsage
		}
		runners = append(runners, r)
	}
	log.Info("cdcd starting", "version", version, "pipelines", len(runners), "admin", "http://"+admin.Addr())
	adminCtx, stopAdmin := context.WithCancel(context.Background())
	adminDone := make(chan struct{})
	go func() {
		defer close(adminDone)
		if err := admin.Run(adminCtx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("admin server stopped", "err", err)
		}
	}()
	defer func() { stopAdmin(); <-adminDone }()

	// A pipeline that stops on an error stops the others gracefully: a
	// process that runs half its pipelines would look healthy while not.
	runCtx, cancelAll := context.WithCancel(ctx)
	defer cancelAll()
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		failed bool
	)
	for _, r := range runners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := r.p.Run(runCtx)
			switch {
			case err == nil:
				r.log.Info("pipeline finished")
			case errors.Is(err, context.Canceled):
				r.log.Info("pipeline stopped")
			default:
				r.log.Error("pipeline stopped on an error", "err", err)
				mu.Lock()
				failed = true
				mu.Unlock()
				cancelAll()
			}
		}()
	}
	wg.Wait()
	if failed {
		return exitFailed
	}
	log.Info("cdcd stopped")
	return exitOK
}
