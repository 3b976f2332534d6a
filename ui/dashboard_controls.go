// Operator dashboard: the room controls (pause, resume, close, reopen,
// capacity and rate).

package ui

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/room"
)

// dashActions are the room controls: the room setting each changes.
var dashActions = map[string]func(st *room.Settings, capacity int, rate float64){
	"pause":    func(st *room.Settings, _ int, _ float64) { st.Paused = true },
	"resume":   func(st *room.Settings, _ int, _ float64) { st.Paused = false },
	"close":    func(st *room.Settings, _ int, _ float64) { st.Closed = true },
	"reopen":   func(st *room.Settings, _ int, _ float64) { st.Closed = false },
	"settings": func(st *room.Settings, c int, r float64) { st.Capacity, st.Rate = c, r },
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
	var capacity int
	var rate float64
	capStr, rateStr := strings.TrimSpace(r.PostFormValue("capacity")), strings.TrimSpace(r.PostFormValue("rate"))
	if action == "settings" {
		var capErr, rateErr error
		capacity, capErr = strconv.Atoi(strings.ReplaceAll(capStr, ",", ""))
		rate, rateErr = strconv.ParseFloat(strings.ReplaceAll(rateStr, ",", ""), 64)
		// The one check of settings (room.Settings.Validate), as the admin
		// API and the configuration file make it.
		st := rm.Settings()
		st.Capacity, st.Rate = capacity, rate
		var se *room.SettingError
		switch err := st.Validate(); {
		case capErr != nil:
			d.formError(w, r, rm.Name(), "capacity", capStr, rateStr)
			return
		case rateErr != nil:
			d.formError(w, r, rm.Name(), "rate", capStr, rateStr)
			return
		case errors.As(err, &se):
			d.formError(w, r, rm.Name(), se.Field, capStr, rateStr)
			return
		}
		capStr, rateStr = strconv.Itoa(capacity), strconv.FormatFloat(rate, 'f', -1, 64)
	}
	if r.PostFormValue("confirm") != "yes" {
		v := d.base(nil, r, "dash.confirm_title")
		q := v.T("dash.confirm_"+action, rm.Name())
		q = strings.NewReplacer("{capacity}", capStr, "{rate}", rateStr).Replace(q)
		v.Confirm = &dashConfirm{Room: rm.Name(), Action: action, Question: q, Capacity: capStr, Rate: rateStr}
		d.render(w, r, http.StatusOK, "dashboard_confirm.html", v)
		return
	}
	if _, err := rm.Update(func(st *room.Settings) { change(st, capacity, rate) }); err != nil {
		var se *room.SettingError
		if errors.As(err, &se) {
			d.formError(w, r, rm.Name(), se.Field, capStr, rateStr)
			return
		}
		d.message(w, r, http.StatusBadRequest, "dash.err_update")
		return
	}
	if d.Server.Log != nil {
		d.Server.Log.Info("dashboard: room "+action, "room", rm.Name(), slog.Group("settings", "capacity", capacity, "rate", rate))
	}
	http.Redirect(w, r, d.Server.Path("/admin?done="+action+"&room="+url.QueryEscape(rm.Name())+"#room-"+rm.Name()), http.StatusSeeOther)
}

// dashFormError is a room's settings form sent back with the values
// refused: Field is the setting refused, Text says why in the page's
// language, Capacity and Rate are what the operator typed.
type dashFormError struct {
	Room, Field, Text string
	Capacity, Rate    string
}

// formError answers the dashboard with the room's settings form showing
// the operator's values and what is wrong with the named setting (422).
func (d *Dashboard) formError(w http.ResponseWriter, r *http.Request, roomName, field, capStr, rateStr string) {
	v := d.base(w, r, "dash.title")
	v.Live = d.live(r.Context(), v.Lang)
	text := v.T("dash.err_update")
	switch field {
	case "capacity":
		text = v.T("dash.err_capacity", v.Lang.Num(room.MinCapacity), v.Lang.Num(room.MaxCapacity))
		if c, err := strconv.ParseFloat(capStr, 64); err == nil && c == 0 {
			text += " " + v.T("dash.err_zero")
		}
	case "rate":
		text = v.T("dash.err_rate", strconv.FormatFloat(room.MinRate, 'f', -1, 64), v.Lang.Num(room.MaxRate))
		if c, err := strconv.ParseFloat(rateStr, 64); err == nil && c == 0 {
			text += " " + v.T("dash.err_zero")
		}
	}
	v.FormError = &dashFormError{Room: roomName, Field: field, Text: text, Capacity: capStr, Rate: rateStr}
	d.render(w, r, http.StatusUnprocessableEntity, "dashboard.html", v)
}
