package config

import (
	"math"
	"strings"
)

// sink decodes the "sink" block and returns the sink type ("" when it is
// missing or invalid).
func (d *decoder) sink(f field, p *Pipeline) string {
	s := &p.Sink
	b, ok := d.block(f, sinkKeys, sinkHints)
	if !ok {
		return ""
	}
	typ := ""
	if tf, ok := b.get("type"); ok {
		typ, _ = d.enum(tf, sinkTypes)
		s.Type = typ
	} else {
		b.missing("type", "expected one of %s", oneOf(sinkTypes))
	}
	sql := typ == SinkPostgres || typ == SinkMySQL

	// Blocks that belong to other sink types.
	only := map[string]string{"stdout": SinkStdout, "kafka": SinkKafka, "postgres": SinkPostgres, "mysql": SinkMySQL}
	for _, k := range []string{"stdout", "kafka", "postgres", "mysql"} {
		if f, ok := b.get(k); ok && typ != "" && typ != only[k] {
			d.errorf(f.key, f.path, "only allowed when sink.type is %s (it is %s)", only[k], typ)
		}
	}
	for _, k := range []string{"dsn", "conflict", "dead_letter"} {
		if f, ok := b.get(k); ok && typ != "" && !sql {
			d.errorf(f.key, f.path, "only allowed for postgres and mysql sinks (sink.type is %s)", typ)
		}
	}

	switch typ {
	case SinkStdout:
		s.Stdout = StdoutSink{Path: "-", Fsync: true}
		if f, ok := b.get("stdout"); ok {
			d.stdoutSink(f, &s.Stdout)
		}
	case SinkKafka:
		d.kafkaSink(b, &s.Kafka)
	case SinkPostgres, SinkMySQL:
		if f, ok := b.get("dsn"); ok {
			if dsn, ok := d.nonEmpty(f, "a connection string"); ok {
				s.DSN = dsn
				d.dsnKind(f, dsn, typ, "sink.type")
			}
		} else {
			b.missing("dsn", "expected the connection string of the %s database to write to", typ)
		}
		sq := &s.Postgres
		if typ == SinkMySQL {
			sq = &s.MySQL
		}
		schemaSet := false
		if f, ok := b.get(typ); ok {
			schemaSet = d.sqlSink(f, sq)
		}
		if !schemaSet {
			switch {
			case typ == SinkPostgres:
				sq.CheckpointSchema = "public"
			case s.DSN != "":
				sq.CheckpointSchema = mysqlDatabase(s.DSN)
				if sq.CheckpointSchema == "" {
					at := b.fields["dsn"]
					d.errorf(at.val, "sink.mysql.checkpoint_schema", "missing; sink.dsn names no database, so say which database holds the checkpoint table")
				}
			}
		}
		s.Conflict = Conflict{Default: ConflictSourceWins, OnMissing: OnMissingUpsert}
		if f, ok := b.get("conflict"); ok {
			d.conflict(f, &s.Conflict)
		}
		if f, ok := b.get("dead_letter"); ok {
			if db, ok := d.block(f, deadLetterKeys, nil); ok {
				if f, ok := db.get("table"); ok {
					if t, ok := d.nonEmpty(f, "a table name"); ok {
						if msg := tableName(t); msg != "" {
							d.errorf(f.val, f.path, "%s %s", quote(t), msg)
						} else {
							s.DeadLetter.Table = t
						}
					}
				} else {
					db.missing("table", "expected the table failing rows go to, e.g. dead_letter: {table: cdcd_dead_letter}")
				}
			}
		}
	}
	return typ
}

// stdoutSink decodes "sink.stdout".
func (d *decoder) stdoutSink(f field, so *StdoutSink) {
	b, ok := d.block(f, stdoutKeys, nil)
	if !ok {
		return
	}
	if f, ok := b.get("path"); ok {
		if v, ok := d.nonEmpty(f, `a file path, or "-" for standard output`); ok {
			so.Path = v
		}
	}
	if f, ok := b.get("fsync"); ok {
		if v, ok := d.boolean(f); ok {
			so.Fsync = v
		}
	}
}

