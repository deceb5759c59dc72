package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// env returns a WithLookupEnv option reading from vars.
func env(vars map[string]string) Option {
	return WithLookupEnv(func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	})
}

var exampleEnv = env(map[string]string{"PG_PASSWORD": "pg-secret", "MYSQL_PASSWORD": "my-secret"})

func sec(n int) Duration { return Duration(time.Duration(n) * time.Second) }

// The two examples of design.md §6 load, with every default filled in.
func TestLoadDesignExamples(t *testing.T) {
	got, err := Load("testdata/examples", exampleEnv)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	common := func(p Pipeline) Pipeline {
		p.StateDir = "./cdcd-state"
		p.CheckpointInterval = Duration(time.Second)
		p.Batch = Batch{MaxEvents: 10000, MaxBytes: 16 << 20, QueueBatches: 1024}
		p.Shutdown = sec(20)
		p.Retry = Retry{Initial: Duration(500 * time.Millisecond), Max: sec(30)}
		p.Admin = Admin{Listen: ":9187"}
		return p
	}
	want := []Pipeline{
		common(Pipeline{
			Name: "orders-to-kafka",
			File: filepath.Join("testdata/examples", "orders-to-kafka.yaml"),
			Line: 1,
			Source: Source{
				Type:     "postgres",
				DSN:      "postgres://cdc:pg-secret@db:5432/shop",
				Tables:   []string{"public.orders", "public.customer*"},
				Snapshot: "initial",
				Postgres: PostgresSource{Slot: "cdcd_orders", Publication: "cdcd_orders", CreateSlot: true, CreatePublication: true,
					Heartbeat: sec(30), Toast: "keep", MissingIdentity: "error", StatusInterval: sec(10)},
			},
			Transforms: []Transform{
				{Type: "filter", Tables: []string{"public.orders"}, Where: "after.status != 'draft'", Line: 9},
				{Type: "drop_columns", Tables: []string{"public.customers"}, Columns: []string{"password_hash"}, Line: 10},
				{Type: "mask", Tables: []string{"public.customers"}, Columns: []string{"email"}, Method: "sha256", Line: 11},
				{Type: "rename", Tables: []string{"public.customers"}, To: "crm.customers", Line: 12},
			},
			Sink: Sink{Type: "kafka", Kafka: KafkaSink{Brokers: []string{"kafka:9092"}, Topic: "cdc.{namespace}.{table}",
				Format: "native", ExactlyOnce: true, OffsetsTopic: "cdcd.offsets", Compression: "lz4", PartitionBy: "key",
				Partitions: 1, ReplicationFactor: -1}},
		}),
		common(Pipeline{
			Name: "shop-replica",
			File: filepath.Join("testdata/examples", "shop-replica.yaml"),
			Line: 1,
			Source: Source{
				Type:     "mysql",
				DSN:      "cdc:my-secret@tcp(shop-db:3306)/",
				Tables:   []string{"shop.*"},
				Snapshot: "initial",
				MySQL:    MySQLSource{ServerID: 4242, Heartbeat: sec(10), ZeroDate: "null"},
			},
			Sink: Sink{
				Type:     "postgres",
				DSN:      "postgres://replica@reporting:5432/reporting",
				Postgres: SQLSink{SchemaMap: map[string]string{"shop": "shop_replica"}, CreateTables: true, CheckpointSchema: "public"},
				Conflict: Conflict{Default: "newer_wins", OnMissing: "upsert",
					Rules: []ConflictRule{{Tables: []string{"shop.settings"}, Strategy: "target_wins"}}},
				DeadLetter: DeadLetter{Table: "cdcd_dead_letter"},
			},
		}),
	}
	if len(got) != len(want) {
		t.Fatalf("got %d pipelines, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(*got[i], want[i]) {
			t.Errorf("pipeline %d:\n got %+v\nwant %+v", i, *got[i], want[i])
		}
	}
}

