// Operator dashboard: the room controls (pause, resume, close, reopen,
// capacity and rate).

package ui

import (
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
		var err error
		capacity, err = strconv.Atoi(strings.ReplaceAll(capStr, ",", ""))
		if err != nil || capacity < 1 || capacity > 10_000_000 {
			d.message(w, r, http.StatusBadRequest, "dash.err_capacity")
			return
		}
		rate, err = strconv.ParseFloat(strings.ReplaceAll(rateStr, ",", ""), 64)
		if err != nil || !(rate > 0) || rate > 1_000_000 {
			d.message(w, r, http.StatusBadRequest, "dash.err_rate")
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
		d.message(w, r, http.StatusBadRequest, "dash.err_update")
		return
	}
	if d.Server.Log != nil {
		d.Server.Log.Info("dashboard: room "+action, "room", rm.Name(), slog.Group("settings", "capacity", capacity, "rate", rate))
	}
	http.Redirect(w, r, "/admin?done="+action+"&room="+url.QueryEscape(rm.Name())+"#room-"+rm.Name(), http.StatusSeeOther)
}