// kafkaSink decodes "sink.kafka" (which must be present: brokers are
// required).
func (d *decoder) kafkaSink(sink *block, k *KafkaSink) {
	*k = KafkaSink{Topic: "cdc.{namespace}.{table}", Format: FormatNative, ExactlyOnce: true, OffsetsTopic: "cdcd.offsets", Compression: "lz4", PartitionBy: "key", Partitions: 1, ReplicationFactor: -1}
	const need = `expected the Kafka seed brokers, e.g. kafka: {brokers: ["kafka:9092"]}`
	f, ok := sink.get("kafka")
	if !ok {
		sink.missing("kafka.brokers", need)
		return
	}
	b, ok := d.block(f, kafkaKeys, nil)
	if !ok {
		return
	}
	if f, ok := b.get("brokers"); ok {
		items, ok := d.strList(f)
		if ok && len(items) == 0 {
			d.errorf(f.val, f.path, "must list at least one broker")
		}
		var good []item
		for _, it := range items {
			if d.hostPort(field{val: it.node, path: it.path}, it.val, 1, true) {
				good = append(good, it)
			}
		}
		d.unique(good, "broker")
		k.Brokers = values(good)
	} else {
		b.missing("brokers", need)
	}
	if f, ok := b.get("topic"); ok {
		if s, ok := d.str(f); ok {
			if msg := topicTemplate(s, sinkTopicVars); msg != "" {
				d.errorf(f.val, f.path, "topic %s %s", quote(s), msg)
			} else {
				k.Topic = s
			}
		}
	}
	if f, ok := b.get("format"); ok {
		if v, ok := d.enum(f, formats); ok {
			k.Format = v
		}
	}
	if f, ok := b.get("exactly_once"); ok {
		if v, ok := d.boolean(f); ok {
			k.ExactlyOnce = v
		}
	}
	if f, ok := b.get("offsets_topic"); ok {
		if s, ok := d.str(f); ok {
			if msg := topicTemplate(s, nil); msg != "" {
				d.errorf(f.val, f.path, "topic %s %s", quote(s), msg)
			} else {
				k.OffsetsTopic = s
			}
		}
	}
	if f, ok := b.get("compression"); ok {
		if v, ok := d.enum(f, compressions); ok {
			k.Compression = v
		}
	}
	if f, ok := b.get("partition_by"); ok {
		if v, ok := d.enum(f, partitionBys); ok {
			k.PartitionBy = v
		}
	}
	if f, ok := b.get("tombstones"); ok {
		k.Tombstones, _ = d.boolean(f)
	}
	if f, ok := b.get("schemas"); ok {
		k.Schemas, _ = d.boolean(f)
	}
	if f, ok := b.get("partitions"); ok {
		if v, ok := d.integer(f, -1, math.MaxInt32); ok {
			if v == 0 {
				d.errorf(f.val, f.path, "must be at least 1, or -1 for the broker default")
			} else {
				k.Partitions = int(v)
			}
		}
	}
	if f, ok := b.get("replication_factor"); ok {
		if v, ok := d.integer(f, -1, math.MaxInt16); ok {
			if v == 0 {
				d.errorf(f.val, f.path, "must be at least 1, or -1 for the broker default")
			} else {
				k.ReplicationFactor = int(v)
			}
		}
	}
	if f, ok := b.get("max_batch_events"); ok {
		if v, ok := d.integer(f, 0, math.MaxInt32); ok {
			k.MaxBatchEvents = int(v)
		}
	}
	if f, ok := b.get("max_batch_bytes"); ok {
		if v, ok := d.byteSize(f, false); ok {
			if v > math.MaxInt32 {
				d.errorf(f.val, f.path, "must be below 2GiB")
			} else {
				k.MaxBatchBytes = v
			}
		}
	}
	if f, ok := b.get("linger"); ok {
		k.Linger, _ = d.duration(f, false)
	}
}

// sqlSink decodes "sink.postgres" or "sink.mysql" and reports whether
// checkpoint_schema is given (valid or not).
func (d *decoder) sqlSink(f field, s *SQLSink) (schemaSet bool) {
	b, ok := d.block(f, sqlSinkKeys, nil)
	if !ok {
		return true // reported; do not add a "missing" error
	}
	if f, ok := b.get("schema_map"); ok {
		if m, ok := d.strMap(f); ok {
			for from, to := range m {
				if strings.TrimSpace(to) == "" {
					d.errorf(f.val, f.path+"."+from, "must not be empty; expected the target schema")
				}
			}
			s.SchemaMap = m
		}
	}
	if f, ok := b.get("create_tables"); ok {
		s.CreateTables, _ = d.boolean(f)
	}
	if f, ok := b.get("checkpoint_schema"); ok {
		if v, ok := d.nonEmpty(f, "a schema name"); ok {
			s.CheckpointSchema = v
		}
		return true
	}
	return false
}

// conflict decodes "sink.conflict".
func (d *decoder) conflict(f field, c *Conflict) {
	b, ok := d.block(f, conflictKeys, nil)
	if !ok {
		return
	}
	if f, ok := b.get("default"); ok {
		if v, ok := d.enum(f, strategies); ok {
			c.Default = v
		}
	}
	if f, ok := b.get("on_missing"); ok {
		if v, ok := d.enum(f, onMissingModes); ok {
			c.OnMissing = v
		}
	}
	f, ok = b.get("rules")
	if !ok {
		return
	}
	rules, _ := d.list(f, "rules ({tables: [...], strategy: ...})")
	var seen []item // patterns across all rules
	for _, rf := range rules {
		rb, ok := d.block(rf, ruleKeys, nil)
		if !ok {
			continue
		}
		var r ConflictRule
		if f, ok := rb.get("tables"); ok {
			items, ok := d.strList(f)
			if ok && len(items) == 0 {
				d.errorf(f.val, f.path, `must list at least one "namespace.table" pattern`)
			}
			for _, it := range items {
				if msg := checkTablePattern(it.val); msg != "" {
					d.errorf(it.node, it.path, "%s %s", quote(it.val), msg)
					continue
				}
				r.Tables = append(r.Tables, it.val)
				seen = append(seen, it)
			}
		} else {
			rb.missing("tables", `expected the table patterns the rule applies to, e.g. tables: ["shop.settings"]`)
		}
		if f, ok := rb.get("strategy"); ok {
			r.Strategy, _ = d.enum(f, strategies)
		} else {
			rb.missing("strategy", "expected one of %s", oneOf(strategies))
		}
		c.Rules = append(c.Rules, r)
	}
	d.unique(seen, "table pattern")
}

// mysqlDatabase returns the database named in a MySQL DSN
// ("user:pass@tcp(host:3306)/db?params" or "mysql://user@host/db"), or "".
func mysqlDatabase(dsn string) string {
	if q := strings.IndexByte(dsn, '?'); q >= 0 {
		dsn = dsn[:q]
	}
	if i := strings.Index(dsn, "://"); i >= 0 {
		dsn = dsn[i+3:]
	}
	s := strings.LastIndexByte(dsn, '/')
	if s < 0 || s < strings.LastIndexByte(dsn, ')') {
		return ""
	}
	return dsn[s+1:]
}
