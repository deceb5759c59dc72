// Package metrics exports cdcd's Prometheus metrics and serves the admin
// HTTP endpoints (/metrics, /healthz, /readyz, /status).
//
// Each pipeline gets a *Pipeline, which is the pipeline's Observer: the
// pipeline tells it about states, batches and flushes, and lags are
// computed at scrape time from what it was told, so an idle pipeline reads
// 0 and a stalled sink reads a growing lag without anything ticking.
// Sources and sinks never import prometheus: numbers that live in a
// backend (a Postgres slot's retained WAL) are read at scrape time through
// a plain function the wiring registers (Pipeline.SetSlotStats).
//
// Metric names follow cdcd_<subsystem>_<name>_<unit>; labels are pipeline,
// and op/table/state/kind from bounded sets.
package metrics