// A minimal file gets every default; the slot and publication names derive
// from the pipeline name.
func TestDefaults(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want func(p *Pipeline) any
		is   any
	}{
		{"slot from name", "pipeline: orders.v2-eu\nsource: {type: postgres, dsn: postgres://h/db, tables: [public.t]}\nsink: {type: stdout}\n",
			func(p *Pipeline) any { return p.Source.Postgres },
			PostgresSource{Slot: "cdcd_orders_v2_eu", Publication: "cdcd_orders_v2_eu", CreateSlot: true, CreatePublication: true,
				Toast: "keep", MissingIdentity: "error", StatusInterval: sec(10)}},
		{"explicit false beats default true", "pipeline: p\nsource: {type: postgres, dsn: postgres://h/db, tables: [public.t], postgres: {create_slot: false, create_publication: FALSE}}\nsink: {type: stdout}\n",
			func(p *Pipeline) any {
				return [2]bool{p.Source.Postgres.CreateSlot, p.Source.Postgres.CreatePublication}
			},
			[2]bool{false, false}},
		{"stdout sink", "pipeline: p\nsource: {type: postgres, dsn: postgres://h/db, tables: [public.t]}\nsink: {type: stdout}\n",
			func(p *Pipeline) any { return p.Sink },
			Sink{Type: "stdout", Stdout: StdoutSink{Path: "-", Fsync: true}}},
		{"mysql sink checkpoint schema from DSN", "pipeline: p\nsource: {type: postgres, dsn: postgres://h/db, tables: [public.t]}\nsink: {type: mysql, dsn: \"u:p@tcp(h:3306)/replica?parseTime=true\"}\n",
			func(p *Pipeline) any { return p.Sink.MySQL.CheckpointSchema },
			"replica"},
		{"conflict defaults", "pipeline: p\nsource: {type: postgres, dsn: postgres://h/db, tables: [public.t]}\nsink: {type: postgres, dsn: postgres://h/r}\n",
			func(p *Pipeline) any { return p.Sink.Conflict },
			Conflict{Default: "source_wins", OnMissing: "upsert"}},
		{"batch, retry, shutdown, state_dir set", "pipeline: p\nsource: {type: postgres, dsn: postgres://h/db, tables: [public.t]}\nsink: {type: stdout}\n" +
			"batch: {max_events: 500, max_bytes: 512KiB, linger: 5ms, queue_batches: 4}\nretry: {initial: 1s, max: 1m}\nshutdown_grace: 1m30s\nstate_dir: /var/lib/cdcd\n",
			func(p *Pipeline) any { return []any{p.Batch, p.Retry, p.Shutdown, p.StateDir} },
			[]any{Batch{MaxEvents: 500, MaxBytes: 512 << 10, Linger: Duration(5 * time.Millisecond), QueueBatches: 4},
				Retry{Initial: sec(1), Max: sec(60)}, sec(90), "/var/lib/cdcd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := LoadBytes("t.yaml", []byte(tt.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.want(p); !reflect.DeepEqual(got, tt.is) {
				t.Errorf("got %+v\nwant %+v", got, tt.is)
			}
		})
	}
}

