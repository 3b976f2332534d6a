package sim

import (
	"errors"
	"fmt"
	"math/bits"

	"github.com/sluicehq/sluice/booking"
)

// Person is one simulated citizen: what a person types into the booking
// forms.
type Person struct {
	Name      string
	RRN       string // YYMMDD-GNNNNNC, with a valid check digit
	Phone     string // 010-1XXX-XXXX: booking.TestPhonePrefix, nobody's number
	BirthDate booking.Date
}

// People hands out distinct people born within a range of dates. Person i
// is a pure function of i and the seed, so a run can name its people by
// number; within one People, no two of the first Len() people share an
// RRN, and no two of the first 10,000,000 share a phone. Two runs with
// different seeds start at unrelated places in the space of RRNs, so a
// second run against the same server rarely meets people of the first.
type People struct {
	dates               []booking.Date
	space               uint64 // dates × 2 sexes × 100,000 serials
	offset, stride      uint64
	phoneOffset         uint64
	surnames, syllables []string
}

const (
	rrnSerials = 100_000
	testPhones = 10_000_000 // 010-1000-0000 .. 010-1999-9999
)

// NewPeople returns the people born from..to (inclusive). A dayDigit of
// 0-9 keeps only birth days ending in that digit (the 18-49 rounds of
// 2021); -1 keeps every day.
func NewPeople(from, to booking.Date, dayDigit int, seed uint64) (*People, error) {
	if to.Before(from) {
		return nil, fmt.Errorf("sim: people born from %s to %s: the range is empty", from, to)
	}
	if from.Year < 1900 || to.Year > 1999 {
		return nil, errors.New("sim: simulated people are born in the 1900s")
	}
	p := &People{surnames: surnames, syllables: syllables}
	for d := from; !d.After(to); d = d.AddDays(1) {
		if dayDigit < 0 || d.Day%10 == dayDigit {
			p.dates = append(p.dates, d)
		}
	}
	if len(p.dates) == 0 {
		return nil, fmt.Errorf("sim: no birth day from %s to %s ends in %d", from, to, dayDigit)
	}
	p.space = uint64(len(p.dates)) * 2 * rrnSerials
	// A stride coprime with the space makes i -> offset + i*stride a
	// permutation of it, and spreads consecutive people over birth dates.
	p.stride = 1_000_003
	for gcd(p.stride, p.space) != 1 {
		p.stride += 2
	}
	p.offset = splitmix(seed) % p.space
	p.phoneOffset = splitmix(seed^0x9e3779b97f4a7c15) % testPhones
	return p, nil
}

// Len is the number of distinct people.
func (p *People) Len() uint64 { return p.space }

// Person returns person i.
func (p *People) Person(i uint64) Person {
	hi, lo := bits.Mul64(i%p.space, p.stride)
	_, k := bits.Div64(hi%p.space, lo, p.space) // i*stride mod space without overflow
	k = (k + p.offset) % p.space
	serial := int(k % rrnSerials)
	male := k/rrnSerials%2 == 0
	birth := p.dates[k/(2*rrnSerials)]
	ph := (p.phoneOffset + i) % testPhones
	return Person{
		Name:      p.name(i),
		RRN:       booking.FormatRRN(birth, male, serial),
		Phone:     fmt.Sprintf("010-1%03d-%04d", ph/10000, ph%10000),
		BirthDate: birth,
	}
}

// name is a Korean name: a surname and a given name of two syllables, or
// three once the two-syllable names are used up, so that the first
// surnames × syllables² × (1 + syllables) people all have different names.
func (p *People) name(i uint64) string {
	ns, ng := uint64(len(p.surnames)), uint64(len(p.syllables))
	given := 2
	if two := ns * ng * ng; i >= two {
		i -= two
		given = 3
	}
	b := []byte(p.surnames[i%ns])
	i /= ns
	for range given {
		b = append(b, p.syllables[i%ng]...)
		i /= ng
	}
	return string(b)
}

var surnames = []string{"김", "이", "박", "최", "정", "강", "조", "윤", "장", "임",
	"한", "오", "서", "신", "권", "황", "안", "송", "류", "전", "홍", "고", "문", "양", "손", "배", "백", "허", "유", "남"}

var syllables = []string{"민", "서", "지", "현", "수", "영", "준", "우", "진", "호",
	"은", "연", "정", "혜", "성", "훈", "경", "미", "재", "희", "동", "석", "철", "숙",
	"태", "상", "원", "규", "선", "주", "하", "윤", "도", "예", "승", "다", "유", "나", "혁", "빈"}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// splitmix is the SplitMix64 finaliser: seeds that differ in one bit give
// unrelated offsets.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}
