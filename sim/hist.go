package sim

import (
	"math/bits"
	"time"
)

// Histogram is a log-linear latency histogram: exact below 128ns, then 64
// buckets per power of two (under 1.6% error). It has a fixed size, so a
// long run costs no more memory than a short one, and recording is a few
// instructions.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	max    uint64
}

const (
	histSub     = 7 // 2^7 exact values, then 2^6 buckets per octave
	histBuckets = 1<<histSub + (64-histSub)*(1<<(histSub-1))
)

func histIndex(v uint64) int {
	if v < 1<<histSub {
		return int(v)
	}
	s := bits.Len64(v) - histSub // >= 1
	top := v >> uint(s)          // in [64, 128)
	return 1<<histSub + (s-1)*(1<<(histSub-1)) + int(top-(1<<(histSub-1)))
}

// histValue is the middle of bucket i.
func histValue(i int) uint64 {
	if i < 1<<histSub {
		return uint64(i)
	}
	i -= 1 << histSub
	s := i/(1<<(histSub-1)) + 1
	top := uint64(i%(1<<(histSub-1))) + 1<<(histSub-1)
	return top<<uint(s) + (1<<uint(s))/2
}

// Record adds one observation.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[histIndex(v)]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

// Merge adds o's observations to h.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Count is the number of observations.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest observation.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Quantile returns the q-quantile (0 <= q <= 1), or 0 without observations.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(histValue(i), h.max))
		}
	}
	return time.Duration(h.max)
}