// Each case lists every error expected, in order, as prefixes of their
// "file:line:col: key: msg" text.
func TestLoadBytesErrors(t *testing.T) {
	const src = "source: {type: postgres, dsn: postgres://h/db, tables: [public.t]}\n"
	const snk = "sink: {type: stdout}\n"
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string
	}{
		{"unknown key with suggestion",
			"pipeline: p\nsource:\n  type: postgres\n  dsn: postgres://h/db\n  tabels: [public.t]\n" + snk,
			nil, []string{"t.yaml:5:3: source.tabels: unknown key (did you mean tables?)"}},
		{"unknown key, case-insensitive match",
			"Pipeline: p\n" + src + snk,
			nil, []string{"t.yaml:1:1: Pipeline: unknown key (did you mean pipeline?)"}},
		{"unknown key without near miss lists the valid keys",
			"pipeline: p\n" + src + snk + "colour: blue\n",
			nil, []string{"t.yaml:4:1: colour: unknown key; valid keys here: pipeline, source, transforms, sink"}},
		{"key that belongs one level down",
			"pipeline: p\nsource: {type: postgres, dsn: postgres://h/db, tables: [public.t], slot: s}\n" + snk,
			nil, []string{"t.yaml:2:68: source.slot: unknown key; it belongs in source.postgres"}},
		{"a misplaced required key is reported once",
			"pipeline: p\n" + src + "sink:\n  type: kafka\n  brokers: [k:9092]\n",
			nil, []string{"t.yaml:5:3: sink.brokers: unknown key; it belongs in sink.kafka"}},
		{"unknown key deep down",
			"pipeline: p\n" + src + "sink:\n  type: kafka\n  kafka:\n    brokers: [k:9092]\n    exactly_one: true\n",
			nil, []string{"t.yaml:7:5: sink.kafka.exactly_one: unknown key (did you mean exactly_once?)"}},
		{"list expected, string given",
			"pipeline: p\nsource: {type: postgres, dsn: postgres://h/db, tables: public.t}\n" + snk,
			nil, []string{"t.yaml:2:56: source.tables: expected a list of strings, got a string; write [public.t] for a list of one"}},
		{"integer expected",
			"pipeline: p\n" + src + snk + "batch: {max_events: abc}\n",
			nil, []string{`t.yaml:4:21: batch.max_events: expected an integer, got "abc"`}},
		{"scalar expected, mapping given",
			"pipeline: p\nsource: {type: postgres, dsn: {url: x}, tables: [public.t]}\n" + snk,
			nil, []string{"t.yaml:2:31: source.dsn: expected a string, got a mapping"}},
		{"mapping expected",
			"pipeline: p\n" + src + "sink: kafka\n",
			nil, []string{"t.yaml:3:7: sink: expected a mapping of type, dsn, stdout"}},
		{"boolean expected",
			"pipeline: p\n" + src + "sink: {type: stdout, stdout: {fsync: yes}}\n",
			nil, []string{`t.yaml:3:38: sink.stdout.fsync: expected a boolean (true or false), got "yes"`}},
		{"unset variable names it, the line and the key",
			"pipeline: p\nsource:\n  type: postgres\n  dsn: postgres://cdc:${PG_PASSWORD}@db/shop\n  tables: [public.t]\n" + snk,
			nil, []string{"t.yaml:4:8: source.dsn: environment variable PG_PASSWORD is not set (set it, or write ${PG_PASSWORD:-default})"}},
		{"malformed variable references",
			"pipeline: p\n" + src + snk + "state_dir: ${1X}/${UNCLOSED\n",
			nil, []string{
				"t.yaml:4:12: state_dir: invalid variable reference ${1X}",
				"t.yaml:4:12: state_dir: unterminated variable reference",
			}},
		{"variable in a key",
			"pipeline: p\n" + src + snk + "${KEY}: x\n",
			map[string]string{"KEY": "admin"}, []string{"t.yaml:4:1: ${KEY}: ${...} variables are expanded in values only, not in keys"}},
		{"invalid enum lists the choices",
			"pipeline: p\n" + src + "sink: {type: kafak}\n",
			nil, []string{`t.yaml:3:14: sink.type: "kafak" is not one of kafka, postgres, mysql, stdout, discard (did you mean kafka?)`}},
		{"invalid pipeline name explains the rule",
			"pipeline: Orders_EU\n" + src + snk,
			nil, []string{`t.yaml:1:11: pipeline: "Orders_EU" is not a valid pipeline name: use 1 to 63 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit (the name becomes the replication slot`}},
		{"mysql source without server_id",
			"pipeline: p\nsource: {type: mysql, dsn: \"u@tcp(h)/\", tables: [s.t]}\n" + snk,
			nil, []string{"t.yaml:2:1: source.mysql.server_id: missing; MySQL sources need a replica server id"}},
		{"server_id out of range",
			"pipeline: p\nsource: {type: mysql, dsn: \"u@tcp(h)/\", tables: [s.t], mysql: {server_id: 0}}\n" + snk,
			nil, []string{"t.yaml:2:75: source.mysql.server_id: 0 is out of range 1..4294967295"}},
		{"postgres block under a mysql source",
			"pipeline: p\nsource:\n  type: mysql\n  dsn: u@tcp(h)/\n  tables: [s.t]\n  mysql: {server_id: 7}\n  postgres: {slot: x}\n" + snk,
			nil, []string{"t.yaml:7:3: source.postgres: only allowed when source.type is postgres (it is mysql)"}},
		{"kafka block under a stdout sink",
			"pipeline: p\n" + src + "sink: {type: stdout, kafka: {brokers: [k:1]}}\n",
			nil, []string{"t.yaml:3:22: sink.kafka: only allowed when sink.type is kafka (it is stdout)"}},
		{"exactly_once under stdout is an unknown key",
			"pipeline: p\n" + src + "sink: {type: stdout, stdout: {exactly_once: true}}\n",
			nil, []string{"t.yaml:3:31: sink.stdout.exactly_once: unknown key; valid keys here: path, fsync"}},
		{"conflict rules only on SQL sinks",
			"pipeline: p\n" + src + "sink: {type: kafka, kafka: {brokers: [k:1]}, conflict: {default: newer_wins}}\n",
			nil, []string{"t.yaml:3:46: sink.conflict: only allowed for postgres and mysql sinks (sink.type is kafka)"}},
		{"SQL sink without dsn",
			"pipeline: p\n" + src + "sink: {type: postgres}\n",
			nil, []string{"t.yaml:3:1: sink.dsn: missing;"}},
		{"kafka sink without brokers",
			"pipeline: p\n" + src + "sink: {type: kafka}\n",
			nil, []string{"t.yaml:3:1: sink.kafka.brokers: missing;"}},
		{"empty tables list",
			"pipeline: p\nsource: {type: postgres, dsn: postgres://h/db, tables: []}\n" + snk,
			nil, []string{`t.yaml:2:56: source.tables: must list at least one "namespace.table" pattern`}},
		{"duplicate and malformed table patterns",
			"pipeline: p\nsource:\n  type: postgres\n  dsn: postgres://h/db\n  tables:\n    - public.t\n    - orders\n    - public.t\n" + snk,
			nil, []string{
				`t.yaml:7:7: source.tables[1]: "orders" is not a "namespace.table" pattern`,
				`t.yaml:8:7: source.tables[2]: table pattern "public.t" is listed twice (also at line 6)`,
			}},
		{"duplicate conflict rule patterns",
			"pipeline: p\n" + src + "sink:\n  type: postgres\n  dsn: postgres://h/r\n  conflict:\n    rules:\n      - {tables: [s.a], strategy: error}\n      - {tables: [s.a], strategy: target_wins}\n",
			nil, []string{`t.yaml:9:19: sink.conflict.rules[1].tables[0]: table pattern "s.a" is listed twice (also at line 8)`}},
		{"key set twice",
			"pipeline: p\npipeline: q\n" + src + snk,
			nil, []string{"t.yaml:2:1: pipeline: set twice (first at line 1)"}},
		{"duration without unit",
			"pipeline: p\n" + src + snk + "shutdown_grace: 30\n",
			nil, []string{`t.yaml:4:17: shutdown_grace: "30" has no unit; write e.g. "30s" or "30ms"`}},
		{"byte size garbage",
			"pipeline: p\n" + src + snk + "batch: {max_bytes: 16 parsecs}\n",
			nil, []string{`t.yaml:4:20: batch.max_bytes: "16 parsecs" is not a size`}},
		{"retry max below initial",
			"pipeline: p\n" + src + snk + "retry: {initial: 1m}\n",
			nil, []string{"t.yaml:4:18: retry.initial: retry.max (30s) is shorter than retry.initial (1m0s)"}},
		{"filter without where or ops",
			"pipeline: p\n" + src + snk + "transforms:\n  - type: filter\n    tables: [public.t]\n",
			nil, []string{"t.yaml:5:5: transforms[0]: a filter needs where"}},
		{"key a transform type does not use",
			"pipeline: p\n" + src + snk + "transforms:\n  - {type: drop_columns, columns: [a], method: sha256}\n",
			nil, []string{"t.yaml:5:40: transforms[0].method: not used by a drop_columns transform (it takes tables, columns)"}},
		{"mask needs columns and method; hmac needs salt",
			"pipeline: p\n" + src + snk + "transforms:\n  - {type: mask}\n  - {type: mask, columns: [email], method: hmac}\n",
			nil, []string{
				"t.yaml:5:5: transforms[0].columns: missing;",
				"t.yaml:5:5: transforms[0].method: missing;",
				"t.yaml:6:5: transforms[1].salt: missing; hmac needs a key",
			}},
		{"rename needs to or rename_columns",
			"pipeline: p\n" + src + snk + "transforms:\n  - {type: rename, tables: [public.t]}\n",
			nil, []string{"t.yaml:5:5: transforms[0]: a rename needs to"}},
		{"op names suggest the code",
			"pipeline: p\n" + src + snk + "transforms:\n  - {type: filter, ops: [c, delete]}\n",
			nil, []string{`t.yaml:5:29: transforms[0].ops[1]: "delete" is not one of c, u, d, r, t, m (c insert`}},
		{"route with a SQL sink",
			"pipeline: p\n" + src + "sink: {type: postgres, dsn: postgres://h/r}\ntransforms:\n  - {type: route, topic: x}\n",
			nil, []string{"t.yaml:5:12: transforms[0].type: route picks Kafka topics, but sink.type is postgres"}},
		{"topic template with unknown placeholder",
			"pipeline: p\n" + src + "sink: {type: kafka, kafka: {brokers: [k:1], topic: \"cdc.{tabel}\"}}\n",
			nil, []string{`t.yaml:3:52: sink.kafka.topic: topic "cdc.{tabel}" has an unknown placeholder {tabel} (did you mean table?)`}},
		{"broker without port",
			"pipeline: p\n" + src + "sink: {type: kafka, kafka: {brokers: [kafka]}}\n",
			nil, []string{`t.yaml:3:39: sink.kafka.brokers[0]: "kafka" is not host:port`}},
		{"DSN of the other database",
			"pipeline: p\nsource: {type: mysql, dsn: postgres://h/db, tables: [s.t], mysql: {server_id: 1}}\n" + snk,
			nil, []string{"t.yaml:2:28: source.dsn: looks like a Postgres DSN, but source.type is mysql"}},
		{"mysql sink whose DSN names no database",
			"pipeline: p\n" + src + "sink: {type: mysql, dsn: \"u@tcp(h)/\"}\n",
			nil, []string{"t.yaml:3:26: sink.mysql.checkpoint_schema: missing; sink.dsn names no database"}},
		{"default slot name too long",
			"pipeline: " + strings.Repeat("a", 60) + "\n" + src + snk,
			nil, []string{"t.yaml:1:1: pipeline: the default slot and publication name"}},
		{"missing everything",
			"admin: {listen: \":9187\"}\n",
			nil, []string{
				"t.yaml:1:1: pipeline: missing;",
				"t.yaml:1:1: source: missing;",
				"t.yaml:1:1: sink: missing;",
			}},
		{"three mistakes, three errors",
			"pipeline: p\nsource:\n  type: postgress\n  dsn: postgres://h/db\n  tables: [public.t]\nsink: {type: stdout}\nbatch: {max_events: -1, linger: soon}\n",
			nil, []string{
				`t.yaml:3:9: source.type: "postgress" is not one of postgres, mysql (did you mean postgres?)`,
				"t.yaml:7:21: batch.max_events: -1 is out of range 1..2147483647",
				`t.yaml:7:33: batch.linger: "soon" is not a duration`,
			}},
		{"empty file", "# nothing here\n", nil, []string{"t.yaml: the file is empty"}},
		{"top level is a list", "- pipeline: p\n", nil, []string{"t.yaml:1:1: the top level must be a mapping"}},
		{"two documents", "pipeline: p\n" + src + snk + "---\npipeline: q\n", nil,
			[]string{"t.yaml:4:1: a second YAML document starts here; a file holds one pipeline"}},
		{"syntax error", "pipeline: p\nsource: [\n", nil, []string{"t.yaml:2: invalid YAML:"}},
		{"merge keys", "base: &b {type: stdout}\npipeline: p\n" + src + "sink: {<<: *b}\n", nil, []string{
			"t.yaml:1:1: base: unknown key",
			"t.yaml:4:1: sink.type: missing;",
			"t.yaml:4:8: sink.<<: YAML merge keys (<<) are not supported",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := LoadBytes("t.yaml", []byte(tt.yaml), env(tt.env))
			if err == nil {
				t.Fatalf("no error, got %+v", p)
			}
			if p != nil {
				t.Errorf("got a pipeline with the error")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T is not Errors", err)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(errs[i].Error(), w) {
					t.Errorf("error %d:\n got %s\nwant %s…", i, errs[i], w)
				}
			}
		})
	}
}

