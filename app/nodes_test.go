package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/internal/lockedio"
	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/internal/redistest"
	"github.com/sluicehq/sluice/internal/seal"
	"github.com/sluicehq/sluice/internal/tcpproxy"
	"github.com/sluicehq/sluice/room"
)

// cluster is what the nodes of one deployment share: Redis (a key prefix
// of its own), a PostgreSQL schema of its own and the keys.
type cluster struct {
	redisURL, prefix, dbURL string
	keys                    *room.Keyring
	sessionKeys             *seal.Sealer
}

func newCluster(t *testing.T) *cluster {
	redisURL, prefix := redistest.Prefix(t)
	return &cluster{redisURL: redisURL, prefix: prefix, dbURL: pgtest.Schema(t, "sluicetest_nodes"),
		keys: room.GenerateKeyring("k1"), sessionKeys: seal.Generate("s1")}
}

// node starts a demo node of the cluster (the demo returns codes, so the
// test can verify people); edit may change its configuration.
func (c *cluster) node(t *testing.T, edit ...func(*config.Config, *app.Options)) *app.App {
	cfg := apptest.Config()
	cfg.Keys, cfg.SessionKeys = c.keys, c.sessionKeys
	cfg.RedisURL, cfg.RedisPrefix = c.redisURL, c.prefix
	cfg.Booking = config.Booking{Campaign: "2021-07-50s", Database: c.dbURL}
	cfg.PersonKeySecret = []byte(strings.Repeat("p", 32))
	opts := app.Options{Demo: true}
	for _, e := range edit {
		e(&cfg, &opts)
	}
	return apptest.Start(t, cfg, opts)
}

// person is someone the tests verify: their identity and, once verified,
// the headers of their booking requests (pass and session).
type person struct {
	body    map[string]string
	headers map[string]string
	// clinic is the clinic the person books at, chosen by their first
	// search: a request sent again is the same request, whatever the
	// search would rank first by then.
	clinic int64
}

func newPerson(name, rrn, phone string) *person {
	return &person{body: map[string]string{"name": name, "rrn": rrn, "phone": phone}}
}

// admit queues at base and returns the pass headers.
func admit(t *testing.T, base string) map[string]string {
	t.Helper()
	st := waitAdmitted(t, base, "vaccine", join(t, base, "vaccine").Ticket)
	return map[string]string{room.PassHeader: st.Pass}
}

// verify starts the person's verification at start and types the code at
// confirm; it returns the confirmation's status and body.
func (p *person) verify(t *testing.T, pass map[string]string, start, confirm string) (int, []byte) {
	t.Helper()
	code, b := postJSON(t, start+"/api/v1/identity/verifications", pass, p.body)
	if code != 201 {
		t.Fatalf("start verification at %s: %d %s", start, code, b)
	}
	var started struct {
		ID   string `json:"challenge_id"`
		Code string `json:"demo_code"`
	}
	json.Unmarshal(b, &started)
	var sess map[string]string
	code, b, sess = confirmCode(t, confirm, pass, started.ID, started.Code)
	if code == 200 {
		p.headers = sess
	}
	return code, b
}

// book books Pfizer at a Gangnam clinic on 26 July at block (the same
// clinic every time), with an Idempotency-Key if key is not empty.
func (p *person) book(t *testing.T, base string, block int, key string) (int, []byte) {
	t.Helper()
	h := map[string]string{}
	for k, v := range p.headers {
		h[k] = v
	}
	if key != "" {
		h["Idempotency-Key"] = key
	}
	if p.clinic == 0 {
		p.clinic = searchGangnam(t, base, p.headers)[0].Clinic.ID
	}
	return postJSON(t, base+"/api/v1/bookings", h, map[string]any{"clinic_id": p.clinic, "date": "2021-07-26", "block": block, "vaccine_id": "pfizer"})
}

