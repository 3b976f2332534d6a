package room

import (
	"encoding/binary"
	"math/bits"
)

// Lottery is a keyed pseudo-random permutation of [0, n). It gives every
// person who joined during the pre-queue (join sequence k) a random place
// Permute(k) without storing anything per person: the room only needs n,
// the number of pre-queue joins, and the key.
//
// It is the swap-or-not shuffle (Hoang, Morris, Rogaway 2012). Each round
// pairs x with k_r - x (mod n) and swaps the pair when a keyed bit of the
// pair says so; every round is an involution, so the whole is a permutation
// of exactly [0, n) with no cycle walking. Unlike a Feistel network (whose
// permutations on small domains are all even and visibly non-uniform), the
// rounds generate the whole symmetric group, and enough of them give a
// permutation close to uniform for every n; lottery_test.go checks that with
// a chi-square test.
type Lottery struct {
	n      uint64
	keys   []uint64 // per round: pairing constant in [0, n)
	bitkey []uint64 // per round: key of the swap decision
}

// NewLottery builds the permutation of [0, n) for key.
func NewLottery(key []byte, n uint64) *Lottery {
	l := &Lottery{n: n}
	if n <= 1 {
		return l
	}
	// 6 rounds per bit of n is the analysed security level; the extra
	// constant makes tiny domains mix fully.
	rounds := 6*bits.Len64(n) + 64
	var seed uint64 = 0x243f6a8885a308d3
	for i := 0; i+8 <= len(key); i += 8 {
		seed = mix64(seed ^ binary.LittleEndian.Uint64(key[i:]))
	}
	seed = mix64(seed ^ n)
	l.keys = make([]uint64, rounds)
	l.bitkey = make([]uint64, rounds)
	for i := 0; i < rounds; i++ {
		seed += 0x9e3779b97f4a7c15
		l.keys[i] = uniform(mix64(seed), n)
		seed += 0x9e3779b97f4a7c15
		l.bitkey[i] = mix64(seed)
	}
	return l
}

// uniform maps a 64-bit random value to [0, n) with negligible bias
// (Lemire's multiply-shift; bias at most n/2^64).
func uniform(x, n uint64) uint64 {
	hi, _ := bits.Mul64(x, n)
	return hi
}

// N is the size of the permuted range.
func (l *Lottery) N() uint64 { return l.n }

// Permute maps k in [0, n) to its place in [0, n). Values outside the range
// are returned unchanged.
func (l *Lottery) Permute(k uint64) uint64 {
	if l.n <= 1 || k >= l.n {
		return k
	}
	for i := range l.keys {
		k = l.round(i, k)
	}
	return k
}

// round is round i of the shuffle: x is paired with k_i - x (mod n) and the
// pair swaps when its keyed bit says so. Every round is an involution.
func (l *Lottery) round(i int, x uint64) uint64 {
	partner := l.keys[i] + l.n - x // (k_i - x) mod n, without underflow
	if partner >= l.n {
		partner -= l.n
	}
	if mix64(max(x, partner)^l.bitkey[i])&1 == 1 {
		return partner
	}
	return x
}

// mix64 is the splitmix64 finaliser: a fast bijective mixer with good
// avalanche, used as the keyed round function.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Inverse maps a place back to the join sequence that holds it. Every round
// is an involution, so the inverse applies the same rounds in reverse order.
func (l *Lottery) Inverse(p uint64) uint64 {
	if l.n <= 1 || p >= l.n {
		return p
	}
	for i := len(l.keys) - 1; i >= 0; i-- {
		p = l.round(i, p)
	}
	return p
}
