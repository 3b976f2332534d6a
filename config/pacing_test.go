package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

func TestRoomPacingInFile(t *testing.T) {
	c := Default()
	yaml := `rooms:
- name: shop
  rate: 50
  pacing:
    mode: auto
    target_p95: 800ms
    max_error_rate: 0.01
    min_rate: 1
    max_rate: 1000
- name: plain
  rate: 5
`
	if err := Parse(strings.NewReader(yaml), &c); err != nil {
		t.Fatal(err)
	}
	s, err := c.Rooms[0].Settings()
	want := room.Pacing{Mode: "auto", TargetP95: 800 * time.Millisecond, MaxErrorRate: 0.01, MinRate: 1, MaxRate: 1000}
	if err != nil || s.Pacing != want || s.Rate != 50 {
		t.Fatalf("%+v %v, want pacing %+v", s.Pacing, err, want)
	}
	if s, err := c.Rooms[1].Settings(); err != nil || s.Pacing.Mode != room.PacingFixed || s.Pacing.TargetP95 != room.DefaultTargetP95 {
		t.Fatalf("a room without pacing: %+v %v, want fixed with the defaults", s.Pacing, err)
	}
	for field, bad := range map[string]string{
		"pacing.mode":           "mode: automatic",
		"pacing.target_p95":     "target_p95: 1ms",
		"pacing.max_error_rate": "max_error_rate: 1.5",
		"pacing.min_rate":       "min_rate: 0",
		"pacing.max_rate":       "{min_rate: 10, max_rate: 5}",
	} {
		c := Default()
		block := "{" + bad + "}"
		if strings.HasPrefix(bad, "{") {
			block = bad
		}
		err := Parse(strings.NewReader("rooms: [{name: a, pacing: "+block+"}]\n"), &c)
		if err == nil {
			err = c.Validate()
		}
		var se *room.SettingError
		if !errors.As(err, &se) || se.Field != field {
			t.Errorf("%s: %v, want an error naming %s", bad, err, field)
		}
	}
	// Unknown keys in the block are refused like anywhere else.
	if err := Parse(strings.NewReader("rooms: [{name: a, pacing: {target: 1s}}]\n"), new(Default())); err == nil {
		t.Error("an unknown pacing key was accepted")
	}
}