func bookingNumber(b []byte) string {
	var v struct {
		Number string `json:"booking_number"`
	}
	json.Unmarshal(b, &v)
	return v.Number
}

// verifiedOnNodeA starts two nodes of a cluster and verifies a person on
// the first; it returns the nodes, the person's pass and the person.
func verifiedOnNodeA(t *testing.T) (nodeA, nodeB *app.App, pass map[string]string, p *person) {
	t.Helper()
	c := newCluster(t)
	nodeA, nodeB = c.node(t), c.node(t)
	pass = admit(t, nodeA.URL())
	p = newPerson("김민수", "680315-1234567", "010-1234-5678")
	if code, b := p.verify(t, pass, nodeA.URL(), nodeA.URL()); code != 200 {
		t.Fatalf("verify on node A: %d %s", code, b)
	}
	return nodeA, nodeB, pass, p
}

// A person verified on node A goes on on node B after A is killed: their
// session is in the shared database, not in A's memory. The rule of one
// session per identity holds across the nodes, and ending the session on
// one frees the identity on all.
func TestSessionOutlivesItsNode(t *testing.T) {
	nodeA, nodeB, pass, p := verifiedOnNodeA(t)
	nodeA.KillForTest()

	if resp, b := do(t, "GET", nodeB.URL()+"/api/v1/session", p.headers, ""); resp.StatusCode != 200 || !strings.Contains(string(b), "김민수") {
		t.Fatalf("the session on node B after node A died: %d %s", resp.StatusCode, b)
	}
	code, b := p.book(t, nodeB.URL(), 3, "form-1")
	if code != 201 {
		t.Fatalf("booking on node B: %d %s", code, b)
	}
	number := bookingNumber(b)
	if resp, b := do(t, "GET", nodeB.URL()+"/api/v1/session/booking", p.headers, ""); resp.StatusCode != 200 || bookingNumber(b) != number {
		t.Fatalf("my booking on node B: %d %s, want %s", resp.StatusCode, b, number)
	}
	// Another device, on node B: held, as on one node.
	other := newPerson("김민수", "680315-1234567", "010-1234-5678")
	if code, b := other.verify(t, pass, nodeB.URL(), nodeB.URL()); code != http.StatusConflict || !strings.Contains(string(b), "session_held") {
		t.Fatalf("a second session of the person on node B: %d %s, want 409 session_held", code, b)
	}
	// Done: the session ends, and the identity is free at once.
	if resp, b := do(t, "DELETE", nodeB.URL()+"/api/v1/session", p.headers, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("ending the session: %d %s", resp.StatusCode, b)
	}
	if resp, b := do(t, "GET", nodeB.URL()+"/api/v1/session", p.headers, ""); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), "session_expired") {
		t.Fatalf("the ended session: %d %s", resp.StatusCode, b)
	}
	if code, b := other.verify(t, pass, nodeB.URL(), nodeB.URL()); code != 200 {
		t.Fatalf("verifying again once the session ended: %d %s", code, b)
	}
}

// One node on its embedded database, restarted: the person verified
// before the restart goes on after it. The demo keeps the keys it made in
// its state directory.
func TestSessionOutlivesARestart(t *testing.T) {
	dir := t.TempDir()
	keys := room.GenerateKeyring("k1") // the pass outlives the restart too
	start := func(run func(testing.TB, config.Config, app.Options) *app.App) *app.App {
		cfg := apptest.Config()
		cfg.StateDir, cfg.Keys = dir, keys
		return run(t, cfg, app.Options{Demo: true})
	}
	a := start(apptest.Boot)
	pass := admit(t, a.URL())
	p := newPerson("김민수", "680315-1234567", "010-1234-5678")
	if code, b := p.verify(t, pass, a.URL(), a.URL()); code != 200 {
		t.Fatalf("verify: %d %s", code, b)
	}
	apptest.Stop(t, a)
	a = start(apptest.Start)
	if code, b := p.book(t, a.URL(), 2, "form-1"); code != 201 {
		t.Fatalf("booking after the restart: %d %s", code, b)
	}
}

