package room

import (
	"encoding/binary"
	"math"
	"testing"
)

func lotteryKey(i int) []byte {
	k := make([]byte, 32)
	binary.LittleEndian.PutUint64(k, uint64(i)*0x9e3779b97f4a7c15+12345) // fixed seed
	binary.LittleEndian.PutUint64(k[8:], uint64(i))
	return k
}

func TestLotteryIsPermutation(t *testing.T) {
	for _, n := range []uint64{0, 1, 2, 3, 4, 5, 7, 16, 17, 100, 1000, 4097, 65537} {
		l := NewLottery(lotteryKey(int(n)), n)
		seen := make([]bool, n)
		for k := uint64(0); k < n; k++ {
			p := l.Permute(k)
			if p >= n {
				t.Fatalf("n=%d: Permute(%d)=%d out of range", n, k, p)
			}
			if seen[p] {
				t.Fatalf("n=%d: place %d given twice", n, p)
			}
			seen[p] = true
		}
	}
}

// chiSquareCritical approximates the 99.9th percentile of chi-square with df
// degrees of freedom (Wilson-Hilferty).
func chiSquareCritical(df float64) float64 {
	const z = 3.090 // 99.9%
	a := 2 / (9 * df)
	return df * math.Pow(1-a+z*math.Sqrt(a), 3)
}

// TestLotteryUniformPermutation checks that over many keys the lottery of a
// small pre-queue draws every one of the n! orders equally often: a
// chi-square goodness-of-fit test with a fixed seed (deterministic, but it
// fails if the permutation family is biased, e.g. with too few rounds).
func TestLotteryUniformPermutation(t *testing.T) {
	for _, n := range []int{2, 3, 4, 5, 6} {
		fact := 1
		for i := 2; i <= n; i++ {
			fact *= i
		}
		samples := fact * 200
		counts := map[string]int{}
		perm := make([]byte, n)
		for s := 0; s < samples; s++ {
			l := NewLottery(lotteryKey(s+n*1_000_000), uint64(n))
			for k := 0; k < n; k++ {
				perm[k] = byte(l.Permute(uint64(k)))
			}
			counts[string(perm)]++
		}
		if len(counts) != fact {
			t.Fatalf("n=%d: saw %d of %d orders", n, len(counts), fact)
		}
		expected := float64(samples) / float64(fact)
		var chi float64
		for _, c := range counts {
			d := float64(c) - expected
			chi += d * d / expected
		}
		if crit := chiSquareCritical(float64(fact - 1)); chi > crit {
			t.Errorf("n=%d: chi-square %.1f > %.1f: orders are not uniform", n, chi, crit)
		} else {
			t.Logf("n=%d: chi-square %.1f (critical %.1f, df %d)", n, chi, crit, fact-1)
		}
	}
}

// TestLotteryUniformPlaces checks, for a larger pre-queue, that every join
// sequence is equally likely to land in every place (n x n contingency).
func TestLotteryUniformPlaces(t *testing.T) {
	const n = 10
	const samples = 5000
	var counts [n][n]int
	for s := 0; s < samples; s++ {
		l := NewLottery(lotteryKey(s+77_000_000), n)
		for k := 0; k < n; k++ {
			counts[k][l.Permute(uint64(k))]++
		}
	}
	expected := float64(samples) / n
	var chi float64
	for k := 0; k < n; k++ {
		for p := 0; p < n; p++ {
			d := float64(counts[k][p]) - expected
			chi += d * d / expected
		}
	}
	df := float64((n - 1) * (n - 1))
	if crit := chiSquareCritical(df); chi > crit {
		t.Errorf("chi-square %.1f > %.1f: places depend on join order", chi, crit)
	}
	// The first joiner must not be favoured: mean place of k=0 close to (n-1)/2.
	var sum float64
	for p := 0; p < n; p++ {
		sum += float64(p * counts[0][p])
	}
	if mean := sum / samples; math.Abs(mean-(n-1)/2.0) > 0.2 {
		t.Errorf("first joiner's mean place %.2f, want about %.1f", mean, (n-1)/2.0)
	}
}

func BenchmarkLotteryPermute(b *testing.B) {
	l := NewLottery(lotteryKey(1), 6_000_000)
	for i := 0; b.Loop(); i++ {
		l.Permute(uint64(i % 6_000_000))
	}
}

func TestLotteryInverse(t *testing.T) {
	for _, n := range []uint64{2, 3, 10, 1000, 99991} {
		l := NewLottery(lotteryKey(int(n)+5), n)
		for k := uint64(0); k < n; k += 1 + n/500 {
			if got := l.Inverse(l.Permute(k)); got != k {
				t.Fatalf("n=%d: Inverse(Permute(%d)) = %d", n, k, got)
			}
		}
	}
}
