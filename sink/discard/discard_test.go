package discard

import (
	"context"
	"testing"

	"github.com/cdcd-dev/cdcd/checkpoint"
	"github.com/cdcd-dev/cdcd/event"
)

func TestDiscardCountsAndCheckpoints(t *testing.T) {
	ctx := context.Background()
	store, _ := checkpoint.NewFile(t.TempDir())
	s, _ := New("p", store, -1)
	s.Open(ctx)
	s.Write(ctx, &event.Batch{Events: make([]event.Event, 3), Final: true, Checkpoint: event.Checkpoint{Pos: event.TxEnd(7)}})
	cp, err := s.Flush(ctx)
	if err != nil || cp.Pos != event.TxEnd(7) || s.Events() != 3 {
		t.Fatalf("Flush = %s, %v; events %d", cp.Pos, err, s.Events())
	}
	s2, _ := New("p", store, -1)
	if cp, ok, _ := s2.Open(ctx); !ok || cp.Pos != event.TxEnd(7) {
		t.Fatalf("reopened at %s ok=%v", cp.Pos, ok)
	}
}
