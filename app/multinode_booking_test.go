package app_test

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/internal/redistest"
	"github.com/sluicehq/sluice/room"
)

// TestTwoNodesOneBookingDatabase runs two demo servers on one Redis and one
// PostgreSQL database: a person queues on one node and books on the other,
// the second node sees the booking and the person's session, its search
// catches up, and the confirmation goes out once, not once per node.
func TestTwoNodesOneBookingDatabase(t *testing.T) {
	redisURL, prefix := redistest.Prefix(t)
	dbURL := pgtest.Schema(t, "sluicetest_app")
	keys := room.GenerateKeyring("k1")
	start := func() *app.App {
		cfg := apptest.Config()
		cfg.Keys = keys
		cfg.RedisURL, cfg.RedisPrefix = redisURL, prefix
		cfg.Booking = config.Booking{Campaign: "2021-07-50s", Database: dbURL}
		cfg.PersonKeySecret = []byte(strings.Repeat("p", 32))
		return apptest.Start(t, cfg, app.Options{Demo: true})
	}
	nodeA, nodeB := start(), start()

	// Queue on A, collect the pass on B.
	st := waitAdmitted(t, nodeB.URL(), "vaccine", join(t, nodeA.URL(), "vaccine").Ticket)
	pass := map[string]string{room.PassHeader: st.Pass}

	verify := func(base string) map[string]string {
		t.Helper()
		code, b := postJSON(t, base+"/api/v1/identity/verifications", pass, map[string]string{"name": "김민수", "rrn": "680315-1234567", "phone": "010-1234-5678"})
		if code != 201 {
			t.Fatalf("start verification on %s: %d %s", base, code, b)
		}
		var started struct {
			ID   string `json:"challenge_id"`
			Code string `json:"demo_code"`
		}
		json.Unmarshal(b, &started)
		code, b = postJSON(t, base+"/api/v1/identity/verifications/"+started.ID+"/confirm", pass, map[string]string{"code": started.Code})
		if code != 200 {
			t.Fatalf("confirm on %s: %d %s", base, code, b)
		}
		var confirmed struct {
			Session struct {
				ID string `json:"id"`
			} `json:"session"`
		}
		json.Unmarshal(b, &confirmed)
		return map[string]string{room.PassHeader: st.Pass, "Sluice-Session": confirmed.Session.ID}
	}
	freeAt := func(base string, clinic int64) int {
		t.Helper()
		resp, b := do(t, "GET", base+"/api/v1/clinics?district=11680&date=2021-07-26&vaccine=pfizer", pass, "")
		if resp.StatusCode != 200 {
			t.Fatalf("search on %s: %d %s", base, resp.StatusCode, b)
		}
		var found struct {
			Clinics []struct {
				Clinic struct {
					ID int64 `json:"id"`
				} `json:"clinic"`
				Free int `json:"free"`
			} `json:"clinics"`
		}
		json.Unmarshal(b, &found)
		for _, c := range found.Clinics {
			if clinic == 0 || c.Clinic.ID == clinic {
				if clinic == 0 {
					return int(c.Clinic.ID)
				}
				return c.Free
			}
		}
		t.Fatalf("clinic %d not in the search on %s: %s", clinic, base, b)
		return 0
	}
	clinic := int64(freeAt(nodeA.URL(), 0))
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
	code, b = postJSON(t, nodeB.URL()+"/api/v1/identity/verifications", pass, map[string]string{"name": "김민수", "rrn": "680315-1234567", "phone": "010-1234-5678"})
	if code == 201 {
		var started struct {
			ID   string `json:"challenge_id"`
			Code string `json:"demo_code"`
		}
		json.Unmarshal(b, &started)
		code, b = postJSON(t, nodeB.URL()+"/api/v1/identity/verifications/"+started.ID+"/confirm", pass, map[string]string{"code": started.Code})
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
	schema := func() string { u, _ := url.Parse(dbURL); return u.Query().Get("search_path") }()
	holders := func() int {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
			AND ((classid::bigint << 32) | objid::bigint) = hashtext($1 || ':sluice-outbox')::bigint`, schema).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
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
	pending := func() int {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
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
