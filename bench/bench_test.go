package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/event"
)

func TestMedianOfOddAndEvenCountsAndNone(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 7},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		in := append([]float64(nil), c.in...)
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
		for i := range in {
			if in[i] != c.in[i] {
				t.Fatalf("median reordered its input: %v", c.in)
			}
		}
	}
}

func TestPercentileUsesNearestRank(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, c := range []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{nil, 50, 0},
		{ms(5), 99, 5 * time.Millisecond},
		{ms(1, 2, 3), 50, 2 * time.Millisecond},
		{ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{ms(hundred...), 99, 99 * time.Millisecond},
		{ms(hundred...), 100, 100 * time.Millisecond},
		{ms(hundred...), 1, 1 * time.Millisecond},
	} {
		if got := percentile(c.sorted, c.p); got != c.want {
			t.Errorf("percentile(%d values, %v) = %v, want %v", len(c.sorted), c.p, got, c.want)
		}
	}
}

func TestLatencyStatsSortsAndKeepsTheMax(t *testing.T) {
	if latencyStats(nil) != nil {
		t.Error("latencyStats(nil) is not nil")
	}
	got := latencyStats([]time.Duration{30, 10, 20})
	if *got != (LatencyStats{P50: 20, P99: 30, Max: 30}) {
		t.Errorf("latencyStats = %+v", *got)
	}
}

func TestUsageFromRusageReadsMaxRSSAsKiB(t *testing.T) {
	u := usageFromRusage(&syscall.Rusage{
		Utime:  syscall.Timeval{Sec: 1, Usec: 500000},
		Stime:  syscall.Timeval{Sec: 0, Usec: 250000},
		Maxrss: 10240,
	})
	if u.User != 1500*time.Millisecond || u.Sys != 250*time.Millisecond || u.CPU() != 1750*time.Millisecond {
		t.Errorf("times: %+v", u)
	}
	if u.MaxRSS != 10<<20 || u.RSSMiB() != 10 {
		t.Errorf("MaxRSS = %d bytes (%v MiB), want 10 MiB", u.MaxRSS, u.RSSMiB())
	}
	if usageFromRusage(nil) != (Usage{}) {
		t.Error("nil rusage is not zero usage")
	}
}

func TestProcReportsUsageAndFailsWithItsLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p, err := startProc(ctx, "sh", "/bin/sh", []string{"-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"}, nil, filepath.Join(dir, "ok.log"))
	if err != nil {
		t.Fatal(err)
	}
	u, wall, err := p.wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if wall <= 0 || u.MaxRSS <= 0 || u.CPU() <= 0 {
		t.Errorf("usage of a busy shell: wall %v, %+v", wall, u)
	}

	p, err = startProc(ctx, "sh", "/bin/sh", []string{"-c", "echo something broke >&2; exit 3"}, nil, filepath.Join(dir, "fail.log"))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = p.wait(ctx)
	if err == nil || !strings.Contains(err.Error(), "exit status 3") || !strings.Contains(err.Error(), "something broke") {
		t.Errorf("error of a failing process = %v, want its exit status and log", err)
	}
}

func TestProcStopSendsSIGTERM(t *testing.T) {
	ctx := context.Background()
	p, err := startProc(ctx, "sh", "/bin/sh", []string{"-c", "trap 'exit 0' TERM; while :; do sleep 0.01; done"}, nil, filepath.Join(t.TempDir(), "log"))
	if err != nil {
		t.Fatal(err)
	}
	// Give the shell time to install its trap: poll its signal mask.
	deadline := time.Now().Add(5 * time.Second)
	for !trapInstalled(p.cmd.Process.Pid) {
		if time.Now().After(deadline) {
			t.Fatal("the shell never installed its TERM trap")
		}
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, _, err := p.stop(ctx); err != nil {
		t.Errorf("stop: %v", err)
	}
}

// trapInstalled reports whether pid catches SIGTERM (bit 15 of SigCgt).
func trapInstalled(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && mask&(1<<(15-1)) != 0
		}
	}
	return false
}

