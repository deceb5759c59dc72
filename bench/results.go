package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Row is the summary of one consumer on one workload over the repetitions:
// medians of each figure, except MaxLatency, the largest seen.
type Row struct {
	Scenario, Variant, Consumer string
	Events                      int
	Runs                        int
	EventsPerSec                float64
	Ratio                       float64 // 0: no limit to compare with
	CPUPerMillion               float64 // CPU seconds per million events
	WalsenderCPUPerMillion      float64 // 0: not measured
	RSSMiB                      float64
	Latency                     *LatencyStats
}

// summarize groups measurements by scenario, variant and consumer, in the
// order they first appear, and takes medians over the repetitions.
func summarize(ms []Measurement) []Row {
	type key struct{ s, v, c string }
	var order []key
	groups := map[key][]Measurement{}
	for _, m := range ms {
		k := key{m.Scenario, m.Variant, m.Consumer}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], m)
	}
	rows := make([]Row, 0, len(order))
	for _, k := range order {
		g := groups[k]
		col := func(f func(Measurement) float64) float64 {
			xs := make([]float64, len(g))
			for i, m := range g {
				xs[i] = f(m)
			}
			return median(xs)
		}
		r := Row{
			Scenario: k.s, Variant: k.v, Consumer: k.c,
			Events:                 g[0].Events,
			Runs:                   len(g),
			EventsPerSec:           col(Measurement.EventsPerSec),
			Ratio:                  col(func(m Measurement) float64 { return m.Ratio }),
			CPUPerMillion:          col(Measurement.CPUPerMillion),
			WalsenderCPUPerMillion: col(Measurement.WalsenderCPUPerMillion),
			RSSMiB:                 col(func(m Measurement) float64 { return m.Usage.RSSMiB() }),
		}
		if g[0].Latency != nil {
			lat := func(f func(*LatencyStats) time.Duration) time.Duration {
				return time.Duration(col(func(m Measurement) float64 { return float64(f(m.Latency)) }))
			}
			r.Latency = &LatencyStats{
				P50: lat(func(l *LatencyStats) time.Duration { return l.P50 }),
				P99: lat(func(l *LatencyStats) time.Duration { return l.P99 }),
			}
			for _, m := range g {
				r.Latency.Max = max(r.Latency.Max, m.Latency.Max)
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// formatTable renders rows as a Markdown table.
func formatTable(rows []Row) string {
	var b strings.Builder
	b.WriteString("| scenario | variant | consumer | rows | events/s | × limit | CPU s/M events | walsender CPU s/M | peak RSS MiB | latency p50 / p99 / max |\n")
	b.WriteString("|---|---|---|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rows {
		ratio, wcpu, lat := "–", "–", "–"
		if r.Ratio > 0 {
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		if r.WalsenderCPUPerMillion > 0 {
			wcpu = fmt.Sprintf("%.2f", r.WalsenderCPUPerMillion)
		}
		if r.Latency != nil {
			lat = fmt.Sprintf("%s / %s / %s", fmtMillis(r.Latency.P50), fmtMillis(r.Latency.P99), fmtMillis(r.Latency.Max))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %.2f | %s | %.1f | %s |\n",
			r.Scenario, r.Variant, r.Consumer, thousands(int64(r.Events)), thousands(int64(r.EventsPerSec+0.5)),
			ratio, r.CPUPerMillion, wcpu, r.RSSMiB, lat)
	}
	return b.String()
}

// fmtMillis renders d in milliseconds, e.g. "1.25 ms".
func fmtMillis(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}

// thousands renders n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Machine describes where the figures were measured.
type Machine struct {
	CPUs     int
	MemTotal int64 // bytes; 0 if unknown
	CPUModel string
	Kernel   string
}

func (m Machine) String() string {
	parts := []string{fmt.Sprintf("%d CPUs", m.CPUs)}
	if m.MemTotal > 0 {
		parts = append(parts, fmt.Sprintf("%.1f GiB RAM", float64(m.MemTotal)/(1<<30)))
	}
	if m.CPUModel != "" {
		parts = append(parts, m.CPUModel)
	}
	if m.Kernel != "" {
		parts = append(parts, "Linux "+m.Kernel)
	}
	return strings.Join(parts, ", ")
}

// readMachine reads the machine's description from /proc; what it cannot
// read stays empty.
func readMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU()} // honours the affinity mask, like nproc
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		m.MemTotal = parseMemTotal(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = parseCPUModel(string(b))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// parseMemTotal returns MemTotal of /proc/meminfo in bytes, or 0.
func parseMemTotal(meminfo string) int64 {
	for _, line := range strings.Split(meminfo, "\n") {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

// parseCPUModel returns the first "model name" of /proc/cpuinfo, or "".
func parseCPUModel(cpuinfo string) string {
	for _, line := range strings.Split(cpuinfo, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	return ""
}

// gitCommit returns the short hash of HEAD of the current directory's
// repository, or "unknown". It only
// reads the repository.
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}

// commandLine renders how the harness was invoked, as one could type it
// again: "go run ./bench" when run by go run, else the binary's path.
func commandLine(args []string) string {
	prog := args[0]
	if strings.Contains(prog, "go-build") {
		prog = "go run ./bench"
	}
	parts := []string{prog}
	for _, a := range args[1:] {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Section is one appended block of RESULTS.md.
type Section struct {
	When        time.Time
	Commit      string
	Machine     Machine
	Command     string
	CDCDVersion string
	Rows        []Row
	Notes       []string
}

// Markdown renders the section.
func (s Section) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s — commit %s — %s\n\n", s.When.UTC().Format("2006-01-02 15:04 UTC"), s.Commit, s.Machine)
	fmt.Fprintf(&b, "`%s`\n\n", s.Command)
	if s.CDCDVersion != "" {
		fmt.Fprintf(&b, "cdcd: `%s`\n\n", s.CDCDVersion)
	}
	if len(s.Rows) > 0 {
		b.WriteString(formatTable(s.Rows))
		b.WriteString("\n")
	}
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	if len(s.Notes) > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

// appendSection appends s to the file at path, creating it if needed.
func appendSection(path string, s Section) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening results: %w", err)
	}
	if _, err := f.WriteString("\n" + s.Markdown()); err != nil {
		f.Close()
		return fmt.Errorf("appending results: %w", err)
	}
	return f.Close()
}
