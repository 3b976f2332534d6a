package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/internal/redistest"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/web"
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
		cfg.Rooms = []config.RoomConfig{{Name: "shop", RoomTuning: config.RoomTuning{Capacity: new(1), Rate: new(1000.0), PassTTL: new(config.Duration(time.Minute))}}}
		return apptest.Start(t, cfg, app.Options{Routes: protectedRoute("shop")})
	}
	nodeA, nodeB := start(), start()

	call := func(method, url, auth string, header ...string) (int, []byte) {
		t.Helper()
		h := map[string]string{}
		if auth != "" {
			h["Authorization"] = "Bearer " + auth
		}
		for i := 0; i+1 < len(header); i += 2 {
			h[header[i]] = header[i+1]
		}
		resp, b := do(t, method, url, h, "")
		return resp.StatusCode, b
	}
	statusOn := func(a *app.App, ticket string) web.StatusDocument {
		t.Helper()
		code, b := call("GET", a.URL()+"/api/v1/rooms/shop/status", ticket)
		var d web.StatusDocument
		if code != 200 || json.Unmarshal(b, &d) != nil {
			t.Fatalf("status on %s: %d %s", a.URL(), code, b)
		}
		return d
	}
	join := func(a *app.App) web.StatusDocument {
		t.Helper()
		code, b := call("POST", a.URL()+"/api/v1/rooms/shop/tickets", "")
		var d web.StatusDocument
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
	if code, body := call("GET", nodeA.URL()+"/protected", "", room.PassHeader, p.Pass); code != 200 || string(body) != "secret" {
		t.Fatalf("pass from node B at node A's gate: %d %s", code, body)
	}
	// Returned on node B, the place goes to the second joiner at once
	// (node A sees it within its next tick: it answers from its own view of
	// the line), and the pass no longer opens node A's gate.
	if code, body := call("POST", nodeB.URL()+"/api/v1/rooms/shop/leave", p.Pass); code != 204 {
		t.Fatalf("leave on node B: %d %s", code, body)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		d := statusOn(nodeA, second.Ticket)
		if d.State == "admitted" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("second joiner on node A after the leave on B: %+v, want admitted", d)
		}
	}
	if code, _ := call("GET", nodeA.URL()+"/protected", "", room.PassHeader, p.Pass, "Accept", "application/json"); code != 401 {
		t.Errorf("returned pass at node A's gate: %d, want 401", code)
	}
	// An operator pauses on node A; node B says so.
	if code, body := call("POST", nodeA.URL()+"/api/v1/admin/rooms/shop/pause", adminToken); code != 200 {
		t.Fatalf("pause on node A: %d %s", code, body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, body := call("GET", nodeB.URL()+"/api/v1/admin/rooms/shop", adminToken)
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
		if code, body := call("GET", n.URL()+"/readyz", ""); code != 200 {
			t.Errorf("readyz on %s: %d %s", n.URL(), code, body)
		}
	}
}

// TestTwoNodesOneBookingDatabase runs two demo servers on one Redis and one
// PostgreSQL database: a person queues on one node and books on the other,
// the second node sees the booking and the person's session, its search
// catches up, and the confirmation goes out once, not once per node.
func TestTwoNodesOneBookingDatabase(t *testing.T) {
	c := newCluster(t)
	nodeA, nodeB := c.node(t), c.node(t)

	// Queue on A, collect the pass on B.
	st := waitAdmitted(t, nodeB.URL(), "vaccine", join(t, nodeA.URL(), "vaccine").Ticket)
	pass := map[string]string{room.PassHeader: st.Pass}

	verify := func(base string) map[string]string {
		t.Helper()
		code, b, challenge, demoCode := startVerification(t, base, pass)
		if code != 201 {
			t.Fatalf("start verification on %s: %d %s", base, code, b)
		}
		code, b, sess := confirmCode(t, base, pass, challenge, demoCode)
		if code != 200 {
			t.Fatalf("confirm on %s: %d %s", base, code, b)
		}
		return sess
	}
	freeAt := func(base string, clinic int64) int {
		t.Helper()
		found := searchGangnam(t, base, pass)
		for _, c := range found {
			if c.Clinic.ID == clinic {
				return c.Free
			}
		}
		t.Fatalf("clinic %d not in the search on %s: %+v", clinic, base, found)
		return 0
	}
	clinic := searchGangnam(t, nodeA.URL(), pass)[0].Clinic.ID
	freeBefore := freeAt(nodeB.URL(), clinic)

	// Book on A.
	code, b := postJSON(t, nodeA.URL()+"/api/v1/bookings", verify(nodeA.URL()), map[string]any{"clinic_id": clinic, "date": "2021-07-26", "block": 2, "vaccine_id": "pfizer"})
	if code != 201 {
		t.Fatalf("book on node A: %d %s", code, b)
	}
	var bk struct {
		Number string `json:"booking_number"`
	}
	json.Unmarshal(b, &bk)

	// B finds it, refuses a second booking for the person, and its search
	// catches up with A's booking within the resync interval.
	who := map[string]any{"name": "김민수", "rrn": "680315-1234567", "booking_number": bk.Number}
	if code, b := postJSON(t, nodeB.URL()+"/api/v1/bookings/lookup", pass, who); code != 200 || !strings.Contains(string(b), bk.Number) {
		t.Fatalf("look-up on node B: %d %s", code, b)
	}
	// The person's booking session (one per identity, held in the
	// database) keeps a second session on node B from starting.
	code, b, challenge, demoCode := startVerification(t, nodeB.URL(), pass)
	if code == 201 {
		code, b, _ = confirmCode(t, nodeB.URL(), pass, challenge, demoCode)
	}
	if code != 409 || !strings.Contains(string(b), "session_held") {
		t.Fatalf("a second session for the person on node B: %d %s, want 409 session_held", code, b)
	}
	deadline := time.Now().Add(10 * time.Second)
	for freeAt(nodeB.URL(), clinic) != freeBefore-1 {
		if time.Now().After(deadline) {
			t.Fatalf("node B's search still shows %d free places at the clinic, want %d", freeAt(nodeB.URL(), clinic), freeBefore-1)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// Exactly one node holds the outbox lock (a PostgreSQL advisory lock
	// keyed by the schema), so only one delivers.
	holders := countRows(t, c.dbURL, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
		AND ((classid::bigint << 32) | objid::bigint) = hashtext($1 || ':sluice-outbox')::bigint`, pgtest.SchemaOf(c.dbURL))
	if n := holders(); n != 1 {
		t.Errorf("%d nodes hold the outbox lock, want exactly 1", n)
	}

	// The confirmation goes out once in all (each node lists what it sent).
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	sent := func() int {
		n := 0
		for _, node := range []*app.App{nodeA, nodeB} {
			_, b := do(t, "GET", node.URL()+"/api/v1/admin/notifications", admin, "")
			n += strings.Count(string(b), `"kind": "confirmation"`)
		}
		return n
	}
	// Once the database records every message as sent, no node can send
	// one again (a node sends only what it reads as pending): the count
	// is final.
	pending := countRows(t, c.dbURL, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`)
	deadline = time.Now().Add(10 * time.Second)
	for pending() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still pending: neither node delivered", pending())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := sent(); n != 1 {
		t.Errorf("the confirmation went out %d times, want once", n)
	}
}

// countRows returns a function running a count query on the database.
func countRows(t *testing.T, dbURL, query string, args ...any) func() int {
	conn := pgtest.Connect(t, dbURL)
	return func() int {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var n int
		if err := conn.QueryRow(ctx, query, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
}
