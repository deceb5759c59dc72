package kafka

import (
	"github.com/twmb/franz-go/pkg/kgo"
)

// The sink picks a record's partition itself: when it builds a record it
// computes a 31-bit hash of what decides the partition (the key, the table
// or the transaction id, per PartitionBy) and parks it in the record's
// Partition field; hashPartitioner turns it into hash mod n when franz-go
// asks. franz-go calls the partitioner before it sets Partition to the
// chosen partition, and only once per record. Every record therefore
// requires consistency: the same hash always lands on the same partition
// of a topic, whatever partitions are momentarily writable, so per-key
// order holds.
type hashPartitioner struct{}

func (hashPartitioner) ForTopic(string) kgo.TopicPartitioner { return hashPartitioner{} }

func (hashPartitioner) RequiresConsistency(*kgo.Record) bool { return true }

func (hashPartitioner) Partition(r *kgo.Record, n int) int { return int(r.Partition) % n }

// partitionHash is the hash as Kafka's Java producer computes it for keys
// (murmur2, high bit cleared), so records keyed like Debezium's would land
// as Debezium's do.
func partitionHash(b []byte) int32 { return int32(murmur2(b) & 0x7fffffff) }

// partitionHashString is partitionHash of a string, without a copy.
func partitionHashString(s string) int32 { return int32(murmur2(s) & 0x7fffffff) }

// murmur2 is the 32-bit MurmurHash2 with Kafka's seed, as in Kafka's
// org.apache.kafka.common.utils.Utils.murmur2.
func murmur2[T ~string | ~[]byte](b T) uint32 {
	const (
		seed uint32 = 0x9747b28c
		m    uint32 = 0x5bd1e995
		r           = 24
	)
	n := len(b)
	h := seed ^ uint32(n)
	i := 0
	for ; n-i >= 4; i += 4 {
		k := uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch n - i {
	case 3:
		h ^= uint32(b[i+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(b[i+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(b[i])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
