package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/sluicehq/sluice/internal/roomspec"
	"github.com/sluicehq/sluice/room"
)

// The admin API's rooms: GET /api/v1/admin/rooms[/{room}], PUT (create),
// PATCH (change while running) and POST .../{action}.

// roomBody is a room as the admin API takes it (PUT): a room of the
// configuration file (roomspec.RoomConfig, docs/CONFIG.md) in JSON, "closed",
// and the operator's "message" and "resume_at". Durations are written as people write them ("90s", "10m") or
// in seconds; a setting left out takes its default, one written as 0 is
// refused.
type roomBody struct {
	roomspec.RoomConfig
	Closed bool `json:"closed"`
	roomWords
}

// settings are the room's settings, defaults filled in, validated.
func (b roomBody) settings() (room.Settings, error) {
	st, err := b.RoomConfig.Settings()
	if err != nil {
		return st, err
	}
	st.Closed = b.Closed
	b.roomWords.apply(&st)
	// Every other setting is set and valid here: WithDefaults only writes
	// the words in their one form.
	st = st.WithDefaults()
	return st, st.Validate()
}

// roomPatch is a change of a running room (PATCH): its numeric settings,
// closes_at and the operator's word to the line; a field left out keeps
// its value.
type roomPatch struct {
	roomspec.RoomTuning
	ClosesAt *time.Time `json:"closes_at"`
	roomWords
}

// roomWords is the operator's word to the line (PUT and PATCH): "" clears
// either.
type roomWords struct {
	Message  *string    `json:"message"`
	ResumeAt *clearTime `json:"resume_at"`
}

// apply writes the words w gives onto s; the others keep their values.
func (w roomWords) apply(s *room.Settings) {
	if w.Message != nil {
		s.Message = *w.Message
	}
	if w.ResumeAt != nil {
		s.ResumeAt = time.Time(*w.ResumeAt)
	}
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

// roomView is a room's counters and settings for the admin API, with
// durations as strings and times in RFC 3339.
type roomView struct {
	room.Counters
	Settings settingsView      `json:"settings"`
	Gate     map[string]uint64 `json:"gate_rejections,omitempty"`
	// Backend is the protected backend's health as this node's gate sees
	// it, and the pacer's last change of rate (docs/PACING.md).
	Backend    room.HealthReading `json:"backend"`
	LastPacing *room.PaceChange   `json:"last_pacing_change,omitempty"`
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
	Pacing       pacingView `json:"pacing"`
}

// pacingView is a room's pacing as the configuration writes it, and what
// the pacer reads that no setting says: the rate at which the line's
// places end (its sessions signal) and whether this node's pacer leads
// the room (docs/PACING.md).
type pacingView struct {
	Mode         string  `json:"mode"`
	TargetP95    string  `json:"target_p95"`
	MaxErrorRate float64 `json:"max_error_rate"`
	MinRate      float64 `json:"min_rate"`
	MaxRate      float64 `json:"max_rate"`
	EndRate      float64 `json:"end_rate"`
	Leader       bool    `json:"leader"`
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
		Pacing: pacingView{Mode: st.Pacing.Mode, TargetP95: st.Pacing.TargetP95.String(), MaxErrorRate: st.Pacing.MaxErrorRate,
			MinRate: st.Pacing.MinRate, MaxRate: st.Pacing.MaxRate, EndRate: rm.PaceEndRate(), Leader: rm.PaceLead()},
	}, Backend: rm.Health().Read()}
	if ch := rm.LastPaceChange(); !ch.At.IsZero() {
		v.LastPacing = &ch
	}
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
		if body.WaitingURL == "" {
			body.WaitingURL = s.Path("/wait/" + name)
		}
		st, err := body.settings()
		if err != nil {
			settingsProblem(w, err)
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
		var patch roomPatch
		if !decodeBody(w, r, &patch) {
			return
		}
		st, err := rm.Update(func(st *room.Settings) {
			patch.Apply(st)
			if patch.ClosesAt != nil {
				st.ClosesAt = *patch.ClosesAt
			}
			patch.roomWords.apply(st)
		})
		if err != nil {
			settingsProblem(w, err)
			return
		}
		s.Log.Info("room settings changed", "room", name, "capacity", st.Capacity, "rate", st.Rate, "pacing", st.Pacing.String())
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
		settingsProblem(w, err)
		return
	}
	s.Log.Info("room "+action, "room", rm.Name())
	writeJSON(w, http.StatusOK, s.view(rm))
}
