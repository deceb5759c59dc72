package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/cdcd-dev/cdcd/event"
)

// maxTopicLen is Kafka's limit on topic names.
const maxTopicLen = 249

// checkTopicName reports whether Kafka accepts name as a topic name.
func checkTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("empty")
	case name == "." || name == "..":
		return errors.New(`"." and ".." are not topic names`)
	case len(name) > maxTopicLen:
		return fmt.Errorf("longer than %d characters", maxTopicLen)
	}
	for i := 0; i < len(name); i++ {
		if !topicChar(name[i]) {
			return fmt.Errorf("character %q is not allowed (only a-z A-Z 0-9 . _ -)", name[i])
		}
	}
	return nil
}

func topicChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-'
}

// templateVars are the variables a topic template may use.
var templateVars = []string{"pipeline", "namespace", "table", "db"}

// checkTemplate validates a topic template: known variables, and literal
// text that is valid in a topic name.
func checkTemplate(t string) error {
	if t == "" {
		return errors.New("empty")
	}
	rest := t
	for rest != "" {
		i := strings.IndexAny(rest, "{}")
		if i < 0 {
			break
		}
		if rest[i] == '}' {
			return errors.New("'}' without '{'")
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return errors.New("'{' without '}'")
		}
		name := rest[i+1 : i+j]
		known := false
		for _, v := range templateVars {
			known = known || v == name
		}
		if !known {
			return fmt.Errorf("unknown variable {%s} (valid: {pipeline}, {namespace}, {table}, {db})", name)
		}
		rest = rest[i+j+1:]
	}
	lit := expand(t, "p", "n", "t", "d")
	for i := 0; i < len(lit); i++ {
		if !topicChar(lit[i]) {
			return fmt.Errorf("character %q is not allowed in a topic name", lit[i])
		}
	}
	return nil
}

// expand replaces the template's variables, sanitizing the values: each
// byte Kafka does not allow becomes '_' (as Debezium does).
func expand(t, pipeline, namespace, table, db string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(t)
			break
		}
		b.WriteString(t[:i])
		j := strings.IndexByte(t[i:], '}')
		if j < 0 { // checkTemplate rejects this
			b.WriteString(t[i:])
			break
		}
		var v string
		switch t[i+1 : i+j] {
		case "pipeline":
			v = pipeline
		case "namespace":
			v = namespace
		case "table":
			v = table
		case "db":
			v = db
		}
		for k := 0; k < len(v); k++ {
			if c := v[k]; topicChar(c) {
				b.WriteByte(c)
			} else {
				b.WriteByte('_')
			}
		}
		t = t[i+j+1:]
	}
	s := b.String()
	if len(s) > maxTopicLen {
		s = s[:maxTopicLen]
	}
	return s
}

// topicKey identifies a topic template expansion.
type topicKey struct {
	namespace, table, db string
}

// topicFor returns the topic of e: its Topic when a transform set one, the
// template's expansion otherwise. Expansions are cached.
func (s *Sink) topicFor(e *event.Event) string {
	if e.Topic != "" {
		return e.Topic
	}
	k := topicKey{namespace: e.Table.Namespace, table: e.Table.Name}
	if e.Source != nil {
		k.db = e.Source.DB
	}
	if e.Op == event.OpMessage && e.Message != nil {
		k.table = e.Message.Prefix
		if k.namespace == "" {
			k.namespace = "message"
		}
	}
	if t, ok := s.topics[k]; ok {
		return t
	}
	t := expand(s.opts.Topic, s.opts.Pipeline, k.namespace, k.table, k.db)
	s.topics[k] = t
	return t
}

// ensureTopic creates topic unless this sink already knows it exists. An
// existing topic is left as it is.
func (s *Sink) ensureTopic(ctx context.Context, topic string, partitions int32, configs map[string]*string) error {
	if _, ok := s.known[topic]; ok {
		return nil
	}
	if err := checkTopicName(topic); err != nil {
		return permanent(fmt.Errorf("topic %q: %w", topic, err))
	}
	resp, err := s.sess.adm.CreateTopic(ctx, partitions, s.opts.ReplicationFactor, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		// Perhaps we may not create topics but the topic is there.
		details, lerr := s.sess.adm.ListTopics(ctx, topic)
		if lerr != nil || details.Error() != nil || !details.Has(topic) {
			if isPermanentKafka(err) {
				return permanent(fmt.Errorf("creating topic %s: %w", topic, err))
			}
			return fmt.Errorf("creating topic %s: %w", topic, err)
		}
	}
	if err == nil {
		s.log.Info("created topic", "topic", topic, "partitions", partitions, "replication_factor", s.opts.ReplicationFactor)
	}
	s.known[topic] = struct{}{}
	return nil
}

// isPermanentKafka reports whether a broker error will not go away by
// trying again (authorization, invalid names or configs).
func isPermanentKafka(err error) bool {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return false
	}
	switch ke {
	case kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed, kerr.TransactionalIDAuthorizationFailed,
		kerr.InvalidTopicException, kerr.InvalidConfig, kerr.InvalidPartitions, kerr.InvalidReplicationFactor,
		kerr.PolicyViolation, kerr.SaslAuthenticationFailed:
		return true
	}
	return false
}

// dataTopicConfigs returns the configs of the data topics the sink creates.
func (o *Options) dataTopicConfigs() map[string]*string {
	if len(o.TopicConfigs) == 0 {
		return nil
	}
	m := make(map[string]*string, len(o.TopicConfigs))
	for k, v := range o.TopicConfigs {
		m[k] = kadm.StringPtr(v)
	}
	return m
}
