package metrics_test

import (
	"io"
	"net/http/httptest"
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
