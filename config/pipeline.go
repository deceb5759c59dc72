package config

import (
	"fmt"
	"math"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Keys allowed in each block, in documentation order.
var (
	topKeys         = []string{"pipeline", "source", "transforms", "sink", "admin", "state_dir", "checkpoint_interval", "batch", "shutdown_grace", "retry"}
	sourceKeys      = []string{"type", "dsn", "tables", "snapshot", "postgres", "mysql"}
	pgSourceKeys    = []string{"slot", "publication", "create_slot", "create_publication", "heartbeat", "toast", "missing_identity", "status_interval"}
	mysqlSourceKeys = []string{"server_id", "heartbeat", "zero_date"}
	transformKeys   = []string{"type", "tables", "where", "ops", "columns", "method", "salt", "keep", "keep_first", "to", "rename_columns", "topic", "values", "id_column", "key_column", "payload_column", "route_by_column"}
	sinkKeys        = []string{"type", "dsn", "stdout", "kafka", "postgres", "mysql", "conflict", "dead_letter"}
	stdoutKeys      = []string{"path", "fsync"}
	kafkaKeys       = []string{"brokers", "topic", "format", "exactly_once", "offsets_topic", "compression", "partition_by", "tombstones", "schemas", "partitions", "replication_factor", "max_batch_events", "max_batch_bytes", "linger"}
	sqlSinkKeys     = []string{"schema_map", "create_tables", "checkpoint_schema"}
	conflictKeys    = []string{"default", "on_missing", "rules"}
	ruleKeys        = []string{"tables", "strategy"}
	deadLetterKeys  = []string{"table"}
	batchKeys       = []string{"max_events", "max_bytes", "linger", "queue_batches"}
	adminKeys       = []string{"listen", "pprof"}
	retryKeys       = []string{"initial", "max"}
)

// Enumerations.
var (
	sourceTypes    = []string{SourcePostgres, SourceMySQL}
	snapshotModes  = []string{SnapshotInitial, SnapshotNever, SnapshotInitialOnly, SnapshotAlways, SnapshotWhenNeeded}
	toastModes     = []string{"keep", "reselect"}
	identityModes  = []string{"error", "warn"}
	zeroDateModes  = []string{"null", "error"}
	transformTypes = []string{TransformFilter, TransformIncludeColumns, TransformDropColumns, TransformMask, TransformRename, TransformRoute, TransformSet, TransformOutbox}
	maskMethods    = []string{MaskSHA256, MaskHMAC, MaskRedact, MaskNull, MaskPartial, MaskTruncate}
	opCodes        = []string{"c", "u", "d", "r", "t", "m"}
	sinkTypes      = []string{SinkKafka, SinkPostgres, SinkMySQL, SinkStdout, SinkDiscard}
	formats        = []string{FormatNative, FormatDebezium}
	compressions   = []string{"none", "lz4", "zstd", "snappy"}
	partitionBys   = []string{"key", "table", "txid"}
	strategies     = []string{ConflictSourceWins, ConflictNewerWins, ConflictTargetWins, ConflictError}
	onMissingModes = []string{OnMissingUpsert, OnMissingSkip, OnMissingError}
	// Placeholders of topic templates, per place.
	sinkTopicVars   = []string{"namespace", "table", "pipeline", "db"}
	routeTopicVars  = []string{"namespace", "table", "pipeline", "db", "op"}
	outboxTopicVars = []string{"namespace", "table", "pipeline", "db", "op", "routed_by"}
	opNames         = map[string]string{"insert": "c", "create": "c", "update": "u", "delete": "d", "read": "r", "snapshot": "r", "truncate": "t", "message": "m"}
	transformUses   = map[string][]string{TransformFilter: {"tables", "where", "ops"}, TransformIncludeColumns: {"tables", "columns"}, TransformDropColumns: {"tables", "columns"}, TransformMask: {"tables", "columns", "method", "salt", "keep", "keep_first"}, TransformRename: {"tables", "to", "rename_columns"}, TransformRoute: {"tables", "topic"}, TransformSet: {"tables", "values"}, TransformOutbox: {"tables", "topic", "id_column", "key_column", "payload_column", "route_by_column"}}
	pipelineNameRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,62}$`)
	slotNameRE      = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)
	kafkaTopicChars = regexp.MustCompile(`^[A-Za-z0-9._-]*$`)
)

// Hints for keys written one level off: key → where it belongs.
var (
	topHints    = hints(map[string][]string{"source": sourceKeys, "sink": sinkKeys, "admin": adminKeys, "batch": batchKeys, "retry": retryKeys, "source.postgres": pgSourceKeys, "source.mysql": mysqlSourceKeys, "sink.kafka": kafkaKeys}, topKeys)
	sourceHints = hints(map[string][]string{"source.postgres": pgSourceKeys, "source.mysql": mysqlSourceKeys}, sourceKeys)
	sinkHints   = hints(map[string][]string{"sink.stdout": stdoutKeys, "sink.kafka": kafkaKeys, "sink.postgres or sink.mysql": sqlSinkKeys, "sink.conflict": conflictKeys, "sink.dead_letter": deadLetterKeys}, sinkKeys)
)

// hints maps each key of the blocks to its block, leaving out keys that
// are valid where the hints are used (own) and keys claimed by several
// blocks (they would mislead).
func hints(blocks map[string][]string, own []string) map[string]string {
	out := map[string]string{}
	for blk, keys := range blocks {
		for _, k := range keys {
			if prev, dup := out[k]; dup && prev != blk {
				out[k] = ""
				continue
			}
			out[k] = blk
		}
	}
	for _, k := range own {
		delete(out, k)
	}
	for k, v := range out {
		if v == "" {
			delete(out, k)
		}
	}
	return out
}

// loaded is one decoded pipeline plus where some settings were written,
// for the checks across the files of a directory.
type loaded struct {
	p        *Pipeline
	nameOK   bool
	nameAt   *yaml.Node // the pipeline key
	listenAt *yaml.Node // the admin.listen key, nil when defaulted
	pprofAt  *yaml.Node
	slotAt   *yaml.Node // the source.postgres.slot key, nil when defaulted
	pubAt    *yaml.Node
	serverAt *yaml.Node // the source.mysql.server_id key
}

// pipeline decodes the top-level mapping of a file.
func (d *decoder) pipeline(root *yaml.Node) *loaded {
	p := &Pipeline{
		File:               d.file,
		Line:               root.Line,
		StateDir:           "./cdcd-state",
		CheckpointInterval: Duration(time.Second),
		Shutdown:           Duration(20 * time.Second),
		Retry:              Retry{Initial: Duration(500 * time.Millisecond), Max: Duration(30 * time.Second)},
		Batch:              Batch{MaxEvents: 10000, MaxBytes: 16 << 20, QueueBatches: 1024},
		Admin:              Admin{Listen: ":9187"},
	}
	l := &loaded{p: p}
	top, ok := d.block(field{val: root}, topKeys, topHints)
	if !ok {
		return l
	}
	if f, ok := top.get("pipeline"); ok {
		p.Line, l.nameAt = f.key.Line, f.key
		if s, ok := d.str(f); ok {
			if pipelineNameRE.MatchString(s) {
				p.Name, l.nameOK = s, true
			} else {
				d.errorf(f.val, f.path, "%s is not a valid pipeline name: use 1 to 63 lowercase letters, digits, '_', '.' or '-', starting with a letter or digit (the name becomes the replication slot, the Kafka transactional id and the checkpoint key)", quote(s))
			}
		}
	} else {
		top.missing("pipeline", "every file needs a unique pipeline name, e.g. pipeline: orders-to-kafka")
	}

	if f, ok := top.get("source"); ok {
		d.source(f, l)
	} else {
		top.missing("source", "expected the database to read from (type, dsn, tables)")
	}
	sinkType := ""
	if f, ok := top.get("sink"); ok {
		sinkType = d.sink(f, p)
	} else {
		top.missing("sink", "expected where events go (type: kafka, postgres, mysql or stdout)")
	}
	if f, ok := top.get("transforms"); ok {
		d.transforms(f, p, sinkType)
	}
	if f, ok := top.get("admin"); ok {
		if b, ok := d.block(f, adminKeys, nil); ok {
			if f, ok := b.get("listen"); ok {
				l.listenAt = f.key
				if s, ok := d.str(f); ok && d.hostPort(f, s, 0, false) {
					p.Admin.Listen = s
				}
			}
			if f, ok := b.get("pprof"); ok {
				l.pprofAt = f.key
				p.Admin.Pprof, _ = d.boolean(f)
			}
		}
	}
	if f, ok := top.get("state_dir"); ok {
		if s, ok := d.nonEmpty(f, "a directory"); ok {
			p.StateDir = s
		}
	}
	if f, ok := top.get("checkpoint_interval"); ok {
		if v, ok := d.duration(f, false); ok {
			p.CheckpointInterval = v
		}
	}
	if f, ok := top.get("shutdown_grace"); ok {
		if v, ok := d.duration(f, true); ok {
			p.Shutdown = v
		}
	}
	if f, ok := top.get("batch"); ok {
		d.batch(f, &p.Batch)
	}
	if f, ok := top.get("retry"); ok {
		d.retry(f, &p.Retry)
	}
	return l
}

// source decodes the "source" block.
func (d *decoder) source(f field, l *loaded) {
	p := l.p
	s := &p.Source
	b, ok := d.block(f, sourceKeys, sourceHints)
	if !ok {
		return
	}
	s.Snapshot = SnapshotInitial
	typ := ""
	if tf, ok := b.get("type"); ok {
		typ, _ = d.enum(tf, sourceTypes)
		s.Type = typ
	} else {
		b.missing("type", "expected one of %s", oneOf(sourceTypes))
	}
	if f, ok := b.get("dsn"); ok {
		if dsn, ok := d.nonEmpty(f, "a connection string"); ok {
			s.DSN = dsn
			d.dsnKind(f, dsn, typ, "source.type")
		}
	} else {
		b.missing("dsn", "expected the connection string of the database to read from")
	}
	if f, ok := b.get("tables"); ok {
		s.Tables, _ = d.tablePatterns(f, true)
	} else {
		b.missing("tables", `expected the tables to capture, e.g. tables: [public.orders, "public.customer*"]`)
	}
	if f, ok := b.get("snapshot"); ok {
		if v, ok := d.enum(f, snapshotModes); ok {
			s.Snapshot = v
		}
	}

	if f, ok := b.get("postgres"); ok && typ != SourcePostgres {
		if typ != "" {
			d.errorf(f.key, f.path, "only allowed when source.type is postgres (it is %s)", typ)
		}
	}
	if f, ok := b.get("mysql"); ok && typ != SourceMySQL {
		if typ != "" {
			d.errorf(f.key, f.path, "only allowed when source.type is mysql (it is %s)", typ)
		}
	}
	switch typ {
	case SourcePostgres:
		d.postgresSource(b, l)
	case SourceMySQL:
		d.mysqlSource(b, l)
	}
}

// postgresSource decodes "source.postgres" (present or not) and derives
// the default slot and publication names.
func (d *decoder) postgresSource(src *block, l *loaded) {
	ps := &l.p.Source.Postgres
	*ps = PostgresSource{CreateSlot: true, CreatePublication: true, Toast: "keep", MissingIdentity: "error", StatusInterval: Duration(10 * time.Second)}
	if f, ok := src.get("postgres"); ok {
		if b, ok := d.block(f, pgSourceKeys, nil); ok {
			if f, ok := b.get("slot"); ok {
				l.slotAt = f.key
				if s, ok := d.str(f); ok {
					if slotNameRE.MatchString(s) {
						ps.Slot = s
					} else {
						d.errorf(f.val, f.path, "%s is not a valid replication slot name: use 1 to 63 lowercase letters, digits or '_'", quote(s))
					}
				}
			}
			if f, ok := b.get("publication"); ok {
				l.pubAt = f.key
				if s, ok := d.nonEmpty(f, "a publication name"); ok {
					if len(s) > 63 {
						d.errorf(f.val, f.path, "publication names are at most 63 bytes long")
					} else {
						ps.Publication = s
					}
				}
			}
			if f, ok := b.get("create_slot"); ok {
				if v, ok := d.boolean(f); ok {
					ps.CreateSlot = v
				}
			}
			if f, ok := b.get("create_publication"); ok {
				if v, ok := d.boolean(f); ok {
					ps.CreatePublication = v
				}
			}
			if f, ok := b.get("heartbeat"); ok {
				ps.Heartbeat, _ = d.duration(f, false)
			}
			if f, ok := b.get("toast"); ok {
				if v, ok := d.enum(f, toastModes); ok {
					ps.Toast = v
				}
			}
			if f, ok := b.get("missing_identity"); ok {
				if v, ok := d.enum(f, identityModes); ok {
					ps.MissingIdentity = v
				}
			}
			if f, ok := b.get("status_interval"); ok {
				if v, ok := d.duration(f, true); ok {
					ps.StatusInterval = v
				}
			}
		}
	}
	if !l.nameOK {
		return
	}
	def := "cdcd_" + strings.NewReplacer("-", "_", ".", "_").Replace(l.p.Name)
	var tooLong []string
	if ps.Slot == "" && l.slotAt == nil {
		ps.Slot = def
		if len(def) > 63 {
			tooLong = append(tooLong, "source.postgres.slot")
		}
	}
	if ps.Publication == "" && l.pubAt == nil {
		ps.Publication = def
		if len(def) > 63 {
			tooLong = append(tooLong, "source.postgres.publication")
		}
	}
	if len(tooLong) > 0 {
		d.errorf(&yaml.Node{Line: l.p.Line, Column: 1}, "pipeline", "the default slot and publication name %s would be longer than Postgres's 63-byte limit; shorten the pipeline name or set %s", quote(def), strings.Join(tooLong, " and "))
	}
}

// mysqlSource decodes "source.mysql" (present or not).
func (d *decoder) mysqlSource(src *block, l *loaded) {
	ms := &l.p.Source.MySQL
	*ms = MySQLSource{Heartbeat: Duration(10 * time.Second), ZeroDate: "null"}
	const need = "MySQL sources need a replica server id, unique among the server's replicas (1..4294967295), e.g. mysql: {server_id: 4242}"
	f, ok := src.get("mysql")
	if !ok {
		src.missing("mysql.server_id", need)
		return
	}
	b, ok := d.block(f, mysqlSourceKeys, nil)
	if !ok {
		return
	}
	if f, ok := b.get("server_id"); ok {
		l.serverAt = f.key
		if v, ok := d.integer(f, 1, math.MaxUint32); ok {
			ms.ServerID = uint32(v)
		}
	} else {
		b.missing("server_id", need)
	}
	if f, ok := b.get("heartbeat"); ok {
		if v, ok := d.duration(f, false); ok {
			if v.Duration() > 4294967*time.Second {
				d.errorf(f.val, f.path, "MySQL allows heartbeat periods up to 4294967s")
			} else {
				ms.Heartbeat = v
			}
		}
	}
	if f, ok := b.get("zero_date"); ok {
		if v, ok := d.enum(f, zeroDateModes); ok {
			ms.ZeroDate = v
		}
	}
}

// dsnKind rejects a DSN written for the other database.
func (d *decoder) dsnKind(f field, dsn, typ, typeKey string) {
	lower := strings.ToLower(strings.TrimSpace(dsn))
	pg := strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://")
	my := strings.HasPrefix(lower, "mysql://") || strings.Contains(lower, "@tcp(") || strings.Contains(lower, "@unix(")
	switch {
	case typ == SourceMySQL && pg:
		d.errorf(f.val, f.path, "looks like a Postgres DSN, but %s is mysql; MySQL DSNs look like user:${PASSWORD}@tcp(host:3306)/", typeKey)
	case typ == SourcePostgres && my:
		d.errorf(f.val, f.path, "looks like a MySQL DSN, but %s is postgres; Postgres DSNs look like postgres://user:${PASSWORD}@host:5432/db", typeKey)
	}
}

// tablePatterns decodes a list of "namespace.table" patterns.
func (d *decoder) tablePatterns(f field, required bool) ([]string, bool) {
	items, ok := d.strList(f)
	if ok && required && len(items) == 0 {
		d.errorf(f.val, f.path, `must list at least one "namespace.table" pattern`)
		return nil, false
	}
	good := items[:0:0]
	for _, it := range items {
		if msg := checkTablePattern(it.val); msg != "" {
			d.errorf(it.node, it.path, "%s %s", quote(it.val), msg)
			ok = false
			continue
		}
		good = append(good, it)
	}
	ok = d.unique(good, "table pattern") && ok
	return values(good), ok
}

// checkTablePattern returns why p is not a table pattern, or "".
func checkTablePattern(p string) string {
	const want = `is not a "namespace.table" pattern (globs * and ? allowed), e.g. public.orders or "shop.*"`
	ns, tab, ok := strings.Cut(p, ".")
	if !ok || ns == "" || tab == "" || strings.Contains(tab, ".") {
		return want
	}
	if strings.ContainsAny(p, " \t\r\n[]") {
		return want + "; spaces and brackets are not allowed"
	}
	return ""
}

// tableName returns why t is not "table" or "namespace.table", or "".
func tableName(t string) string {
	parts := strings.Split(t, ".")
	if len(parts) > 2 || strings.ContainsAny(t, "*?[] \t\r\n") {
		return `is not a table name: write "table" or "namespace.table", without globs or spaces`
	}
	for _, p := range parts {
		if p == "" {
			return `is not a table name: write "table" or "namespace.table"`
		}
	}
	return ""
}

// topicTemplate returns why t is not a valid Kafka topic template, or "".
// Placeholders are allowed when vars is true.
func topicTemplate(t string, vars []string) string {
	if t == "" {
		return "must not be empty"
	}
	var lit strings.Builder
	for rest := t; rest != ""; {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			lit.WriteString(rest)
			break
		}
		lit.WriteString(rest[:i])
		if rest[i] == '}' {
			return "has a '}' without '{'"
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "has a '{' without '}'"
		}
		name := rest[i+1 : i+j]
		if len(vars) == 0 {
			return "cannot hold placeholders"
		}
		if !slices.Contains(vars, name) {
			names := make([]string, len(vars))
			for i, v := range vars {
				names[i] = "{" + v + "}"
			}
			return fmt.Sprintf("has an unknown placeholder {%s}%s; placeholders are %s", truncate(name, 40), didYouMean(name, vars), strings.Join(names, ", "))
		}
		lit.WriteString("x")
		rest = rest[i+j+1:]
	}
	s := lit.String()
	if !kafkaTopicChars.MatchString(s) {
		return "may only hold letters, digits, '.', '_', '-' and placeholders"
	}
	if len(s) > 249 || s == "." || s == ".." {
		return "is not a valid Kafka topic name (at most 249 characters, not \".\" or \"..\")"
	}
	return ""
}

// hostPort checks a "host:port" value; port 0 is allowed when minPort is 0.
func (d *decoder) hostPort(f field, s string, minPort int, needHost bool) bool {
	host, port, err := net.SplitHostPort(s)
	n, perr := strconv.Atoi(port)
	switch {
	case err != nil || perr != nil || n < minPort || n > 65535:
		d.errorf(f.val, f.path, "%s is not host:port (e.g. \"kafka:9092\", \":9187\", \"[::1]:9187\")", quote(s))
		return false
	case needHost && host == "":
		d.errorf(f.val, f.path, "%s has no host", quote(s))
		return false
	}
	return true
}

// batch decodes the "batch" block.
func (d *decoder) batch(f field, bt *Batch) {
	b, ok := d.block(f, batchKeys, nil)
	if !ok {
		return
	}
	if f, ok := b.get("max_events"); ok {
		if v, ok := d.integer(f, 1, math.MaxInt32); ok {
			bt.MaxEvents = int(v)
		}
	}
	if f, ok := b.get("max_bytes"); ok {
		if v, ok := d.byteSize(f, true); ok {
			bt.MaxBytes = v
		}
	}
	if f, ok := b.get("linger"); ok {
		bt.Linger, _ = d.duration(f, false)
	}
	if f, ok := b.get("queue_batches"); ok {
		if v, ok := d.integer(f, 1, 1<<20); ok {
			bt.QueueBatches = int(v)
		}
	}
}

// retry decodes the "retry" block.
func (d *decoder) retry(f field, r *Retry) {
	b, ok := d.block(f, retryKeys, nil)
	if !ok {
		return
	}
	okI, okM := true, true
	var fi, fm field
	if fi, okI = b.get("initial"); okI {
		if v, ok := d.duration(fi, true); ok {
			r.Initial = v
		} else {
			return
		}
	}
	if fm, okM = b.get("max"); okM {
		if v, ok := d.duration(fm, true); ok {
			r.Max = v
		} else {
			return
		}
	}
	if r.Max < r.Initial {
		at := fi
		if okM {
			at = fm
		}
		d.errorf(at.val, at.path, "retry.max (%s) is shorter than retry.initial (%s)", r.Max, r.Initial)
	}
}
