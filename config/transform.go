package config

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// transforms decodes the "transforms" list. sinkType is "" when the sink is
// missing or invalid.
func (d *decoder) transforms(f field, p *Pipeline, sinkType string) {
	list, ok := d.list(f, "transforms ({type: ..., ...})")
	if !ok {
		return
	}
	for _, tf := range list {
		if t, ok := d.transform(tf, sinkType); ok {
			p.Transforms = append(p.Transforms, t)
		}
	}
}

// transform decodes one entry of "transforms".
func (d *decoder) transform(f field, sinkType string) (Transform, bool) {
	t := Transform{Line: f.val.Line}
	b, ok := d.block(f, transformKeys, nil)
	if !ok {
		return t, false
	}
	tf, ok := b.get("type")
	if !ok {
		b.missing("type", "expected one of %s", oneOf(transformTypes))
		return t, false
	}
	typ, ok := d.enum(tf, transformTypes)
	if !ok {
		return t, false
	}
	t.Type = typ
	uses := transformUses[typ]
	good := true
	for _, k := range transformKeys {
		if f, ok := b.get(k); ok && k != "type" && !slices.Contains(uses, k) {
			d.errorf(f.key, f.path, "not used by a %s transform (it takes %s)", typ, oneOf(uses))
			delete(b.fields, k)
			good = false
		}
	}
	bad := func(ok bool) {
		if !ok {
			good = false
		}
	}

	if f, ok := b.get("tables"); ok {
		var tok bool
		t.Tables, tok = d.tablePatterns(f, false)
		bad(tok)
	}
	if f, ok := b.get("where"); ok {
		var wok bool
		t.Where, wok = d.nonEmpty(f, "an expression, e.g. after.status != 'draft'")
		bad(wok)
	}
	if f, ok := b.get("ops"); ok {
		bad(d.ops(f, &t))
	}
	if f, ok := b.get("columns"); ok {
		items, cok := d.strList(f)
		if cok && len(items) == 0 {
			d.errorf(f.val, f.path, "must list at least one column")
			cok = false
		}
		cok = d.unique(items, "column") && cok
		t.Columns = values(items)
		bad(cok)
	}
	if f, ok := b.get("method"); ok {
		var mok bool
		t.Method, mok = d.enum(f, maskMethods)
		bad(mok)
	}
	if f, ok := b.get("salt"); ok {
		var sok bool
		t.Salt, sok = d.nonEmpty(f, "the salt or key (use ${VAR} to keep it out of the file)")
		bad(sok)
	}
	if f, ok := b.get("keep"); ok {
		v, kok := d.integer(f, 0, math.MaxInt32)
		t.Keep = int(v)
		bad(kok)
	}
	if f, ok := b.get("keep_first"); ok {
		v, kok := d.integer(f, 0, math.MaxInt32)
		t.KeepFirst = int(v)
		bad(kok)
	}
	for key, dst := range map[string]*string{"id_column": &t.IDColumn, "key_column": &t.KeyColumn, "payload_column": &t.PayloadColumn, "route_by_column": &t.RouteByColumn} {
		if f, ok := b.get(key); ok {
			var cok bool
			*dst, cok = d.nonEmpty(f, "a column of the outbox table")
			bad(cok)
		}
	}
	if f, ok := b.get("to"); ok {
		if s, tok := d.nonEmpty(f, `the new table name, "namespace.table" or "table"`); !tok {
			good = false
		} else if msg := tableName(s); msg != "" {
			d.errorf(f.val, f.path, "%s %s", quote(s), msg)
			good = false
		} else {
			t.To = s
		}
	}
	if f, ok := b.get("rename_columns"); ok {
		bad(d.renameColumns(f, &t))
	}
	if f, ok := b.get("topic"); ok {
		vars := routeTopicVars
		if typ == TransformOutbox {
			vars = outboxTopicVars
		}
		if s, tok := d.str(f); !tok {
			good = false
		} else if typ == TransformRoute && strings.HasPrefix(s, "=") {
			t.Topic = s // a CEL expression, compiled by the transform
		} else if msg := topicTemplate(s, vars); msg != "" {
			d.errorf(f.val, f.path, "topic %s %s", quote(s), msg)
			good = false
		} else {
			t.Topic = s
		}
	}
	if f, ok := b.get("values"); ok {
		m, vok := d.strMap(f)
		if vok && len(m) == 0 {
			d.errorf(f.val, f.path, "must set at least one column, e.g. values: {region: eu}")
			vok = false
		}
		t.Set = m
		bad(vok)
	}

	// Requirements per type, checked only for keys that are absent (a
	// present but invalid key has been reported already).
	need := func(key, format string, args ...any) {
		if !b.has(key) {
			b.missing(key, format, args...)
			good = false
		}
	}
	switch typ {
	case TransformFilter:
		if !b.has("where") && !b.has("ops") {
			d.errorf(f.val, f.path, "a filter needs where (an expression), ops (a list of c, u, d, r, t, m) or both")
			good = false
		}
	case TransformIncludeColumns, TransformDropColumns:
		need("columns", "expected the column names, e.g. columns: [password_hash]")
	case TransformMask:
		need("columns", "expected the column names to mask, e.g. columns: [email]")
		need("method", "expected one of %s", oneOf(maskMethods))
		switch t.Method {
		case MaskHMAC:
			need("salt", "hmac needs a key: salt: ${MASK_KEY}")
		case MaskPartial, MaskTruncate:
			need("keep", "%s needs keep: the number of characters to leave", t.Method)
		}
		if t.Method != "" && t.Method != MaskSHA256 && t.Method != MaskHMAC {
			if f, ok := b.get("salt"); ok {
				d.errorf(f.key, f.path, "only used by the sha256 and hmac methods (method is %s)", t.Method)
				good = false
			}
		}
		if t.Method != "" && t.Method != MaskPartial && t.Method != MaskTruncate {
			if f, ok := b.get("keep"); ok {
				d.errorf(f.key, f.path, "only used by the partial and truncate methods (method is %s)", t.Method)
				good = false
			}
		}
		if t.Method != "" && t.Method != MaskPartial {
			if f, ok := b.get("keep_first"); ok {
				d.errorf(f.key, f.path, "only used by the partial method (method is %s)", t.Method)
				good = false
			}
		}
	case TransformRename:
		if !b.has("to") && !b.has("rename_columns") {
			d.errorf(f.val, f.path, "a rename needs to (a new table name), rename_columns (old: new) or both")
			good = false
		}
		if b.has("to") {
			need("tables", "a rename with to: needs the tables it renames, e.g. tables: [public.customers]")
		}
	case TransformRoute:
		need("topic", `expected the Kafka topic, e.g. topic: "orders.{table}"`)
		if sinkType != "" && sinkType != SinkKafka && sinkType != SinkStdout {
			d.errorf(b.fields["type"].val, join(f.path, "type"), "route picks Kafka topics, but sink.type is %s (use rename to change the target table)", sinkType)
			good = false
		}
	case TransformSet:
		need("values", "expected the columns to set, e.g. values: {region: eu}")
	case TransformOutbox:
		need("tables", "expected the outbox tables, e.g. tables: [public.outbox]")
	}
	return t, good
}

