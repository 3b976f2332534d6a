package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/room"
)

// postgresForTest returns the URL of a fresh schema on the test PostgreSQL
// server (dropped after the test). Without a server it skips, unless
// SLUICE_REQUIRE_SERVICES=1 (CI), where it fails.
func postgresForTest(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SLUICE_POSTGRES_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("SLUICE_REQUIRE_SERVICES") == "1" {
			t.Fatalf("PostgreSQL does not answer (%v); SLUICE_REQUIRE_SERVICES=1 forbids skipping", err)
		}
		t.Skipf("no PostgreSQL (%v): set SLUICE_POSTGRES_URL to run the multi-node booking test", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "sluicetest_app_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		conn.Close(ctx)
		t.Fatal(err)
	}
	conn.Close(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if conn, err := pgx.Connect(ctx, base); err == nil {
			conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
			conn.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// TestTwoNodesOneBookingDatabase runs two demo servers on one Redis and one
// PostgreSQL database: a person queues on one node and books on the other,
// the second node sees the booking and the person's session, its search
// catches up, and the confirmation goes out once, not once per node.
func TestTwoNodesOneBookingDatabase(t *testing.T) {
	redisURL, prefix := redisForTest(t)
	dbURL := postgresForTest(t)
	keys := room.GenerateKeyring("k1")
	start := func() *app.App {
		cfg := config.Default()
		cfg.Addr = "127.0.0.1:0"
		cfg.LogLevel = "warn"
		cfg.Keys = keys
		cfg.AdminToken = adminToken
		cfg.RedisURL, cfg.RedisPrefix = redisURL, prefix
		cfg.Booking = config.Booking{Campaign: "2021-07-50s", Database: dbURL}
		cfg.PersonKeySecret = []byte(strings.Repeat("p", 32))
		a, err := app.New(cfg, app.Options{Demo: true, TickInterval: 10 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			a.Shutdown(ctx)
		})
		return a
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
	deadline = time.Now().Add(10 * time.Second)
	for sent() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no confirmation was sent by either node")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // time for a second, wrong, delivery by the other node
	if n := sent(); n != 1 {
		t.Errorf("the confirmation went out %d times, want once", n)
	}
}
