// Operator dashboard: the room controls (pause, resume, close, reopen,
// capacity and rate, the message to the line).

package ui

import (
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/room"
)

// dashInput is what a control's form says, checked: the values to set and
// the fields to repeat on the confirmation page.
type dashInput struct {
	capacity int
	rate     float64
	message  string
	resumeAt time.Time
	fields   []dashField
}

type dashField struct{ Name, Value string }

// dashActions are the room controls: the room setting each changes.
var dashActions = map[string]func(st *room.Settings, in dashInput){
	"pause":    func(st *room.Settings, _ dashInput) { st.Paused = true },
	"resume":   func(st *room.Settings, _ dashInput) { st.Paused = false },
	"close":    func(st *room.Settings, _ dashInput) { st.Closed = true },
	"reopen":   func(st *room.Settings, _ dashInput) { st.Closed = false },
	"settings": func(st *room.Settings, in dashInput) { st.Capacity, st.Rate = in.capacity, in.rate },
	"message":  func(st *room.Settings, in dashInput) { st.Message, st.ResumeAt = in.message, in.resumeAt },
}

// dashResumeLayout is how a datetime-local field writes the expected
// resume (in the dashboard's time zone).
const dashResumeLayout = "2006-01-02T15:04"

// input reads and checks the form of a control; on a problem it returns
// the catalogue key that says what.
func (d *Dashboard) input(r *http.Request, rm *room.Room, action string) (dashInput, string) {
	var in dashInput
	switch action {
	case "settings":
		capStr, rateStr := strings.TrimSpace(r.PostFormValue("capacity")), strings.TrimSpace(r.PostFormValue("rate"))
		var err error
		in.capacity, err = strconv.Atoi(strings.ReplaceAll(capStr, ",", ""))
		if err != nil || in.capacity < 1 || in.capacity > 10_000_000 {
			return in, "dash.err_capacity"
		}
		in.rate, err = strconv.ParseFloat(strings.ReplaceAll(rateStr, ",", ""), 64)
		if err != nil || !(in.rate > 0) || in.rate > 1_000_000 {
			return in, "dash.err_rate"
		}
		in.fields = []dashField{{"capacity", strconv.Itoa(in.capacity)}, {"rate", strconv.FormatFloat(in.rate, 'f', -1, 64)}}
	case "message":
		in.message = strings.TrimSpace(r.PostFormValue("message"))
		resume := strings.TrimSpace(r.PostFormValue("resume_at"))
		if resume != "" {
			t, err := time.ParseInLocation(dashResumeLayout, resume, d.location())
			if err != nil {
				return in, "dash.err_resume"
			}
			in.resumeAt = t
		}
		st := rm.Settings()
		st.Message = in.message
		if st.Validate() != nil {
			return in, "dash.err_message"
		}
		in.fields = []dashField{{"message", in.message}, {"resume_at", resume}}
	}
	return in, ""
}

// handleAction runs a control. Without confirm=yes (the script sets it after
// the browser's confirm(); without JavaScript it is missing) it answers a
// confirmation page whose form repeats the request with confirm=yes.
func (d *Dashboard) handleAction(w http.ResponseWriter, r *http.Request) {
	rm, ok := d.Rooms.Get(r.PathValue("room"))
	if !ok {
		d.message(w, r, http.StatusNotFound, "dash.err_room")
		return
	}
	action := r.PathValue("action")
	change, ok := dashActions[action]
	if !ok {
		d.message(w, r, http.StatusNotFound, "dash.err_action")
		return
	}
	in, bad := d.input(r, rm, action)
	if bad != "" {
		d.message(w, r, http.StatusBadRequest, bad)
		return
	}
	if r.PostFormValue("confirm") != "yes" {
		v := d.base(nil, r, "dash.confirm_title")
		key := "dash.confirm_" + action
		if action == "message" && in.message == "" {
			key = "dash.confirm_message_clear"
		}
		q := v.T(key, rm.Name())
		for _, f := range in.fields {
			q = strings.ReplaceAll(q, "{"+f.Name+"}", f.Value)
		}
		v.Confirm = &dashConfirm{Room: rm.Name(), Action: action, Question: q, Fields: in.fields}
		d.render(w, r, http.StatusOK, "dashboard_confirm.html", v)
		return
	}
	if _, err := rm.Update(func(st *room.Settings) { change(st, in) }); err != nil {
		d.message(w, r, http.StatusBadRequest, "dash.err_update")
		return
	}
	if d.Server.Log != nil {
		d.Server.Log.Info("dashboard: room "+action, "room", rm.Name(),
			slog.Group("settings", "capacity", in.capacity, "rate", in.rate, "message", in.message, "resume_at", in.resumeAt))
	}
	http.Redirect(w, r, "/admin?done="+action+"&room="+url.QueryEscape(rm.Name())+"#room-"+rm.Name(), http.StatusSeeOther)
}
