package metrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Admin is the process's admin HTTP server, shared by all its pipelines:
//
//	/metrics  Prometheus exposition
//	/healthz  200 while the process runs
//	/readyz   200 when every pipeline streams; 503 naming those that do not
//	/status   JSON: each pipeline's state, position, lags and last error
//	/debug/pprof/  when enabled
type Admin struct {
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
}

// NewAdmin listens on addr (":9187", "127.0.0.1:0", …) right away, so a
// port in use is reported before any pipeline starts.
func NewAdmin(addr string, m *Metrics, g prometheus.Gatherer, withPprof bool, log *slog.Logger) (*Admin, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin server: listening on %s: %w (set admin.listen to a free address)", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		var notReady []string
		for _, s := range m.Statuses() {
			if !s.Ready {
				reason := s.State
				if s.LastError != "" {
					reason += ": " + s.LastError
				}
				notReady = append(notReady, fmt.Sprintf("pipeline %s is %s", s.Name, reason))
			}
		}
		if len(notReady) > 0 {
			http.Error(w, strings.Join(notReady, "\n"), http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(struct {
			Pipelines []Status `json:"pipelines"`
		}{m.Statuses()})
	})
	if withPprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return &Admin{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, ln: ln, log: log}, nil
}

// Addr returns the address the server listens on.
func (a *Admin) Addr() string { return a.ln.Addr().String() }

// Run serves until ctx is done, then shuts down within 5 seconds.
func (a *Admin) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.srv.Serve(a.ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("admin server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("admin server: %w", err)
	}
	return ctx.Err()
}