// Sessions sealed by one node must open on every other, and after a
// restart: serve refuses to start without SLUICE_SESSION_KEYS, and so
// does the demo on a shared database.
func TestSessionKeysRequired(t *testing.T) {
	cfg := apptest.Config()
	cfg.Booking = config.Booking{Campaign: "2021-07-50s", Database: t.TempDir() + "/b.db"}
	cfg.PersonKeySecret = []byte(strings.Repeat("p", 32))
	if _, err := app.New(cfg, app.Options{}); err == nil || !strings.Contains(err.Error(), "SLUICE_SESSION_KEYS") {
		t.Errorf("serve without session keys: %v, want an error naming SLUICE_SESSION_KEYS", err)
	}
	cfg.Booking.Database = "postgres://nobody@127.0.0.1:1/none"
	if _, err := app.New(cfg, app.Options{Demo: true}); err == nil || !strings.Contains(err.Error(), "SLUICE_SESSION_KEYS") {
		t.Errorf("the demo on PostgreSQL without session keys: %v, want an error naming SLUICE_SESSION_KEYS", err)
	}
}

// No API answer but the demo's documented one holds a verification code:
// not the admin API's list of notifications, not the dashboard.
func TestVerificationCodesStaySecret(t *testing.T) {
	a := startDemo(t)
	pass := admit(t, a.URL())
	code, b, _, demoCode := startVerification(t, a.URL(), pass)
	if code != 201 || len(demoCode) != 6 {
		t.Fatalf("start verification: %d %s", code, b)
	}
	admin := map[string]string{"Authorization": "Bearer " + adminToken}
	resp, body := do(t, "GET", a.URL()+"/api/v1/admin/notifications", admin, "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"kind": "verification"`) {
		t.Fatalf("admin notifications: %d %s, want the verification listed", resp.StatusCode, body)
	}
	sixDigits := regexp.MustCompile(`\d{6}`)
	var list struct {
		Messages []struct {
			Kind, Body string
		} `json:"messages"`
	}
	json.Unmarshal(body, &list)
	for _, m := range list.Messages {
		if m.Kind == "verification" && sixDigits.MatchString(m.Body) {
			t.Errorf("the admin API shows a verification text with a code: %q", m.Body)
		}
	}
	if bytes.Contains(body, []byte(demoCode)) {
		t.Errorf("the admin API's notifications hold the code %s", demoCode)
	}

	// The dashboard, signed in.
	status, cookie := postForm(t, a.URL()+"/admin/login", url.Values{"token": {adminToken}}, nil, "sluice_admin")
	if cookie == "" {
		t.Fatalf("dashboard login: %d, no session cookie", status)
	}
	for _, path := range []string{"/admin", "/admin/api/live"} {
		resp, body := do(t, "GET", a.URL()+path, map[string]string{"Cookie": cookie}, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if bytes.Contains(body, []byte(demoCode)) {
			t.Errorf("%s shows the code %s", path, demoCode)
		}
	}
}

// The database stalls (a table lock held in this test's own schema):
// every booking request is answered by its deadline, 503 with Retry-After,
// never a dropped connection; sent again with its key once the stall is
// over, each books exactly once.
func TestDatabaseStallAnsweredInTime(t *testing.T) {
	c := newCluster(t)
	node := c.node(t, func(cfg *config.Config, _ *app.Options) { cfg.RequestTimeout = config.Duration(2 * time.Second) })
	pass := admit(t, node.URL())
	people := []*person{
		newPerson("김민수", "680315-1234567", "010-1234-5678"),
		newPerson("이영희", "670101-2234561", "010-2234-5678"),
		newPerson("박철수", "680909-1234563", "010-3234-5678"),
	}
	for _, p := range people {
		if code, b := p.verify(t, pass, node.URL(), node.URL()); code != 200 {
			t.Fatalf("verify: %d %s", code, b)
		}
	}
	// Searching before the stall, so that only the bookings wait.
	searchGangnam(t, node.URL(), pass)

	ctx := context.Background()
	lock := pgtest.Connect(t, c.dbURL)
	tx, err := lock.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE "+pgx.Identifier{pgtest.SchemaOf(c.dbURL), "bookings"}.Sanitize()+" IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, p := range people {
		wg.Go(func() {
			code, b := p.book(t, node.URL(), i, "form-"+p.body["phone"])
			if code != http.StatusServiceUnavailable || !strings.Contains(string(b), `"unavailable"`) {
				t.Errorf("booking during the stall: %d %s, want 503 unavailable", code, b)
			}
		})
	}
	wg.Wait()
	// The headers of one answer, checked apart.
	h := map[string]string{"Idempotency-Key": "form-x"}
	for k, v := range people[0].headers {
		h[k] = v
	}
	resp, _ := do(t, "POST", node.URL()+"/api/v1/bookings", h, `{"clinic_id": 1, "date": "2021-07-26", "block": 0}`)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("a stalled booking answers %d, Retry-After %q, %s", resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"))
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	numbers := map[string]bool{}
	for i, p := range people {
		for range 2 { // sent again, and once more: one booking
			code, b := p.book(t, node.URL(), i, "form-"+p.body["phone"])
			if code != 201 {
				t.Fatalf("booking again after the stall: %d %s", code, b)
			}
			numbers[bookingNumber(b)] = true
		}
	}
	if len(numbers) != len(people) {
		t.Errorf("%d booking numbers for %d people: %v", len(numbers), len(people), numbers)
	}
	if n := countRows(t, c.dbURL, `SELECT count(*) FROM bookings`)(); n != len(people) {
		t.Errorf("%d bookings in the database, want %d", n, len(people))
	}

	// A client that sent no key, whose answer was lost, asks again: told
	// which booking it has.
	code, b := people[0].book(t, node.URL(), 5, "")
	if code != http.StatusConflict || !strings.Contains(string(b), `"already_booked"`) {
		t.Fatalf("booking again without a key: %d %s", code, b)
	}
	var doc struct {
		Number string `json:"booking_number"`
	}
	json.Unmarshal(b, &doc)
	if !numbers[doc.Number] {
		t.Errorf("already_booked names %q, not the person's booking", doc.Number)
	}
}

// postForm posts a form as a browser would, without following the
// redirect, and returns the status and the cookie called name that the
// answer sets, as a Cookie header value ("" if none).
func postForm(t *testing.T, target string, form url.Values, headers map[string]string, name string) (int, string) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	maps.Copy(h, headers)
	resp, _ := do(t, "POST", target, h, form.Encode())
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return resp.StatusCode, c.Name + "=" + c.Value
		}
	}
	return resp.StatusCode, ""
}

