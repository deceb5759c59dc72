package kafka

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// TestKcatReadsCommittedRecords reads what the sink wrote with kcat
// (librdkafka), an independent client, with read_committed: it sees the
// committed records with their keys, headers and values, in every
// compression codec, and none of an aborted transaction's.
func TestKcatReadsCommittedRecords(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed (make test installs it with scripts/install-deps.sh)")
	}
	k := testenv.Kafka(t)
	for _, c := range []Compression{CompressionNone, CompressionLZ4, CompressionZstd, CompressionSnappy, CompressionGzip} {
		t.Run(string(c), func(t *testing.T) {
			opts := testOptions(t, k)
			opts.Compression = c
			topic := opts.Pipeline + ".public.t"
			s, _, _ := open(t, opts)
			b1, aborted, b2 := txn(1, 2), txn(2, 2), txn(3, 1)
			write(t, s, b1)
			flush(t, s)
			write(t, s, aborted)
			checkFor(t, 10*time.Second, "the aborted records reach the broker", func() bool { return len(readTopic(t, k, topic, false)) == 4 })
			s.crash()
			s2, _, _ := open(t, opts) // fences and aborts the crashed transaction
			write(t, s2, b2)
			flush(t, s2)

			read := func(isolation string) []string {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, kcat, "-b", strings.Join(k.Brokers(), ","), "-C", "-t", topic, "-e", "-q",
					"-X", "isolation.level="+isolation, "-f", "%k\t%h\t%s\n")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("kcat: %v\n%s", err, out)
				}
				return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
			}
			if c == CompressionNone { // once is enough: the aborted records are in the log
				if n := len(read("read_uncommitted")); n != 5 {
					t.Fatalf("kcat read_uncommitted read %d records, want 5", n)
				}
			}
			lines := read("read_committed")
			var want []string
			for _, e := range append(b1.Events, b2.Events...) {
				headers := "cdcd-id=" + e.ID() + ",cdcd-pos=" + e.Pos.String() + ",cdcd-op=c,cdcd-table=public.t,cdcd-schema-version=2"
				want = append(want, string(e.Key.AppendJSON(nil))+"\t"+headers+"\t"+string(e.AppendJSON(nil)))
			}
			if !equalStrings(lines, want) {
				t.Fatalf("kcat read\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// kcatRead reads topic with kcat and read_committed, and returns the
// records' partitions, keys and headers.
func kcatRead(t *testing.T, k *testenv.KafkaServer, topic string) []rec {
	t.Helper()
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat is not installed (make test installs it with scripts/install-deps.sh)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, kcat, "-b", strings.Join(k.Brokers(), ","), "-C", "-t", topic, "-e", "-q",
		"-X", "isolation.level=read_committed", "-f", "%p\t%k\t%h\n").CombinedOutput()
	if err != nil {
		t.Fatalf("kcat: %v\n%s", err, out)
	}
	var rs []rec
	for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("kcat line %q", line)
		}
		p, err := strconv.Atoi(f[0])
		if err != nil {
			t.Fatalf("kcat line %q", line)
		}
		r := rec{Topic: topic, Partition: int32(p), Key: f[1], Headers: map[string]string{}}
		for _, h := range strings.Split(f[2], ",") {
			name, value, _ := strings.Cut(h, "=")
			r.Headers[name] = value
		}
		rs = append(rs, r)
	}
	return rs
}
