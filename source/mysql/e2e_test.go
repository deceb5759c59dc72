package mysql

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/internal/testenv"
	"github.com/cdcd-dev/cdcd/pipeline"
	mysqlsink "github.com/cdcd-dev/cdcd/sink/mysql"
	"github.com/go-mysql-org/go-mysql/client"
)

// These tests run the source in a pipeline into the MariaDB replica sink
// (sink/mysql), on the shared test server: the acceptance of issue 5.

// tableRows returns a query's rows as text, "∅" for NULL.
func tableRows(m *testenv.MariaDBServer, db, sql string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.ConnectWithContext(ctx, m.Addr(), "root", "", db, 10*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	r, err := c.Execute(sql)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []string
	for i := range r.Values {
		parts := make([]string, len(r.Values[i]))
		for j := range r.Values[i] {
			if null, _ := r.IsNull(i, j); null {
				parts[j] = "∅"
			} else {
				parts[j], _ = r.GetString(i, j)
				parts[j] = strings.Clone(parts[j])
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out, nil
}

// waitSame waits until query gives the same rows in both databases.
func waitSame(t *testing.T, m *testenv.MariaDBServer, srcDB, dstDB, query string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	var a, b []string
	for time.Now().Before(deadline) {
		a, _ = tableRows(m, srcDB, query)
		b, _ = tableRows(m, dstDB, query)
		if len(a) > 0 && strings.Join(a, "\n") == strings.Join(b, "\n") {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	for i := range max(len(a), len(b)) {
		var x, y string
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			t.Fatalf("after 60s the replica differs at row %d of %d/%d:\nsource  %q\nreplica %q", i, len(a), len(b), x, y)
		}
	}
	t.Fatal("after 60s the replica is empty")
}

// waitStreaming waits until a replica with serverID reads the binlog:
// the source has fixed its start position.
func waitStreaming(t *testing.T, m *testenv.MariaDBServer, serverID uint32) {
	t.Helper()
	checkFor(t, 30*time.Second, "the source streams", func() bool {
		rows, _ := tableRows(m, "", "SHOW SLAVE HOSTS")
		for _, r := range rows {
			if strings.HasPrefix(r, fmt.Sprint(serverID)+"|") {
				return true
			}
		}
		return false
	})
}

// runPipeline runs a pipeline from opts's tables into database dstDB until
// ctx ends and returns Run's error.
func runPipeline(ctx context.Context, t *testing.T, m *testenv.MariaDBServer, opts Options, srcDB, dstDB string, grace time.Duration) error {
	src, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	snk, err := mysqlsink.New(mysqlsink.Options{DSN: m.DSN(dstDB), Pipeline: "e2e", CreateTables: true,
		SchemaMap: map[string]string{srcDB: dstDB}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(src, nil, snk, pipeline.Options{Name: "e2e", RetryInitial: 10 * time.Millisecond,
		RetryMax: 100 * time.Millisecond, ShutdownGrace: grace})
	if err != nil {
		t.Fatal(err)
	}
	return p.Run(ctx)
}

func TestEveryTypeReachesAMariaDBReplicaUnchanged(t *testing.T) {
	f := newFixture(t, typesTable)
	dst := f.m.NewDatabase(t)
	opts := f.options("types")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runPipeline(ctx, t, f.m, opts, f.db, dst, 10*time.Second) }()
	defer func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("pipeline: %v", err)
		}
	}()
	waitStreaming(t, f.m, opts.ServerID)
	for _, c := range typeCases() {
		f.exec("INSERT INTO types " + c.insert)
	}
	f.exec(`UPDATE types SET vc = 'changed', e = 'a' WHERE id = 1`)
	f.exec(`DELETE FROM types WHERE id = 2`)
	waitSame(t, f.m, f.db, dst, `SELECT * FROM types ORDER BY id`)
}

// TestCrashesUnderLoadLeaveTheReplicaIdentical stops the pipeline at
// random points without a final flush (as kill -9 would) while
// transactions run, restarts it, and checks that the replica ends equal to
// the source, exactly once: a counter incremented by every transaction
// would show a doubled or lost update.
func TestCrashesUnderLoadLeaveTheReplicaIdentical(t *testing.T) {
	f := newFixture(t, `CREATE TABLE acct (id int PRIMARY KEY, balance bigint NOT NULL, updates int NOT NULL, note varchar(40))`)
	dst := f.m.NewDatabase(t)
	opts := f.options("acct")
	opts.MaxBatchEvents = 16

	// The first run fixes the start before the load begins.
	ctx0, cancel0 := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() { first <- runPipeline(ctx0, t, f.m, opts, f.db, dst, time.Second) }()
	waitStreaming(t, f.m, opts.ServerID)
	f.exec(`INSERT INTO acct SELECT seq, 1000, 0, 'start' FROM seq_1_to_50`)

	stop := make(chan struct{})
	load := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := client.ConnectWithContext(ctx, f.m.Addr(), "root", "", f.db, 10*time.Second)
		if err != nil {
			load <- err
			return
		}
		defer c.Close()
		rng := rand.New(rand.NewPCG(3, 4))
		for i := 0; ; i++ {
			select {
			case <-stop:
				load <- nil
				return
			default:
			}
			a, b := 1+rng.IntN(50), 1+rng.IntN(50)
			stmts := []string{"BEGIN",
				fmt.Sprintf("UPDATE acct SET balance = balance - 7, updates = updates + 1, note = 'tx %d' WHERE id = %d", i, a),
				fmt.Sprintf("UPDATE acct SET balance = balance + 7, updates = updates + 1 WHERE id = %d", b)}
			if i%25 == 0 {
				stmts = append(stmts, fmt.Sprintf("INSERT INTO acct SELECT 1000 + %d * 100 + seq, 0, 0, 'bulk' FROM seq_1_to_40", i))
			}
			if i%40 == 0 {
				stmts = append(stmts, fmt.Sprintf("DELETE FROM acct WHERE id > 1000 AND id %% 3 = %d", i%3))
			}
			for _, s := range append(stmts, "COMMIT") {
				if _, err := c.Execute(s); err != nil {
					load <- err
					return
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()

	time.Sleep(100 * time.Millisecond)
	cancel0()
	<-first
	rng := rand.New(rand.NewPCG(5, 6))
	for crash := 0; crash < 12; crash++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(50+rng.IntN(300))*time.Millisecond)
		// A grace of a nanosecond: the final flush fails, what the sink
		// held is lost, and the next run replays it.
		err := runPipeline(ctx, t, f.m, opts, f.db, dst, time.Nanosecond)
		cancel()
		if err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			t.Fatalf("pipeline: %v", err)
		}
	}
	close(stop)
	if err := <-load; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runPipeline(ctx, t, f.m, opts, f.db, dst, 10*time.Second) }()
	defer func() {
		cancel()
		<-done
	}()
	waitSame(t, f.m, f.db, dst, `SELECT * FROM acct ORDER BY id`)
	waitSame(t, f.m, f.db, dst, `SELECT SUM(balance), SUM(updates), COUNT(*) FROM acct`)
}
