// Operator dashboard: the room controls (pause, resume, close, reopen,
// capacity and rate, pacing, the message to the line).

package ui

import (
	"errors"
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
	pacing   room.Pacing
	fields   []dashField
}

type dashField struct{ Name, Value string }

// dashActions are the room controls: the room setting each changes.
var dashActions = map[string]func(st *room.Settings, in dashInput){
	"pause":  func(st *room.Settings, _ dashInput) { st.Paused = true },
	"resume": func(st *room.Settings, _ dashInput) { st.Paused = false },
	"close":  func(st *room.Settings, _ dashInput) { st.Closed = true },
	"reopen": func(st *room.Settings, _ dashInput) { st.Closed = false },
	// An operator's rate is fixed: setting one ends auto pacing (the
	// pacing form turns it on again).
	"settings": func(st *room.Settings, in dashInput) {
		st.Capacity, st.Rate, st.Pacing.Mode = in.capacity, in.rate, room.PacingFixed
	},
	"pacing":  func(st *room.Settings, in dashInput) { st.Pacing = in.pacing },
	"message": func(st *room.Settings, in dashInput) { st.Message, st.ResumeAt = in.message, in.resumeAt },
}

// dashResumeLayout is how a datetime-local field writes the expected
// resume (in the dashboard's time zone).
const dashResumeLayout = "2006-01-02T15:04"

// input reads and checks the form of a control. On a problem it returns
// the setting refused (the field's name, as room.SettingError names it)
// and, in in.fields, what the operator typed, for the form to show again.
func (d *Dashboard) input(r *http.Request, rm *room.Room, action string) (in dashInput, refused string) {
	st := rm.Settings()
	switch action {
	case "settings":
		capStr, rateStr := strings.TrimSpace(r.PostFormValue("capacity")), strings.TrimSpace(r.PostFormValue("rate"))
		in.fields = []dashField{{"capacity", capStr}, {"rate", rateStr}}
		var capErr, rateErr error
		in.capacity, capErr = strconv.Atoi(strings.ReplaceAll(capStr, ",", ""))
		in.rate, rateErr = strconv.ParseFloat(strings.ReplaceAll(rateStr, ",", ""), 64)
		switch {
		case capErr != nil:
			return in, "capacity"
		case rateErr != nil:
			return in, "rate"
		}
		st.Capacity, st.Rate = in.capacity, in.rate
	case "pacing":
		var ok bool
		if in, ok = dashPacing(r); !ok {
			return in, in.fields[len(in.fields)-1].Name
		}
		st.Pacing = in.pacing
	case "message":
		in.message = strings.TrimSpace(r.PostFormValue("message"))
		resume := strings.TrimSpace(r.PostFormValue("resume_at"))
		in.fields = []dashField{{"message", in.message}, {"resume_at", resume}}
		if resume != "" {
			t, err := time.ParseInLocation(dashResumeLayout, resume, d.location())
			if err != nil {
				return in, "resume_at"
			}
			in.resumeAt = t
		}
		st.Message, st.ResumeAt = in.message, in.resumeAt
	default:
		return in, ""
	}
	// The one check of settings (room.Settings.Validate), as the admin
	// API and the configuration file make it.
	var se *room.SettingError
	if err := st.Validate(); errors.As(err, &se) {
		return in, se.Field
	} else if err != nil {
		return in, action
	}
	if action == "settings" {
		in.fields = []dashField{{"capacity", strconv.Itoa(in.capacity)}, {"rate", strconv.FormatFloat(in.rate, 'f', -1, 64)}}
	}
	return in, ""
}

