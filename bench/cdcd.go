package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cdcd-dev/cdcd/event"
)

// benchPipeline is the pipeline name of every cdcd the harness runs; it
// names the checkpoint file.
const benchPipeline = "bench"

// cdcdConfig is what varies in the pipeline file the harness writes.
type cdcdConfig struct {
	DSN         string
	Tables      []string
	Slot        string
	Publication string
	SinkPath    string // "-" for standard output
	StateDir    string
	AdminListen string
	Discard     bool // the discard sink instead of jsonl
	// Kafka, when set, is the Kafka sink instead of jsonl or discard.
	Kafka *kafkaSinkConfig
	// SaveEveryFlush saves the checkpoint file at every flush, for
	// scenarios that watch it to see progress; otherwise the default
	// checkpoint_interval applies, as in production.
	SaveEveryFlush bool
}

// yamlString quotes s as a YAML double-quoted scalar.
func yamlString(s string) string { return strconv.Quote(s) }

// render returns the pipeline YAML.
func (c cdcdConfig) render() string {
	tables := make([]string, len(c.Tables))
	for i, t := range c.Tables {
		tables[i] = yamlString(t)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "pipeline: %s\n", benchPipeline)
	fmt.Fprintf(&b, "source:\n  type: postgres\n  dsn: %s\n  tables: [%s]\n  snapshot: never\n",
		yamlString(c.DSN), strings.Join(tables, ", "))
	fmt.Fprintf(&b, "  postgres: {slot: %s, publication: %s}\n", yamlString(c.Slot), yamlString(c.Publication))
	switch {
	case c.Kafka != nil:
		brokers := make([]string, len(c.Kafka.Brokers))
		for i, br := range c.Kafka.Brokers {
			brokers[i] = yamlString(br)
		}
		fmt.Fprintf(&b, "sink:\n  type: kafka\n  kafka: {brokers: [%s], topic: %s, exactly_once: %t}\n",
			strings.Join(brokers, ", "), yamlString(benchTopicTemplate), c.Kafka.ExactlyOnce)
	case c.Discard:
		b.WriteString("sink: {type: discard}\n")
	default:
		fmt.Fprintf(&b, "sink:\n  type: stdout\n  stdout: {path: %s, fsync: false}\n", yamlString(c.SinkPath))
	}
	if c.SaveEveryFlush {
		b.WriteString("checkpoint_interval: 0s\n")
	}
	fmt.Fprintf(&b, "state_dir: %s\n", yamlString(c.StateDir))
	fmt.Fprintf(&b, "admin: {listen: %s}\n", yamlString(c.AdminListen))
	return b.String()
}

// kafkaSinkConfig is what varies in the Kafka sink of the pipeline file.
type kafkaSinkConfig struct {
	Brokers     []string
	ExactlyOnce bool
}

// checkpointPath is where cdcd's file checkpoint store keeps the bench
// pipeline's checkpoint.
func checkpointPath(stateDir string) string {
	return filepath.Join(stateDir, benchPipeline+".checkpoint.json")
}

// parseCheckpoint reads the position of a checkpoint file's contents,
// {"v":1,"pipeline":"bench","pos":"00000000016B3748/FFFFFFFF",…}.
func parseCheckpoint(data []byte) (event.Position, error) {
	var f struct {
		V   int             `json:"v"`
		Pos *event.Position `json:"pos"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return event.Position{}, fmt.Errorf("parsing checkpoint: %w", err)
	}
	if f.V != 1 {
		return event.Position{}, fmt.Errorf("checkpoint format version %d, want 1", f.V)
	}
	if f.Pos == nil {
		return event.Position{}, errors.New("checkpoint has no pos")
	}
	return *f.Pos, nil
}

// readCheckpoint returns the position saved in path, with ok false when
// there is no checkpoint yet. cdcd replaces the file by a rename, so it is
// never read torn.
func readCheckpoint(path string) (pos event.Position, ok bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return event.Position{}, false, nil
	}
	if err != nil {
		return event.Position{}, false, err
	}
	pos, err = parseCheckpoint(data)
	if err != nil {
		return event.Position{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return pos, true, nil
}

// waitCheckpoint polls the checkpoint of the cdcd run by p every interval
// until its commit position is at least commit, and returns the time it
// saw that. It fails if cdcd exits first or ctx ends.
func waitCheckpoint(ctx context.Context, p *proc, path string, commit uint64, interval time.Duration) (time.Time, error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var last event.Position
	for {
		pos, ok, err := readCheckpoint(path)
		if err != nil {
			return time.Time{}, err
		}
		if ok && pos.Commit >= commit {
			return time.Now(), nil
		}
		last = pos
		if p.exited() {
			_, _, err := p.wait(ctx)
			return time.Time{}, fmt.Errorf("cdcd exited before its checkpoint reached %s (last %s): %v", formatLSN(commit), last, err)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("waiting for cdcd's checkpoint to reach %s (last %s): %w", formatLSN(commit), last, ctx.Err())
		case <-t.C:
		}
	}
}

// parseLSN parses Postgres's text form of an LSN, "16/B374D848".
func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, fmt.Errorf("LSN %q: want X/Y", s)
	}
	h, err := strconv.ParseUint(hi, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("LSN %q: %w", s, err)
	}
	l, err := strconv.ParseUint(lo, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("LSN %q: %w", s, err)
	}
	return h<<32 | l, nil
}

// formatLSN is the inverse of parseLSN.
func formatLSN(lsn uint64) string { return fmt.Sprintf("%X/%X", lsn>>32, uint32(lsn)) }

// freeAddr returns a 127.0.0.1 address with a port free right now, for
// cdcd's admin server (its default :9187 may be taken by a demo).
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startCDCD writes cfg to a file in dir and starts `cdcd run` on it, its
// standard output to stdout (nil: /dev/null) and its log to dir/cdcd.log.
func startCDCD(ctx context.Context, bin, dir string, cfg cdcdConfig, stdout *os.File) (*proc, error) {
	if cfg.AdminListen == "" {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		cfg.AdminListen = addr
	}
	path := filepath.Join(dir, "cdcd.yaml")
	if err := os.WriteFile(path, []byte(cfg.render()), 0o644); err != nil {
		return nil, fmt.Errorf("writing cdcd config: %w", err)
	}
	return startProc(ctx, "cdcd", bin, []string{"run", "--config", path, "--log-format", "text"}, stdout, filepath.Join(dir, "cdcd.log"))
}
