package transform

import (
	"fmt"
	"log/slog"

	"github.com/cdcd-dev/cdcd/event"
)

// The defaults of OutboxColumns and Spec.Topic for outbox, those of
// Debezium's outbox event router.
const (
	defaultOutboxID      = "id"
	defaultOutboxKey     = "aggregateid"
	defaultOutboxPayload = "payload"
	defaultOutboxRouteBy = "aggregatetype"
	defaultOutboxTopic   = "outbox.event.{routed_by}"
)

// outbox turns the rows inserted into an outbox table into messages
// (docs/transforms.md#outbox). Each insert (or snapshot read) becomes an
// OpMessage event:
//
//   - Topic: the template rendered, {routed_by} being the RouteBy column;
//   - Key: one field, the Key column (nil when the table lacks it);
//   - Message.Content: the Payload column's text or bytes (nil for NULL);
//   - Message.Prefix: the ID column's text, the outbox event id;
//   - Message.Transactional: true; Schema, Before, After, Unchanged: nil.
//
// Deletes and truncates of the outbox table are dropped; so are updates,
// with a warning, as the router does by default.
type outbox struct {
	site
	tables tableSet
	cols   OutboxColumns
	tmpl   template
	log    *slog.Logger
	topics map[outboxTopicKey]string
}

type outboxTopicKey struct {
	topicKey
	routed string
}

func newOutbox(at site, tables tableSet, sp *Spec, log *slog.Logger) (Transform, error) {
	if len(sp.Tables) == 0 {
		return nil, at.failf("tables", "an outbox needs the outbox tables, e.g. tables: [public.outbox]")
	}
	cols := sp.Outbox
	for _, c := range []struct {
		name *string
		def  string
	}{{&cols.ID, defaultOutboxID}, {&cols.Key, defaultOutboxKey}, {&cols.Payload, defaultOutboxPayload}, {&cols.RouteBy, defaultOutboxRouteBy}} {
		if *c.name == "" {
			*c.name = c.def
		}
	}
	topic := sp.Topic
	if topic == "" {
		topic = defaultOutboxTopic
	}
	tm, err := parseTemplate(topic, true)
	if err != nil {
		return nil, at.fail("topic", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &outbox{site: at, tables: tables, cols: cols, tmpl: tm, log: log}, nil
}

// Apply implements Transform.
func (o *outbox) Apply(e *event.Event) (bool, error) {
	if !o.tables.match(e.Table) {
		return true, nil
	}
	switch e.Op {
	case event.OpInsert, event.OpRead:
	case event.OpUpdate:
		o.log.Warn("outbox: update of an outbox row ignored; outbox rows are only inserted (and deleted)",
			"table", e.Table.String(), "pos", e.Pos.String(), "transform", o.line)
		return false, nil
	case event.OpMessage:
		return true, nil
	default: // deletes, truncates
		return false, nil
	}
	var routed string
	if o.tmpl.has(phRoutedBy) {
		v, ok := e.After.Get(o.cols.RouteBy)
		if !ok || v.IsNull() {
			return false, o.failf("", "the routing column %s of %s is missing or null", o.cols.RouteBy, e.Table)
		}
		if v.Kind() == event.KindString {
			routed = v.Str()
		} else {
			routed = string(textOf(nil, v))
		}
	}
	payload, ok := e.After.Get(o.cols.Payload)
	if !ok && (e.Schema == nil || e.Schema.Column(o.cols.Payload) == nil) {
		return false, o.failf("", "%s has no payload column %s", e.Table, o.cols.Payload)
	}
	var content []byte
	if !payload.IsNull() {
		content = textOf(nil, payload)
	}
	var id string
	if v, ok := e.After.Get(o.cols.ID); ok && !v.IsNull() {
		id = string(textOf(nil, v))
	}
	var key event.Row
	if v, ok := e.After.Get(o.cols.Key); ok {
		key = event.Row{{Name: o.cols.Key, Value: v}}
	}
	e.Topic = o.topic(e, routed)
	e.Op = event.OpMessage
	e.Message = &event.Message{Prefix: id, Content: content, Transactional: true}
	e.Key, e.Before, e.After, e.Unchanged, e.Schema = key, nil, nil, nil, nil
	return true, nil
}

// topic renders the topic template, once per distinct input.
func (o *outbox) topic(e *event.Event, routed string) string {
	k := outboxTopicKey{topicKey: topicKey{src: e.Source}, routed: routed}
	if o.tmpl.has(phNamespace) || o.tmpl.has(phTable) {
		k.table = e.Table
	}
	if o.tmpl.has(phOp) {
		k.op = e.Op
	}
	if t, ok := o.topics[k]; ok {
		return t
	}
	t := o.tmpl.expand(e, routed)
	if o.topics == nil || len(o.topics) >= maxCache {
		o.topics = make(map[outboxTopicKey]string)
	}
	o.topics[k] = t
	return t
}

// schema implements schemaChecker: an outbox table needs the payload
// column, and the routing column when the topic uses it.
func (o *outbox) schema(s *event.TableSchema) (*event.TableSchema, error) {
	if s == nil || !o.tables.match(s.Table) {
		return s, nil
	}
	need := []string{o.cols.Payload}
	if o.tmpl.has(phRoutedBy) {
		need = append(need, o.cols.RouteBy)
	}
	for _, n := range need {
		if s.Column(n) == nil {
			return nil, o.fail("", fmt.Errorf("%w: outbox table %s has no column %s", ErrUnknownColumn, s.Table, n))
		}
	}
	return nil, nil
}
