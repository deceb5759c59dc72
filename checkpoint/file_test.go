package checkpoint

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cdcd-dev/cdcd/event"
)

func TestFileStoreRoundTripsCheckpointsPerPipeline(t *testing.T) {
	ctx := context.Background()
	s, err := NewFile(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(ctx, "orders"); ok || err != nil {
		t.Fatalf("Load of a new store = ok %v, err %v; want nothing", ok, err)
	}
	for _, cp := range []event.Checkpoint{
		{Pos: event.TxEnd(0x16B3748)},
		{Pos: event.Position{Commit: 7, Index: 3}, State: []byte(`{"gtid":"0-1-42"}`)},
		{Pos: event.TxEnd(9), State: []byte{0, 1, 2, 0xff}},
	} {
		if err := s.Save(ctx, "orders", cp); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Load(ctx, "orders")
		if err != nil || !ok || got.Pos != cp.Pos || string(got.State) != string(cp.State) {
			t.Fatalf("Load = %+v ok=%v err=%v, want %+v", got, ok, err, cp)
		}
	}
	if _, ok, _ := s.Load(ctx, "customers"); ok {
		t.Fatal("pipelines must not share checkpoints")
	}
	entries, _ := os.ReadDir(s.Dir)
	if len(entries) != 1 {
		t.Fatalf("state dir holds %d files, want only the checkpoint (temporary files removed)", len(entries))
	}
}

func TestFileStoreRejectsACorruptCheckpointWithAFix(t *testing.T) {
	s, _ := NewFile(t.TempDir())
	os.WriteFile(filepath.Join(s.Dir, "p.checkpoint.json"), []byte("{garbage"), 0o600)
	_, _, err := s.Load(context.Background(), "p")
	if err == nil || !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("Load = %v, want a corrupt-checkpoint error saying what to do", err)
	}
}
