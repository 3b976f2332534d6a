package ui

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"net/url"
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
	Server *web.Server
	Rooms  *room.Manager
	// Booking is the booking service (nil: booking is off).
	Booking *booking.Service
	// Sent returns the last notifications sent, newest first (nil: taken
	// from the booking service's sender when it can tell, else none).
	Sent       func() []booking.Message
	AdminToken string
	Clock      clock.Clock
	// History is the rooms' history for the charts, sampled by the caller
	// (the app does). If nil the dashboard keeps its own, sampled when its
	// pages are served.
	History *room.History
	// BookingRoom names the room in front of the booking API; only used to
	// attach bookings to the dashboard's own history when History is nil.
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
		if d.Rooms == nil && d.Server != nil {
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
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /admin/api/live", d.handleLive)
	mux.Handle("POST /admin/rooms/{room}/{action}", post(d.page(d.handleAction)))
	mux.HandleFunc("GET /admin/static/{file}", d.handleAsset)
}

// --- authentication ---------------------------------------------------------

// sessionValue is "<expiry unix>.<HMAC of it keyed by the admin token>": it
// proves knowledge of the token without holding it, expires by itself and
// stops working when the token changes.
func (d *Dashboard) sessionValue(exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	return e + "." + d.sessionMAC(e)
}

