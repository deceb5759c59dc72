package mysql

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/event"
	"github.com/cdcd-dev/cdcd/internal/testenv"
	gm "github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

// benchRows is how many row events the drain benchmarks read.
const benchRows = 200_000

// BenchmarkDrain reads the binlog of 200,000 inserted rows (in
// transactions of 10 and of 1,000 rows) into our events and discards
// them, and, in the same run, reads the same binlog range with a bare
// go-mysql BinlogSyncer in raw mode (framing only: the limit) and with
// its own row decoding (to []any, as canal users get). It reports rows/s
// of each and ratio = ours / raw. Run it with
//
//	go test ./source/mysql -run '^$' -bench Drain -benchtime 3x
func BenchmarkDrain(b *testing.B) {
	for _, perTx := range []int{10, 1000} {
		b.Run(fmt.Sprintf("tx=%d", perTx), func(b *testing.B) { benchDrain(b, perTx) })
	}
}

func benchDrain(b *testing.B, perTx int) {
	m := testenv.MariaDB(b)
	db := m.NewDatabase(b)
	m.Exec(b, db, `CREATE TABLE bench (id int PRIMARY KEY, name varchar(40), amount decimal(12,2),
		at datetime(6), flag tinyint, note text)`)
	m.Exec(b, db, `CREATE TABLE other (id int PRIMARY KEY)`)
	opts := Options{DSN: m.DSN(db), Pipeline: "bench", Tables: []string{db + ".bench"}, ServerID: nextServerID(),
		MaxBatchEvents: 4096, Logger: slog.New(slog.DiscardHandler)}

	// A checkpoint before the rows.
	src, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := src.Open(ctx, nil); err != nil {
		b.Fatal(err)
	}
	m.Exec(b, db, `INSERT INTO bench (id) VALUES (0)`)
	var cp0 event.Checkpoint
	for {
		bt, err := src.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if len(bt.Events) > 0 {
			cp0 = bt.Checkpoint
			break
		}
	}
	src.Close()
	start, err := decodeState(cp0.State, nil, false)
	if err != nil {
		b.Fatal(err)
	}

	m.Exec(b, db, fmt.Sprintf(`CREATE PROCEDURE fill() BEGIN
		DECLARE i INT DEFAULT 0;
		WHILE i < %d DO
			START TRANSACTION;
			INSERT INTO bench SELECT seq, CONCAT('customer-', seq), seq * 1.25,
				TIMESTAMP('2024-01-02 03:04:05.123456') + INTERVAL seq SECOND, seq %% 2, REPEAT('x', 40)
				FROM seq_%d_to_%d;
			COMMIT;
			SET i = i + %d;
		END WHILE;
	END`, benchRows, 1, perTx, perTx))
	// The procedure inserts rows 1..perTx each time; shift them.
	m.Exec(b, db, fmt.Sprintf(`DROP PROCEDURE fill`))
	m.Exec(b, db, fmt.Sprintf(`CREATE PROCEDURE fill() BEGIN
		DECLARE i INT DEFAULT 0;
		WHILE i < %d DO
			START TRANSACTION;
			INSERT INTO bench SELECT i + seq, CONCAT('customer-', seq), seq * 1.25,
				TIMESTAMP('2024-01-02 03:04:05.123456') + INTERVAL seq SECOND, seq %% 2, REPEAT('x', 40)
				FROM seq_1_to_%d;
			COMMIT;
			SET i = i + %d;
		END WHILE;
	END`, benchRows, perTx, perTx))
	m.Exec(b, db, `CALL fill()`)
	c := m.Connect(b, "")
	r, err := c.Execute(`SHOW MASTER STATUS`)
	if err != nil {
		b.Fatal(err)
	}
	endFile, _ := r.GetString(0, 0)
	endPos, _ := r.GetInt(0, 1)
	if endFile != start.File {
		b.Fatalf("the binlog rotated during the fill (%s → %s)", start.File, endFile)
	}

	var ours, raw, parsed time.Duration
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		if n := drainOurs(b, opts, &cp0); n != benchRows {
			b.Fatalf("our source read %d rows, want %d", n, benchRows)
		}
		t1 := time.Now()
		drainRaw(b, m, opts.ServerID+1000, start.File, start.Pos, uint32(endPos), true)
		t2 := time.Now()
		if n := drainRaw(b, m, opts.ServerID+2000, start.File, start.Pos, uint32(endPos), false); n != benchRows {
			b.Fatalf("go-mysql read %d rows, want %d", n, benchRows)
		}
		ours += t1.Sub(t0)
		raw += t2.Sub(t1)
		parsed += time.Since(t2)
	}
	b.StopTimer()
	rate := func(d time.Duration) float64 { return float64(benchRows*b.N) / d.Seconds() }
	b.ReportMetric(rate(ours), "rows/s")
	b.ReportMetric(rate(raw), "raw-rows/s")
	b.ReportMetric(rate(parsed), "gomysql-rows/s")
	b.ReportMetric(raw.Seconds()/ours.Seconds(), "ratio")
}

// drainOurs reads benchRows row events after cp with the source and
// discards them.
func drainOurs(b *testing.B, opts Options, cp *event.Checkpoint) int {
	src, err := New(opts)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := src.Open(ctx, cp); err != nil {
		b.Fatal(err)
	}
	n := 0
	for n < benchRows {
		bt, err := src.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		n += len(bt.Events)
	}
	return n
}

// drainRaw reads file from pos up to end with a bare BinlogSyncer and
// returns the rows it decoded (0 in raw mode).
func drainRaw(b *testing.B, m *testenv.MariaDBServer, serverID uint32, file string, pos, end uint32, rawMode bool) int {
	s := replication.NewBinlogSyncer(replication.BinlogSyncerConfig{
		ServerID: serverID, Flavor: flavorMariaDB, Host: m.Host, Port: uint16(m.Port), User: "root",
		RawModeEnabled: rawMode, DisableRetrySync: true, DiscardGTIDSet: true, EventCacheCount: eventCache,
		Logger: slog.New(slog.DiscardHandler),
	})
	defer s.Close()
	st, err := s.StartSync(gm.Position{Name: file, Pos: pos})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rows := 0
	for {
		ev, err := st.GetEvent(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if re, ok := ev.Event.(*replication.RowsEvent); ok {
			rows += len(re.Rows)
		}
		if ev.Header.LogPos >= end {
			return rows
		}
	}
}
