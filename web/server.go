package web

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/room"
)

// Server serves Sluice's HTTP interface.
type Server struct {
	Rooms      *room.Manager
	Keys       *room.Keyring
	Clock      clock.Clock
	Log        *slog.Logger
	Limiter    *Limiter
	AdminToken string
	// Metrics serves /metrics (nil: 404).
	Metrics http.Handler
	// Ready lists what /readyz checks (none: always ready).
	Ready []ReadyCheck
	// RequestTimeout is the deadline of a request that may reach the
	// database or Redis (WithDeadline; default DefaultRequestTimeout).
	RequestTimeout time.Duration
	// Routes adds more routes (demo pages, booking API).
	Routes func(mux *http.ServeMux)
	// Fallback serves requests no route matches (the proxied upstream);
	// nil gives 404 problems.
	Fallback http.Handler
	// WaitPage renders the waiting page GET /wait/{room} from the view the
	// server computed (the citizen pages of ui/ set it); nil uses a plain
	// built-in page. It must write the whole response, honouring v.Code.
	WaitPage func(w http.ResponseWriter, r *http.Request, v WaitView)
	// AdminFailures limits guessing of the admin token (CheckAdminToken;
	// nil: made on first use).
	AdminFailures *AuthFailures

	mu    sync.Mutex
	gates map[string]*room.Gate
	ready readiness
}

// MaxHeaderBytes is the most header bytes a request may carry.
const MaxHeaderBytes = 16 << 10

// MaxBodyBytes bounds request bodies of the JSON API.
const MaxBodyBytes = 64 << 10

// Gate returns the gate guarding backends of the named room.
func (s *Server) Gate(roomName string) *room.Gate {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gates == nil {
		s.gates = map[string]*room.Gate{}
	}
	g, ok := s.gates[roomName]
	if !ok {
		g = &room.Gate{Verifier: lazyRoomVerifier{s.Rooms, roomName}, WaitingURL: "/wait/" + roomName}
		if rm, ok := s.Rooms.Get(roomName); ok {
			g.WaitingURL = rm.Settings().WaitingURL
		}
		s.gates[roomName] = g
	}
	return g
}

// lazyRoomVerifier looks the room up at request time; an unknown room means
// every pass is rejected (fail closed).
type lazyRoomVerifier struct {
	m    *room.Manager
	name string
}

func (v lazyRoomVerifier) VerifyPass(tok string) (room.Pass, error) {
	rm, ok := v.m.Get(v.name)
	if !ok {
		return room.Pass{}, errors.New("room not configured")
	}
	return rm.VerifyPass(tok)
}

// GateRejections returns rejection counts by room and reason.
func (s *Server) GateRejections() map[string]map[string]uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]map[string]uint64{}
	for name, g := range s.gates {
		out[name] = g.Rejections()
	}
	return out
}

// Handler returns the complete HTTP handler.
func (s *Server) Handler() http.Handler {
	s.adminFailures()
	mux := http.NewServeMux()
	api := func(pattern string, methods string, h http.HandlerFunc) {
		for _, m := range strings.Split(methods, ",") {
			mux.HandleFunc(m+" "+pattern, h)
		}
		// Same path, other method: a problem+json 405 rather than the
		// mux's plain-text one.
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", methods)
			problem(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here; use "+methods+".", "허용되지 않는 요청 방식입니다.")
		})
	}
	api("/api/v1/rooms/{room}/tickets", "POST", s.handleJoin)
	api("/api/v1/rooms/{room}/status", "GET", s.handleStatus)
	api("/api/v1/rooms/{room}/leave", "POST", s.handleLeave)
	api("/api/v1/admin/rooms", "GET", s.admin(s.handleAdminList))
	api("/api/v1/admin/rooms/{room}", "GET,PUT,PATCH", s.admin(s.handleAdminRoom))
	api("/api/v1/admin/rooms/{room}/{action}", "POST", s.admin(s.handleAdminAction))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ok"}`))
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	if s.Metrics != nil {
		mux.Handle("GET /metrics", s.Metrics)
	}
	mux.HandleFunc("GET /wait/{room}", s.handleWaitPage)
	// Form posts from pages are refused when they come from another origin
	// (CSRF): Sec-Fetch-Site / Origin checks of http.CrossOriginProtection.
	mux.Handle("POST /wait/{room}/leave", http.NewCrossOriginProtection().Handler(http.HandlerFunc(s.handleWaitLeave)))
	if s.Routes != nil {
		s.Routes(mux)
	}
	fallback := s.Fallback
	if fallback == nil {
		mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
			problem(w, http.StatusNotFound, "not_found", "No API endpoint at "+trunc(r.URL.Path, 200)+". See docs/API.md.", "없는 주소입니다.")
		})
		fallback = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			problem(w, http.StatusNotFound, "not_found", "Nothing here.", "페이지가 없습니다.")
		})
	}
	mux.Handle("/", fallback)
	return s.recoverer(limitHeaders(s.fastRoutes(mux)))
}

// recoverer turns a panic into a 500 problem and a log line; the server
// keeps running.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v)
				problem(w, http.StatusInternalServerError, "internal", "Something went wrong on our side.", "서버 오류입니다.")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limitHeaders rejects requests with oversized headers with a problem
// document (http.Server's own limit answers in plain text) and bounds
// bodies.
func limitHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := len(r.URL.RawQuery) + len(r.URL.Path)
		for k, vs := range r.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4
			}
		}
		if n > MaxHeaderBytes {
			problem(w, http.StatusRequestHeaderFieldsTooLarge, "headers_too_large", "The request headers are too large.", "요청 헤더가 너무 큽니다.")
			return
		}
		if r.ContentLength > MaxBodyBytes {
			problem(w, http.StatusRequestEntityTooLarge, "body_too_large", "The request body is too large.", "요청 본문이 너무 큽니다.")
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		problem(w, http.StatusInternalServerError, "internal", "encoding failed", "")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// decodeBody decodes a JSON body strictly, answering a problem on error.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			problem(w, http.StatusRequestEntityTooLarge, "body_too_large", "The request body is too large.", "")
			return false
		}
		problem(w, http.StatusBadRequest, "invalid_json", "The request body is not valid JSON for this endpoint: "+err.Error(), "요청 형식이 올바르지 않습니다.")
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		problem(w, http.StatusBadRequest, "invalid_json", "Only one JSON value is allowed in the body.", "")
		return false
	}
	return true
}
