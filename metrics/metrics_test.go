package metrics_test

import (
	"io"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/metrics"
	"github.com/sluicehq/sluice/room"
)

func TestCollectorExportsRoomCountersAndRejections(t *testing.T) {
	m := room.NewManager(room.GenerateKeyring("k1"), clock.System{}, nil, nil)
	r, err := m.Add(room.Settings{Name: "shop", Capacity: 1, Rate: 100})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, _, err := r.Join(); err != nil {
			t.Fatal(err)
		}
	}
	reg := metrics.New(metrics.Sources{Rooms: m, GateRejections: func() map[string]map[string]uint64 {
		return map[string]map[string]uint64{"shop": {"forged": 7}}
	}})
	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`sluice_joins_total{room="shop"} 3`,
		`sluice_active_sessions{room="shop"} 1`,
		`sluice_queue_length{room="shop"} 2`,
		`sluice_capacity{room="shop"} 1`,
		`sluice_room_state{room="shop",state="open"} 1`,
		`sluice_gate_rejections_total{reason="forged",room="shop"} 7`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("missing %s", want)
		}
	}
}

// Names lists every family, those without a sample now included: a
// registry without rooms or booking still names the room and booking
// metrics, and the Go runtime's.
func TestNamesListsEveryFamily(t *testing.T) {
	reg := metrics.New(metrics.Sources{Rooms: room.NewManager(room.GenerateKeyring("k1"), clock.System{}, nil, nil)})
	names := reg.Names()
	if !slices.IsSorted(names) {
		t.Errorf("names not sorted: %v", names)
	}
	for _, want := range []string{"sluice_joins_total", "sluice_queue_length", "sluice_gate_rejections_total",
		"sluice_booking_vaccine_doses_used", "sluice_booking_today_free", "go_goroutines", "process_resident_memory_bytes"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() lacks %s: %v", want, names)
		}
	}
	if slices.Contains(names, "sluice_no_such_metric") {
		t.Error("Names() lists a metric that does not exist")
	}
}