func (d *Dashboard) sessionMAC(exp string) string {
	key := sha256.Sum256([]byte("sluice admin session\x00" + d.AdminToken))
	m := hmac.New(sha256.New, key[:])
	m.Write([]byte("admin-session-v1\x00" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (d *Dashboard) validSession(v string) bool {
	if d.AdminToken == "" {
		return false
	}
	e, mac, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	exp, err := strconv.ParseInt(e, 10, 64)
	// Session expiry runs on real time, not on the (settable) demo clock.
	if err != nil || time.Now().Unix() >= exp || exp > time.Now().Add(dashSessionTTL+time.Minute).Unix() {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(d.sessionMAC(e)))
}

// tokenOK compares a presented token with the admin token in constant time
// (over hashes, so that the length is not revealed either).
func (d *Dashboard) tokenOK(tok string) bool {
	if d.AdminToken == "" || tok == "" {
		return false
	}
	a, b := sha256.Sum256([]byte(tok)), sha256.Sum256([]byte(d.AdminToken))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

func (d *Dashboard) authed(r *http.Request) bool {
	if c, err := r.Cookie(dashCookie); err == nil && d.validSession(c.Value) {
		return true
	}
	return false
}

// page requires a session; without one, browsers go to the sign-in page.
func (d *Dashboard) page(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !d.authed(r) {
			w.Header().Set("Cache-Control", "no-store")
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
				return
			}
			d.message(w, r, http.StatusUnauthorized, "dash.signed_out")
			return
		}
		h(w, r)
	}
}

func (d *Dashboard) setSession(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: dashCookie, Value: value, Path: "/admin", MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

func (d *Dashboard) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	d.setup()
	if d.authed(r) {
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
		return
	}
	d.render(w, r, http.StatusOK, "dashboard_login.html", d.base(w, r, "dash.login_title"))
}

func (d *Dashboard) handleLogin(w http.ResponseWriter, r *http.Request) {
	var failures *web.AuthFailures
	if d.Server != nil {
		failures = d.Server.AdminFailures
	}
	if wait, blocked := failures.Blocked(r); blocked {
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
		v := d.base(nil, r, "dash.login_title")
		v.Error = "dash.login_blocked"
		d.render(w, r, http.StatusTooManyRequests, "dashboard_login.html", v)
		return
	}
	if d.tokenOK(r.PostFormValue("token")) {
		d.setSession(w, r, d.sessionValue(time.Now().Add(dashSessionTTL)), int(dashSessionTTL/time.Second))
		if d.Server != nil && d.Server.Log != nil {
			d.Server.Log.Info("dashboard: operator signed in", "remote", r.RemoteAddr)
		}
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
		return
	}
	v := d.base(nil, r, "dash.login_title")
	v.Error = "dash.login_wrong"
	if d.AdminToken == "" {
		v.Error = "dash.login_disabled"
	} else {
		failures.Failed(r)
	}
	d.render(w, r, http.StatusUnauthorized, "dashboard_login.html", v)
}

func (d *Dashboard) handleLogout(w http.ResponseWriter, r *http.Request) {
	d.setSession(w, r, "", -1)
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

// --- views ------------------------------------------------------------------

// dashView is what every dashboard page template gets.
type dashView struct {
	Lang         Lang
	TitleKey     string
	Error        string // catalogue key
	Flash        string // already translated
	Live         *dashLive
	Confirm      *dashConfirm
	Message      string // catalogue key (message page)
	Status       int
	PollMS       int
	OtherLangURL string
	SignedIn     bool
	Reasons      []string
}

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
	Capacity, Rate         string
}

// base is the view every page starts from. w, if not nil, gets the lang
// cookie when the request switches language.
func (d *Dashboard) base(w http.ResponseWriter, r *http.Request, title string) dashView {
	lang := LangOf(w, r)
	here := "/admin"
	if r.URL.Path == "/admin/login" {
		here = r.URL.Path
	}
	return dashView{Lang: lang, TitleKey: title, PollMS: int(dashPoll / time.Millisecond),
		OtherLangURL: here + "?lang=" + string(lang.Other()), SignedIn: d.authed(r), Reasons: room.Reasons}
}

// dashLive is the live picture: the JSON of /admin/api/live and the data of
// the server-rendered page.
type dashLive struct {
	Now           time.Time         `json:"now"`
	WindowSeconds int               `json:"window_seconds"`
	Rooms         []dashRoom        `json:"rooms"`
	Booking       *dashBooking      `json:"booking"`
	Notifications []dashNotice      `json:"notifications"`
	Text          map[string]string `json:"text"` // formatted figures by data-v key, in the page's language
}

type dashRoom struct {
	Room            string            `json:"room"`
	State           room.State        `json:"state"`
	Paused          bool              `json:"paused"`
	Closed          bool              `json:"closed"`
	Waiting         uint64            `json:"waiting"`
	Active          int               `json:"active"`
	Capacity        int               `json:"capacity"`
	Rate            float64           `json:"rate"`
	Admissions      uint64            `json:"admissions_total"`
	Joins           uint64            `json:"joins_total"`
	AdmitRate       float64           `json:"admissions_per_second"`
	JoinRate        float64           `json:"joins_per_second"`
	ETARate         float64           `json:"eta_rate"`
	HasBooking      bool              `json:"has_bookings"`
	BookingRate     float64           `json:"bookings_per_minute"`
	Rejections      map[string]uint64 `json:"gate_rejections"`
	RejectionsTotal uint64            `json:"gate_rejections_total"`
	Series          dashSeries        `json:"series"`
	Charts          []dashChart       `json:"-"`
}

// dashSeries holds a room's history as parallel arrays, oldest first.
type dashSeries struct {
	Age        []float64 `json:"age_seconds"` // how long ago, in real seconds
	Waiting    []float64 `json:"waiting"`
	Active     []float64 `json:"active"`
	AdmitRate  []float64 `json:"admissions_per_second"`
	JoinRate   []float64 `json:"joins_per_second"`
	Bookings   []float64 `json:"bookings_per_minute,omitempty"`
	Rejections []float64 `json:"gate_rejections_total"`
}

type dashChart struct {
	Key, Label, ID string
	Line, Area     string // SVG points
	Now, Max       string
}

type dashBooking struct {
	Campaign   string        `json:"campaign"`
	Booked     int           `json:"booked"`
	Population int           `json:"population"`
	Rate       float64       `json:"rate"`
	PerMinute  float64       `json:"bookings_per_minute"`
	Cohorts    []dashCohort  `json:"cohorts"`
	Vaccines   []dashVaccine `json:"vaccines"`
	Error      string        `json:"error,omitempty"`
}

type dashCohort struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Population int     `json:"population"`
	Booked     int     `json:"booked"`
	Rate       float64 `json:"rate"`
}

type dashVaccine struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Unlimited bool   `json:"unlimited"`
	Allocated int    `json:"allocated"`
	Used      int    `json:"used"`
	Remaining int    `json:"remaining"`
}