// The database refuses connections: booking requests answer 503 with
// Retry-After and problem+json, the log says so once with the cause (not
// once per request), /readyz names the component and nothing about the
// database; when it is back, so is booking, and the log says so.
func TestDatabaseOutageReportedAsOutage(t *testing.T) {
	c := newCluster(t)
	db, err := url.Parse(c.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	dbProxy := tcpproxy.Start(t, db.Host)
	db.Host = dbProxy.Addr()
	redis, err := url.Parse(c.redisURL)
	if err != nil {
		t.Fatal(err)
	}
	redisProxy := tcpproxy.Start(t, redis.Host)
	redis.Host = redisProxy.Addr()
	logs := &lockedio.Buffer{}
	node := c.node(t, func(cfg *config.Config, opts *app.Options) {
		cfg.Booking.Database, cfg.RedisURL = db.String(), redis.String()
		opts.Log = slog.New(slog.NewTextHandler(logs, nil))
	})
	pass := admit(t, node.URL())
	p := newPerson("김민수", "680315-1234567", "010-1234-5678")
	if code, b := p.verify(t, pass, node.URL(), node.URL()); code != 200 {
		t.Fatalf("verify: %d %s", code, b)
	}
	searchGangnam(t, node.URL(), pass)

	dbProxy.Refuse()
	for range 5 {
		h := map[string]string{"Idempotency-Key": "form-1"}
		for k, v := range p.headers {
			h[k] = v
		}
		resp, b := do(t, "POST", node.URL()+"/api/v1/bookings", h, `{"clinic_id": 1, "date": "2021-07-26", "block": 0}`)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/problem+json" ||
			!strings.Contains(string(b), `"unavailable"`) {
			t.Fatalf("booking with the database down: %d (Retry-After %q, %s) %s", resp.StatusCode,
				resp.Header.Get("Retry-After"), resp.Header.Get("Content-Type"), b)
		}
	}
	if got := logs.Lines(`msg="booking database failing"`); len(got) != 1 {
		t.Errorf("%d log lines for the outage, want 1:\n%s", len(got), strings.Join(got, "\n"))
	} else if !strings.Contains(got[0], "err=") || !strings.Contains(got[0], "unavailable") {
		t.Errorf("the outage's log line gives no cause: %s", got[0])
	}

	redisProxy.Refuse()
	resp, b := do(t, "GET", node.URL()+"/readyz", nil, "")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("readyz with the database and Redis down: %d %s", resp.StatusCode, b)
	}
	var ready struct {
		Components map[string]string `json:"components"`
	}
	json.Unmarshal(b, &ready)
	if ready.Components["booking_database"] == "ok" || ready.Components["booking_database"] == "" ||
		ready.Components["shared_queue_state"] == "ok" || ready.Components["shared_queue_state"] == "" {
		t.Errorf("readyz does not name both failing components: %s", b)
	}
	for _, secret := range []string{"postgres", "127.0.0.1", "sluicetest", pgtest.SchemaOf(c.dbURL), db.Port(), "database=", "user=", "redis", redis.Port()} {
		if strings.Contains(strings.ToLower(string(b)), strings.ToLower(secret)) {
			t.Errorf("readyz tells %q: %s", secret, b)
		}
	}

	dbProxy.Accept()
	redisProxy.Accept()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, b := p.book(t, node.URL(), 0, "form-1")
		if code == 201 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("booking once the database is back: %d %s", code, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if resp, b := do(t, "GET", node.URL()+"/readyz", nil, ""); resp.StatusCode != 200 {
		t.Errorf("readyz once everything is back: %d %s", resp.StatusCode, b)
	}
}

// The pages' look-up is kept in the shared database too: a person who
// looked their booking up on node A goes on with it on node B.
func TestLookupOnAnyNode(t *testing.T) {
	nodeA, nodeB, pass, p := verifiedOnNodeA(t)
	code, b := p.book(t, nodeA.URL(), 1, "form-1")
	if code != 201 {
		t.Fatalf("book: %d %s", code, b)
	}
	number := bookingNumber(b)

	form := url.Values{"name": {"김민수"}, "rrn": {"680315-1234567"}, "number": {number}}
	status, lookup := postForm(t, nodeA.URL()+"/booking", form, pass, "sluice_lookup")
	if status != http.StatusSeeOther || lookup == "" {
		t.Fatalf("look-up on node A: %d, cookie %q", status, lookup)
	}
	nodeA.KillForTest()
	h := map[string]string{"Cookie": lookup, room.PassHeader: pass[room.PassHeader]}
	resp, body := do(t, "GET", nodeB.URL()+"/booking/view", h, "")
	if resp.StatusCode != 200 || !strings.Contains(string(body), number) {
		t.Fatalf("the look-up on node B: %d\n%s", resp.StatusCode, body)
	}
}
