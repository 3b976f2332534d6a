package storecheck

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// A date column reads alike from every driver's value.
func TestDateColumn(t *testing.T) {
	d := booking.Date{Year: 2021, Month: time.July, Day: 26}
	for _, tt := range []struct {
		name    string
		src     any
		want    booking.Date
		wantErr bool
	}{
		{"NULL", nil, booking.Date{}, false},
		{"empty text", "", booking.Date{}, false},
		{"text", "2021-07-26", d, false},
		{"bytes", []byte("2021-07-26"), d, false},
		{"time", time.Date(2021, 7, 26, 0, 0, 0, 0, time.UTC), d, false},
		{"infinity", "infinity", booking.Date{}, true},
		{"number", int64(20210726), booking.Date{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := booking.Date{Year: 1999, Month: time.January, Day: 1} // overwritten
			err := dateColumn{&got}.Scan(tt.src)
			if (err != nil) != tt.wantErr || err == nil && got != tt.want {
				t.Errorf("Scan(%#v) = %v, %v; want %v, error %v", tt.src, got, err, tt.want, tt.wantErr)
			}
		})
	}
}
