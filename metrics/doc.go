// Package metrics will hold cdcd's Prometheus collectors and the admin HTTP
// server (/metrics, /healthz, /readyz, /status). Sources and sinks expose
// numbers through small hooks (pipeline.Observer, source stats methods) and
// never import prometheus themselves.
package metrics
