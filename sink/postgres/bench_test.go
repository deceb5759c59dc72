package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/cdcd-dev/cdcd/sink/sqlapply"
)

// benchTable is a small orders table, as the benchmark's events describe it.
var benchTable = table("public", "orders",
	key("id", "bigint", event.KindInt), col("customer", "text", event.KindString),
	col("total", "numeric(12,2)", event.KindDecimal), col("placed_at", "timestamp with time zone", event.KindTimestamp),
	col("paid", "boolean", event.KindBool), col("note", "text", event.KindString))

const benchDDL = `CREATE TABLE orders (id bigint PRIMARY KEY, customer text, total numeric(12,2),
	placed_at timestamptz, paid boolean, note text)`

// backlog returns n events in transactions of 1 to 10 events: inserts of
// new keys (50%), updates of live keys (30%) and deletes (20%), as final
// batches of one transaction each.
func backlog(n int) []*event.Batch {
	rng := rand.New(rand.NewPCG(7, 7))
	src := newSource("postgres", "7001")
	var (
		out  []*event.Batch
		live []int64
		next int64 = 1
	)
	orow := func(id int64) []any {
		return []any{"id", event.Int(id), "customer", fmt.Sprintf("customer %d", rng.IntN(1000)),
			"total", event.Decimal(fmt.Sprintf("%d.%02d", rng.IntN(10000), rng.IntN(100))),
			"placed_at", event.Timestamp(1767323045123456 + rng.Int64N(1e12)), "paid", event.Bool(rng.IntN(2) == 0), "note", nil}
	}
	for made := 0; made < n; {
		size := min(1+rng.IntN(10), n-made)
		evs := make([]event.Event, 0, size)
		for range size {
			switch r := rng.IntN(10); {
			case r < 5 || len(live) < 100:
				evs = append(evs, ins(benchTable, orow(next)...))
				live = append(live, next)
				next++
			case r < 8:
				evs = append(evs, upd(benchTable, orow(live[rng.IntN(len(live))])...))
			default:
				i := rng.IntN(len(live))
				evs = append(evs, del(benchTable, "id", event.Int(live[i])))
				live[i] = live[len(live)-1]
				live = live[:len(live)-1]
			}
		}
		made += size
		out = append(out, src.tx(evs...))
	}
	return out
}

// BenchmarkApplyMixedBacklog applies a backlog of 100,000 events in small
// transactions (inserts, updates and deletes) to a fresh table, flushing
// every 10,000 events as the pipeline does by default, and reports events
// per second. -benchtime=1x is enough.
func BenchmarkApplyMixedBacklog(b *testing.B) {
	const events = 100_000
	bs := backlog(events)
	pg := testenv.Postgres(b)
	for _, strategy := range []sqlapply.Strategy{sqlapply.SourceWins, sqlapply.NewerWins} {
		b.Run(string(strategy), func(b *testing.B) {
			var total time.Duration
			for range b.N {
				b.StopTimer()
				db := pg.NewDatabase(b)
				pg.Exec(b, db, benchDDL)
				s, err := New(Options{DSN: pg.DSN(db), Pipeline: "bench", Conflict: sqlapply.Conflict{Default: strategy}})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				if _, _, err := s.Open(ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				pending := 0
				for _, bt := range bs {
					if err := s.Write(ctx, bt); err != nil {
						b.Fatal(err)
					}
					if pending += len(bt.Events); pending >= 10_000 {
						if _, err := s.Flush(ctx); err != nil {
							b.Fatal(err)
						}
						pending = 0
					}
				}
				if _, err := s.Flush(ctx); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				b.StopTimer()
				s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(events*b.N)/total.Seconds(), "events/s")
		})
	}
}
