package web

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/whatwgurl"
	"github.com/sluicehq/sluice/room"
)

// waitServer is a server with one room, "shop", that admits everyone at
// once, on a clock that stands still.
func waitServer(t *testing.T) (*Server, *room.Room) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := clock.NewManual(time.Date(2021, 7, 19, 20, 0, 0, 0, time.UTC))
	keys := room.GenerateKeyring("k1")
	m := room.NewManager(keys, clk, nil, log)
	rm, err := m.Add(room.Settings{Name: "shop", Capacity: 10_000, Rate: 1_000_000})
	if err != nil {
		t.Fatal(err)
	}
	return &Server{Rooms: m, Keys: keys, Clock: clk, Log: log}, rm
}

// An admitted browser is sent on to its return path only when a browser
// reads that path as a page of this site, and then to exactly that page:
// the Location header, read as browsers read addresses, never leads
// elsewhere.
func TestWaitingPageReturnsOnlyToThisSite(t *testing.T) {
	s, _ := waitServer(t)
	h := s.Handler()
	site, _ := whatwgurl.Parse("https://sluice.test/wait/shop", nil)
	for _, tc := range whatwgurl.Tricky {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "https://sluice.test/wait/shop?return="+url.QueryEscape(tc.In), nil))
		loc := w.Header().Get("Location")
		if tc.Want == "" {
			if w.Code != http.StatusOK || loc != "" {
				t.Errorf("return %q: %d to %q, want the page (200) without a redirect", tc.In, w.Code, loc)
			}
			continue
		}
		if w.Code != http.StatusSeeOther {
			t.Errorf("return %q: %d, want 303 to %q", tc.In, w.Code, tc.Want)
			continue
		}
		u, err := whatwgurl.Parse(loc, site)
		if err != nil || !u.SameOrigin(site) {
			t.Errorf("return %q: Location %q leads a browser to %v (%v)", tc.In, loc, u, err)
		}
	}
}
