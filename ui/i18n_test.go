package ui

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/room"
)

func TestPerMinuteAndDistance(t *testing.T) {
	for _, tc := range []struct {
		ahead uint64
		eta   time.Duration
		ko    string
	}{
		{2999, 5 * time.Minute, "1분에 약 600명"},
		{2999, 299 * time.Second, "1분에 약 600명"},
		{149, 5 * time.Minute, "1분에 약 30명"},
		{4, 5 * time.Minute, "1분에 약 1명"},
		{0, 5 * time.Minute, "1분에 1명 미만"},
		{10, -1, "멈춤"},
		// An estimate at the cap is a floor of the wait: the rate from it
		// a ceiling.
		{99_999, room.MaxETA, "1분에 최대 약 2명"},
		{1e9, room.MaxETA, "1분에 최대 약 23,150명"},
		{9, room.MaxETA, "1분에 1명 미만"},
	} {
		if got := LangKO.PerMinute(tc.ahead, tc.eta); got != tc.ko {
			t.Errorf("PerMinute(%d, %v) = %q, want %q", tc.ahead, tc.eta, got, tc.ko)
		}
	}
	if got := LangEN.PerMinute(2999, 5*time.Minute); got != "About 600 a minute" {
		t.Errorf("English: %q", got)
	}
	for m, want := range map[int]string{0: "10m", 344: "340m", 996: "1.0km", 1000: "1.0km", 1249: "1.2km", 12500: "12.5km"} {
		if got := LangKO.Distance(m); got != want {
			t.Errorf("Distance(%d) = %q, want %q", m, got, want)
		}
	}
}

// TestPagesWriteAppointmentsAsTheMessages: the Korean page shows a slot as
// the text message about it writes it (booking.AppointmentText), so what a
// person reads on the page and in the message is the same, every weekday
// and every block.
func TestPagesWriteAppointmentsAsTheMessages(t *testing.T) {
	first, _ := booking.NewDate(2021, time.July, 25) // a Sunday
	for i := range 7 {
		d := first.AddDays(i)
		for b := booking.TimeBlock(0); b < booking.BlocksPerDay; b++ {
			if page, msg := LangKO.Date(d)+" "+LangKO.Block(b), booking.AppointmentText(d, b); page != msg {
				t.Errorf("%v block %d: the page writes %q, the message %q", d, b, page, msg)
			}
		}
	}
	if got := LangKO.Date(first) + " " + LangKO.Block(0); got != "2021년 7월 25일(일) 09:00~10:00" {
		t.Errorf("Korean slot text %q", got)
	}
	if start, end := LangEN.BlockStartEnd(booking.BlocksPerDay - 1); start != "16:00" || end != "–17:00" {
		t.Errorf("last block in English: %q %q", start, end)
	}
}