func TestParseCheckpointReadsThePosition(t *testing.T) {
	pos, err := parseCheckpoint([]byte(`{"v":1,"pipeline":"bench","pos":"00000000016B3748/FFFFFFFF"}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if want := event.TxEnd(0x16B3748); pos != want {
		t.Errorf("pos = %v, want %v", pos, want)
	}
	for _, bad := range []string{``, `{"v":2,"pos":"00000000016B3748/FFFFFFFF"}`, `{"v":1}`, `{"v":1,"pos":"16/B3"}`} {
		if _, err := parseCheckpoint([]byte(bad)); err == nil {
			t.Errorf("parseCheckpoint(%q) succeeded", bad)
		}
	}
}

func TestReadCheckpointWithoutAFileIsNotAnError(t *testing.T) {
	dir := t.TempDir()
	path := checkpointPath(dir)
	if _, ok, err := readCheckpoint(path); ok || err != nil {
		t.Fatalf("missing file: ok %v, err %v", ok, err)
	}
	if err := os.WriteFile(path, []byte(`{"v":1,"pipeline":"bench","pos":"0000000000000010/00000002"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	pos, ok, err := readCheckpoint(path)
	if !ok || err != nil || pos != (event.Position{Commit: 16, Index: 2}) {
		t.Errorf("readCheckpoint = %v, %v, %v", pos, ok, err)
	}
	if filepath.Base(path) != "bench.checkpoint.json" {
		t.Errorf("checkpoint file %s, want bench.checkpoint.json", path)
	}
}

func TestParseLSNRoundTrips(t *testing.T) {
	for s, want := range map[string]uint64{"0/0": 0, "16/B374D848": 0x16B374D848, "FFFFFFFF/FFFFFFFF": ^uint64(0)} {
		got, err := parseLSN(s)
		if err != nil || got != want {
			t.Errorf("parseLSN(%q) = %X, %v", s, got, err)
		}
		if formatLSN(got) != s {
			t.Errorf("formatLSN(%X) = %q, want %q", got, formatLSN(got), s)
		}
	}
	for _, bad := range []string{"", "16B374D848", "x/1", "1/100000000"} {
		if _, err := parseLSN(bad); err == nil {
			t.Errorf("parseLSN(%q) succeeded", bad)
		}
	}
}

func TestCommitTSFindsTheSourceCommitTime(t *testing.T) {
	line := []byte(`{"v":1,"id":"x","op":"c","source":{"kind":"postgres","pos":"0000000001A2B3C4/00000003","commit_ts":"2026-01-02T03:04:05.123456Z"},"after":{"note":"\"commit_ts\":\"no\""}}`)
	got, ok := commitTS(line)
	if want := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC); !ok || !got.Equal(want) {
		t.Errorf("commitTS = %v, %v; want %v", got, ok, want)
	}
	for _, bad := range []string{`{}`, `{"commit_ts":"2026`, `{"commit_ts":"yesterday"}`} {
		if _, ok := commitTS([]byte(bad)); ok {
			t.Errorf("commitTS(%s) succeeded", bad)
		}
	}
}

func TestLatencyReaderCountsLinesAndSignalsEnough(t *testing.T) {
	ts := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	line := `{"v":1,"source":{"commit_ts":"` + ts + `"}}` + "\n"
	rd := &latencyReader{want: 2, enough: make(chan struct{})}
	if err := rd.read(strings.NewReader(line + line + line)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rd.enough:
	default:
		t.Fatal("enough not closed after 3 of 2 lines")
	}
	if rd.count.Load() != 3 || len(rd.latencies) != 3 || rd.latencies[0] < time.Second {
		t.Errorf("count %d, latencies %v", rd.count.Load(), rd.latencies)
	}
	rd = &latencyReader{want: 1, enough: make(chan struct{})}
	if err := rd.read(strings.NewReader("not json\n")); err == nil {
		t.Error("a line without commit_ts was accepted")
	}
}

func TestRenderedPipelineIsAValidCDCDConfig(t *testing.T) {
	c := cdcdConfig{
		DSN: "postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable", Tables: []string{"public.bench", "public.bench_end"},
		Slot: "cdcd_bench", Publication: "cdcd_bench", SinkPath: "/dev/null", StateDir: "/tmp/x y/state", AdminListen: "127.0.0.1:0",
	}
	p, err := config.LoadBytes("bench.yaml", []byte(c.render()))
	if err != nil {
		t.Fatalf("%v\n%s", err, c.render())
	}
	if p.Name != benchPipeline || p.Source.DSN != c.DSN || strings.Join(p.Source.Tables, ",") != "public.bench,public.bench_end" ||
		p.Source.Snapshot != config.SnapshotNever || p.Source.Postgres.Slot != c.Slot || p.Source.Postgres.Publication != c.Publication ||
		p.Sink.Type != config.SinkStdout || p.Sink.Stdout.Path != c.SinkPath || p.Sink.Stdout.Fsync || p.StateDir != c.StateDir ||
		p.Admin.Listen != c.AdminListen {
		t.Errorf("decoded %+v\nfrom\n%s", p, c.render())
	}
}

func TestSummarizeTakesMediansPerConsumer(t *testing.T) {
	m := func(consumer string, elapsed time.Duration, ratio float64, rss int64, lat *LatencyStats) Measurement {
		return Measurement{Scenario: "s", Variant: "v", Consumer: consumer, Events: 1000, Elapsed: elapsed,
			Usage: Usage{User: 10 * time.Millisecond, MaxRSS: rss}, Ratio: ratio, Latency: lat}
	}
	rows := summarize([]Measurement{
		m("limit", time.Second, 1, 1<<20, nil),
		m("cdcd", 2*time.Second, 0.5, 3<<20, &LatencyStats{P50: 1, P99: 10, Max: 100}),
		m("limit", 500*time.Millisecond, 1, 1<<20, nil),
		m("cdcd", time.Second, 0.4, 5<<20, &LatencyStats{P50: 3, P99: 30, Max: 50}),
		m("cdcd", 4*time.Second, 0.6, 4<<20, &LatencyStats{P50: 2, P99: 20, Max: 70}),
	})
	if len(rows) != 2 || rows[0].Consumer != "limit" || rows[1].Consumer != "cdcd" {
		t.Fatalf("rows %+v: want limit then cdcd", rows)
	}
	if r := rows[0]; r.Runs != 2 || r.EventsPerSec != 1500 || r.Latency != nil {
		t.Errorf("limit row %+v", r)
	}
	r := rows[1]
	if r.Runs != 3 || r.EventsPerSec != 500 || r.Ratio != 0.5 || r.RSSMiB != 4 || r.CPUPerMillion != 10 {
		t.Errorf("cdcd row %+v", r)
	}
	if *r.Latency != (LatencyStats{P50: 2, P99: 20, Max: 100}) {
		t.Errorf("cdcd latency %+v, want median p50/p99 and the largest max", *r.Latency)
	}
}

func TestSectionMarkdown(t *testing.T) {
	s := Section{
		When:        time.Date(2026, 11, 22, 4, 5, 0, 0, time.UTC),
		Commit:      "abc1234",
		Machine:     Machine{CPUs: 2, MemTotal: 24 << 30, CPUModel: "Some CPU @ 2.0GHz", Kernel: "6.1.0"},
		Command:     "go run ./bench -cdcd bin/cdcd -rows 200000",
		CDCDVersion: "cdcd dev",
		Rows: []Row{
			{Scenario: "pg-backlog-jsonl", Variant: "1 txn", Consumer: "pg_recvlogical → /dev/null", Events: 200000, Runs: 1,
				EventsPerSec: 154321.4, Ratio: 1, CPUPerMillion: 1.234, WalsenderCPUPerMillion: 6.5, RSSMiB: 9.05},
			{Scenario: "pg-latency-jsonl", Variant: "2000 rows/s", Consumer: "cdcd → jsonl pipe", Events: 20000, Runs: 1,
				EventsPerSec: 1999.6, CPUPerMillion: 5, RSSMiB: 30,
				Latency: &LatencyStats{P50: 1500 * time.Microsecond, P99: 12 * time.Millisecond, Max: 40 * time.Millisecond}},
		},
		Notes: []string{"noisy machine"},
	}
	want := "## 2026-11-22 04:05 UTC — commit abc1234 — 2 CPUs, 24.0 GiB RAM, Some CPU @ 2.0GHz, Linux 6.1.0\n\n" +
		"`go run ./bench -cdcd bin/cdcd -rows 200000`\n\n" +
		"cdcd: `cdcd dev`\n\n" +
		"| scenario | variant | consumer | rows | events/s | × limit | CPU s/M events | walsender CPU s/M | peak RSS MiB | latency p50 / p99 / max |\n" +
		"|---|---|---|---:|---:|---:|---:|---:|---:|---|\n" +
		"| pg-backlog-jsonl | 1 txn | pg_recvlogical → /dev/null | 200,000 | 154,321 | 1.00 | 1.23 | 6.50 | 9.1 | – |\n" +
		"| pg-latency-jsonl | 2000 rows/s | cdcd → jsonl pipe | 20,000 | 2,000 | – | 5.00 | – | 30.0 | 1.50 ms / 12.00 ms / 40.00 ms |\n" +
		"\n- noisy machine\n\n"
	if got := s.Markdown(); got != want {
		t.Errorf("Markdown:\n%s\nwant:\n%s", got, want)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestMachineParsesProcFiles(t *testing.T) {
	if got := parseMemTotal("MemTotal:       24683520 kB\nMemFree: 1 kB\n"); got != 24683520*1024 {
		t.Errorf("parseMemTotal = %d", got)
	}
	if got := parseMemTotal("nothing"); got != 0 {
		t.Errorf("parseMemTotal without MemTotal = %d", got)
	}
	cpuinfo := "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R)  CPU @ 2.20GHz\n\nprocessor\t: 1\nmodel name\t: other\n"
	if got := parseCPUModel(cpuinfo); got != "Intel(R) Xeon(R) CPU @ 2.20GHz" {
		t.Errorf("parseCPUModel = %q", got)
	}
	if m := readMachine(); m.CPUs < 1 {
		t.Errorf("readMachine = %+v", m)
	}
}

func TestCommandLineQuotesWhatNeedsIt(t *testing.T) {
	got := commandLine([]string{"/tmp/go-build123/b001/exe/bench", "-cdcd", "bin/cdcd", "-note", "two cores, shared", "-run", "pg-.*"})
	want := `go run ./bench -cdcd bin/cdcd -note 'two cores, shared' -run 'pg-.*'`
	if got != want {
		t.Errorf("commandLine = %s, want %s", got, want)
	}
}

func TestSelectScenarios(t *testing.T) {
	all := []Scenario{{Name: "pg-backlog-jsonl"}, {Name: "pg-latency-jsonl"}}
	got, err := selectScenarios(all, "latency")
	if err != nil || len(got) != 1 || got[0].Name != "pg-latency-jsonl" {
		t.Errorf("selectScenarios(latency) = %v, %v", got, err)
	}
	if got, _ := selectScenarios(all, ""); len(got) != 2 {
		t.Errorf("empty pattern selected %d scenarios", len(got))
	}
	if _, err := selectScenarios(all, "kafka"); err == nil || !strings.Contains(err.Error(), "pg-backlog-jsonl") {
		t.Errorf("no match: %v, want an error listing the scenarios", err)
	}
	if _, err := selectScenarios(all, "("); err == nil {
		t.Error("a bad regexp was accepted")
	}
}

func TestScenariosHaveUniqueNamesAndARun(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range scenarios {
		if s.Name == "" || s.Description == "" || s.Run == nil || seen[s.Name] {
			t.Errorf("scenario %+v", s.Name)
		}
		seen[s.Name] = true
	}
}

func TestParseProcStatCPUAddsUtimeAndStime(t *testing.T) {
	// A walsender's stat line: the command name holds spaces and parentheses.
	stat := "4242 (postgres: walsender (x) 127.0.0.1(5432) START_REPLICATION) R 1 2 3 0 -1 4194560 100 0 0 0 150 25 0 0 20 0 1 0 12345 1000 100 18446744073709551615\n"
	got, err := parseProcStatCPU(stat)
	if err != nil || got != 1750*time.Millisecond {
		t.Errorf("parseProcStatCPU = %v, %v; want 1.75s", got, err)
	}
	if _, err := parseProcStatCPU("4242 (short) R 1 2"); err == nil {
		t.Error("a truncated stat line was accepted")
	}
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parseProcStatCPU(string(b)); err != nil {
		t.Errorf("our own /proc/self/stat: %v", err)
	}
}

func TestRenderedKafkaPipelineIsAValidCDCDConfig(t *testing.T) {
	for _, eos := range []bool{true, false} {
		c := cdcdConfig{
			DSN: "postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable", Tables: []string{"public.bench", "public.bench_end"},
			Slot: "s", Publication: "p", StateDir: "/tmp/state", AdminListen: "127.0.0.1:0",
			Kafka: &kafkaSinkConfig{Brokers: []string{"127.0.0.1:9092", "127.0.0.1:9093"}, ExactlyOnce: eos},
		}
		p, err := config.LoadBytes("bench.yaml", []byte(c.render()))
		if err != nil {
			t.Fatalf("%v\n%s", err, c.render())
		}
		if p.Sink.Type != config.SinkKafka || strings.Join(p.Sink.Kafka.Brokers, ",") != "127.0.0.1:9092,127.0.0.1:9093" ||
			p.Sink.Kafka.Topic != benchTopicTemplate || p.Sink.Kafka.ExactlyOnce != eos {
			t.Errorf("decoded sink %+v\nfrom\n%s", p.Sink, c.render())
		}
	}
}

func TestEOSOverheadIsHowMuchFasterAtLeastOnceIs(t *testing.T) {
	if o, ok := eosOverhead(110, 100); !ok || o < 0.0999 || o > 0.1001 {
		t.Errorf("eosOverhead(110, 100) = %v, %v; want 0.1", o, ok)
	}
	if o, ok := eosOverhead(90, 100); !ok || o > -0.0999 || o < -0.1001 {
		t.Errorf("eosOverhead(90, 100) = %v, %v; want -0.1", o, ok)
	}
	for _, c := range [][2]float64{{0, 100}, {100, 0}} {
		if _, ok := eosOverhead(c[0], c[1]); ok {
			t.Errorf("eosOverhead(%v, %v) ok", c[0], c[1])
		}
	}
}

func TestBacklogDeliveryNeedsEveryRowAndTheEndMarker(t *testing.T) {
	d := &backlogDelivery{rows: 2}
	if d.add(benchTopic) || d.add(benchEndTopic) {
		t.Fatal("done after one of two rows")
	}
	if !d.add(benchTopic) {
		t.Fatal("not done after two rows and the marker")
	}
	d = &backlogDelivery{rows: 1}
	if d.add(benchTopic) || d.add("cdcd.offsets") || d.add(benchTopic) {
		t.Fatal("done without the end marker (duplicates do not replace it)")
	}
	if !d.add(benchEndTopic) {
		t.Fatal("not done after the rows and the marker")
	}
}

func TestLatencyReaderAddRecordsEventsFromAnySource(t *testing.T) {
	ts := time.Now().Add(-time.Second).UTC()
	line := []byte(`{"v":1,"source":{"commit_ts":"` + ts.Format(time.RFC3339Nano) + `"}}`)
	rd := &latencyReader{want: 1, enough: make(chan struct{})}
	now := ts.Add(25 * time.Millisecond)
	if err := rd.add(now, line); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rd.enough:
	default:
		t.Fatal("enough not closed after the wanted event")
	}
	if len(rd.latencies) != 1 || rd.latencies[0] != 25*time.Millisecond || !rd.last.Equal(now) {
		t.Errorf("latencies %v, last %v", rd.latencies, rd.last)
	}
	if err := rd.add(now, []byte(`{"v":1}`)); err == nil {
		t.Error("an event without commit_ts was accepted")
	}
}

func TestParseVmHWMReadsThePeakRSSInBytes(t *testing.T) {
	status := "Name:\tcdcd\nVmPeak:\t 1265432 kB\nVmHWM:\t   43210 kB\nVmRSS:\t   40000 kB\n"
	if n, ok := parseVmHWM(status); !ok || n != 43210*1024 {
		t.Errorf("parseVmHWM = %d, %v; want %d", n, ok, 43210*1024)
	}
	for _, bad := range []string{"", "VmRSS:\t 1 kB\n", "VmHWM:\t x kB\n", "VmHWM:\t 12 MB\n"} {
		if _, ok := parseVmHWM(bad); ok {
			t.Errorf("parseVmHWM(%q) succeeded", bad)
		}
	}
}

func TestProcReportsTheChildsOwnPeakRSS(t *testing.T) {
	// The harness's own RSS must not leak into the child's figure (wait4's
	// ru_maxrss keeps the parent's peak across a vfork+exec).
	ballast := make([]byte, 256<<20)
	for i := range ballast {
		ballast[i] = 1
	}
	p, err := startProc(context.Background(), "sleep", "/bin/sleep", []string{"0.2"}, nil, filepath.Join(t.TempDir(), "sleep.log"))
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := p.wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if u.MaxRSS <= 0 || u.MaxRSS > 64<<20 {
		t.Errorf("sleep's peak RSS %d bytes, want a few MiB", u.MaxRSS)
	}
	_ = ballast[len(ballast)-1]
}

func TestEOSOverheadNotesComeFromTheMediansOfBothKafkaRows(t *testing.T) {
	rows := []Row{
		{Scenario: "s", Variant: "1 txn", Consumer: "pg_recvlogical → /dev/null", EventsPerSec: 50},
		{Scenario: "s", Variant: "1 txn", Consumer: kafkaEOSConsumer, EventsPerSec: 100},
		{Scenario: "s", Variant: "1 txn", Consumer: kafkaALOConsumer, EventsPerSec: 105},
		{Scenario: "s", Variant: "only eos", Consumer: kafkaEOSConsumer, EventsPerSec: 100},
	}
	got := eosOverheadNotes(rows)
	if len(got) != 1 || !strings.HasPrefix(got[0], "s, 1 txn: ") || !strings.HasSuffix(got[0], ": 5.0%") {
		t.Errorf("notes %q, want one for 1 txn ending in 5.0%%", got)
	}
}
