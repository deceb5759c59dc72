package main

import (
	"context"
	"log/slog"
	"time"
)

// Scenario is one benchmark: it starts its own servers, prepares a
// workload, runs cdcd and, where there is one, the limit (e.g.
// pg_recvlogical on the same backlog) in the same run, and returns what it
// measured. Run is called once per repetition; it must clean up what it
// started before returning, also when ctx is cancelled.
type Scenario struct {
	Name        string
	Description string
	Run         func(ctx context.Context, env Env) (Result, error)
}

// Env is what the harness hands every scenario run.
type Env struct {
	// CDCD is the absolute path of the cdcd binary under test.
	CDCD string
	// Rows is the size of a backlog, in rows (flag -rows).
	Rows int
	// Rate is a steady writer's rate in rows per second (flag -rate).
	Rate int
	// Duration is how long a steady writer writes (flag -duration).
	Duration time.Duration
	// Verify makes backlog scenarios write cdcd's events to a file in
	// WorkDir instead of /dev/null and check that every row arrived (flag
	// -verify). Slower: for checking the harness, not for figures.
	Verify bool
	// CDCDFirst makes backlog scenarios run cdcd before the limit instead
	// of after it (flag -cdcd-first), to check for order effects.
	CDCDFirst bool
	// WorkDir is a fresh directory for this run's files (configs, state,
	// logs); the harness removes it after a successful run.
	WorkDir string
	// Log receives progress messages.
	Log *slog.Logger
}

// Result is what one run of a scenario measured.
type Result struct {
	Measurements []Measurement
	// Notes are facts worth keeping next to the figures (load speed, a
	// writer that could not keep its rate, …).
	Notes []string
}

// Measurement is one consumer's figures in one run of one workload.
type Measurement struct {
	Scenario string
	Variant  string // the workload, e.g. "1 txn" or "10-row txns"
	Consumer string // e.g. "pg_recvlogical" or "cdcd → jsonl /dev/null"
	Events   int    // events delivered (the workload's rows)
	// Elapsed is the time from the consumer's start to the last event
	// delivered (for a backlog), or the writer's span (for latency).
	Elapsed time.Duration
	Usage   Usage // the consumer process's CPU and peak RSS
	// WalsenderCPU is the CPU time of the Postgres walsender that served
	// the consumer (decoding is done there), 0 when not measured.
	WalsenderCPU time.Duration
	// Ratio is this consumer's events/s divided by the limit's events/s in
	// the same run; 0 when the scenario has no limit.
	Ratio float64
	// Latency holds source commit → delivery latencies, nil when not measured.
	Latency *LatencyStats
}

// EventsPerSec is Events divided by Elapsed.
func (m Measurement) EventsPerSec() float64 {
	if m.Elapsed <= 0 {
		return 0
	}
	return float64(m.Events) / m.Elapsed.Seconds()
}

// CPUPerMillion is the consumer's user+system CPU seconds per million events.
func (m Measurement) CPUPerMillion() float64 {
	if m.Events == 0 {
		return 0
	}
	return m.Usage.CPU().Seconds() * 1e6 / float64(m.Events)
}

// WalsenderCPUPerMillion is WalsenderCPU in seconds per million events.
func (m Measurement) WalsenderCPUPerMillion() float64 {
	if m.Events == 0 {
		return 0
	}
	return m.WalsenderCPU.Seconds() * 1e6 / float64(m.Events)
}

// LatencyStats summarizes per-event latencies.
type LatencyStats struct {
	P50, P99, Max time.Duration
}
