package booking_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// Date.String writes YYYY-MM-DD by hand; it must say what the format
// says, for every date and for values that are none.
func TestDateStringIsTheFormat(t *testing.T) {
	check := func(d booking.Date) {
		t.Helper()
		if got, want := d.String(), fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day); got != want {
			t.Fatalf("%#v.String() = %q, want %q", d, got, want)
		}
	}
	for day := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC); day.Year() < 2101; day = day.AddDate(0, 0, 1) {
		check(booking.Date{Year: day.Year(), Month: day.Month(), Day: day.Day()})
	}
	for _, d := range []booking.Date{{}, {Year: 9999, Month: 12, Day: 31}, {Year: 10000, Month: 1, Day: 1}, {Year: -1, Month: 1, Day: 1},
		{Year: 7, Month: 1, Day: 1}, {Year: 2021, Month: 100, Day: 1}, {Year: 2021, Month: 1, Day: -3}, {Year: 2021, Month: -1, Day: 1}} {
		check(d)
	}
}
