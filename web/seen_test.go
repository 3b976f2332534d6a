package web

import (
	"encoding/json"

	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/room"
)

// A person whose polls land on two nodes is never shown a position
// further back than the one shown last: the cookie sluice_seen_<room>
// (or ?seen=) makes a node whose view is behind bring it up to date.
func TestSeenKeepsPositionsFromRising(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	clk := clock.NewManual(time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC))
	keys := room.GenerateKeyring("k1")
	sh := room.NewMemShared()
	var servers []http.Handler
	var rooms []*room.Room
	for range 2 {
		m := room.NewSharedManager(keys, clk, sh, nil, log)
		rm, err := m.Add(room.Settings{Name: "shop", Capacity: 1, Rate: 100})
		if err != nil {
			t.Fatal(err)
		}
		servers = append(servers, (&Server{Rooms: m, Keys: keys, Clock: clk, Log: log, Limiter: NewLimiter(DefaultLimits())}).Handler())
		rooms = append(rooms, rm)
	}
	a := rooms[0]
	_, first, err := a.Join()
	if err != nil || first.Pass == "" {
		t.Fatalf("first join: %+v %v", first, err)
	}
	var toks []string
	for range 4 {
		tok, _, err := a.Join()
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	tok := toks[3]
	a.Tick() // node A reports its joins
	clk.Advance(room.ViewFresh)
	poll := func(h http.Handler, query string, cookies []*http.Cookie) (uint64, []*http.Cookie) {
		t.Helper()
		req := httptest.NewRequest("GET", "/api/v1/rooms/shop/status"+query, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var body struct {
			State    string `json:"state"`
			Position uint64 `json:"position"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != http.StatusOK {
			t.Fatalf("status: %d %s", w.Code, w.Body)
		}
		return body.Position, w.Result().Cookies()
	}
	if p, _ := poll(servers[1], "", nil); p != 4 {
		t.Fatalf("node B: position %d, want 4", p)
	}
	// The first person leaves on node A, and A lets the next one in: A's
	// view is ahead of B's, which is less than room.ViewFresh old.
	p, _ := a.VerifyPass(first.Pass)
	if err := a.Leave(p); err != nil {
		t.Fatal(err)
	}
	clk.Advance(room.ViewFresh / 2)
	a.Tick()
	// A browser's poll brings its ticket cookie (and so gets the seen
	// cookie back).
	ticket := []*http.Cookie{{Name: TicketCookie("shop"), Value: tok}}
	pa, cookies := poll(servers[0], "", ticket)
	if pa != 3 || len(cookies) != 1 || cookies[0].Name != SeenCookie("shop") {
		t.Fatalf("node A: position %d, cookies %v; want 3 and the seen cookie", pa, cookies)
	}
	if p, _ := poll(servers[1], "", nil); p != 4 {
		t.Fatalf("node B without what was seen: position %d, want its view's 4 (the test shows nothing otherwise)", p)
	}
	if p, _ := poll(servers[1], "", cookies); p > pa {
		t.Errorf("node B with the cookie: position %d after node A showed %d", p, pa)
	}
	// Two more leave: with ?seen=2 node B, whose view still says 3,
	// reads the line afresh and says 1 (holding its answer at what was
	// seen would say 2).
	for _, next := range toks[:2] {
		tk, err := a.VerifyTicket(next)
		if err != nil {
			t.Fatal(err)
		}
		st, err := a.Status(tk)
		if err != nil || st.Pass == "" {
			t.Fatalf("next joiner: %+v %v", st, err)
		}
		p, _ := a.VerifyPass(st.Pass)
		if err := a.Leave(p); err != nil {
			t.Fatal(err)
		}
		clk.Advance(room.ViewFresh / 8)
		a.Tick()
	}
	if p, _ := poll(servers[1], "", nil); p != 3 {
		t.Fatalf("node B without what was seen: position %d, want its view's 3", p)
	}
	if p, _ := poll(servers[1], "?seen=2", nil); p != 1 {
		t.Errorf("node B with ?seen=2 after two more leaves: position %d, want 1", p)
	}
}
