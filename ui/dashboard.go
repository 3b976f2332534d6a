package ui

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/web"
)

//go:embed templates/dashboard*.html static/dashboard.js static/dashboard.css
var dashFS embed.FS

var dashAssets = loadAssets(dashFS, "dashboard.js", "dashboard.css")

// Dashboard serves the operator dashboard: a live view of every room and
// of the booking campaign, with controls, behind the admin token.
// Server-rendered (works without JavaScript); a small embedded script
// refreshes the figures and charts from /admin/api/live and asks for
// confirmations.
//
// Routes (see Register):
//
//	GET  /admin/login                    sign-in form (admin token)
//	POST /admin/login                    sets the session cookie
//	POST /admin/logout                   clears it
//	GET  /admin                          the dashboard
//	GET  /admin/api/live                 the same figures as JSON (cookie or Bearer token)
//	POST /admin/rooms/{room}/{action}    pause | resume | close | reopen | settings (capacity, rate)
//	GET  /admin/static/dashboard.{js,css}
type Dashboard struct {
	// Server is the HTTP server the dashboard is part of (required): its
	// admin token and its one admin check (CheckAdminToken) guard the
	// dashboard as they guard the admin API.
	Server *web.Server
	Rooms  *room.Manager
	// Booking is the booking service (nil: booking is off).
	Booking *booking.Service
	// Sent returns the last notifications sent, newest first (nil: taken
	// from the booking service's sender when it can tell, else none).
	Sent  func() []booking.Message
	Clock clock.Clock
	// History is the rooms' history for the charts, sampled by the caller
	// (the app does). If nil the dashboard keeps its own, sampled when its
	// pages are served.
	History *room.History
	// BookingRoom names the room in front of the booking API: it comes
	// first, with the booking service's health, and (when History is nil)
	// the dashboard's own history counts its bookings.
	BookingRoom string

	init     sync.Once
	pages    map[string]*template.Template
	cop      *http.CrossOriginProtection
	sampleMu sync.Mutex
	ownHist  bool
}

// Dashboard constants.
const (
	dashCookie      = "sluice_admin"
	dashSessionTTL  = 12 * time.Hour
	dashPoll        = 3 * time.Second
	dashNotices     = 20
	dashRateGap     = 5 * time.Second // live rates are measured over at least this long
	dashChartWidth  = 360
	dashChartHeight = 100
)

func (d *Dashboard) setup() {
	d.init.Do(func() {
		if d.Clock == nil {
			d.Clock = clock.System{}
		}
		if d.Rooms == nil {
			d.Rooms = d.Server.Rooms
		}
		if d.History == nil {
			d.History = room.NewHistory(d.Rooms, room.DefaultHistoryInterval, room.DefaultHistorySize)
			d.ownHist = true
		}
		if d.Sent == nil && d.Booking != nil {
			if r, ok := d.Booking.Sender().(interface{ Recent() []booking.Message }); ok {
				d.Sent = r.Recent
			}
		}
		funcs := template.FuncMap{"join": strings.Join}
		d.pages = map[string]*template.Template{}
		for _, p := range []string{"dashboard.html", "dashboard_login.html", "dashboard_confirm.html", "dashboard_message.html"} {
			d.pages[p] = template.Must(template.New(p).Funcs(funcs).ParseFS(dashFS, "templates/dashboard_layout.html", "templates/"+p))
		}
		d.cop = http.NewCrossOriginProtection()
		d.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			d.message(w, r, http.StatusForbidden, "dash.csrf")
		}))
	})
}

// Register adds the dashboard's routes to mux.
func (d *Dashboard) Register(mux *http.ServeMux) {
	d.setup()
	post := func(h http.Handler) http.Handler { return d.cop.Handler(h) }
	mux.HandleFunc("GET /admin/login", d.handleLoginPage)
	mux.Handle("POST /admin/login", post(http.HandlerFunc(d.handleLogin)))
	mux.Handle("POST /admin/logout", post(http.HandlerFunc(d.handleLogout)))
	mux.HandleFunc("GET /admin", d.page(d.handleDashboard))
	mux.HandleFunc("GET /admin/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, d.Server.Path("/admin"), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /admin/api/live", d.handleLive)
	mux.Handle("POST /admin/rooms/{room}/{action}", post(d.page(d.handleAction)))
	mux.HandleFunc("GET /admin/static/{file}", d.handleAsset)
}

// dashView is what every dashboard page template gets.
type dashView struct {
	Lang     Lang
	TitleKey string
	Error    string // catalogue key
	// ErrorWait, when not "", is the argument of Error's text: how long a
	// blocked sign-in has left to wait (Lang.Dur).
	ErrorWait    string
	Flash        string // already translated
	Live         *dashLive
	Confirm      *dashConfirm
	Message      string // catalogue key (message page)
	Status       int
	PollMS       int
	OtherLangURL string
	// Base is the prefix of Sluice's own paths (web.Server.Prefix).
	Base     string
	SignedIn bool
	Reasons  []string
	// FormError is a room's form refused (nil: none).
	FormError *dashFormError
}

