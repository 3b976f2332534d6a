package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/sluicehq/sluice/room"
)

// The admin API's rooms: GET /api/v1/admin/rooms[/{room}], PUT (create),
// PATCH (change while running) and POST .../{action}.

// roomBody is a room as the admin API takes it (PUT): the fields of a room
// in the configuration file (docs/CONFIG.md) and "closed", in JSON, with
// durations written as people write them ("90s", "10m", or seconds) where
// room.Settings' own JSON has nanoseconds.
type roomBody struct {
	room.Settings
	PassTTL      duration `json:"pass_ttl"`
	ClaimTimeout duration `json:"claim_timeout"`
	MinPoll      duration `json:"min_poll"`
}

// settings are the room's settings, defaults filled in, validated.
func (b roomBody) settings() (room.Settings, error) {
	st := b.Settings
	st.PassTTL, st.ClaimTimeout, st.MinPoll = time.Duration(b.PassTTL), time.Duration(b.ClaimTimeout), time.Duration(b.MinPoll)
	st = st.WithDefaults()
	return st, st.Validate()
}

// clearTime is a time in JSON (RFC 3339), or "" for none.
type clearTime time.Time

func (c *clearTime) UnmarshalJSON(b []byte) error {
	if string(b) == `""` {
		*c = clearTime{}
		return nil
	}
	var t time.Time
	if err := json.Unmarshal(b, &t); err != nil {
		return fmt.Errorf("time: want RFC 3339 like \"2021-07-19T22:00:00+09:00\", or \"\" for none")
	}
	*c = clearTime(t)
	return nil
}

// duration is a duration in JSON: "90s", "10m", "1h30m", or a number of
// seconds.
type duration time.Duration

func (d *duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err := json.Unmarshal(b, &secs); err != nil {
			return fmt.Errorf("duration: want a string like \"10m\" or a number of seconds, got %s", trunc(string(b), 40))
		}
		*d = duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: write it like \"90s\", \"10m\" or \"1h30m\"", trunc(s, 40))
	}
	if v < 0 {
		return fmt.Errorf("duration %q must not be negative", trunc(s, 40))
	}
	*d = duration(v)
	return nil
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
	Message      string     `json:"message"`
	ResumeAt     *time.Time `json:"resume_at"`
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
		Message: st.Message, ResumeAt: tp(st.ResumeAt),
	}}
	if g := s.GateRejections()[rm.Name()]; g != nil {
		v.Gate = g
	}
	return v
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
		var body roomBody
		if !decodeBody(w, r, &body) {
			return
		}
		if body.Name == "" {
			body.Name = name
		}
		if body.Name != name {
			problem(w, http.StatusBadRequest, "name_mismatch", "The body's name must match the URL's room name.", "")
			return
		}
		st, err := body.settings()
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
			Capacity     *int       `json:"capacity"`
			Rate         *float64   `json:"rate"`
			PassTTL      *duration  `json:"pass_ttl"`
			ClaimTimeout *duration  `json:"claim_timeout"`
			PollBudget   *float64   `json:"poll_budget"`
			ClosesAt     *time.Time `json:"closes_at"`
			// The operator's word to the line: "" clears either.
			Message  *string    `json:"message"`
			ResumeAt *clearTime `json:"resume_at"`
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
				st.PassTTL = time.Duration(*patch.PassTTL)
			}
			if patch.ClaimTimeout != nil {
				st.ClaimTimeout = time.Duration(*patch.ClaimTimeout)
			}
			if patch.PollBudget != nil {
				st.PollBudget = *patch.PollBudget
			}
			if patch.ClosesAt != nil {
				st.ClosesAt = *patch.ClosesAt
			}
			if patch.Message != nil {
				st.Message = *patch.Message
			}
			if patch.ResumeAt != nil {
				st.ResumeAt = time.Time(*patch.ResumeAt)
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