func TestVariables(t *testing.T) {
	vars := map[string]string{"HOST": "db", "EMPTY": "", "SID": "4242"}
	tests := []struct {
		in, want string
	}{
		{"plain", "plain"},
		{"postgres://${HOST}:5432/x", "postgres://db:5432/x"},
		{"${MISSING:-fallback}", "fallback"},
		{"${EMPTY:-fallback}", "fallback"},
		{"${HOST:-fallback}", "db"},
		{"${EMPTY}", ""},
		{"pa$$word", "pa$word"},
		{"$${HOST}", "${HOST}"},
		{"a$b $ end$", "a$b $ end$"},
		{"${MISSING:-}", ""},
	}
	for _, tt := range tests {
		got, _, problems := expand(tt.in, func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
		if got != tt.want || problems != nil {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, problems, tt.want)
		}
	}

	// Variables are expanded before the scalar is decoded as its type.
	p, err := LoadBytes("t.yaml", []byte("pipeline: p\nsource: {type: mysql, dsn: \"u:${PW:-x}@tcp(h)/\", tables: [s.t], mysql: {server_id: \"${SID}\"}}\nsink: {type: stdout, stdout: {path: /tmp/$$HOME}}\n"), env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if p.Source.MySQL.ServerID != 4242 || p.Source.DSN != "u:x@tcp(h)/" || p.Sink.Stdout.Path != "/tmp/$HOME" {
		t.Errorf("got server_id %d, dsn %q, path %q", p.Source.MySQL.ServerID, p.Source.DSN, p.Sink.Stdout.Path)
	}
}

// Resolved secrets never appear in messages.
func TestErrorsDoNotLeakSecrets(t *testing.T) {
	vars := map[string]string{"PW": "hunter2"}
	yaml := "pipeline: p\n" +
		"source: {type: postgres, dsn: \"postgres://u:${PW}@h/db\", tables: [\"postgres://u:${PW}@h/db\"]}\n" +
		"sink: {type: mysql, dsn: \"u:${PW}@tcp(h)/\", mysql: {checkpoint_schema: [\"u:${PW}@tcp(h)/\"]}}\n" +
		"state_dir: {dir: x}\nshutdown_grace: \"host=x password=${PW}\"\n" +
		"transforms: [{type: mask, columns: [a], method: redact, salt: \"${PW}\"}]\n"
	_, err := LoadBytes("t.yaml", []byte(yaml), env(vars))
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("secret in message:\n%v", err)
	}
	if n := len(err.(Errors)); n != 5 {
		t.Errorf("got %d errors, want 5:\n%v", n, err)
	}
}

