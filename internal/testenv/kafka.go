package testenv

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// KafkaServer is an in-process Kafka cluster (franz-go kfake) listening on
// 127.0.0.1. Transactions, idempotent producers and consumer groups work.
type KafkaServer struct {
	Cluster *kfake.Cluster

	once sync.Once
}

// StartKafka starts a kfake cluster of one broker on a free port of
// 127.0.0.1, with topics created on first use (auto.create.topics.enable,
// as a default Kafka broker, for clients made with kgo.AllowAutoTopicCreation)
// with one partition each. opts come after, and
// so override, these defaults. The caller must Close it; Main closes the
// ones left open.
func StartKafka(opts ...kfake.Opt) (*KafkaServer, error) {
	all := append([]kfake.Opt{
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
	}, opts...)
	c, err := kfake.NewCluster(all...)
	if err != nil {
		return nil, fmt.Errorf("testenv: start kfake: %w", err)
	}
	k := &KafkaServer{Cluster: c}
	register(k, func() error { k.Close(); return nil })
	return k, nil
}

// Kafka returns the Kafka cluster shared by the tests of this package,
// starting it on first use; Main closes it. It fails the test when the
// cluster cannot start. Tests use their own topic names to stay apart.
func Kafka(t testing.TB) *KafkaServer {
	t.Helper()
	k, err := sharedKafka.get(func(context.Context) (*KafkaServer, error) { return StartKafka() })
	if err != nil {
		t.Fatalf("testenv: shared Kafka: %v", err)
	}
	return k
}

var sharedKafka shared[*KafkaServer]

// Brokers returns the brokers' host:port addresses, for kgo.SeedBrokers.
func (k *KafkaServer) Brokers() []string {
	return k.Cluster.ListenAddrs()
}

// Client returns a kgo client seeded with the brokers and opts, closed at
// the end of the test. It fails the test on error.
func (k *KafkaServer) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(k.Brokers()...)}, opts...)...)
	if err != nil {
		t.Fatalf("testenv: kafka client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// CreateTopic creates topic with the given partitions and configs (e.g.
// {"cleanup.policy": "compact"}), and fails the test on error, including
// when the topic exists.
func (k *KafkaServer) CreateTopic(t testing.TB, topic string, partitions int32, configs map[string]string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.Brokers()...))
	if err != nil {
		t.Fatalf("testenv: kafka client: %v", err)
	}
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic = topic
	rt.NumPartitions = partitions
	rt.ReplicationFactor = 1
	for name, value := range configs {
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = name, kmsg.StringPtr(value)
		rt.Configs = append(rt.Configs, c)
	}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("testenv: create topic %s: %v", topic, err)
	}
	for _, rt := range resp.Topics {
		if err := kerr.ErrorForCode(rt.ErrorCode); err != nil {
			t.Fatalf("testenv: create topic %s: %v", topic, err)
		}
	}
}

// Close stops the cluster. It is idempotent and safe to call concurrently.
func (k *KafkaServer) Close() {
	k.once.Do(func() {
		unregister(k)
		k.Cluster.Close()
	})
}