type dashNotice struct {
	Time    string `json:"time"`
	Kind    string `json:"kind"`
	KindTxt string `json:"kind_text"`
	To      string `json:"to"`
	Number  string `json:"booking_number"`
	Body    string `json:"body"`
}

// extra is the dashboard's own history sampler's source of gate rejections
// and bookings (used only when no History was given).
func (d *Dashboard) extra(name string) map[string]float64 {
	out := map[string]float64{}
	if d.Server != nil {
		var n uint64
		for _, c := range d.Server.GateRejections()[name] {
			n += c
		}
		out[room.ExtraGateRejections] = float64(n)
	}
	if d.Booking != nil && name == d.BookingRoom && name != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if st, err := d.Booking.Stats(ctx); err == nil {
			out[room.ExtraBookings] = float64(st.Booked)
		}
	}
	return out
}

// maybeSample feeds the dashboard's own history when it has one.
func (d *Dashboard) maybeSample() {
	if !d.ownHist {
		return
	}
	d.sampleMu.Lock()
	defer d.sampleMu.Unlock()
	for _, rm := range d.Rooms.Rooms() {
		if s, ok := d.History.Last(rm.Name()); !ok || d.History.Elapsed()-s.Elapsed >= d.History.Interval() {
			d.History.Sample(d.extra)
			return
		}
	}
}

func (d *Dashboard) location() *time.Location {
	if d.Booking != nil {
		return booking.Seoul
	}
	return time.Local
}