func TestRedactDSN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://cdc:secret@db:5432/shop", "postgres://cdc:***@db:5432/shop"},
		{"postgres://cdc:se@cr/et@db:5432/shop?sslmode=disable", "postgres://cdc:***@db:5432/shop?sslmode=disable"},
		{"postgres://cdc@db/shop", "postgres://cdc@db/shop"},
		{"postgres://db/shop?user=u&password=secret&sslmode=require", "postgres://db/shop?user=u&password=***&sslmode=require"},
		{"host=db user=cdc password=secret dbname=shop", "host=db user=cdc password=*** dbname=shop"},
		{"host=db password='se cret' dbname=shop", "host=db password=*** dbname=shop"},
		{"cdc:secret@tcp(shop-db:3306)/shop", "cdc:***@tcp(shop-db:3306)/shop"},
		{"cdc:s@cr/t@tcp(shop-db:3306)/", "cdc:***@tcp(shop-db:3306)/"},
		{"cdc@tcp(shop-db:3306)/", "cdc@tcp(shop-db:3306)/"},
		{"mysql://cdc:secret@h:3306/db", "mysql://cdc:***@h:3306/db"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := RedactDSN(tt.in); got != tt.want {
			t.Errorf("RedactDSN(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDurationAndByteSize(t *testing.T) {
	durations := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"30s", 30 * time.Second, false},
		{"1m30s", 90 * time.Second, false},
		{"500ms", 500 * time.Millisecond, false},
		{"0", 0, false},
		{"30", 0, true},
		{"1.5", 0, true},
		{"-1s", 0, true},
		{"soon", 0, true},
		{"", 0, true},
	}
	for _, tt := range durations {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.err || got.Duration() != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %t", tt.in, got, err, tt.want, tt.err)
		}
	}
	sizes := []struct {
		in   string
		want int64
		err  bool
	}{
		{"16MiB", 16 << 20, false},
		{"512KiB", 512 << 10, false},
		{"1GB", 1e9, false},
		{"1gib", 1 << 30, false},
		{"2 Mi", 2 << 20, false},
		{"1048576", 1 << 20, false},
		{"100B", 100, false},
		{"0", 0, false},
		{"1.5GiB", 0, true},
		{"-1", 0, true},
		{"MiB", 0, true},
		{"16 parsecs", 0, true},
		{"9999999999TiB", 0, true},
	}
	for _, tt := range sizes {
		got, err := ParseByteSize(tt.in)
		if (err != nil) != tt.err || int64(got) != tt.want {
			t.Errorf("ParseByteSize(%q) = %v, %v; want %v, error %t", tt.in, got, err, tt.want, tt.err)
		}
	}
	if s := ByteSize(16 << 20).String(); s != "16MiB" {
		t.Errorf("String = %q", s)
	}
	if s := ByteSize(1000).String(); s != "1000B" {
		t.Errorf("String = %q", s)
	}
	if s := Duration(90 * time.Second).String(); s != "1m30s" {
		t.Errorf("String = %q", s)
	}
}

