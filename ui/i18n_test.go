package ui

import (
	"testing"
	"time"
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
