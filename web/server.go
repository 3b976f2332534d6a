package web

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/localurl"
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
	// nil gives 404 problems. With a Prefix it serves every request
	// outside the prefix instead.
	Fallback http.Handler
	// Prefix, when set ("/.sluice", no trailing slash), is the path under
	// which every route of Sluice's own is served (sluice proxy), so that
	// every other path is the Fallback's (the protected site's). The
	// routes are registered without it; URLs the server and its pages
	// make (Path) carry it. "" serves them at the root (serve, demo).
	Prefix string
	// PrivateMetrics: /metrics asks for the admin token (sluice proxy,
	// where Sluice faces the whole public in front of someone's site).
	PrivateMetrics bool
	// WaitPage renders the waiting page GET /wait/{room} from the view the
	// server computed (the citizen pages of ui/ set it); nil uses a plain
	// built-in page. It must write the whole response, honouring v.Code.
	WaitPage func(w http.ResponseWriter, r *http.Request, v WaitView)
	// AdminFailures limits guessing of the admin token (CheckAdminToken;
	// nil: made on first use).
	AdminFailures *AuthFailures

	mu    sync.Mutex // guards the making of AdminFailures
	gates byName[*room.Gate]
	ready readiness
}

// MaxHeaderBytes is the most header bytes a request may carry.
const MaxHeaderBytes = 16 << 10

// MaxBodyBytes bounds request bodies of the JSON API.
const MaxBodyBytes = 64 << 10

// WriteTimeout is the write timeout of the HTTP server (NewHTTPServer): a
// request's deadline (RequestTimeout) must end well within it.
const WriteTimeout = 30 * time.Second

// NewHTTPServer returns the http.Server Sluice serves h with: its timeouts
// and a header limit above MaxHeaderBytes, so that oversized headers are
// answered by the handler, in a problem document. The load generator's
// baseline server (sim.BaselineHandler, served by cmd/sluice's child) is made here too, so that it differs
// from Sluice's only in the handler.
func NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// Path is the URL path of one of Sluice's own routes (given as
// registered, "/wait/shop"), under the Prefix.
func (s *Server) Path(p string) string { return s.Prefix + p }

// WaitURL is the waiting page of a room, going on to ret when admitted.
func (s *Server) WaitURL(roomName, ret string) string {
	u := s.Path("/wait/" + roomName)
	if ret != "" {
		u += "?return=" + url.QueryEscape(ret)
	}
	return u
}

// Gate returns the gate guarding backends of the named room.
func (s *Server) Gate(roomName string) *room.Gate {
	return s.gates.get(roomName, func() *room.Gate {
		g := &room.Gate{Verifier: lazyRoomVerifier{s.Rooms, roomName}, WaitingURL: s.Path("/wait/" + roomName),
			Health: func() *room.Health {
				if rm, ok := s.Rooms.Get(roomName); ok {
					return rm.Health()
				}
				return nil
			}}
		if rm, ok := s.Rooms.Get(roomName); ok {
			g.WaitingURL = rm.Settings().WaitingURL
		}
		return g
	})
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
	out := map[string]map[string]uint64{}
	s.gates.each(func(name string, g *room.Gate) {
		out[name] = g.Rejections()
	})
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
	api("/api/v1/rooms/{room}/tickets", "POST", namedByPath(s.join))
	api("/api/v1/rooms/{room}/status", "GET", namedByPath(s.status))
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
		if s.PrivateMetrics {
			mux.Handle("GET /metrics", s.admin(s.Metrics.ServeHTTP))
		} else {
			mux.Handle("GET /metrics", s.Metrics)
		}
	}
	mux.HandleFunc("GET /wait/{room}", s.handleWaitPage)
	// Form posts from pages are refused when they come from another origin
	// (CSRF): Sec-Fetch-Site / Origin checks of http.CrossOriginProtection.
	mux.Handle("POST /wait/{room}/leave", http.NewCrossOriginProtection().Handler(http.HandlerFunc(s.handleWaitLeave)))
	if s.Routes != nil {
		s.Routes(mux)
	}
	fallback := s.Fallback
	if fallback == nil || s.Prefix != "" {
		mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
			problem(w, http.StatusNotFound, "not_found", "No API endpoint at "+trunc(s.Path(r.URL.Path), 200)+". See docs/API.md.", "없는 주소입니다.")
		})
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			problem(w, http.StatusNotFound, "not_found", "Nothing here.", "페이지가 없습니다.")
		})
	} else {
		mux.Handle("/", fallback)
	}
	own := limitHeaders(s.fastRoutes(mux))
	if s.Prefix == "" {
		return s.recoverer(own)
	}
	if fallback == nil {
		fallback = http.NotFoundHandler()
	}
	// The protected site's requests go to it as they came: Sluice's limits
	// on its own API (header and body sizes) are not the site's.
	return s.recoverer(s.underPrefix(own, fallback))
}

// underPrefix sends requests for paths under s.Prefix to own, with the
// prefix taken off, and every other request to upstream. A path under the
// prefix that is not clean ("/.sluice/../x") is redirected to its clean
// form first, which may well be the upstream's.
func (s *Server) underPrefix(own, upstream http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, s.Prefix)
		if !ok || rest != "" && rest[0] != '/' {
			upstream.ServeHTTP(w, r)
			return
		}
		if clean := cleanPath(r.URL.Path); clean != r.URL.Path || rest == "" {
			if rest == "" {
				clean = s.Prefix + "/"
			}
			u := *r.URL
			u.Path, u.RawPath = clean, ""
			loc, ok := localurl.Path(u.RequestURI())
			if !ok { // "/.sluice/..//host": not a page of this site
				problem(w, http.StatusNotFound, "not_found", "Nothing here.", "페이지가 없습니다.")
				return
			}
			w.Header().Set("Location", loc)
			w.WriteHeader(http.StatusMovedPermanently)
			return
		}
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = rest
		u.RawPath = ""
		if raw, ok := strings.CutPrefix(r.URL.RawPath, s.Prefix); ok {
			u.RawPath = raw
		}
		r2.URL = &u
		own.ServeHTTP(w, r2)
	})
}

// cleanPath is path.Clean keeping a trailing slash, as http.ServeMux
// cleans the paths it routes.
func cleanPath(p string) string {
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c
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