func (d *Dashboard) live(ctx context.Context, lang Lang) *dashLive {
	d.maybeSample()
	now := d.Clock.Now()
	lv := &dashLive{Now: now, WindowSeconds: d.chartWindow(), Text: map[string]string{}}
	txt := lv.Text
	txt["now"] = now.In(d.location()).Format("2006-01-02 15:04:05")
	txt["axis.start"] = "−" + dashMinutes(lv.WindowSeconds)
	txt["axis.mid"] = "−" + dashMinutes(lv.WindowSeconds/2)
	var gates map[string]map[string]uint64
	if d.Server != nil {
		gates = d.Server.GateRejections()
	}
	// The booking figures are read once (Stats caches them for a second).
	var bst *booking.CampaignStats
	var bErr error
	if d.Booking != nil {
		st, err := d.Booking.Stats(ctx)
		bst, bErr = &st, err
	}
	// The live point at the end of each chart: the room now, with rates
	// measured over the last few seconds.
	extra := func(name string) map[string]float64 {
		out := map[string]float64{}
		var n uint64
		for _, c := range gates[name] {
			n += c
		}
		out[room.ExtraGateRejections] = float64(n)
		if s, ok := d.History.Last(name); ok && s.HasBooking && bst != nil && bErr == nil {
			out[room.ExtraBookings] = float64(bst.Booked)
		}
		return out
	}
	var bookingRate float64
	for _, rm := range d.Rooms.Rooms() {
		name := rm.Name()
		c := rm.Counters()
		v := dashRoom{Room: name, State: c.State, Paused: c.Settings.Paused, Closed: c.Settings.Closed,
			Waiting: c.Waiting, Active: c.Active, Capacity: c.Settings.Capacity, Rate: c.Settings.Rate,
			Admissions: c.Admissions, Joins: c.JoinsTotal, ETARate: c.AdmitRate, Rejections: map[string]uint64{}}
		for _, reason := range room.Reasons {
			n := gates[name][reason]
			v.Rejections[reason] = n
			v.RejectionsTotal += n
			txt[name+".rej."+reason] = lang.Round(float64(n))
		}
		series := d.History.Series(name)
		if cur, ok := d.History.Current(name, dashRateGap, extra); ok {
			v.AdmitRate, v.JoinRate = cur.AdmitRate, cur.JoinRate
			if cur.HasBooking {
				v.HasBooking, v.BookingRate = true, cur.BookingRate
				bookingRate = cur.BookingRate
			}
			if n := len(series); n == 0 || cur.Elapsed > series[n-1].Elapsed {
				series = append(series, cur)
			}
		}
		v.Series = d.series(series)
		v.Charts = d.charts(lang, name, v, float64(lv.WindowSeconds))
		lv.Rooms = append(lv.Rooms, v)

		txt[name+".state"] = lang.T("dash.state_" + string(c.State))
		txt[name+".waiting"] = lang.Round(float64(v.Waiting))
		txt[name+".active"] = lang.Round(float64(v.Active)) + " / " + lang.Round(float64(v.Capacity))
		txt[name+".admissions"] = lang.Round(float64(v.Admissions))
		txt[name+".admit_rate"] = lang.Decimal(v.AdmitRate)
		txt[name+".set_rate"] = lang.Decimal(v.Rate)
		txt[name+".join_rate"] = lang.Decimal(v.JoinRate)
		txt[name+".bookings_per_min"] = lang.Decimal(v.BookingRate)
		txt[name+".rejections"] = lang.Round(float64(v.RejectionsTotal))
		for _, ch := range v.Charts {
			txt[ch.ID+".now"], txt[ch.ID+".max"] = ch.Now, ch.Max
		}
	}
	if d.Booking != nil {
		lv.Booking = d.bookingStats(bst, bErr, lang, txt)
		lv.Booking.PerMinute = bookingRate
		txt["booking.per_min"] = lang.Decimal(bookingRate)
	}
	lv.Notifications = d.notices(lang)
	return lv
}

func (d *Dashboard) bookingStats(st *booking.CampaignStats, err error, lang Lang, txt map[string]string) *dashBooking {
	b := &dashBooking{}
	if err != nil {
		b.Error = lang.T("dash.stats_error")
		if d.Server != nil && d.Server.Log != nil {
			d.Server.Log.Warn("dashboard: booking stats", "err", err)
		}
		return b
	}
	b.Campaign = lang.Pick(st.Name, st.NameEN)
	b.Booked, b.Population, b.Rate = st.Booked, st.Population, st.Rate
	txt["booking.booked"] = lang.Round(float64(st.Booked))
	txt["booking.population"] = lang.Round(float64(st.Population))
	txt["booking.rate"] = lang.Percent(st.Rate)
	for _, c := range st.Cohorts {
		b.Cohorts = append(b.Cohorts, dashCohort{ID: c.ID, Name: lang.Pick(c.Name, c.NameEN), Population: c.Population, Booked: c.Booked, Rate: c.Rate})
		txt["booking.cohort."+c.ID+".booked"] = lang.Round(float64(c.Booked))
		txt["booking.cohort."+c.ID+".population"] = lang.Round(float64(c.Population))
		txt["booking.cohort."+c.ID+".rate"] = lang.Percent(c.Rate)
	}
	for _, v := range st.Vaccines {
		b.Vaccines = append(b.Vaccines, dashVaccine{ID: v.ID, Name: lang.Pick(v.Name, v.NameEN), Unlimited: v.Unlimited, Allocated: v.Allocated, Used: v.Used, Remaining: v.Remaining})
		txt["booking.vaccine."+v.ID+".used"] = lang.Round(float64(v.Used))
		if v.Unlimited {
			txt["booking.vaccine."+v.ID+".allocated"] = lang.T("dash.unlimited")
			txt["booking.vaccine."+v.ID+".remaining"] = lang.T("dash.unlimited")
		} else {
			txt["booking.vaccine."+v.ID+".allocated"] = lang.Round(float64(v.Allocated))
			txt["booking.vaccine."+v.ID+".remaining"] = lang.Round(float64(v.Remaining))
		}
	}
	return b
}

