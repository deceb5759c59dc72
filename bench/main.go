// Command bench is cdcd's benchmark harness. Each scenario starts its own
// servers, prepares a workload, runs cdcd and, where there is one, the
// limit (e.g. pg_recvlogical on the same backlog) in the same run, and
// reports events/s, the ratio to the limit, CPU seconds per million
// events, peak RSS and end-to-end latency. Figures are medians over
// -repeat runs. The table goes to standard output and, with -results, is
// appended to that file with the date, commit, machine and command line.
//
//	go run ./bench -cdcd bin/cdcd -results bench/RESULTS.md [-run REGEXP] [-rows N] [-repeat K]
//
// Benchmarks never fail the test suite: nothing imports this package.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// scenarios are all the benchmarks, in the order they run.
var scenarios = []Scenario{
	{
		Name: "pg-backlog-jsonl",
		Description: "drain a backlog of -rows inserts (one transaction; 10-row transactions) from a logical slot: " +
			"pg_recvlogical to /dev/null (the limit), then cdcd to the jsonl sink on /dev/null, to discard, " +
			"and to an in-process Kafka broker exactly once and at least once",
		Run: pgBacklogJSONL,
	},
	{
		Name:        "pg-latency-jsonl",
		Description: "a steady writer at -rate rows/s in 10-row transactions for -duration; latency from source commit to cdcd's jsonl line read from a pipe",
		Run:         pgLatencyJSONL,
	},
	{
		Name: "pg-latency-kafka",
		Description: "a steady writer at -rate rows/s (default 5000) in 10-row transactions for -duration; latency from source commit " +
			"to a read_committed consumer receiving cdcd's record from an in-process Kafka broker, exactly once",
		Run: pgLatencyKafka,
	},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// flags are the harness's command-line settings.
type flags struct {
	cdcd     string
	results  string
	run      string
	rows     int
	repeat   int
	rate     int
	duration time.Duration
	note     string
	keep     bool
	verify   bool
	first    bool
	list     bool
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.cdcd, "cdcd", "bin/cdcd", "the cdcd binary to measure")
	fs.StringVar(&f.results, "results", "", "append the results to this Markdown file (default: only print them)")
	fs.StringVar(&f.run, "run", "", "run only the scenarios whose name matches this regular expression")
	fs.IntVar(&f.rows, "rows", 200000, "rows in a backlog (issue 3's target: 1000000)")
	fs.IntVar(&f.repeat, "repeat", 3, "runs of each scenario; figures are medians")
	fs.IntVar(&f.rate, "rate", 0, "rows per second of the latency scenarios' writer (0: 2000 for pg-latency-jsonl, 5000 for pg-latency-kafka)")
	fs.DurationVar(&f.duration, "duration", 10*time.Second, "how long the latency scenarios' writer writes")
	fs.StringVar(&f.note, "note", "", "a remark appended to the results (e.g. what else was running)")
	fs.BoolVar(&f.keep, "keep", false, "keep every run's work directory (configs, logs), not only failed ones")
	fs.BoolVar(&f.verify, "verify", false, "check the harness: write cdcd's backlog events to a file and count them (figures not comparable)")
	fs.BoolVar(&f.first, "cdcd-first", false, "in backlog scenarios, drain with cdcd before the limit (to check for order effects)")
	fs.BoolVar(&f.list, "list", false, "list the scenarios and exit")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		return f, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if f.rows < 1 || f.repeat < 1 || f.rate < 0 || f.duration <= 0 {
		return f, errors.New("-rows, -repeat and -duration must be positive, -rate not negative")
	}
	return f, nil
}

// selectScenarios returns the scenarios whose name matches pattern (all
// for "").
func selectScenarios(all []Scenario, pattern string) ([]Scenario, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("-run: %w", err)
	}
	var out []Scenario
	var names []string
	for _, s := range all {
		names = append(names, s.Name)
		if re.MatchString(s.Name) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-run %q matches no scenario (have %s)", pattern, strings.Join(names, ", "))
	}
	return out, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args[1:], stderr)
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "bench:", err)
		}
		return 2
	}
	if f.list {
		for _, s := range scenarios {
			fmt.Fprintf(stdout, "%-20s %s\n", s.Name, s.Description)
		}
		return 0
	}
	selected, err := selectScenarios(scenarios, f.run)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 2
	}
	bin, err := filepath.Abs(f.cdcd)
	if err == nil {
		_, err = exec.LookPath(bin)
	}
	if err != nil {
		fmt.Fprintf(stderr, "bench: -cdcd %s: %v (build it with `make build`)\n", f.cdcd, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	version, _ := exec.Command(bin, "version").Output()

	sec := Section{
		When:        time.Now(),
		Commit:      gitCommit(),
		Machine:     readMachine(),
		Command:     commandLine(args),
		CDCDVersion: strings.TrimSpace(string(version)),
	}
	if f.note != "" {
		sec.Notes = append(sec.Notes, f.note)
	}
	var all []Measurement
	failed := false
	for _, s := range selected {
		for i := 1; i <= f.repeat; i++ {
			l := log.With("scenario", s.Name, "run", i)
			res, err := runOnce(ctx, s, Env{
				CDCD: bin, Rows: f.rows, Rate: f.rate, Duration: f.duration, Verify: f.verify, CDCDFirst: f.first, Log: l,
			}, f.keep)
			all = append(all, res.Measurements...)
			for _, n := range res.Notes {
				sec.Notes = append(sec.Notes, fmt.Sprintf("%s run %d: %s", s.Name, i, n))
			}
			if err != nil {
				failed = true
				l.Error("failed", "err", err)
				sec.Notes = append(sec.Notes, fmt.Sprintf("%s run %d FAILED: %v", s.Name, i, firstLine(err.Error())))
				break
			}
			if ctx.Err() != nil {
				break
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	sec.Rows = summarize(all)
	sec.Notes = append(sec.Notes, eosOverheadNotes(sec.Rows)...)
	fmt.Fprint(stdout, "\n"+sec.Markdown())
	if f.results != "" && len(sec.Rows) > 0 {
		if err := appendSection(f.results, sec); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 1
		}
		fmt.Fprintf(stderr, "bench: appended to %s\n", f.results)
	}
	if failed || ctx.Err() != nil {
		return 1
	}
	return 0
}

// runOnce runs s in a fresh work directory, removed afterwards unless the
// run failed or keep is set.
func runOnce(ctx context.Context, s Scenario, env Env, keep bool) (Result, error) {
	dir, err := os.MkdirTemp("", "cdcd-bench-"+s.Name+"-")
	if err != nil {
		return Result{}, err
	}
	env.WorkDir = dir
	env.Log.Info("starting", "dir", dir)
	res, err := s.Run(ctx, env)
	if err != nil || keep {
		env.Log.Info("kept the work directory", "dir", dir)
		if err != nil {
			err = fmt.Errorf("(files in %s) %w", dir, err)
		}
		return res, err
	}
	os.RemoveAll(dir)
	return res, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
