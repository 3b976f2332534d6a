package room

import (
	"errors"
	"math/bits"
	"strings"
)

// A queue ID is a short name of a ticket that a person can read out to a
// call centre ("my queue ID is 2B4-F7X-K"): the ticket's phase and join
// number written in the booking numbers' alphabet (no 0/O or 1/I), at least
// four characters, then a check character (Luhn mod 32) that catches one
// misheard character and most swapped pairs, grouped by three. It names a
// ticket within its room and is the same on every node and after a
// refresh. It is not a credential (the ticket is): it grants nothing, so it
// needs no key and costs the status path no signature.

const queueAlphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

// A queue ID has minQueueDigits to queueDigits digits before its check
// character.
const (
	minQueueDigits = 4
	queueDigits    = 13
)

// maxQueueIDLen bounds a queue ID as typed.
const maxQueueIDLen = 24

// ErrQueueID: not a queue ID (a wrong character, a wrong check character,
// too long).
var ErrQueueID = errors.New("not a queue ID: check the characters")

var queueValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(queueAlphabet) {
		t[queueAlphabet[i]] = int8(i)
		t[strings.ToLower(queueAlphabet[i : i+1])[0]] = int8(i)
	}
	return t
}()

// QueueID is the ticket's queue ID, e.g. "2B4-F7X-K".
func (t Ticket) QueueID() string { return string(AppendQueueID(nil, t)) }

// AppendQueueID appends the ticket's queue ID to b (the status answer
// writes it without allocating).
func AppendQueueID(b []byte, t Ticket) []byte {
	// The number seq*2+phase has up to 65 bits: 13 digits of 5 bits, the
	// last of them (the most significant) holding bits 60..64.
	lo, hi := t.Seq<<1|uint64(t.Phase&1), t.Seq>>63
	// As many digits as the number's bits need, at least minQueueDigits
	// (bit 64, in hi, needs them all).
	n := max(minQueueDigits, (bits.Len64(lo)+4)/5)
	if hi != 0 {
		n = queueDigits
	}
	var d [queueDigits + 1]byte
	for i := range n {
		x := byte(lo >> (5 * i) & 31)
		if i == queueDigits-1 {
			x = byte(lo>>60) | byte(hi)<<4
		}
		d[n-1-i] = x
	}
	d[n] = luhn32(d[:n])
	for i, x := range d[:n+1] {
		if i > 0 && i%3 == 0 {
			b = append(b, '-')
		}
		b = append(b, queueAlphabet[x])
	}
	return b
}

// ParseQueueID reads a queue ID as a person typed it (any case, with or
// without dashes and spaces) and returns the ticket's phase and join
// number.
func ParseQueueID(s string) (Phase, uint64, error) {
	if len(s) > maxQueueIDLen {
		return 0, 0, ErrQueueID
	}
	var d [maxQueueIDLen]byte
	n := 0
	for i := range len(s) {
		c := s[i]
		if c == '-' || c == ' ' {
			continue
		}
		x := queueValue[c]
		if x < 0 {
			return 0, 0, ErrQueueID
		}
		d[n] = byte(x)
		n++
	}
	if n < minQueueDigits+1 {
		return 0, 0, ErrQueueID
	}
	digits, check := d[:n-1], d[n-1]
	if luhn32(digits) != check {
		return 0, 0, ErrQueueID
	}
	// At most 13 digits (65 bits: a join number and the phase bit), and no
	// leading zeros beyond the shortest length, so that a ticket has one
	// queue ID.
	if len(digits) > queueDigits || len(digits) > minQueueDigits && digits[0] == 0 {
		return 0, 0, ErrQueueID
	}
	var lo, hi uint64
	for i, x := range digits {
		pos := len(digits) - 1 - i // 0 = least significant
		if pos == queueDigits-1 {
			lo |= uint64(x&15) << 60
			hi = uint64(x >> 4)
			continue
		}
		lo |= uint64(x) << (5 * pos)
	}
	return Phase(lo & 1), lo>>1 | hi<<63, nil
}

// luhn32 is the Luhn mod 32 check character of digits (values 0..31).
func luhn32(digits []byte) byte {
	sum := 0
	double := true // from the right, the digit next to the check is doubled
	for i := len(digits) - 1; i >= 0; i-- {
		a := int(digits[i])
		if double {
			a *= 2
			a = a/32 + a%32
		}
		sum += a
		double = !double
	}
	return byte((32 - sum%32) % 32)
}
