package web

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/config"
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
	// Ready reports readiness for /readyz (nil: always ready).
	Ready func() error
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
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.Ready != nil {
			if err := s.Ready(); err != nil {
				problem(w, http.StatusServiceUnavailable, "not_ready", err.Error(), "")
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"status":"ready"}`))
	})
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

// roomView is a room's counters and settings for the admin API, with
// durations as strings and times in RFC 3339.
type roomView struct {
	room.Counters
	Settings settingsView      `json:"settings"`
	Gate     map[string]uint64 `json:"gate_rejections,omitempty"`
}

type settingsView struct {
	PrequeueAt   *time.Time `json:"prequeue_at"`
	OpensAt      *time.Time `json:"opens_at"`
	ClosesAt     *time.Time `json:"closes_at"`
	Capacity     int        `json:"capacity"`
	Rate         float64    `json:"rate"`
	PassTTL      string     `json:"pass_ttl"`
	ClaimTimeout string     `json:"claim_timeout"`
	PollBudget   float64    `json:"poll_budget"`
	MinPoll      string     `json:"min_poll"`
	WaitingURL   string     `json:"waiting_url"`
	Paused       bool       `json:"paused"`
	Closed       bool       `json:"closed"`
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *Server) view(rm *room.Room) roomView {
	c := rm.Counters()
	st := c.Settings
	v := roomView{Counters: c, Settings: settingsView{
		PrequeueAt: tp(st.PrequeueAt), OpensAt: tp(st.OpensAt), ClosesAt: tp(st.ClosesAt),
		Capacity: st.Capacity, Rate: st.Rate, PassTTL: st.PassTTL.String(),
		ClaimTimeout: st.ClaimTimeout.String(), PollBudget: st.PollBudget, MinPoll: st.MinPoll.String(),
		WaitingURL: st.WaitingURL, Paused: st.Paused, Closed: st.Closed,
	}}
	if g := s.GateRejections()[rm.Name()]; g != nil {
		v.Gate = g
	}
	return v
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

func (s *Server) handleAdminList(w http.ResponseWriter, r *http.Request) {
	rooms := s.Rooms.Rooms()
	out := make([]roomView, 0, len(rooms))
	for _, rm := range rooms {
		out = append(out, s.view(rm))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Room < out[j].Room })
	writeJSON(w, http.StatusOK, map[string]any{"rooms": out})
}

func (s *Server) handleAdminRoom(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("room")
	switch r.Method {
	case http.MethodGet:
		rm, ok := s.roomOf(w, r)
		if !ok {
			return
		}
		writeJSON(w, http.StatusOK, s.view(rm))
	case http.MethodPut:
		var rc config.RoomConfig
		if !decodeBody(w, r, &rc) {
			return
		}
		if rc.Name == "" {
			rc.Name = name
		}
		if rc.Name != name {
			problem(w, http.StatusBadRequest, "name_mismatch", "The body's name must match the URL's room name.", "")
			return
		}
		st, err := rc.Settings()
		if err != nil {
			problem(w, http.StatusBadRequest, "invalid_settings", err.Error(), "설정 값이 올바르지 않습니다.")
			return
		}
		rm, err := s.Rooms.Add(st)
		if err != nil {
			problem(w, http.StatusConflict, "room_exists", err.Error(), "이미 있는 대기실입니다.")
			return
		}
		s.Log.Info("room created", "room", name)
		writeJSON(w, http.StatusCreated, s.view(rm))
	case http.MethodPatch:
		rm, ok := s.roomOf(w, r)
		if !ok {
			return
		}
		var patch struct {
			Capacity     *int             `json:"capacity"`
			Rate         *float64         `json:"rate"`
			PassTTL      *config.Duration `json:"pass_ttl"`
			ClaimTimeout *config.Duration `json:"claim_timeout"`
			PollBudget   *float64         `json:"poll_budget"`
			ClosesAt     *time.Time       `json:"closes_at"`
		}
		if !decodeBody(w, r, &patch) {
			return
		}
		st, err := rm.Update(func(st *room.Settings) {
			if patch.Capacity != nil {
				st.Capacity = *patch.Capacity
			}
			if patch.Rate != nil {
				st.Rate = *patch.Rate
			}
			if patch.PassTTL != nil {
				st.PassTTL = patch.PassTTL.D()
			}
			if patch.ClaimTimeout != nil {
				st.ClaimTimeout = patch.ClaimTimeout.D()
			}
			if patch.PollBudget != nil {
				st.PollBudget = *patch.PollBudget
			}
			if patch.ClosesAt != nil {
				st.ClosesAt = *patch.ClosesAt
			}
		})
		if err != nil {
			problem(w, http.StatusBadRequest, "invalid_settings", err.Error(), "설정 값이 올바르지 않습니다.")
			return
		}
		s.Log.Info("room settings changed", "room", name, "capacity", st.Capacity, "rate", st.Rate)
		writeJSON(w, http.StatusOK, s.view(rm))
	}
}

func (s *Server) handleAdminAction(w http.ResponseWriter, r *http.Request) {
	rm, ok := s.roomOf(w, r)
	if !ok {
		return
	}
	action := r.PathValue("action")
	var change func(*room.Settings)
	switch action {
	case "pause":
		change = func(st *room.Settings) { st.Paused = true }
	case "resume":
		change = func(st *room.Settings) { st.Paused = false }
	case "close":
		change = func(st *room.Settings) { st.Closed = true }
	case "reopen":
		change = func(st *room.Settings) { st.Closed = false }
	default:
		problem(w, http.StatusNotFound, "unknown_action", "Unknown action "+trunc(action, 40)+"; use pause, resume, close or reopen.", "")
		return
	}
	if _, err := rm.Update(change); err != nil {
		problem(w, http.StatusBadRequest, "invalid_settings", err.Error(), "")
		return
	}
	s.Log.Info("room "+action, "room", rm.Name())
	writeJSON(w, http.StatusOK, s.view(rm))
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
