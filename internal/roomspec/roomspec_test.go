package roomspec

import (
	"testing"

	"github.com/sluicehq/sluice/room"
)

// A rate written without a pacing mode is the operator's: fixed. With a
// mode, the rate is where auto starts.
func TestRateWithoutModeIsFixed(t *testing.T) {
	s := room.Settings{Name: "a", Pacing: room.Pacing{Mode: room.PacingAuto}}.WithDefaults()
	RoomTuning{Rate: new(7.0)}.Apply(&s)
	if s.Pacing.Mode != room.PacingFixed || s.Rate != 7 {
		t.Fatalf("%+v", s)
	}
	RoomTuning{Rate: new(9.0), Pacing: &PacingTuning{Mode: new("auto")}}.Apply(&s)
	if s.Pacing.Mode != room.PacingAuto || s.Rate != 9 {
		t.Fatalf("%+v", s)
	}
	RoomTuning{Pacing: &PacingTuning{MaxRate: new(20.0)}}.Apply(&s)
	if s.Pacing.Mode != room.PacingAuto || s.Pacing.MaxRate != 20 {
		t.Fatalf("bounds alone keep the mode: %+v", s)
	}
}