func TestMatchTable(t *testing.T) {
	tests := []struct {
		pattern, ns, table string
		want               bool
	}{
		{"public.orders", "public", "orders", true},
		{"public.orders", "public", "orders2", false},
		{"public.customer*", "public", "customers", true},
		{"public.customer*", "public", "customer", true},
		{"shop.*", "shop", "anything", true},
		{"shop.*", "shop2", "anything", false},
		{"*.*", "a", "b", true},
		{"s.order_?", "s", "order_1", true},
		{"s.order_?", "s", "order_12", false},
		{"s.*_archive", "s", "2024_archive", true},
		{"orders", "public", "orders", false},
	}
	for _, tt := range tests {
		if got := MatchTable(tt.pattern, tt.ns, tt.table); got != tt.want {
			t.Errorf("MatchTable(%q, %q, %q) = %t", tt.pattern, tt.ns, tt.table, got)
		}
	}
}

// writeDir creates a directory holding files (name → content).
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadDirectory(t *testing.T) {
	pg := func(name, extra string) string {
		return "pipeline: " + name + "\nsource: {type: postgres, dsn: postgres://h/db, tables: [public.t]}\nsink: {type: stdout}\n" + extra
	}
	t.Run("one pipeline per file, sorted, admin shared", func(t *testing.T) {
		dir := writeDir(t, map[string]string{
			"b.yml":      pg("b", ""),
			"a.yaml":     pg("a", "admin: {listen: \":9999\", pprof: true}\n"),
			"notes.txt":  "not a pipeline",
			".hidden.ya": "x",
		})
		ps, err := Load(dir, env(nil))
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 2 || ps[0].Name != "a" || ps[1].Name != "b" {
			t.Fatalf("got %d pipelines", len(ps))
		}
		if ps[1].Admin != (Admin{Listen: ":9999", Pprof: true}) {
			t.Errorf("b's admin = %+v, want a's", ps[1].Admin)
		}
	})
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"duplicate pipeline name names both files",
			map[string]string{"a.yaml": pg("orders", ""), "b.yaml": "# b\n" + pg("orders", "")},
			[]string{`b.yaml:2:1: pipeline: "orders" is also the name of the pipeline in `}},
		{"conflicting admin.listen",
			map[string]string{"a.yaml": pg("a", "admin: {listen: \":9187\"}\n"), "b.yaml": pg("b", "admin:\n  listen: \":9188\"\n")},
			[]string{`b.yaml:5:3: admin.listen: ":9188" differs from ":9187" set in `}},
		{"same slot on the same database",
			map[string]string{
				"a.yaml": "pipeline: a\nsource: {type: postgres, dsn: postgres://h/db, tables: [public.t], postgres: {slot: shared}}\nsink: {type: stdout}\n",
				"b.yaml": "pipeline: b\nsource: {type: postgres, dsn: postgres://h/db, tables: [public.t], postgres: {slot: shared}}\nsink: {type: stdout}\n"},
			[]string{`b.yaml:2:79: source.postgres.slot: slot "shared" is also used by pipeline "a"`}},
		{"errors of every file",
			map[string]string{"a.yaml": "pipeline: a\n", "b.yaml": pg("b", "extra: 1\n")},
			[]string{"a.yaml:1:1: source: missing", "a.yaml:1:1: sink: missing", "b.yaml:4:1: extra: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeDir(t, tt.files)
			_, err := Load(dir, env(nil))
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %v, want Errors", err)
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(tt.want), err)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(errs[i].Error(), filepath.Join(dir, w)) {
					t.Errorf("error %d:\n got %s\nwant %s…", i, errs[i], filepath.Join(dir, w))
				}
			}
			if strings.Contains(tt.name, "both files") && !strings.Contains(err.Error(), filepath.Join(dir, "a.yaml")+":1") {
				t.Errorf("error does not name the first file: %v", err)
			}
		})
	}
	t.Run("empty directory", func(t *testing.T) {
		dir := writeDir(t, map[string]string{"README": "x"})
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), "no *.yaml or *.yml files") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("missing path", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("got %v, want fs.ErrNotExist in the chain", err)
		}
	})
	t.Run("single file", func(t *testing.T) {
		dir := writeDir(t, map[string]string{"only.conf": pg("only", "")})
		ps, err := Load(filepath.Join(dir, "only.conf"))
		if err != nil || len(ps) != 1 || ps[0].File != filepath.Join(dir, "only.conf") {
			t.Errorf("got %v, %v", ps, err)
		}
	})
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{File: "a.yaml", Line: 3, Column: 5, Key: "sink.type", Msg: "bad"}, "a.yaml:3:5: sink.type: bad"},
		{Error{File: "a.yaml", Line: 3, Msg: "bad"}, "a.yaml:3: bad"},
		{Error{File: "a.yaml", Msg: "bad"}, "a.yaml: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	errs := Errors{{File: "a", Line: 1, Msg: "x"}, {File: "a", Line: 2, Msg: "y"}}
	if errs.Error() != "a:1: x\na:2: y" {
		t.Errorf("got %q", errs.Error())
	}
	var one *Error
	if !errors.As(error(errs), &one) || one.Msg != "x" {
		t.Errorf("errors.As(*Error) = %v", one)
	}
}

// Every YAML example of docs/config.md loads.
func TestDocsExamplesLoad(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```yaml\n")[1:]
	if len(blocks) < 3 {
		t.Fatalf("found %d yaml blocks", len(blocks))
	}
	for i, b := range blocks {
		b, _, _ = strings.Cut(b, "```")
		if _, err := LoadBytes(fmt.Sprintf("docs/config.md block %d", i+1), []byte(b), exampleEnv); err != nil {
			t.Error(err)
		}
	}
}