// dashPacing reads the pacing form; on a field that is not a number (or
// a duration) ok is false and that field is the last of in.fields.
func dashPacing(r *http.Request) (in dashInput, ok bool) {
	p := &in.pacing
	p.Mode = strings.TrimSpace(r.PostFormValue("mode"))
	in.fields = append(in.fields, dashField{"mode", p.Mode})
	for _, f := range []struct {
		name string
		num  *float64
		dur  *time.Duration
	}{
		{"target_p95", nil, &p.TargetP95},
		{"max_error_rate", &p.MaxErrorRate, nil},
		{"min_rate", &p.MinRate, nil},
		{"max_rate", &p.MaxRate, nil},
	} {
		v := strings.TrimSpace(r.PostFormValue(f.name))
		in.fields = append(in.fields, dashField{f.name, v})
		var err error
		if f.dur != nil {
			*f.dur, err = time.ParseDuration(v)
		} else {
			*f.num, err = strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
		}
		if err != nil {
			return in, false
		}
	}
	return in, true
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
	in, refused := d.input(r, rm, action)
	if refused != "" {
		d.formError(w, r, rm.Name(), refused, in.fields)
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
		var se *room.SettingError
		if errors.As(err, &se) {
			d.formError(w, r, rm.Name(), se.Field, in.fields)
			return
		}
		d.message(w, r, http.StatusBadRequest, "dash.err_update")
		return
	}
	if d.Server.Log != nil {
		d.Server.Log.Info("dashboard: room "+action, "room", rm.Name(),
			slog.Group("settings", "capacity", in.capacity, "rate", in.rate, "message", in.message, "resume_at", in.resumeAt, "pacing", in.pacing.String()))
	}
	http.Redirect(w, r, d.Server.Path("/admin?done="+action+"&room="+url.QueryEscape(rm.Name())+"#room-"+rm.Name()), http.StatusSeeOther)
}

// dashPacingErrors says what is wrong with each field of the pacing form.
var dashPacingErrors = map[string]string{
	"mode": "dash.err_pacing_mode", "target_p95": "dash.err_pacing_target_p95", "max_error_rate": "dash.err_pacing_errors",
	"min_rate": "dash.err_pacing_min_rate", "max_rate": "dash.err_pacing_max_rate",
}

// dashFormError is a room's form (settings, or the message to the line)
// sent back with the values refused: Field is the setting refused, Text
// says why in the page's language, Entered is what the operator typed in
// that form.
type dashFormError struct {
	Room, Field, Text string
	Entered           map[string]string
}

// formError answers the dashboard with the room's form showing the
// operator's values and what is wrong with the named setting (422).
func (d *Dashboard) formError(w http.ResponseWriter, r *http.Request, roomName, field string, entered []dashField) {
	v := d.base(w, r, "dash.title")
	v.Live = d.live(r.Context(), v.Lang)
	field = strings.TrimPrefix(field, "pacing.") // the pacing form's fields
	e := &dashFormError{Room: roomName, Field: field, Entered: map[string]string{}}
	for _, f := range entered {
		e.Entered[f.Name] = f.Value
	}
	zero := func(typed string) string {
		if c, err := strconv.ParseFloat(strings.ReplaceAll(typed, ",", ""), 64); err == nil && c == 0 {
			return " " + v.T("dash.err_zero")
		}
		return ""
	}
	switch field {
	case "capacity":
		e.Text = v.T("dash.err_capacity", v.Lang.Num(room.MinCapacity), v.Lang.Num(room.MaxCapacity)) + zero(e.Entered["capacity"])
	case "rate":
		e.Text = v.T("dash.err_rate", strconv.FormatFloat(room.MinRate, 'f', -1, 64), v.Lang.Num(room.MaxRate)) + zero(e.Entered["rate"])
	case "message":
		e.Text = v.T("dash.err_message", room.MaxMessageLen)
	case "resume_at":
		e.Text = v.T("dash.err_resume", room.MinResumeYear, room.MaxResumeYear)
	case "mode", "target_p95", "max_error_rate", "min_rate", "max_rate":
		e.Text = v.T(dashPacingErrors[field])
	default:
		e.Text = v.T("dash.err_update")
	}
	v.FormError = e
	d.render(w, r, http.StatusUnprocessableEntity, "dashboard.html", v)
}