// ops decodes a filter's op codes.
func (d *decoder) ops(f field, t *Transform) bool {
	items, ok := d.strList(f)
	if ok && len(items) == 0 {
		d.errorf(f.val, f.path, "must list at least one of %s", oneOf(opCodes))
		return false
	}
	var good []item
	for _, it := range items {
		if slices.Contains(opCodes, it.val) {
			good = append(good, it)
			continue
		}
		hint := didYouMean(it.val, opCodes)
		if c, ok := opNames[strings.ToLower(it.val)]; ok {
			hint = fmt.Sprintf(" (did you mean %s?)", c)
		}
		d.errorf(it.node, it.path, "%s is not one of %s (c insert, u update, d delete, r snapshot read, t truncate, m message)%s", quote(it.val), oneOf(opCodes), hint)
		ok = false
	}
	ok = d.unique(good, "op") && ok
	t.Ops = values(good)
	return ok
}

// renameColumns decodes a rename's column map.
func (d *decoder) renameColumns(f field, t *Transform) bool {
	m, ok := d.strMap(f)
	if !ok {
		return false
	}
	if len(m) == 0 {
		d.errorf(f.val, f.path, "must rename at least one column, e.g. rename_columns: {old_name: new_name}")
		return false
	}
	targets := map[string]string{}
	for _, from := range slices.Sorted(maps.Keys(m)) {
		to := m[from]
		switch {
		case strings.TrimSpace(to) == "":
			d.errorf(f.val, f.path+"."+from, "must not be empty; expected the new column name")
			ok = false
		case targets[to] != "":
			d.errorf(f.val, f.path+"."+from, "renames to %s, as %s does", quote(to), targets[to])
			ok = false
		default:
			targets[to] = from
		}
	}
	t.RenameColumns = m
	return ok
}
