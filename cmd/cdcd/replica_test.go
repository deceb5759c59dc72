package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// TestMariaDBToPostgresReplicaConverges runs the binary from a MariaDB
// binlog into a Postgres replica that cdcd creates, while a writer inserts,
// updates and deletes; the replica ends equal to the source.
func TestMariaDBToPostgresReplicaConverges(t *testing.T) {
	bin := buildBinary(t)
	my := testenv.MariaDB(t)
	srcDB := my.NewDatabase(t)
	my.Exec(t, srcDB, `CREATE TABLE accounts (id BIGINT UNSIGNED PRIMARY KEY, owner VARCHAR(64) NOT NULL, balance DECIMAL(20,4) NOT NULL, updated DATETIME(6) NOT NULL)`)
	pg := testenv.Postgres(t)
	dstDB := pg.NewDatabase(t)

	dir := t.TempDir()
	cfg := writeFile(t, dir, "p.yaml", fmt.Sprintf(`pipeline: accounts-replica
source: {type: mysql, dsn: %q, tables: [%q], snapshot: never, mysql: {server_id: 4242}}
sink:
  type: postgres
  dsn: %q
  postgres: {schema_map: {%s: public}, create_tables: true}
  conflict: {default: newer_wins}
admin: {listen: "127.0.0.1:0"}
`, my.DSN(""), srcDB+".accounts", pg.DSN(dstDB), srcDB))
	logs := &syncBuffer{}
	cmd := exec.Command(bin, "run", "--config", cfg, "--log-format", "text")
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// Without a snapshot the stream starts at the binlog position of the
	// first start: write once the source says it streams.
	checkFor(t, 30*time.Second, "the source streaming", func() bool { return strings.Contains(logs.String(), "msg=streaming") })

	for i := 1; i <= 200; i++ {
		my.Exec(t, srcDB, `INSERT INTO accounts VALUES (?, ?, ?, '2026-01-02 03:04:05.123456')`, uint64(i)+(1<<63), fmt.Sprintf("owner-%d", i), fmt.Sprintf("%d.0001", i))
	}
	my.Exec(t, srcDB, `UPDATE accounts SET balance = balance * 2 WHERE id % 3 = 0`)
	my.Exec(t, srcDB, `DELETE FROM accounts WHERE id % 5 = 0`)

	dst := pg.Connect(t, dstDB)
	want := "160 " // rows left: 200 - 40
	var got string
	checkFor(t, 60*time.Second, "the replica converges", func() bool {
		var n int
		var sum string
		if err := dst.QueryRow(context.Background(), `SELECT count(*), sum(balance)::text FROM public.accounts`).Scan(&n, &sum); err != nil {
			return false
		}
		got = fmt.Sprintf("%d %s", n, sum)
		return strings.HasPrefix(got, want)
	})
	// Exact values, including an unsigned id above 2^63 and the decimal scale.
	var id, balance, updated string
	if err := dst.QueryRow(context.Background(), `SELECT id::text, balance::text, updated::text FROM public.accounts WHERE owner = 'owner-3'`).Scan(&id, &balance, &updated); err != nil {
		t.Fatal(err)
	}
	c := my.Connect(t, srcDB)
	r, err := c.Execute(`SELECT CAST(balance AS CHAR), CAST(SUM(balance) OVER () AS CHAR) FROM accounts WHERE owner = 'owner-3'`)
	if err != nil {
		t.Fatal(err)
	}
	srcBalance, _ := r.GetString(0, 0)
	if id != "9223372036854775811" || balance != srcBalance || updated != "2026-01-02 03:04:05.123456" {
		t.Fatalf("replica row: id %s balance %s (source %s) updated %s", id, balance, srcBalance, updated)
	}
	r, err = c.Execute(`SELECT CAST(SUM(balance) AS CHAR) FROM accounts`)
	if err != nil {
		t.Fatal(err)
	}
	srcSum, _ := r.GetString(0, 0)
	if got != "160 "+srcSum {
		t.Fatalf("replica %q, source 160 %s", got, srcSum)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("cdcd exited with %v\n%s", err, tail(logs.String(), 2000))
	}
}
