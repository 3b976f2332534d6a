package web

import (
	"encoding/json"
	"testing"
	"time"
)

func TestRoomBody(t *testing.T) {
	opens := time.Date(2026, 12, 1, 20, 0, 0, 0, time.FixedZone("KST", 9*3600))
	tests := []struct {
		name    string
		body    string
		wantErr bool
		check   func(t *testing.T, b roomBody)
	}{
		{"durations as text", `{"name":"shop","capacity":2,"rate":5,"pass_ttl":"5m","claim_timeout":"90s"}`, false, func(t *testing.T, b roomBody) {
			st, err := b.settings()
			if err != nil || st.PassTTL != 5*time.Minute || st.ClaimTimeout != 90*time.Second || st.Capacity != 2 {
				t.Errorf("%+v %v", st, err)
			}
		}},
		{"durations as seconds", `{"pass_ttl":300,"min_poll":0.5}`, false, func(t *testing.T, b roomBody) {
			if st, _ := b.settings(); st.PassTTL != 5*time.Minute || st.MinPoll != 500*time.Millisecond {
				t.Errorf("%+v", st)
			}
		}},
		{"opening sets the pre-queue", `{"opens_at":"2026-12-01T20:00:00+09:00","closes_at":null}`, false, func(t *testing.T, b roomBody) {
			if st, _ := b.settings(); !st.OpensAt.Equal(opens) || !st.PrequeueAt.Equal(opens) || !st.ClosesAt.IsZero() {
				t.Errorf("%+v", st)
			}
		}},
		{"empty body takes the defaults", `{"name":"shop"}`, false, func(t *testing.T, b roomBody) {
			if st, err := b.settings(); err != nil || st.Capacity == 0 || st.WaitingURL != "/wait/shop" {
				t.Errorf("%+v %v", st, err)
			}
		}},
		{"invalid settings", `{"name":"shop","capacity":-1}`, false, func(t *testing.T, b roomBody) {
			if _, err := b.settings(); err == nil {
				t.Error("negative capacity accepted")
			}
		}},
		{"closed", `{"name":"shop","closed":true,"paused":true}`, false, func(t *testing.T, b roomBody) {
			if st, err := b.settings(); err != nil || !st.Closed || !st.Paused {
				t.Errorf("%+v %v", st, err)
			}
		}},
		{"negative duration", `{"pass_ttl":"-5m"}`, true, nil},
		{"not a duration", `{"pass_ttl":"soon"}`, true, nil},
		{"duration of the wrong type", `{"pass_ttl":true}`, true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b roomBody
			err := json.Unmarshal([]byte(tc.body), &b)
			if (err != nil) != tc.wantErr {
				t.Fatalf("decode: %v, want error %v", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, b)
			}
		})
	}
}

// FuzzRoomBody: any body decodes to a room or an error, never a panic.
func FuzzRoomBody(f *testing.F) {
	for _, s := range []string{`{"capacity":2,"rate":5,"pass_ttl":"5m"}`, `{"pass_ttl":1e308}`, `{"min_poll":"-1ns"}`, `{"opens_at":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b roomBody
		if json.Unmarshal(data, &b) == nil {
			b.settings()
		}
	})
}
