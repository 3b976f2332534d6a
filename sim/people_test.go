package sim

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
)

func day(y int, m time.Month, d int) booking.Date { return booking.Date{Year: y, Month: m, Day: d} }

func TestPeople(t *testing.T) {
	for _, c := range []struct {
		name     string
		from, to booking.Date
		digit    int
		n        uint64 // people checked
		wantLen  uint64 // 0: NewPeople refuses the range
	}{
		{"53-54 cohort", day(1967, 1, 1), day(1968, 12, 31), -1, 60_000, 731 * 200_000}, // 1968 is a leap year,
		{"birth days ending in 9", day(1972, 1, 1), day(1972, 1, 31), 9, 30_000, 3 * 200_000},
		// One day: the whole space, so every RRN of that day comes once.
		{"one day, every person", day(1967, 3, 1), day(1967, 3, 1), -1, 200_000, 200_000},
		{"empty range", day(1968, 1, 2), day(1968, 1, 1), -1, 0, 0},
		{"no day with the digit", day(1968, 1, 1), day(1968, 1, 5), 9, 0, 0},
		{"born in 2000s", day(2001, 1, 1), day(2001, 2, 1), -1, 0, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := NewPeople(c.from, c.to, c.digit, 42)
			if c.wantLen == 0 {
				if err == nil {
					t.Fatal("accepted")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Len() != c.wantLen {
				t.Fatalf("Len = %d, want %d", p.Len(), c.wantLen)
			}
			rrns := make(map[string]bool, c.n)
			phones := make(map[string]bool, c.n)
			names := make(map[string]bool, c.n)
			for i := range c.n {
				x := p.Person(i)
				r, err := booking.ParseRRN(x.RRN)
				if err != nil || r.Strict() != nil {
					t.Fatalf("person %d: RRN %q: %v %v", i, x.RRN, err, r.Strict())
				}
				if r.BirthDate != x.BirthDate || x.BirthDate.Before(c.from) || x.BirthDate.After(c.to) ||
					c.digit >= 0 && x.BirthDate.Day%10 != c.digit {
					t.Fatalf("person %d: born %v (RRN says %v), want %v..%v", i, x.BirthDate, r.BirthDate, c.from, c.to)
				}
				phone, err := booking.ParsePhone(x.Phone)
				if err != nil || !booking.IsTestPhone(phone) {
					t.Fatalf("person %d: phone %q: %v (test range: %v)", i, x.Phone, err, booking.IsTestPhone(phone))
				}
				if _, err := booking.ValidName(x.Name); err != nil {
					t.Fatalf("person %d: name %q: %v", i, x.Name, err)
				}
				if rrns[x.RRN] || phones[x.Phone] || names[x.Name] {
					t.Fatalf("person %d repeats an RRN, phone or name: %+v", i, x)
				}
				rrns[x.RRN], phones[x.Phone], names[x.Name] = true, true, true
			}
		})
	}
}

func TestPeopleSeeds(t *testing.T) {
	from, to := day(1967, 1, 1), day(1968, 12, 31)
	a, _ := NewPeople(from, to, -1, 1)
	a2, _ := NewPeople(from, to, -1, 1)
	b, _ := NewPeople(from, to, -1, 2)
	if a.Person(7) != a2.Person(7) {
		t.Error("the same seed gave different people")
	}
	if a.Person(7).RRN == b.Person(7).RRN || a.Person(7).Phone == b.Person(7).Phone {
		t.Error("different seeds gave the same person")
	}
}
