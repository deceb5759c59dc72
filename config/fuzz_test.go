package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoadBytes: LoadBytes never panics; it returns either a pipeline or
// Errors whose every entry names the file and, except for whole-file
// problems, a line.
func FuzzLoadBytes(f *testing.F) {
	for _, name := range []string{"orders-to-kafka.yaml", "shop-replica.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata/examples", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"pipeline: p\nsource: {type: postgres, dsn: postgres://h/db, tables: [public.t]}\nsink: {type: stdout}\n",
		"pipeline: p\nsource: {type: mysql, dsn: \"u:${PW}@tcp(h)/\", tables: [s.t], mysql: {server_id: ${SID:-1}}}\nsink: {type: mysql, dsn: \"u@tcp(h)/db\"}\n",
		"a: &x [*x]\npipeline: *x\nsource: &s {postgres: *s}\n",
		"pipeline: p\n---\npipeline: q\n",
		"- 1\n- 2\n",
		"transforms: [{type: mask, columns: [a, a], method: partial, keep: -1}, {type: rename, rename_columns: {a: b, c: b}}]\n",
		"sink: {type: kafka, kafka: {brokers: [\"[::1]:9092\"], topic: \"{x\", max_batch_bytes: 9999TiB}}\n",
		"? [a]\n: b\n${X}: 1\n<<: {}\n",
		"batch: {max_bytes: \"$${\", linger: ${A:-1s}}\n",
	} {
		f.Add([]byte(s))
	}
	lookup := WithLookupEnv(func(k string) (string, bool) {
		switch k {
		case "PW":
			return "secret", true
		case "SID":
			return "7", true
		}
		return "", false
	})
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := LoadBytes("fuzz.yaml", data, lookup)
		if err == nil {
			if p == nil || !pipelineNameRE.MatchString(p.Name) || p.Source.DSN == "" || len(p.Source.Tables) == 0 || p.Sink.Type == "" {
				t.Fatalf("no error but an incomplete pipeline: %+v", p)
			}
			return
		}
		if p != nil {
			t.Fatal("a pipeline returned with an error")
		}
		var errs Errors
		if !errors.As(err, &errs) || len(errs) == 0 {
			t.Fatalf("error %T %v is not a non-empty Errors", err, err)
		}
		for _, e := range errs {
			if e.File != "fuzz.yaml" {
				t.Fatalf("error without the file: %v", e)
			}
			if e.Line <= 0 && e.Key != "" {
				t.Fatalf("error about a key without a line: %v", e)
			}
			if e.Line <= 0 && e.Msg[:min(len(e.Msg), 17)] != "the file is empty" && e.Msg[:min(len(e.Msg), 12)] != "invalid YAML" {
				t.Fatalf("error without a line: %v", e)
			}
		}
	})
}