// FieldError is what is wrong with a setting of a room's form ("": nothing).
func (v dashView) FieldError(roomName, field string) string {
	if e := v.FormError; e != nil && e.Room == roomName && e.Field == field {
		return e.Text
	}
	return ""
}

// Entered is the value a room's form shows for a field: what the operator
// typed when that form was refused, else current.
func (v dashView) Entered(roomName, field string, current any) any {
	if e := v.FormError; e != nil && e.Room == roomName {
		if typed, ok := e.Entered[field]; ok {
			return typed
		}
	}
	return current
}

// dashFormField is an input of a room's settings or pacing form as the form
// shows it (the template "dash-field"): the room's value, or what the
// operator typed when the form was refused, with why.
type dashFormField struct {
	Room, Name, Label string
	Type, Mode        string // the input's type and inputmode
	Min, Max, Step    string // the form's own checks ("": none)
	Value, Error      string
}

// field fills in f, an input of room r's forms whose value is current.
func (v dashView) field(r dashRoom, f dashFormField, current any) dashFormField {
	f.Room, f.Label = r.Room, v.T(f.Label)
	f.Value = fmt.Sprint(v.Entered(r.Room, f.Name, current))
	f.Error = v.FieldError(r.Room, f.Name)
	return f
}

// SettingsFields are the settings form's fields, bounded as
// room.Settings.Validate bounds them.
func (v dashView) SettingsFields(r dashRoom) []dashFormField {
	return []dashFormField{
		v.field(r, dashFormField{Name: "capacity", Label: "dash.capacity_label", Type: "number", Mode: "numeric",
			Min: fmt.Sprint(room.MinCapacity), Max: fmt.Sprint(room.MaxCapacity), Step: "1"}, r.Capacity),
		v.field(r, dashFormField{Name: "rate", Label: "dash.rate_label", Type: "number", Mode: "decimal",
			Min: fmt.Sprint(room.MinRate), Max: fmt.Sprint(room.MaxRate), Step: "any"}, r.Rate),
	}
}

// PacingFields are the pacing form's fields (the mode is a list of its
// own).
func (v dashView) PacingFields(r dashRoom) []dashFormField {
	p := r.Pacing
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	return []dashFormField{
		v.field(r, dashFormField{Name: "target_p95", Label: "dash.pacing_target", Type: "text", Mode: "text"}, p.TargetP95.String()),
		v.field(r, dashFormField{Name: "max_error_rate", Label: "dash.pacing_errors", Type: "text", Mode: "decimal"}, f(p.MaxErrorRate)),
		v.field(r, dashFormField{Name: "min_rate", Label: "dash.pacing_min", Type: "text", Mode: "decimal"}, f(p.MinRate)),
		v.field(r, dashFormField{Name: "max_rate", Label: "dash.pacing_max", Type: "text", Mode: "decimal"}, f(p.MaxRate)),
	}
}

// MaxMessageLen bounds the notice form's text as room.Settings.Validate
// does.
func (v dashView) MaxMessageLen() int { return room.MaxMessageLen }

// T translates a catalogue key, formatted with args when there are any.
func (v dashView) T(key string, args ...any) string { return v.Lang.T(key, args...) }

// V is a live figure, formatted, by key ("vaccine.waiting").
func (v dashView) V(parts ...string) string {
	if v.Live == nil {
		return ""
	}
	return v.Live.Text[strings.Join(parts, ".")]
}

type dashConfirm struct {
	Room, Action, Question string
	Fields                 []dashField // repeated as hidden inputs
}

// base is the view every page starts from. w, if not nil, gets the lang
// cookie when the request switches language.
func (d *Dashboard) base(w http.ResponseWriter, r *http.Request, title string) dashView {
	lang := LangOf(w, r, d.Server.Path("/admin"))
	here := "/admin"
	if r.URL.Path == "/admin/login" {
		here = r.URL.Path
	}
	return dashView{Lang: lang, TitleKey: title, PollMS: int(dashPoll / time.Millisecond), Base: d.Server.Prefix,
		OtherLangURL: d.Server.Path(here + "?lang=" + string(lang.Other())), SignedIn: d.authed(r), Reasons: room.Reasons}
}

func (d *Dashboard) handleAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := dashAssets[r.PathValue("file")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	serveAsset(w, r, a, "no-cache")
}

// message answers a page with one sentence (errors, refusals).
func (d *Dashboard) message(w http.ResponseWriter, r *http.Request, status int, key string) {
	v := d.base(nil, r, "dash.title")
	v.Message, v.Status = key, status
	d.render(w, r, status, "dashboard_message.html", v)
}

func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, page string, v dashView) {
	d.setup()
	setPageHeaders(w.Header(), "no-referrer")
	var b strings.Builder
	if err := d.pages[page].ExecuteTemplate(&b, page, v); err != nil {
		if d.Server.Log != nil {
			d.Server.Log.Error("dashboard: template", "page", page, "err", err)
		}
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}
