package ui

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// The time to clear a line is capped like the waiting page's estimates:
// a measured rate far below the slowest setting (the rate of the line's
// estimates may fall that low) must not overflow into a short or negative
// time on the operator's overview.
func TestClearTime(t *testing.T) {
	for _, tc := range []struct {
		waiting uint64
		rate    float64
		want    time.Duration
	}{
		{20, 10, 2 * time.Second},
		{1000, 1e-9, room.MaxETA},
		{10_000_000, room.MinRate, room.MaxETA},
		{1 << 62, room.MaxRate, room.MaxETA},
	} {
		secs := clearSeconds(tc.waiting, tc.rate, false)
		got, want := clearText(LangEN, dashRoom{Waiting: tc.waiting, ClearSeconds: secs}), LangEN.Dur(tc.want)
		if secs != tc.want.Seconds() || got != want {
			t.Errorf("%d waiting at %v/s: %v s, %q; want %v, %q", tc.waiting, tc.rate, secs, got, tc.want.Seconds(), want)
		}
	}
}
