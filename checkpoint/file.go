package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cdcd-dev/cdcd/event"
)

// File keeps each pipeline's checkpoint in <Dir>/<pipeline>.checkpoint.json.
// Save writes a temporary file, fsyncs it, renames it over the old one and
// fsyncs the directory, so a crash leaves either the old or the new
// checkpoint, never a torn one. A File is safe for concurrent use by
// different pipelines; one pipeline must not Save concurrently with itself.
type File struct {
	Dir string
}

// NewFile returns a store under dir, creating dir if needed.
func NewFile(dir string) (*File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("creating checkpoint directory: %w", err)
	}
	return &File{Dir: dir}, nil
}

// fileFormat is the on-disk form; Version lets the format evolve.
type fileFormat struct {
	Version  int             `json:"v"`
	Pipeline string          `json:"pipeline"`
	Pos      event.Position  `json:"pos"`
	State    json.RawMessage `json:"state,omitempty"`
	Raw      []byte          `json:"state_raw,omitempty"`
}

func (f *File) path(pipeline string) string {
	return filepath.Join(f.Dir, pipeline+".checkpoint.json")
}

// Load implements Store.
func (f *File) Load(ctx context.Context, pipeline string) (event.Checkpoint, bool, error) {
	p := f.path(pipeline)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return event.Checkpoint{}, false, nil
	}
	if err != nil {
		return event.Checkpoint{}, false, fmt.Errorf("reading checkpoint: %w", err)
	}
	var ff fileFormat
	if err := json.Unmarshal(data, &ff); err != nil {
		return event.Checkpoint{}, false, fmt.Errorf("checkpoint %s is corrupt (%v); move it away to start over", p, err)
	}
	if ff.Version != 1 {
		return event.Checkpoint{}, false, fmt.Errorf("checkpoint %s has format version %d; this cdcd reads version 1", p, ff.Version)
	}
	if ff.Pipeline != pipeline {
		return event.Checkpoint{}, false, fmt.Errorf("checkpoint %s belongs to pipeline %q, not %q", p, ff.Pipeline, pipeline)
	}
	cp := event.Checkpoint{Pos: ff.Pos, State: ff.Raw}
	if len(ff.State) > 0 {
		cp.State = []byte(ff.State)
	}
	return cp, true, nil
}

// Save implements Store.
func (f *File) Save(ctx context.Context, pipeline string, cp event.Checkpoint) error {
	ff := fileFormat{Version: 1, Pipeline: pipeline, Pos: cp.Pos}
	// Keep JSON state readable in the file; anything else goes base64.
	if len(cp.State) > 0 {
		if json.Valid(cp.State) {
			ff.State = cp.State
		} else {
			ff.Raw = cp.State
		}
	}
	data, err := json.Marshal(ff)
	if err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	final := f.path(pipeline)
	tmp, err := os.CreateTemp(f.Dir, "."+pipeline+".checkpoint-*")
	if err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing checkpoint: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing checkpoint: %w", err)
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("replacing checkpoint: %w", err)
	}
	return syncDir(f.Dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing checkpoint directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing checkpoint directory: %w", err)
	}
	return nil
}
