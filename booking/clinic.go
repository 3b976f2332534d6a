package booking

import (
	"fmt"
	"strings"
	"time"
)

// ClinicKind tells a contracted clinic from a vaccination centre.
type ClinicKind string

const (
	KindClinic ClinicKind = "clinic" // 위탁의료기관, a contracted private clinic
	KindCentre ClinicKind = "centre" // 예방접종센터, a public vaccination centre
)

// WeekdaySet is a set of weekdays, one bit per time.Weekday (bit 0 Sunday).
type WeekdaySet uint8

// Common opening patterns. Every clinic is closed on Sunday.
const (
	MondayToFriday   WeekdaySet = 1<<time.Monday | 1<<time.Tuesday | 1<<time.Wednesday | 1<<time.Thursday | 1<<time.Friday
	MondayToSaturday WeekdaySet = MondayToFriday | 1<<time.Saturday
)

// Has reports whether the set contains the weekday.
func (s WeekdaySet) Has(d time.Weekday) bool { return d >= 0 && d <= 6 && s&(1<<d) != 0 }

// With returns the set with d added.
func (s WeekdaySet) With(d time.Weekday) WeekdaySet { return s | 1<<d }

// Without returns the set with d removed.
func (s WeekdaySet) Without(d time.Weekday) WeekdaySet { return s &^ (1 << d) }

var weekdayAbbr = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// String lists the days, e.g. "mon,tue,wed,thu,fri,sat".
func (s WeekdaySet) String() string {
	var b strings.Builder
	for d := time.Sunday; d <= time.Saturday; d++ {
		if s.Has(d) {
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(weekdayAbbr[d])
		}
	}
	return b.String()
}

// MarshalText implements encoding.TextMarshaler ("mon,tue,...").
func (s WeekdaySet) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler; it accepts the String
// form (three-letter English day names, any case, comma separated).
func (s *WeekdaySet) UnmarshalText(b []byte) error {
	var out WeekdaySet
	for _, f := range strings.Split(string(b), ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		found := false
		for d, a := range weekdayAbbr {
			if f == a {
				out = out.With(time.Weekday(d))
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("weekday set %q: unknown day %q", b, f)
		}
	}
	*s = out
	return nil
}

// Clinic is a place where people can be vaccinated: a contracted clinic
// (위탁의료기관) or a vaccination centre (예방접종센터).
type Clinic struct {
	ID           int64
	Name         string // Korean, e.g. "서울내과의원", "강남구 예방접종센터"
	NameEN       string // English, e.g. "Seoul Internal Medicine Clinic"
	Kind         ClinicKind
	RegionCode   string // 2-digit, see Regions
	DistrictCode string // 5-digit, see DistrictByCode
	Address      string
	// AddressEN is the address in English (romanised), "" if not known.
	AddressEN string
	// Dong is the neighbourhood of the district the clinic is in (see
	// Dongs), DongEN its English name; X and Y place the clinic in the
	// district, in metres east and north of its centre.
	Dong, DongEN string
	X, Y         int
	// Vaccines are the vaccine ids offered: "pfizer", "moderna",
	// "astrazeneca". Shared data; do not modify.
	Vaccines []string
	// BlockCapacity is the number of doses per one-hour TimeBlock on an open
	// day.
	BlockCapacity int
	// OpenDays are the weekdays the clinic vaccinates. Never Sunday for
	// generated data.
	OpenDays WeekdaySet
}

// Offers reports whether the clinic offers the vaccine.
func (c Clinic) Offers(vaccine string) bool {
	for _, v := range c.Vaccines {
		if v == vaccine {
			return true
		}
	}
	return false
}

// OpenOn reports whether the clinic vaccinates on the date.
func (c Clinic) OpenOn(d Date) bool {
	dn, ok := availDayNumber(d)
	return ok && c.OpenDays.Has(availWeekday(dn))
}

// Capacity returns the number of doses the clinic can give in block b on
// date d: 0 when the clinic is closed that day, the block is outside the
// clinic day or the date does not exist.
func (c Clinic) Capacity(b TimeBlock, d Date) int {
	if b < 0 || b >= BlocksPerDay || !c.OpenOn(d) {
		return 0
	}
	return c.BlockCapacity
}

// DayCapacity returns the number of doses the clinic can give on date d.
func (c Clinic) DayCapacity(d Date) int {
	if !c.OpenOn(d) {
		return 0
	}
	return c.BlockCapacity * BlocksPerDay
}

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's
// days_from_civil); ok is false if the date does not exist. It does not touch
// package time, so it is cheap enough for the availability hot paths.
func availDayNumber(d Date) (int32, bool) {
	y, m, day := d.Year, int(d.Month), d.Day
	if m < 1 || m > 12 || day < 1 || day > availDaysIn(y, m) || y < -100000 || y > 100000 {
		return 0, false
	}
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	doy := (153*((m+9)%12)+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int32(era*146097 + doe - 719468), true
}

// availDate is the inverse of availDayNumber.
func availDate(z32 int32) Date {
	z := int(z32) + 719468
	era := z
	if era < 0 {
		era -= 146096
	}
	era /= 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return Date{y, time.Month(m), d}
}

// availWeekday is the weekday of a day number (1970-01-01 was a Thursday).
func availWeekday(z int32) time.Weekday {
	w := (int(z) + 4) % 7
	if w < 0 {
		w += 7
	}
	return time.Weekday(w)
}

func availDaysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
