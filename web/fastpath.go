package web

import (
	"net/http"
	"strings"
)

// The two hottest routes of the server: every person in line joins once and
// then polls their status until admitted.
const (
	joinPattern   = "POST /api/v1/rooms/{room}/tickets"
	statusPattern = "GET /api/v1/rooms/{room}/status"
	roomsPrefix   = "/api/v1/rooms/"
)

// fastRoutes sends "POST /api/v1/rooms/NAME/tickets" and
// "GET /api/v1/rooms/NAME/status" straight to their handlers when NAME is
// spelled plainly (lower-case letters, digits, '-' and '_': every valid room
// name) and the path carries no escapes; everything else goes to mux. The
// ServeMux's general matching (path cleaning, per-segment unescaping, the
// pattern tree) cost about as much as the status check itself, and for
// these requests its answer is known: a plain path is already clean, so the
// mux would neither redirect nor unescape, and would route to the same
// handler with the same {room} value. The answer is checked once here: if
// the mux routes a probe of either path elsewhere (a route added through
// Server.Routes that claims it), the shortcut is off and the mux decides
// everything, as before.
func (s *Server) fastRoutes(mux *http.ServeMux) http.Handler {
	if fastPathOff || !muxAgrees(mux, s) {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawPath == "" {
			switch r.Method {
			case http.MethodPost:
				if name, ok := plainRoomPath(r.URL.Path, "/tickets"); ok {
					r.Pattern = joinPattern
					s.join(w, r, name)
					return
				}
			case http.MethodGet:
				if name, ok := plainRoomPath(r.URL.Path, "/status"); ok {
					r.Pattern = statusPattern
					s.status(w, r, name)
					return
				}
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// fastPathOff turns the shortcut off (tests compare both ways).
var fastPathOff bool

// muxAgrees reports whether mux routes the join and status paths of a probe
// room and of every configured room to the patterns fastRoutes serves.
func muxAgrees(mux *http.ServeMux, s *Server) bool {
	names := []string{"probe-room"}
	if s.Rooms != nil {
		for _, rm := range s.Rooms.Rooms() {
			names = append(names, rm.Name())
		}
	}
	for _, name := range names {
		for _, c := range []struct{ method, suffix, pattern string }{
			{http.MethodPost, "/tickets", joinPattern},
			{http.MethodGet, "/status", statusPattern},
		} {
			r, err := http.NewRequest(c.method, "http://localhost"+roomsPrefix+name+c.suffix, nil)
			if err != nil {
				return false
			}
			if _, pattern := mux.Handler(r); pattern != c.pattern {
				return false
			}
		}
	}
	return true
}

// plainRoomPath returns NAME if p is roomsPrefix+NAME+suffix and NAME is a
// non-empty run of [a-z0-9_-].
func plainRoomPath(p, suffix string) (string, bool) {
	if !strings.HasPrefix(p, roomsPrefix) || !strings.HasSuffix(p, suffix) || len(p) <= len(roomsPrefix)+len(suffix) {
		return "", false
	}
	name := p[len(roomsPrefix) : len(p)-len(suffix)]
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return "", false
		}
	}
	return name, true
}