func (d *Dashboard) notices(lang Lang) []dashNotice {
	out := []dashNotice{}
	if d.Sent == nil {
		return out
	}
	for _, m := range d.Sent() {
		if len(out) == dashNotices {
			break
		}
		body := m.Body
		if m.Kind == "verification" {
			body = lang.T("dash.code_withheld") // a login code: never on a screen
		}
		at := m.CreatedAt
		if m.SentAt != nil {
			at = *m.SentAt
		}
		to := m.To
		if !strings.Contains(to, "*") { // senders may mask already
			to = booking.MaskPhone(to)
		}
		n := dashNotice{Kind: m.Kind, KindTxt: lang.T("dash.kind_" + m.Kind), To: to, Number: m.BookingNumber, Body: body}
		if !at.IsZero() {
			n.Time = at.In(d.location()).Format("01-02 15:04:05")
		}
		out = append(out, n)
	}
	return out
}

func (d *Dashboard) series(samples []room.Sample) dashSeries {
	el := d.History.Elapsed()
	s := dashSeries{}
	hasBooking := false
	for _, x := range samples {
		hasBooking = hasBooking || x.HasBooking
	}
	for _, x := range samples {
		s.Age = append(s.Age, math.Round((el - x.Elapsed).Seconds()))
		s.Waiting = append(s.Waiting, float64(x.Waiting))
		s.Active = append(s.Active, float64(x.Active))
		s.AdmitRate = append(s.AdmitRate, dashRound2(x.AdmitRate))
		s.JoinRate = append(s.JoinRate, dashRound2(x.JoinRate))
		s.Rejections = append(s.Rejections, float64(x.Rejections))
		if hasBooking {
			s.Bookings = append(s.Bookings, dashRound2(x.BookingRate))
		}
	}
	return s
}

func dashRound2(v float64) float64 { return math.Round(v*100) / 100 }

// chartWindow is the span the charts show, in seconds: the history's whole
// window once it is full, less while the server is young (so that the first
// minutes are not a sliver at the right edge).
func (d *Dashboard) chartWindow() int {
	full := int(d.History.Window() / time.Second)
	var oldest time.Duration
	el := d.History.Elapsed()
	for _, rm := range d.Rooms.Rooms() {
		if s := d.History.Series(rm.Name()); len(s) > 0 {
			oldest = max(oldest, el-s[0].Elapsed)
		}
	}
	for _, w := range []int{300, 600, 1200, 1800} {
		if w < full && oldest <= time.Duration(w)*time.Second {
			return w
		}
	}
	return full
}

// dashMinutes formats seconds as minutes: "60′", "2.5′", "45″".
func dashMinutes(sec int) string {
	if sec < 60 {
		return strconv.Itoa(sec) + "″"
	}
	return strconv.FormatFloat(float64(sec)/60, 'f', -1, 64) + "′"
}

// dashChartDefs are the charts of a room: key (as in dashSeries' JSON),
// catalogue label, whether a rate (decimals).
var dashChartDefs = []struct {
	key, label string
	rate       bool
	pick       func(s *dashSeries) []float64
}{
	{"waiting", "dash.chart_waiting", false, func(s *dashSeries) []float64 { return s.Waiting }},
	{"active", "dash.chart_active", false, func(s *dashSeries) []float64 { return s.Active }},
	{"admissions_per_second", "dash.chart_admit", true, func(s *dashSeries) []float64 { return s.AdmitRate }},
	{"joins_per_second", "dash.chart_joins", true, func(s *dashSeries) []float64 { return s.JoinRate }},
	{"bookings_per_minute", "dash.chart_bookings", true, func(s *dashSeries) []float64 { return s.Bookings }},
}

