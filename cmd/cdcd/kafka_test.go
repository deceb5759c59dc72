package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// TestPostgresToKafkaIsExactlyOnceAcrossKill9 is the main job end to end:
// the real binary streams a Postgres table into Kafka while a writer
// commits; cdcd is killed with SIGKILL at random moments and restarted;
// a read_committed consumer then sees every change exactly once, each
// row's changes in order.
func TestPostgresToKafkaIsExactlyOnceAcrossKill9(t *testing.T) {
	bin := buildBinary(t)
	pg := testenv.Postgres(t)
	db := pg.NewDatabase(t)
	pg.Exec(t, db, `CREATE TABLE accounts (id bigint PRIMARY KEY, balance bigint NOT NULL, version int NOT NULL)`)
	k, err := testenv.StartKafka()
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()

	dir := t.TempDir()
	cfg := writeFile(t, dir, "p.yaml", fmt.Sprintf(`pipeline: accounts-to-kafka
source: {type: postgres, dsn: %q, tables: [public.accounts], snapshot: never}
sink:
  type: kafka
  kafka: {brokers: [%q], topic: "cdc.{namespace}.{table}"}
admin: {listen: "127.0.0.1:0"}
`, pg.DSN(db), k.Brokers()[0]))
	start := func() (*exec.Cmd, *syncBuffer) {
		logs := &syncBuffer{}
		cmd := exec.Command(bin, "run", "--config", cfg, "--log-format", "text")
		cmd.Stderr = logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, logs
	}
	cmd, logs := start()
	probe := pg.Connect(t, db)
	checkFor(t, 30*time.Second, "the slot is active", func() bool {
		var n int
		probe.QueryRow(context.Background(), `SELECT count(*) FROM pg_replication_slots WHERE active`).Scan(&n)
		return n == 1
	})

	// The writer: 50 accounts, each insert then updates with version 1, 2, …
	const accounts, updates = 50, 30
	writerDone := make(chan struct{})
	writer := pg.Connect(t, db)
	go func() {
		defer close(writerDone)
		ctx := context.Background()
		for v := 0; v <= updates; v++ {
			time.Sleep(100 * time.Millisecond) // spread the writes over the kills
			for id := 1; id <= accounts; id++ {
				var err error
				if v == 0 {
					_, err = writer.Exec(ctx, `INSERT INTO accounts VALUES ($1, 0, 0)`, id)
				} else {
					_, err = writer.Exec(ctx, `UPDATE accounts SET balance = balance + 1, version = $2 WHERE id = $1`, id, v)
				}
				if err != nil {
					t.Errorf("writer: %v", err)
					return
				}
			}
		}
	}()

	// Kill -9 at random moments while the writer runs.
	kills := 0
	for running := true; running; {
		select {
		case <-writerDone:
			running = false
		case <-time.After(time.Duration(200+rand.IntN(500)) * time.Millisecond):
			cmd.Process.Kill()
			cmd.Wait()
			kills++
			cmd, logs = start()
		}
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()

	consumer := k.Client(t, kgo.ConsumeTopics("cdc.public.accounts"),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	type change struct {
		op      string
		version int
	}
	seen := map[int][]change{}
	ids := map[string]int{}
	total := 0
	want := accounts * (updates + 1)
	deadline := time.Now().Add(60 * time.Second)
	for total < want && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fs := consumer.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			var ev struct {
				ID    string `json:"id"`
				Op    string `json:"op"`
				After struct {
					ID      int `json:"id"`
					Version int `json:"version"`
				} `json:"after"`
			}
			if err := json.Unmarshal(r.Value, &ev); err != nil {
				t.Fatalf("record %q: %v", r.Value, err)
			}
			ids[ev.ID]++
			seen[ev.After.ID] = append(seen[ev.After.ID], change{ev.Op, ev.After.Version})
			total++
		})
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("final cdcd exited with %v", err)
	}
	if kills < 3 {
		t.Fatalf("only %d kills happened while the writer ran", kills)
	}
	if total != want {
		t.Fatalf("read_committed consumer saw %d changes, want %d (after %d kills)\nlast logs:\n%s", total, want, kills, tail(logs.String(), 3000))
	}
	for id, n := range ids {
		if n != 1 {
			t.Fatalf("event %s seen %d times", id, n)
		}
	}
	for id := 1; id <= accounts; id++ {
		cs := seen[id]
		for v, c := range cs {
			wantOp := "u"
			if v == 0 {
				wantOp = "c"
			}
			if c.op != wantOp || c.version != v {
				t.Fatalf("account %d change %d is %+v, want op %s version %d (order broken)", id, v, c, wantOp, v)
			}
		}
	}
	// The same through a third-party client: kcat with read_committed.
	out, err := exec.Command("kcat", "-b", k.Brokers()[0], "-C", "-t", "cdc.public.accounts", "-o", "beginning", "-e",
		"-X", "isolation.level=read_committed", "-q", "-f", "%h\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat (make test installs it): %v\n%s", err, out)
	}
	kcatIDs := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		for _, h := range strings.Split(line, ",") {
			if id, ok := strings.CutPrefix(h, "cdcd-id="); ok {
				kcatIDs[id]++
			}
		}
	}
	if len(kcatIDs) != want {
		t.Fatalf("kcat read_committed sees %d distinct events, want %d", len(kcatIDs), want)
	}
	for id, n := range kcatIDs {
		if n != 1 || ids[id] != 1 {
			t.Fatalf("kcat sees event %s %d times", id, n)
		}
	}
	t.Logf("%d changes exactly once and in order per row across %d kill -9s (franz-go and kcat, read_committed)", total, kills)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := strings.IndexByte(s[len(s)-n:], '\n')
	return s[len(s)-n+i+1:]
}
