package booking

import (
	"fmt"
	"time"
)

// ParseDate parses "YYYY-MM-DD" strictly: the date must exist (no 30
// February, 29 February only in leap years).
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	t, err := time.ParseInLocation("2006-01-02", s, Seoul)
	if err != nil {
		return Date{}, fmt.Errorf("date %q: not a real calendar date", s)
	}
	return DateOf(t), nil
}

// NewDate builds a date and reports whether it exists in the calendar.
func NewDate(year int, month time.Month, day int) (Date, bool) {
	d := Date{year, month, day}
	t := time.Date(year, month, day, 0, 0, 0, 0, Seoul)
	return d, t.Year() == year && t.Month() == month && t.Day() == day
}

// DateOf returns the Seoul calendar date of an instant.
func DateOf(t time.Time) Date {
	t = t.In(Seoul)
	return Date{t.Year(), t.Month(), t.Day()}
}

// Time returns midnight at the start of the date in Seoul.
func (d Date) Time() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, Seoul) }

// At returns the instant hour:min on the date in Seoul.
func (d Date) At(hour, min int) time.Time {
	return time.Date(d.Year, d.Month, d.Day, hour, min, 0, 0, Seoul)
}

// AddDays returns the date n days later (earlier if n < 0).
func (d Date) AddDays(n int) Date { return DateOf(d.Time().AddDate(0, 0, n)) }

// DaysUntil returns the number of days from d to e (negative if e is before d).
func (d Date) DaysUntil(e Date) int {
	return int(e.Time().Sub(d.Time()).Round(24*time.Hour) / (24 * time.Hour))
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return cmpInt(d.Year, e.Year)
	case d.Month != e.Month:
		return cmpInt(int(d.Month), int(e.Month))
	default:
		return cmpInt(d.Day, e.Day)
	}
}

// Before reports whether d is strictly before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is strictly after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// Weekday of the date.
func (d Date) Weekday() time.Weekday { return d.Time().Weekday() }

// koWeekdays are the weekdays as Korean dates write them in brackets.
var koWeekdays = [7]string{"일", "월", "화", "수", "목", "금", "토"}

// KoreanWeekday is d's weekday as a Korean date writes it: "월".
func (d Date) KoreanWeekday() string { return koWeekdays[d.Weekday()] }

// Korean writes d as Korean texts do, the messages as the pages:
// "2021년 7월 26일(월)".
func (d Date) Korean() string {
	return fmt.Sprintf("%d년 %d월 %d일(%s)", d.Year, int(d.Month), d.Day, d.KoreanWeekday())
}

// String formats as YYYY-MM-DD. (It is on the hot path: the stores write
// every slot's date as text.)
func (d Date) String() string {
	if d.Year < 0 || d.Year > 9999 || d.Month < 0 || d.Month > 99 || d.Day < 0 || d.Day > 99 {
		return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
	}
	y, m := d.Year, int(d.Month)
	b := [10]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-', byte('0' + d.Day/10), byte('0' + d.Day%10)}
	return string(b[:])
}

// MarshalText implements encoding.TextMarshaler (JSON and YAML as "YYYY-MM-DD").
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