func (d *Dashboard) charts(lang Lang, roomName string, v dashRoom, window float64) []dashChart {
	var out []dashChart
	for _, def := range dashChartDefs {
		vals := def.pick(&v.Series)
		if def.key == "bookings_per_minute" && !v.HasBooking {
			continue
		}
		line, area, top := dashChartPoints(v.Series.Age, vals, window)
		ch := dashChart{Key: def.key, Label: lang.T(def.label), ID: roomName + "." + def.key, Line: line, Area: area}
		last := 0.0
		if len(vals) > 0 {
			last = vals[len(vals)-1]
		}
		if def.rate {
			ch.Now, ch.Max = lang.Decimal(last), lang.Decimal(top)
		} else {
			ch.Now, ch.Max = lang.Round(last), lang.Round(top)
		}
		out = append(out, ch)
	}
	return out
}

// chartPoints maps a series to SVG points in a dashChartWidth ×
// dashChartHeight box: x by age (right edge = now, left = window ago), y
// scaled to the series' maximum. dashboard.js does the same computation.
func dashChartPoints(age, vals []float64, window float64) (line, area string, top float64) {
	top = 0
	for _, v := range vals {
		top = max(top, v)
	}
	scale := max(top, 1)
	var b strings.Builder
	firstX, lastX := -1.0, 0.0
	for i, v := range vals {
		x := float64(dashChartWidth) * (1 - age[i]/window)
		if x < 0 {
			continue
		}
		y := float64(dashChartHeight) - v/scale*float64(dashChartHeight-4) - 2
		if firstX < 0 {
			firstX = x
		}
		lastX = x
		fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
	}
	line = strings.TrimSpace(b.String())
	if line != "" {
		area = fmt.Sprintf("%.1f,%d %s %.1f,%d", firstX, dashChartHeight, line, lastX, dashChartHeight)
	}
	return line, area, top
}

// --- handlers -----------------------------------------------------------------

func (d *Dashboard) handleDashboard(w http.ResponseWriter, r *http.Request) {
	v := d.base(w, r, "dash.title")
	v.Live = d.live(r.Context(), v.Lang)
	if done := r.URL.Query().Get("done"); done != "" {
		if _, ok := dashActions[done]; ok {
			if rm, ok := d.Rooms.Get(r.URL.Query().Get("room")); ok {
				v.Flash = v.T("dash.done_"+done, rm.Name())
			}
		}
	}
	d.render(w, r, http.StatusOK, "dashboard.html", v)
}

// handleLive answers the live figures as JSON, to a signed-in browser (the
// session cookie) or to a script (Authorization: Bearer <admin token>).
func (d *Dashboard) handleLive(w http.ResponseWriter, r *http.Request) {
	d.setup()
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !d.authed(r) && !d.tokenOK(strings.TrimSpace(tok)) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sluice-admin"`)
		web.WriteProblem(w, web.Problem{Status: http.StatusUnauthorized, Code: "admin_auth",
			Detail: "Sign in at /admin/login or send \"Authorization: Bearer <admin token>\".", DetailKO: "관리자 로그인이 필요합니다."})
		return
	}
	lv := d.live(r.Context(), LangOf(nil, r))
	b, err := json.Marshal(lv)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}

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
	if d.Server != nil && d.Server.Log != nil {
		d.Server.Log.Info("dashboard: room "+action, "room", rm.Name(), slog.Group("settings", "capacity", capacity, "rate", rate))
	}
	http.Redirect(w, r, "/admin?done="+action+"&room="+url.QueryEscape(rm.Name())+"#room-"+rm.Name(), http.StatusSeeOther)
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
		if d.Server != nil && d.Server.Log != nil {
			d.Server.Log.Error("dashboard: template", "page", page, "err", err)
		}
		http.Error(w, "template error", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}
