package main

import (
	"slices"
	"time"
)

// median returns the median of xs (the mean of the two middle values for
// an even count), or 0 for none. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the
// nearest-rank method: the smallest value that at least p% of the values
// are less than or equal to. It returns 0 for an empty slice.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(p/100*float64(n) + 0.9999999) // ceil without float noise
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	return sorted[rank-1]
}

// latencyStats sorts ds and summarizes it; nil for no values.
func latencyStats(ds []time.Duration) *LatencyStats {
	if len(ds) == 0 {
		return nil
	}
	slices.Sort(ds)
	return &LatencyStats{P50: percentile(ds, 50), P99: percentile(ds, 99), Max: ds[len(ds)-1]}
}
