package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/internal/redistest"
	"github.com/sluicehq/sluice/room"
)

// TestTwoNodesOneLine runs two complete servers on one Redis, as two
// processes behind a load balancer would: a person's requests land on
// either, and the line, the capacity and the operator's controls are one.
func TestTwoNodesOneLine(t *testing.T) {
	url, prefix := redistest.Prefix(t)
	keys := room.GenerateKeyring("k1")
	start := func() *app.App {
		cfg := apptest.Config()
		cfg.Keys = keys
		cfg.RedisURL, cfg.RedisPrefix = url, prefix
		cfg.Rooms = []config.RoomConfig{{Name: "shop", Capacity: 1, Rate: 1000, PassTTL: config.Duration(time.Minute)}}
		return apptest.Start(t, cfg, app.Options{Routes: protectedRoute("shop")})
	}
	nodeA, nodeB := start(), start()

	do := func(method, url, auth string, header ...string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, url, nil)
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	statusOn := func(a *app.App, ticket string) statusDoc {
		t.Helper()
		code, b := do("GET", a.URL()+"/api/v1/rooms/shop/status", ticket)
		var d statusDoc
		if code != 200 || json.Unmarshal(b, &d) != nil {
			t.Fatalf("status on %s: %d %s", a.URL(), code, b)
		}
		return d
	}
	join := func(a *app.App) statusDoc {
		t.Helper()
		code, b := do("POST", a.URL()+"/api/v1/rooms/shop/tickets", "")
		var d statusDoc
		if code != 201 || json.Unmarshal(b, &d) != nil {
			t.Fatalf("join on %s: %d %s", a.URL(), code, b)
		}
		return d
	}

	first, second, third := join(nodeA), join(nodeB), join(nodeA)
	if first.State != "admitted" {
		t.Fatalf("first joiner (node A): %+v", first)
	}
	for _, n := range []*app.App{nodeA, nodeB} {
		if d := statusOn(n, third.Ticket); d.State != "waiting" || d.Position == nil || *d.Position != 2 {
			t.Errorf("third joiner on %s: %+v, want waiting at position 2", n.URL(), d)
		}
	}
	// The pass collected on node B opens node A's gate.
	p := statusOn(nodeB, first.Ticket)
	if p.Pass == "" {
		t.Fatalf("first joiner's status on node B has no pass: %+v", p)
	}
	if code, body := do("GET", nodeA.URL()+"/protected", "", room.PassHeader, p.Pass); code != 200 || string(body) != "secret" {
		t.Fatalf("pass from node B at node A's gate: %d %s", code, body)
	}
	// Returned on node B, the place goes to the second joiner at once, and
	// the pass no longer opens node A's gate.
	if code, body := do("POST", nodeB.URL()+"/api/v1/rooms/shop/leave", p.Pass); code != 204 {
		t.Fatalf("leave on node B: %d %s", code, body)
	}
	if d := statusOn(nodeA, second.Ticket); d.State != "admitted" {
		t.Errorf("second joiner on node A after the leave on B: %+v, want admitted", d)
	}
	if code, _ := do("GET", nodeA.URL()+"/protected", "", room.PassHeader, p.Pass, "Accept", "application/json"); code != 401 {
		t.Errorf("returned pass at node A's gate: %d, want 401", code)
	}
	// An operator pauses on node A; node B says so.
	if code, body := do("POST", nodeA.URL()+"/api/v1/admin/rooms/shop/pause", adminToken); code != 200 {
		t.Fatalf("pause on node A: %d %s", code, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := do("GET", nodeB.URL()+"/api/v1/admin/rooms/shop", adminToken)
		if code == 200 && strings.Contains(string(body), `"state": "paused"`) || strings.Contains(string(body), `"state":"paused"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node B never saw the pause made on node A: %d %s", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := statusOn(nodeB, third.Ticket); d.State != "paused" {
		t.Errorf("third joiner on node B while paused: %+v", d)
	}
	for _, n := range []*app.App{nodeA, nodeB} {
		if code, body := do("GET", n.URL()+"/readyz", ""); code != 200 {
			t.Errorf("readyz on %s: %d %s", n.URL(), code, body)
		}
	}
}
