package stdout

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/checkpoint"
	"github.com/cdcd-dev/cdcd/event"
)

var src = &event.SourceInfo{Kind: "postgres", ServerID: "7", DB: "shop", Pipeline: "p"}

func batch(commit uint64, ids ...int64) *event.Batch {
	b := &event.Batch{Final: true, Checkpoint: event.Checkpoint{Pos: event.TxEnd(commit)}}
	for i, id := range ids {
		b.Events = append(b.Events, event.Event{Op: event.OpInsert, Source: src,
			Table: event.TableID{Namespace: "public", Name: "orders"},
			Key:   event.Row{{Name: "id", Value: event.Int(id)}},
			After: event.Row{{Name: "id", Value: event.Int(id)}},
			Pos:   event.Position{Commit: commit, Index: uint32(i)}})
	}
	return b
}

func newFileSink(t *testing.T, dir string) *Sink {
	t.Helper()
	store, err := checkpoint.NewFile(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Pipeline: "p", Path: filepath.Join(dir, "events.jsonl"), Fsync: true, Store: store, CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

func TestFlushWritesOneJSONLinePerEventAndThenTheCheckpoint(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := newFileSink(t, dir)
	if _, ok, err := s.Open(ctx); ok || err != nil {
		t.Fatalf("first Open: ok=%v err=%v, want no checkpoint", ok, err)
	}
	s.Write(ctx, batch(10, 1, 2))
	s.Write(ctx, batch(11, 3))
	cp, err := s.Flush(ctx)
	if err != nil || cp.Pos != event.TxEnd(11) {
		t.Fatalf("Flush = %v, %v; want the last batch's checkpoint", cp.Pos, err)
	}
	s.Close()
	got := lines(t, filepath.Join(dir, "events.jsonl"))
	if len(got) != 3 {
		t.Fatalf("file has %d lines, want 3", len(got))
	}
	for _, l := range got {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil || m["v"] != float64(1) || m["op"] != "c" {
			t.Fatalf("line %q is not a native event (%v)", l, err)
		}
	}
	// A restart resumes from the checkpoint and appends.
	s2 := newFileSink(t, dir)
	cp, ok, err := s2.Open(ctx)
	if !ok || err != nil || cp.Pos != event.TxEnd(11) {
		t.Fatalf("reopen: %v ok=%v err=%v", cp.Pos, ok, err)
	}
	s2.Write(ctx, batch(12, 4))
	s2.Flush(ctx)
	s2.Close()
	if n := len(lines(t, filepath.Join(dir, "events.jsonl"))); n != 4 {
		t.Fatalf("after restart the file has %d lines, want 4 (appended)", n)
	}
}

func TestEventsNotFlushedAreNotCheckpointed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := newFileSink(t, dir)
	s.Open(ctx)
	s.Write(ctx, batch(10, 1))
	s.Flush(ctx)
	s.Write(ctx, batch(11, 2)) // never flushed: a crash here
	s.Close()
	s2 := newFileSink(t, dir)
	cp, _, _ := s2.Open(ctx)
	if cp.Pos != event.TxEnd(10) {
		t.Fatalf("checkpoint %s, want %s: unflushed events must not be checkpointed", cp.Pos, event.TxEnd(10))
	}
}

func TestATornLastLineIsCutOnOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "events.jsonl")
	os.WriteFile(path, []byte("{\"v\":1}\n{\"v\":1,\"id\":\"7:00"), 0o644)
	s := newFileSink(t, dir)
	s.Open(ctx)
	s.Write(ctx, batch(10, 1))
	s.Flush(ctx)
	s.Close()
	got := lines(t, path)
	if len(got) != 2 || !json.Valid([]byte(got[1])) {
		t.Fatalf("lines %q: the torn line must be replaced by whole events", got)
	}
}

func TestStandardOutput(t *testing.T) {
	ctx := context.Background()
	var out bytes.Buffer
	store, _ := checkpoint.NewFile(t.TempDir())
	s, _ := New(Options{Pipeline: "p", Store: store, Stdout: &out})
	s.Open(ctx)
	s.Write(ctx, batch(5, 1))
	s.Flush(ctx)
	if !strings.HasPrefix(out.String(), `{"v":1,"id":"7:0000000000000005/00000000","op":"c"`) {
		t.Fatalf("stdout got %q", out.String())
	}
}

func TestCheckpointsAreSavedAtMostEveryIntervalAndOnClose(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	store, _ := checkpoint.NewFile(filepath.Join(dir, "state"))
	s, _ := New(Options{Pipeline: "p", Path: filepath.Join(dir, "events.jsonl"), Store: store, CheckpointInterval: time.Hour})
	s.Open(ctx)
	s.Write(ctx, batch(10, 1))
	cp, err := s.Flush(ctx)
	if err != nil || !cp.Pos.IsZero() {
		t.Fatalf("Flush within the interval = %s, %v; want the checkpoint last saved (none)", cp.Pos, err)
	}
	if n := len(lines(t, filepath.Join(dir, "events.jsonl"))); n != 1 {
		t.Fatalf("the data must be written at every flush; file has %d lines", n)
	}
	s.Close()
	if saved, ok, _ := store.Load(ctx, "p"); !ok || saved.Pos != event.TxEnd(10) {
		t.Fatalf("after Close the saved checkpoint is %v (ok=%v); want what was synced, %s", saved.Pos, ok, event.TxEnd(10))
	}
}
