// Package ui holds Sluice's server-rendered pages: the citizen pages
// (landing, waiting room, booking steps, look-up/change/cancel) and the
// operator dashboard. Templates, styles and scripts are embedded in the
// binary; nothing is loaded from outside it.
package ui

import (
	"bytes"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/web"
)

// Cookies of the citizen pages (all SameSite=Lax; the session ones
// HttpOnly).
const (
	// SessionCookie holds the booking session id after identity
	// verification.
	SessionCookie = "sluice_session"
	// LookupCookie holds the id of a recent look-up, which the change and
	// cancel steps act on (the RRN is never put in a page).
	LookupCookie = "sluice_lookup"
)

// Pages serves the citizen pages. Register adds them to a mux; the zero
// value is not usable: Server is required, Booking enables everything but
// the waiting page.
type Pages struct {
	Server *web.Server
	// Booking is the booking service; nil serves only the waiting page
	// (e.g. a proxy in front of another site).
	Booking *booking.Service
	// Room is the waiting room in front of the booking steps ("vaccine").
	Room string
	// Clock is the server clock (default Server.Clock).
	Clock clock.Clock
	// Demo shows the demo's hints: a sample identity, a banner with the
	// demo clock and a link to /demo.
	Demo bool

	lookups lookupStore
}

//go:embed templates/layout.html templates/parts.html templates/landing.html templates/wait.html
//go:embed templates/verify.html templates/code.html templates/eligibility.html templates/clinics.html
//go:embed templates/confirm.html templates/done.html templates/lookup.html templates/booking.html
//go:embed templates/cancel.html templates/message.html
//go:embed static/sluice.css static/wait.js static/book.js
var citizenFS embed.FS

// Register adds the citizen pages to mux and makes them the server's
// waiting page. Booking steps are behind the gate of p.Room; every POST is
// checked against cross-origin requests (CSRF).
func (p *Pages) Register(mux *http.ServeMux) {
	if p.Clock == nil {
		p.Clock = p.Server.Clock
	}
	p.Server.WaitPage = p.serveWait
	for name := range citizenAssets {
		mux.HandleFunc("GET /static/"+name, serveCitizenAsset)
	}
	if p.Booking == nil {
		return
	}
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(p.denyCrossOrigin))
	get := func(pattern string, h http.HandlerFunc) { mux.Handle("GET "+pattern, p.gated(h)) }
	post := func(pattern string, h http.HandlerFunc) { mux.Handle("POST "+pattern, csrf.Handler(p.gated(h))) }

	mux.HandleFunc("GET /{$}", p.landing)
	get("/book", p.bookStart)
	post("/book/verify", p.bookVerify)
	post("/book/code", p.bookCode)
	get("/book/eligibility", p.bookEligibility)
	get("/book/clinics", p.bookClinics)
	get("/book/confirm", p.bookConfirm)
	post("/book", p.bookSubmit)
	get("/booking", p.lookupForm)
	post("/booking", p.lookupSubmit)
	get("/booking/view", p.lookupView)
	get("/booking/cancel", p.cancelConfirm)
	post("/booking/cancel", p.cancelSubmit)
	get("/booking/change", p.changeSearch)
	get("/booking/change/confirm", p.changeConfirm)
	post("/booking/change", p.changeSubmit)
}

func (p *Pages) now() time.Time { return p.Clock.Now() }

// --- assets ------------------------------------------------------------------

// citizenAssets are the files of static/, served at /static/NAME with a
// content hash as version (?v=): a year of caching, and a new URL whenever a
// file changes.
var citizenAssets = loadAssets(citizenFS, "sluice.css", "wait.js", "book.js")

// AssetURL is the versioned address of a file of ui/static.
func AssetURL(name string) string {
	a, ok := citizenAssets[name]
	if !ok {
		return "/static/" + name
	}
	return "/static/" + name + "?v=" + a.version
}

func serveCitizenAsset(w http.ResponseWriter, r *http.Request) {
	a, ok := citizenAssets[strings.TrimPrefix(r.URL.Path, "/static/")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	serveAsset(w, r, a, "public, max-age=300")
}

// --- templates ---------------------------------------------------------------

// citizenTemplates has one template set per page: the layout, the shared
// parts and the page's file.
var citizenTemplates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"landing", "wait", "verify", "code", "eligibility", "clinics", "confirm", "done", "lookup", "booking", "cancel", "message"} {
		out[name] = template.Must(template.New("layout.html").ParseFS(citizenFS,
			"templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
	}
	return out
}()

// page is what every template gets: the language, the layout's data and
// the page's own (D).
type page struct {
	Lang      Lang
	Title     string
	SwitchURL string
	Now       time.Time
	Demo      bool
	// Generic pages (the waiting page of another room, or no booking) do
	// not show the campaign's name and menu.
	Generic bool
	Step    int
	Home    bool // the landing page: its title is the campaign's name
	Scripts []string
	Problem *problem
	D       any
}

// T translates a catalogue key.
func (pg *page) T(key string, args ...any) string { return pg.Lang.T(key, args...) }

// Asset is the versioned address of a static file.
func (pg *page) Asset(name string) string { return AssetURL(name) }

// Invalid reports whether the page's problem is about the named field.
func (pg *page) Invalid(field string) bool { return pg.Problem != nil && pg.Problem.Field == field }

// EN is the English text of a key (a gloss on Korean pages).
func (pg *page) EN(key string) string { return LangEN.T(key) }

// With pairs the page with a key, for the "statehead" template.
func (pg *page) With(key string) struct {
	P   *page
	Key string
} {
	return struct {
		P   *page
		Key string
	}{pg, key}
}

// Steps lists the booking steps for the indicator.
func (pg *page) Steps() []int { return []int{1, 2, 3, 4, 5} }

// problem is an error shown to a person: what went wrong and what to do
// next.
type problem struct {
	Text     string
	Next     string
	Link     string
	LinkText string
	Field    string // the form field it is about ("name", "rrn", ...)
}

// newPage starts a page: the language (remembered from ?lang=), and the
// language switch, which for a POST leads to the GET page back.
func (p *Pages) newPage(w http.ResponseWriter, r *http.Request, titleKey, back string) *page {
	l := LangOf(w, r)
	pg := &page{Lang: l, Now: p.now(), Demo: p.Demo, Generic: p.Booking == nil}
	pg.Title = l.T(titleKey)
	target := back
	q := url.Values{}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		target = r.URL.Path
		q = r.URL.Query()
	}
	q.Set("lang", string(l.Other()))
	pg.SwitchURL = target + "?" + q.Encode()
	return pg
}

// render writes a page with the headers every page has (setPageHeaders).
func (p *Pages) render(w http.ResponseWriter, status int, name string, pg *page) {
	var buf bytes.Buffer
	if err := citizenTemplates[name].Execute(&buf, pg); err != nil {
		p.Server.Log.Error("rendering page", "page", name, "err", err)
		http.Error(w, "internal error / 서버 오류", http.StatusInternalServerError)
		return
	}
	setPageHeaders(w.Header(), "same-origin")
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type messageData struct {
	H1 string
}

// renderMessage shows a page with a heading and a problem (what happened,
// what to do next).
func (p *Pages) renderMessage(w http.ResponseWriter, status int, pg *page, h1 string, pr *problem) {
	pg.Problem = pr
	pg.Title = h1
	pg.D = messageData{H1: h1}
	p.render(w, status, "message", pg)
}

// renderError shows what went wrong with a booking step under the heading
// h1Key, with the next step; search is where to choose another time.
func (p *Pages) renderError(w http.ResponseWriter, pg *page, h1Key string, err error, search string) {
	pr, status := problemOf(pg.Lang, err, search)
	p.renderMessage(w, status, pg, pg.T(h1Key), pr)
}

// renderSlotInvalid answers a confirmation step whose clinic, date or time
// does not parse, with the way back to the search.
func (p *Pages) renderSlotInvalid(w http.ResponseWriter, pg *page, h1Key, back string) {
	p.renderMessage(w, http.StatusBadRequest, pg, pg.T(h1Key), &problem{Text: pg.T("error.slot_invalid"), Link: back, LinkText: pg.T("next.search")})
}

// busyProblem says to come back after wait (the join limiter refused).
func busyProblem(pg *page, wait time.Duration) *problem {
	return &problem{Text: pg.T("error.busy", int(wait/time.Second)+1), Next: pg.T("next.wait")}
}

// --- gate and CSRF -------------------------------------------------------------

// gated puts h behind the booking room's gate: a browser without a valid
// pass is sent to the waiting page (GET), or told to queue again (POST:
// a form sent after the pass ran out).
func (p *Pages) gated(h http.HandlerFunc) http.Handler {
	g := p.Server.Gate(p.Room)
	return g.Guard(func(w http.ResponseWriter, r *http.Request, _ room.Pass) { h(w, r) },
		func(w http.ResponseWriter, r *http.Request, reason string) {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				g.Reject(w, r, reason)
				return
			}
			ret := "/book"
			if strings.HasPrefix(r.URL.Path, "/booking") {
				ret = "/booking"
			}
			pg := p.newPage(w, r, "wait.gate.h", ret)
			p.renderMessage(w, http.StatusUnauthorized, pg, pg.T("wait.gate.h"), &problem{
				Text: pg.T("wait.gate.text"), Link: web.WaitURL(p.Room, ret), LinkText: pg.T("wait.rejoin"),
			})
		})
}

func (p *Pages) denyCrossOrigin(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "csrf.h", "/")
	p.renderMessage(w, http.StatusForbidden, pg, pg.T("csrf.h"), &problem{
		Text: pg.T("csrf.text"), Link: "/", LinkText: pg.T("wait.home"),
	})
}

// --- errors for people ------------------------------------------------------------

// problemOf turns a booking error into what to tell the person, with the
// next step, and the HTTP status. search is where to choose another time.
func problemOf(l Lang, err error, search string) (*problem, int) {
	ko, en := booking.ErrorMessage(err)
	pr := &problem{Text: l.Pick(ko, en)}
	var ie *booking.InputError
	var ne *booking.NotEligibleError
	switch {
	case errors.As(err, &ie):
		pr.Field, pr.Next = ie.Field, l.T("next.fix")
		return pr, http.StatusBadRequest
	case errors.As(err, &ne):
		if e := ne.Eligibility; e.WindowOpensAt != nil {
			pr.Next = l.T("check.opens", l.When(*e.WindowOpensAt)) + " " + l.T("check.come_back")
		} else {
			pr.Next = l.T("check.none_next")
		}
		pr.Link, pr.LinkText = "/", l.T("next.home")
		return pr, http.StatusForbidden
	case errors.Is(err, booking.ErrSessionExpired):
		pr.Link, pr.LinkText = "/book", l.T("next.verify")
		return pr, http.StatusUnauthorized
	case errors.Is(err, booking.ErrWrongCode):
		pr.Field, pr.Next = "code", l.T("next.fix")
		return pr, http.StatusBadRequest
	case errors.Is(err, booking.ErrChallengeExpired), errors.Is(err, booking.ErrTooManyAttempts):
		pr.Link, pr.LinkText = "/book", l.T("next.newcode")
		return pr, http.StatusGone
	case errors.Is(err, booking.ErrSessionHeld):
		pr.Link, pr.LinkText = "/", l.T("wait.home")
		return pr, http.StatusConflict
	case errors.Is(err, booking.ErrSlotFull), errors.Is(err, booking.ErrNoSecondDose), errors.Is(err, booking.ErrPastDate),
		errors.Is(err, booking.ErrClinicClosed), errors.Is(err, booking.ErrBeyondHorizon), errors.Is(err, booking.ErrVaccineNotOffered),
		errors.Is(err, booking.ErrInvalidSlot), errors.Is(err, booking.ErrClinicNotFound), errors.Is(err, booking.ErrIdempotencyReuse):
		pr.Link, pr.LinkText = search, l.T("next.search")
		return pr, http.StatusConflict
	case errors.Is(err, booking.ErrAlreadyBooked):
		pr.Link, pr.LinkText = "/booking", l.T("next.lookup")
		return pr, http.StatusConflict
	case errors.Is(err, booking.ErrSupplyExhausted), errors.Is(err, booking.ErrProxyNotAllowed):
		pr.Link, pr.LinkText = "/", l.T("next.home")
		return pr, http.StatusConflict
	case errors.Is(err, booking.ErrTooLate):
		pr.Link, pr.LinkText = "/booking/view", l.T("back.view")
		return pr, http.StatusConflict
	case errors.Is(err, booking.ErrCancelled):
		pr.Link, pr.LinkText = "/booking/view", l.T("back.view")
		return pr, http.StatusConflict
	case errors.Is(err, booking.ErrNotFound):
		pr.Next = l.T("next.fix")
		return pr, http.StatusNotFound
	case errors.Is(err, booking.ErrOverloaded):
		pr.Next = l.T("next.wait")
		return pr, http.StatusServiceUnavailable
	}
	pr.Text, pr.Next = l.T("error.generic"), l.T("next.retry")
	return pr, http.StatusInternalServerError
}

// --- landing -------------------------------------------------------------------

type windowRow struct {
	Text   string
	State  string // "open", "later", "closed"
	Opens  time.Time
	Closes time.Time
}

type checkResult struct {
	Eligible bool
	Message  string
	OpensAt  *time.Time // the current window if eligible, else the next one
	ClosesAt *time.Time
	NoMore   bool // no window left for this person
}

type landingData struct {
	Campaign string
	Windows  []windowRow
	AnyOpen  bool
	Next     *windowRow
	Over     bool
	Year     string
	Month    int
	Day      int
	Months   []int
	Days     []int
	Check    *checkResult
	JoinURL  string
}

func (p *Pages) landing(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "check.title", "/")
	l, now := pg.Lang, pg.Now
	camp := p.Booking.Campaign()
	pg.Title, pg.Home = l.Pick(camp.Name, camp.NameEN), true
	d := landingData{Campaign: pg.Title, JoinURL: "/wait/" + p.Room + "?return=/book"}
	for i := 1; i <= 31; i++ {
		if i <= 12 {
			d.Months = append(d.Months, i)
		}
		d.Days = append(d.Days, i)
	}
	for _, wi := range camp.WindowsOn(booking.DateOf(now)) {
		row := windowRow{Text: l.Pick(wi.Text, wi.TextEN), Opens: wi.Opens, Closes: wi.Closes, State: "later"}
		switch {
		case !now.Before(wi.Closes):
			row.State = "closed"
		case !now.Before(wi.Opens):
			row.State, d.AnyOpen = "open", true
		}
		d.Windows = append(d.Windows, row)
	}
	if !d.AnyOpen {
		if wi, ok := nextWindow(camp, now); ok {
			d.Next = &windowRow{Text: l.Pick(wi.Text, wi.TextEN), Opens: wi.Opens, Closes: wi.Closes, State: "later"}
		} else if _, closes := camp.Span(); !now.Before(closes) {
			d.Over = true
		}
	}
	status := http.StatusOK
	birth, given, ok := parseBirth(r.URL.Query(), &d)
	switch {
	case given && !ok:
		pg.Problem = &problem{Text: l.T("check.bad_date"), Next: l.T("check.fix"), Field: "birth"}
		status = http.StatusBadRequest
	case given:
		e := camp.Eligibility(birth, now)
		switch e.Reason {
		case booking.ReasonInvalidBirthDate, booking.ReasonBirthDateInFuture:
			pg.Problem = &problem{Text: l.Pick(e.Message, e.MessageEN), Next: l.T("check.fix"), Field: "birth"}
			status = http.StatusBadRequest
		default:
			d.Check = &checkResult{Eligible: e.Eligible, Message: l.Pick(e.Message, e.MessageEN),
				OpensAt: e.WindowOpensAt, ClosesAt: e.WindowClosesAt, NoMore: !e.Eligible && e.WindowOpensAt == nil}
		}
	}
	pg.D = d
	p.render(w, status, "landing", pg)
}

// parseBirth reads the date of birth of the landing page's check: either
// birth_date=YYYY-MM-DD or the form's y, m and d. It fills the form's
// values back in.
func parseBirth(q url.Values, d *landingData) (booking.Date, bool, bool) {
	if s := strings.TrimSpace(q.Get("birth_date")); s != "" {
		b, err := booking.ParseDate(s)
		if err != nil {
			return booking.Date{}, true, false
		}
		d.Year, d.Month, d.Day = strconv.Itoa(b.Year), int(b.Month), b.Day
		return b, true, true
	}
	ys, ms, ds := strings.TrimSpace(q.Get("y")), q.Get("m"), q.Get("d")
	if ys == "" && ms == "" && ds == "" {
		return booking.Date{}, false, false
	}
	ys = asciiDigits(ys)
	if len(ys) > 4 {
		ys = ys[:4]
	}
	d.Year = ys
	y, yerr := strconv.Atoi(ys)
	m, merr := strconv.Atoi(ms)
	day, derr := strconv.Atoi(ds)
	if merr == nil && m >= 1 && m <= 12 {
		d.Month = m
	}
	if derr == nil && day >= 1 && day <= 31 {
		d.Day = day
	}
	if yerr != nil || len(ys) != 4 || y < 1900 || d.Month == 0 || d.Day == 0 {
		return booking.Date{}, true, false
	}
	b, ok := booking.NewDate(y, time.Month(m), day)
	return b, true, ok
}

// asciiDigits keeps the digits of s, turning full-width ones into ASCII.
func asciiDigits(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
		case c >= '０' && c <= '９':
			b.WriteRune('0' + (c - '０'))
		}
	}
	return b.String()
}

// nextWindow is the window opening next after now, if any.
func nextWindow(c *booking.Campaign, now time.Time) (booking.WindowInfo, bool) {
	var best time.Time
	for _, co := range c.Cohorts {
		for _, w := range co.Windows {
			if w.Opens.After(now) && (best.IsZero() || w.Opens.Before(best)) {
				best = w.Opens
			}
		}
	}
	if best.IsZero() {
		return booking.WindowInfo{}, false
	}
	for _, wi := range c.WindowsOn(booking.DateOf(best)) {
		if wi.Opens.Equal(best) {
			return wi, true
		}
	}
	return booking.WindowInfo{}, false
}

// --- waiting room --------------------------------------------------------------

type waitData struct {
	web.WaitView
	H1            string
	ETAText       string
	CountdownText string
	OpensAtText   string
	UpdatedText   string
	PassUntilText string
	AheadText     string
	PositionText  string
	SelfURL       string
	RejoinURL     string
	NowMS         int64
	ETASeconds    int64
	PollMS        int64
	Live          bool // the script polls (pre-queue, waiting, paused)
	JS            map[string]string
	HomeURL       string
}

// serveWait renders the waiting page (web.Server.WaitPage).
func (p *Pages) serveWait(w http.ResponseWriter, r *http.Request, v web.WaitView) {
	pg := p.newPage(w, r, "wait.title", "/wait/"+v.Room)
	l := pg.Lang
	pg.Generic = p.Booking == nil || v.Room != p.Room
	pg.Now = v.Now
	d := waitData{WaitView: v, H1: l.T("wait.title"), JS: l.jsTexts(), NowMS: v.Now.UnixMilli(), PollMS: v.PollAfter.Milliseconds()}
	if !pg.Generic {
		d.H1 = l.T("wait.h1")
		d.HomeURL = "/"
	}
	d.ETAText = l.Dur(v.ETA)
	if !v.OpensAt.IsZero() {
		d.OpensAtText = l.When(v.OpensAt)
		d.CountdownText = l.Countdown(v.OpensAt.Sub(v.Now))
	}
	if v.ETA >= 0 {
		d.ETASeconds = int64(v.ETA / time.Second)
	}
	d.UpdatedText = l.Clock(v.Now)
	if !v.PassUntil.IsZero() {
		d.PassUntilText = l.Clock(v.PassUntil)
	}
	d.AheadText = l.T("wait.people", l.Num(v.Ahead))
	d.PositionText = l.T("wait.place", l.Num(v.Position))
	d.SelfURL = web.WaitURL(v.Room, v.Return)
	q := url.Values{"rejoin": {"1"}}
	if v.Return != "" {
		q.Set("return", v.Return)
	}
	d.RejoinURL = "/wait/" + v.Room + "?" + q.Encode()
	switch v.State {
	case web.WaitPrequeue, web.WaitWaiting, web.WaitPaused:
		d.Live = true
	}
	// Every state keeps the script: it also forgets a ticket that is over.
	pg.Scripts = []string{"wait.js"}
	pg.Title = d.H1
	pg.D = d
	p.render(w, v.Code, "wait", pg)
}

// --- booking: identity -------------------------------------------------------

type identityData struct {
	Name, Phone string
	Verified    string // name of an already verified person, if any
	Example     bool
}

func (p *Pages) session(r *http.Request) (booking.Session, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return booking.Session{}, false
	}
	return p.Booking.Session(c.Value)
}

// verified returns the verified person of a step that needs one; without
// one it answers the request itself (verify first, or again).
func (p *Pages) verified(w http.ResponseWriter, r *http.Request, pg *page) (booking.Session, bool) {
	if sess, ok := p.session(r); ok {
		return sess, true
	}
	_, err := r.Cookie(SessionCookie)
	pr, status := problemOf(pg.Lang, booking.ErrSessionExpired, "")
	if err != nil {
		pr.Text = pg.T("error.session_missing")
	}
	p.renderMessage(w, status, pg, pg.T("verify.h1"), pr)
	return booking.Session{}, false
}

// GET /book: the identity form.
func (p *Pages) bookStart(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "verify.h1", "/book")
	pg.Step = 1
	d := identityData{Example: p.Demo}
	if sess, ok := p.session(r); ok {
		if r.URL.Query().Get("new") == "" {
			http.Redirect(w, r, "/book/eligibility", http.StatusSeeOther)
			return
		}
		d.Verified = sess.Name
	}
	pg.Scripts = []string{"book.js"}
	pg.D = d
	p.render(w, http.StatusOK, "verify", pg)
}

type codeData struct {
	Challenge string
	To        string // masked phone
	Expires   time.Time
	DemoCode  string
}

// POST /book/verify: start the identity check, show the code form.
func (p *Pages) bookVerify(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "verify.h1", "/book")
	pg.Step = 1
	name, rrn, phone := r.PostFormValue("name"), r.PostFormValue("rrn"), r.PostFormValue("phone")
	form := identityData{Name: trimField(name, 100), Phone: trimField(phone, 40), Example: p.Demo}
	if ok, wait := p.Server.AllowJoin(r); !ok {
		pg.Problem = busyProblem(pg, wait)
		pg.Scripts, pg.D = []string{"book.js"}, form
		p.render(w, http.StatusTooManyRequests, "verify", pg)
		return
	}
	v, err := p.Booking.StartVerification(r.Context(), name, rrn, phone)
	if err != nil {
		// The form comes back with name and phone, never the RRN.
		var status int
		pg.Problem, status = problemOf(pg.Lang, err, "/book")
		pg.Scripts, pg.D = []string{"book.js"}, form
		p.render(w, status, "verify", pg)
		return
	}
	digits, _ := booking.ParsePhone(phone)
	pg.Title = pg.T("code.h1")
	pg.D = codeData{Challenge: v.ChallengeID, To: booking.MaskPhone(digits), Expires: v.ExpiresAt, DemoCode: v.DemoCode}
	p.render(w, http.StatusOK, "code", pg)
}

// POST /book/code: check the code, open the booking session.
func (p *Pages) bookCode(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "code.h1", "/book")
	pg.Step = 1
	d := codeData{
		Challenge: trimField(r.PostFormValue("challenge"), 200),
		To:        keepOnly(r.PostFormValue("to"), "0123456789*-", 20),
	}
	if t, err := time.Parse(time.RFC3339, r.PostFormValue("expires")); err == nil {
		d.Expires = t
	}
	if p.Demo {
		d.DemoCode = keepOnly(r.PostFormValue("demo_code"), "0123456789", 10)
	}
	sess, err := p.Booking.CompleteVerification(r.Context(), d.Challenge, r.PostFormValue("code"))
	if err != nil {
		pr, status := problemOf(pg.Lang, err, "/book")
		if errors.Is(err, booking.ErrWrongCode) {
			pg.Problem, pg.D = pr, d
			p.render(w, status, "code", pg)
			return
		}
		// Start again from the identity form, which says why.
		pg.Title, pg.Problem = pg.T("verify.h1"), pr
		pg.Scripts, pg.D = []string{"book.js"}, identityData{Example: p.Demo}
		p.render(w, status, "verify", pg)
		return
	}
	maxAge := int(sess.ExpiresAt.Sub(p.now()).Seconds())
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: sess.ID, Path: "/", MaxAge: max(maxAge, 1),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/book/eligibility", http.StatusSeeOther)
}

// --- booking: eligibility ----------------------------------------------------

type eligibilityData struct {
	Name     string
	Cohort   string
	Eligible bool
	Message  string
	OpensAt  *time.Time
	ClosesAt *time.Time
	NoMore   bool
}

// GET /book/eligibility
func (p *Pages) bookEligibility(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "elig.h1", "/book/eligibility")
	pg.Step = 2
	sess, ok := p.verified(w, r, pg)
	if !ok {
		return
	}
	e := p.Booking.Campaign().Eligibility(sess.BirthDate, pg.Now)
	d := eligibilityData{Name: sess.Name, Eligible: e.Eligible, Message: pg.Lang.Pick(e.Message, e.MessageEN),
		OpensAt: e.WindowOpensAt, ClosesAt: e.WindowClosesAt, NoMore: !e.Eligible && e.WindowOpensAt == nil}
	if e.Cohort != nil {
		d.Cohort = pg.Lang.Pick(e.Cohort.Name, e.Cohort.NameEN)
	}
	pg.D = d
	p.render(w, http.StatusOK, "eligibility", pg)
}

// --- booking: clinic search ----------------------------------------------------

type option struct {
	Value    string
	Label    string
	Selected bool
}

type blockRow struct {
	Label string // "09:00~10:00"
	Free  int
	URL   string // "" when full or past
}

type clinicRow struct {
	ID       int64
	Name     string
	Kind     string
	Address  string
	Vaccines string
	Free     int
	Blocks   []blockRow
}

type searchData struct {
	H1       string
	Intro    string
	Action   string
	Regions  []option
	Dists    []option
	Dates    []option
	Vaccines []option // a select when there is a choice
	Vaccine  string   // the chosen vaccine id
	VaxName  string   // its name, when there is no choice
	Region   string
	District string
	Date     string
	Searched bool
	Total    int
	From, To int
	Results  []clinicRow
	MoreURL  string
}

const searchPageSize = 10

// search reads the search form (region, district, date, vaccine, offset)
// and runs it against the availability index (memory, never the database).
func (p *Pages) search(r *http.Request, l Lang, vaccines []*booking.Vaccine, action, confirm string) searchData {
	q := r.URL.Query()
	now := p.now()
	d := searchData{Action: action, Region: q.Get("region"), District: q.Get("district"), Date: q.Get("date"), Vaccine: q.Get("vaccine")}
	var region *booking.Region
	if rg, ok := booking.RegionByCode(d.Region); ok {
		region = rg
	} else {
		d.Region = ""
	}
	for _, rg := range booking.Regions() {
		d.Regions = append(d.Regions, option{rg.Code, l.Pick(rg.Name, rg.NameEN), rg.Code == d.Region})
	}
	d.Dists = []option{{"", l.T("field.district.all"), d.District == ""}}
	inRegion := false
	if region != nil {
		for _, di := range region.Districts {
			sel := di.Code == d.District
			inRegion = inRegion || sel
			d.Dists = append(d.Dists, option{di.Code, l.Pick(di.Name, di.NameEN), sel})
		}
	}
	if !inRegion {
		d.District = ""
		d.Dists[0].Selected = true
	}
	// Dates: from today (if a block is still ahead) to the booking horizon,
	// without Sundays (clinics are closed).
	today := booking.DateOf(now)
	first := today
	if !booking.BlockStart(today, booking.BlocksPerDay-1).After(now) {
		first = today.AddDays(1)
	}
	valid := false
	for day := first; !day.After(today.AddDays(booking.DefaultBookingHorizonDays)); day = day.AddDays(1) {
		if day.Weekday() == time.Sunday {
			continue
		}
		v := day.String()
		if d.Date == "" {
			d.Date = v
		}
		valid = valid || v == d.Date
		d.Dates = append(d.Dates, option{v, l.ShortDate(day), v == d.Date})
	}
	if !valid && len(d.Dates) > 0 {
		d.Date = d.Dates[0].Value
		d.Dates[0].Selected = true
	}
	okVax := false
	for _, v := range vaccines {
		okVax = okVax || v.ID == d.Vaccine
	}
	if !okVax && len(vaccines) > 0 {
		d.Vaccine = vaccines[0].ID
	}
	for _, v := range vaccines {
		d.Vaccines = append(d.Vaccines, option{v.ID, l.Pick(v.Name, v.NameEN), v.ID == d.Vaccine})
		if v.ID == d.Vaccine {
			d.VaxName = l.Pick(v.Name, v.NameEN)
		}
	}
	if len(d.Vaccines) < 2 {
		d.Vaccines = nil
	}
	if region == nil || d.Date == "" {
		return d
	}
	date, err := booking.ParseDate(d.Date)
	if err != nil {
		return d
	}
	offset, _ := strconv.Atoi(q.Get("offset"))
	offset = max(0, min(offset, 100_000))
	res, total := p.Booking.Availability().SearchTotal(booking.SearchQuery{
		RegionCode: d.Region, DistrictCode: d.District, Date: date, Vaccine: d.Vaccine,
		OnlyFree: true, Limit: searchPageSize, Offset: offset,
	})
	d.Searched, d.Total = true, total
	if len(res) > 0 {
		d.From, d.To = offset+1, offset+len(res)
	}
	for _, c := range res {
		row := clinicRow{ID: c.Clinic.ID, Name: l.Pick(c.Clinic.Name, c.Clinic.NameEN), Address: c.Clinic.Address,
			Kind: l.T("kind." + string(c.Clinic.Kind)), Free: c.DayFree}
		var names []string
		for _, id := range c.Clinic.Vaccines {
			if v := p.Booking.Campaign().Vaccine(id); v != nil {
				names = append(names, l.Pick(v.Name, v.NameEN))
			}
		}
		row.Vaccines = strings.Join(names, ", ")
		for b := range booking.BlocksPerDay {
			tb := booking.TimeBlock(b)
			br := blockRow{Label: l.Block(tb), Free: c.Free[b]}
			if br.Free > 0 && booking.BlockStart(date, tb).After(now) {
				v := url.Values{"clinic": {strconv.FormatInt(c.Clinic.ID, 10)}, "date": {d.Date}, "block": {strconv.Itoa(b)}}
				if d.Vaccine != "" {
					v.Set("vaccine", d.Vaccine)
				}
				br.URL = confirm + "?" + v.Encode()
			} else {
				br.Free = 0
			}
			row.Blocks = append(row.Blocks, br)
		}
		d.Results = append(d.Results, row)
	}
	if offset+len(res) < total {
		mq := url.Values{"region": {d.Region}, "date": {d.Date}, "offset": {strconv.Itoa(offset + searchPageSize)}}
		if d.District != "" {
			mq.Set("district", d.District)
		}
		if d.Vaccine != "" {
			mq.Set("vaccine", d.Vaccine)
		}
		d.MoreURL = action + "?" + mq.Encode()
	}
	return d
}

// searchURL is the search page for a clinic's area on a date.
func searchURL(action string, c *booking.Clinic, date, vaccine string) string {
	q := url.Values{}
	if c != nil {
		q.Set("region", c.RegionCode)
		q.Set("district", c.DistrictCode)
	}
	if date != "" {
		q.Set("date", date)
	}
	if vaccine != "" {
		q.Set("vaccine", vaccine)
	}
	if len(q) == 0 {
		return action
	}
	return action + "?" + q.Encode()
}

// eligibleSession returns the verified, eligible person of a booking step,
// or answers the request itself.
func (p *Pages) eligibleSession(w http.ResponseWriter, r *http.Request, pg *page) (booking.Session, booking.Eligibility, bool) {
	sess, ok := p.verified(w, r, pg)
	if !ok {
		return sess, booking.Eligibility{}, false
	}
	e := p.Booking.Campaign().Eligibility(sess.BirthDate, pg.Now)
	if !e.Eligible {
		http.Redirect(w, r, "/book/eligibility", http.StatusSeeOther)
		return sess, e, false
	}
	return sess, e, true
}

// GET /book/clinics
func (p *Pages) bookClinics(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "search.h1", "/book/clinics")
	pg.Step = 3
	_, e, ok := p.eligibleSession(w, r, pg)
	if !ok {
		return
	}
	d := p.search(r, pg.Lang, p.Booking.Campaign().VaccinesFor(e.Cohort), "/book/clinics", "/book/confirm")
	d.H1 = pg.T("search.h1")
	pg.Scripts, pg.D = []string{"book.js"}, d
	p.render(w, http.StatusOK, "clinics", pg)
}

// --- booking: confirm and book ---------------------------------------------------

type doseRow struct {
	Label   string
	Clinic  string
	Address string
	When    string
	Note    string
}

type confirmData struct {
	H1, Intro   string
	Action      string
	Submit      string
	Back        string
	Person      string
	Vaccine     string
	Old         []doseRow // change: the booking as it is
	Doses       []doseRow
	Free        int
	ClinicID    int64
	Date        string
	Block       int
	VaccineID   string
	Idempotency string
}

// slotChoice is a first-dose slot chosen on a search page, checked against
// the clinic data and the index.
type slotChoice struct {
	clinic  *booking.Clinic
	date    booking.Date
	block   booking.TimeBlock
	vaccine *booking.Vaccine
	free    int
}

func (p *Pages) parseSlot(v url.Values, vaccineIDs []string) (slotChoice, bool) {
	var s slotChoice
	id, err := strconv.ParseInt(v.Get("clinic"), 10, 64)
	if err != nil {
		return s, false
	}
	c, ok := p.Booking.Availability().Clinic(id)
	if !ok {
		return s, false
	}
	s.clinic = c
	if s.date, err = booking.ParseDate(v.Get("date")); err != nil {
		return s, false
	}
	b, err := strconv.Atoi(v.Get("block"))
	if err != nil || b < 0 || b >= booking.BlocksPerDay {
		return s, false
	}
	s.block = booking.TimeBlock(b)
	want := v.Get("vaccine")
	for _, id := range vaccineIDs {
		if (want == "" || want == id) && c.Offers(id) {
			s.vaccine = p.Booking.Campaign().Vaccine(id)
			break
		}
	}
	if s.vaccine == nil {
		return s, false
	}
	s.free = p.Booking.Availability().Free(booking.Slot{ClinicID: c.ID, Date: s.date, Block: s.block})
	return s, true
}

// postedSlot is the first-dose slot a confirmation form sends back.
type postedSlot struct {
	clinicID int64
	clinic   *booking.Clinic // nil: no such clinic
	date     booking.Date
	block    booking.TimeBlock
	ok       bool // date and block parse
}

func (p *Pages) postedSlot(r *http.Request) postedSlot {
	var s postedSlot
	s.clinicID, _ = strconv.ParseInt(r.PostFormValue("clinic"), 10, 64)
	if c, ok := p.Booking.Availability().Clinic(s.clinicID); ok {
		s.clinic = c
	}
	date, derr := booking.ParseDate(r.PostFormValue("date"))
	block, berr := strconv.Atoi(r.PostFormValue("block"))
	s.date, s.block, s.ok = date, booking.TimeBlock(block), derr == nil && berr == nil
	return s
}

// confirmSlot fills in the chosen slot of a confirmation page: both doses
// (the second one's date to be set on booking) and the form's fields.
func confirmSlot(l Lang, s slotChoice, d confirmData) confirmData {
	clinic := l.Pick(s.clinic.Name, s.clinic.NameEN)
	dose2 := doseRow{Label: l.T("confirm.dose2"), Clinic: clinic, When: l.T("confirm.dose2.auto")}
	if dates := s.vaccine.SecondDoseDates(s.date); len(dates) > 0 {
		dose2.Note = l.T("confirm.dose2.hint", l.Date(dates[0]))
	}
	d.Doses = []doseRow{
		{Label: l.T("confirm.dose1"), Clinic: clinic, Address: s.clinic.Address, When: l.Date(s.date) + " " + l.Block(s.block)},
		dose2,
	}
	d.Free, d.ClinicID, d.Date, d.Block = s.free, s.clinic.ID, s.date.String(), int(s.block)
	return d
}

func cohortVaccineIDs(c *booking.Campaign, co *booking.Cohort) []string {
	var ids []string
	for _, v := range c.VaccinesFor(co) {
		ids = append(ids, v.ID)
	}
	return ids
}

// GET /book/confirm?clinic=&date=&block=&vaccine=
func (p *Pages) bookConfirm(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "confirm.h1", "/book/clinics")
	pg.Step = 4
	sess, e, ok := p.eligibleSession(w, r, pg)
	if !ok {
		return
	}
	q := r.URL.Query()
	s, ok := p.parseSlot(q, cohortVaccineIDs(p.Booking.Campaign(), e.Cohort))
	back := searchURL("/book/clinics", s.clinic, q.Get("date"), q.Get("vaccine"))
	if !ok {
		p.renderSlotInvalid(w, pg, "confirm.h1", back)
		return
	}
	if s.free <= 0 {
		p.renderError(w, pg, "confirm.h1", booking.ErrSlotFull, back)
		return
	}
	l := pg.Lang
	pg.D = confirmSlot(l, s, confirmData{
		H1: l.T("confirm.h1"), Intro: l.T("confirm.intro"), Action: "/book", Submit: l.T("confirm.submit"), Back: back,
		Person: sess.Name, Vaccine: l.Pick(s.vaccine.Name, s.vaccine.NameEN), VaccineID: s.vaccine.ID,
		Idempotency: randomToken(18),
	})
	p.render(w, http.StatusOK, "confirm", pg)
}

type bookingView struct {
	Number      string
	Cancelled   bool
	Name        string
	Phone       string
	Vaccine     string
	Doses       []doseRow
	ChangeUntil string
	CanChange   bool
}

func (p *Pages) viewBooking(l Lang, b booking.Booking) bookingView {
	v := bookingView{Number: b.Number, Cancelled: b.Status == booking.StatusCancelled, Name: b.Name, Phone: booking.MaskPhone(b.Phone)}
	if vx := p.Booking.Campaign().Vaccine(b.VaccineID); vx != nil {
		v.Vaccine = l.Pick(vx.Name, vx.NameEN)
	}
	for _, a := range []booking.Appointment{b.Dose1, b.Dose2} {
		label := l.T("confirm.dose1")
		if a.Dose == 2 {
			label = l.T("confirm.dose2")
		}
		row := doseRow{Label: label, When: l.Date(a.Date) + " " + l.Block(a.Block)}
		if c, ok := p.Booking.Availability().Clinic(a.ClinicID); ok {
			row.Clinic, row.Address = l.Pick(c.Name, c.NameEN), c.Address
		}
		v.Doses = append(v.Doses, row)
	}
	if !v.Cancelled {
		now := p.now()
		if dl, ok := booking.ChangeDeadline(b, now); ok && now.Before(dl) {
			v.ChangeUntil, v.CanChange = l.When(dl.Add(-time.Minute)), true
		}
	}
	return v
}

type doneData struct {
	B       bookingView
	LeaveTo string
}

// POST /book: book (once, whatever the number of submits: the form's
// idempotency key), then show the booking number and both doses.
func (p *Pages) bookSubmit(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "done.h1", "/book/clinics")
	pg.Step = 4
	sess, ok := p.verified(w, r, pg)
	if !ok {
		return
	}
	s := p.postedSlot(r)
	back := searchURL("/book/clinics", s.clinic, r.PostFormValue("date"), r.PostFormValue("vaccine"))
	if s.clinic == nil || !s.ok {
		p.renderSlotInvalid(w, pg, "confirm.h1", back)
		return
	}
	bk, err := p.Booking.Book(r.Context(), booking.BookInput{
		SessionID: sess.ID, ClinicID: s.clinic.ID, Date: s.date, Block: s.block,
		VaccineID: r.PostFormValue("vaccine"), IdempotencyKey: trimField(r.PostFormValue("idempotency_key"), 200),
	})
	if err != nil {
		p.renderError(w, pg, "confirm.h1", err, back)
		return
	}
	pg.Step = 5
	pg.D = doneData{B: p.viewBooking(pg.Lang, bk), LeaveTo: "/wait/" + p.Room + "/leave"}
	p.render(w, http.StatusOK, "done", pg)
}

// --- look-up, change, cancel -------------------------------------------------------

type lookupData struct {
	Name, Number string
}

// GET /booking
func (p *Pages) lookupForm(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "lookup.h1", "/booking")
	pg.Scripts, pg.D = []string{"book.js"}, lookupData{}
	p.render(w, http.StatusOK, "lookup", pg)
}

// POST /booking: look the booking up, remember the look-up for the change
// and cancel steps, show it.
func (p *Pages) lookupSubmit(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "lookup.h1", "/booking")
	name, rrn, number := r.PostFormValue("name"), r.PostFormValue("rrn"), r.PostFormValue("number")
	form := lookupData{Name: trimField(name, 100), Number: trimField(number, 40)}
	pg.Scripts, pg.D = []string{"book.js"}, form
	if ok, wait := p.Server.AllowJoin(r); !ok {
		pg.Problem = busyProblem(pg, wait)
		p.render(w, http.StatusTooManyRequests, "lookup", pg)
		return
	}
	bk, err := p.Booking.Lookup(r.Context(), name, rrn, number)
	if err != nil {
		var status int
		pg.Problem, status = problemOf(pg.Lang, err, "/book/clinics")
		p.render(w, status, "lookup", pg)
		return
	}
	parsed, _ := booking.ParseRRN(rrn) // valid: Lookup accepted it
	tok := p.lookups.put(lookupEntry{name: name, rrn: parsed, number: bk.Number, expires: p.now().Add(lookupTTL)}, p.now())
	if tok == "" {
		pg.Problem, _ = problemOf(pg.Lang, booking.ErrOverloaded, "")
		p.render(w, http.StatusServiceUnavailable, "lookup", pg)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: LookupCookie, Value: tok, Path: "/booking", MaxAge: int(lookupTTL / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/booking/view", http.StatusSeeOther)
}

// looked returns the booking of the request's recent look-up, looked up
// again (fresh status), or answers the request itself.
func (p *Pages) looked(w http.ResponseWriter, r *http.Request, pg *page) (lookupEntry, booking.Booking, bool) {
	var e lookupEntry
	ok := false
	if c, err := r.Cookie(LookupCookie); err == nil {
		e, ok = p.lookups.get(c.Value, p.now())
	}
	if !ok {
		pg.Title, pg.Problem = pg.T("lookup.h1"), &problem{Text: pg.T("error.lookup_expired")}
		pg.Scripts, pg.D = []string{"book.js"}, lookupData{}
		p.render(w, http.StatusUnauthorized, "lookup", pg)
		return e, booking.Booking{}, false
	}
	bk, err := p.Booking.Lookup(r.Context(), e.name, e.rrn.Digits(), e.number)
	if err != nil {
		pr, status := problemOf(pg.Lang, err, "/booking/change")
		pr.Link, pr.LinkText = "/booking", pg.T("next.lookup_again")
		p.renderMessage(w, status, pg, pg.T("view.h1"), pr)
		return e, bk, false
	}
	return e, bk, true
}

type bookingPage struct {
	H1, Text string
	B        bookingView
	Actions  bool
}

// GET /booking/view
func (p *Pages) lookupView(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "view.h1", "/booking")
	_, bk, ok := p.looked(w, r, pg)
	if !ok {
		return
	}
	pg.D = bookingPage{H1: pg.T("view.h1"), B: p.viewBooking(pg.Lang, bk), Actions: true}
	p.render(w, http.StatusOK, "booking", pg)
}

// GET /booking/cancel: are you sure?
func (p *Pages) cancelConfirm(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "cancel.h1", "/booking/view")
	_, v, ok := p.changeable(w, r, pg)
	if !ok {
		return
	}
	pg.D = bookingPage{H1: pg.T("cancel.h1"), Text: pg.T("cancel.warn"), B: v}
	p.render(w, http.StatusOK, "cancel", pg)
}

// changeable returns the looked-up booking if it may still be changed or
// cancelled online; otherwise it has answered (look up again, or why not).
func (p *Pages) changeable(w http.ResponseWriter, r *http.Request, pg *page) (booking.Booking, bookingView, bool) {
	_, bk, ok := p.looked(w, r, pg)
	if !ok {
		return booking.Booking{}, bookingView{}, false
	}
	v := p.viewBooking(pg.Lang, bk)
	if !v.CanChange {
		p.cannotChange(w, pg, v)
		return booking.Booking{}, bookingView{}, false
	}
	return bk, v, true
}

// cannotChange shows the booking with why it cannot be changed online.
func (p *Pages) cannotChange(w http.ResponseWriter, pg *page, v bookingView) {
	err := booking.ErrTooLate
	if v.Cancelled {
		err = booking.ErrCancelled
	}
	pg.Problem, _ = problemOf(pg.Lang, err, "")
	pg.Problem.Link = ""
	pg.D = bookingPage{H1: pg.T("view.h1"), B: v, Actions: true}
	p.render(w, http.StatusConflict, "booking", pg)
}

// POST /booking/cancel
func (p *Pages) cancelSubmit(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "cancelled.h1", "/booking/view")
	e, _, ok := p.looked(w, r, pg)
	if !ok {
		return
	}
	bk, err := p.Booking.Cancel(r.Context(), e.name, e.rrn.Digits(), e.number)
	if err != nil {
		p.renderError(w, pg, "view.cancel", err, "/booking/change")
		return
	}
	pg.D = bookingPage{H1: pg.T("cancelled.h1"), Text: pg.T("cancelled.text"), B: p.viewBooking(pg.Lang, bk)}
	p.render(w, http.StatusOK, "booking", pg)
}

// GET /booking/change: choose a new first-dose slot.
func (p *Pages) changeSearch(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "change.h1", "/booking/view")
	bk, v, ok := p.changeable(w, r, pg)
	if !ok {
		return
	}
	var vax []*booking.Vaccine
	if vx := p.Booking.Campaign().Vaccine(bk.VaccineID); vx != nil {
		vax = append(vax, vx)
	}
	d := p.search(r, pg.Lang, vax, "/booking/change", "/booking/change/confirm")
	d.H1 = pg.T("change.h1")
	d.Intro = pg.T("change.intro", v.Doses[0].Clinic+", "+v.Doses[0].When)
	pg.Scripts, pg.D = []string{"book.js"}, d
	p.render(w, http.StatusOK, "clinics", pg)
}

// GET /booking/change/confirm?clinic=&date=&block=
func (p *Pages) changeConfirm(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "change.confirm.h1", "/booking/change")
	bk, v, ok := p.changeable(w, r, pg)
	if !ok {
		return
	}
	q := r.URL.Query()
	q.Set("vaccine", bk.VaccineID)
	s, ok := p.parseSlot(q, []string{bk.VaccineID})
	back := searchURL("/booking/change", s.clinic, q.Get("date"), "")
	if !ok {
		p.renderSlotInvalid(w, pg, "change.confirm.h1", back)
		return
	}
	if s.free <= 0 && (booking.Slot{ClinicID: s.clinic.ID, Date: s.date, Block: s.block}) != bk.Dose1.Slot {
		p.renderError(w, pg, "change.confirm.h1", booking.ErrSlotFull, back)
		return
	}
	l := pg.Lang
	pg.D = confirmSlot(l, s, confirmData{
		H1: l.T("change.confirm.h1"), Action: "/booking/change", Submit: l.T("change.submit"), Back: back,
		Person: bk.Name, Vaccine: v.Vaccine, Old: v.Doses, VaccineID: bk.VaccineID,
	})
	p.render(w, http.StatusOK, "confirm", pg)
}

// POST /booking/change
func (p *Pages) changeSubmit(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "changed.h1", "/booking/view")
	e, _, ok := p.looked(w, r, pg)
	if !ok {
		return
	}
	s := p.postedSlot(r)
	back := searchURL("/booking/change", s.clinic, r.PostFormValue("date"), "")
	if !s.ok {
		p.renderSlotInvalid(w, pg, "change.confirm.h1", back)
		return
	}
	bk, err := p.Booking.Change(r.Context(), e.name, e.rrn.Digits(), e.number, s.clinicID, s.date, s.block)
	if err != nil {
		p.renderError(w, pg, "change.confirm.h1", err, back)
		return
	}
	pg.D = bookingPage{H1: pg.T("changed.h1"), Text: pg.T("changed.text"), B: p.viewBooking(pg.Lang, bk)}
	p.render(w, http.StatusOK, "booking", pg)
}

// --- look-up store ------------------------------------------------------------------

const (
	lookupTTL  = 10 * time.Minute
	maxLookups = 100_000
)

// lookupEntry is what the change and cancel steps need to act on a booking
// found by look-up. It lives in this process's memory only, for lookupTTL:
// the RRN is never written to a page, a cookie, a log or the database.
type lookupEntry struct {
	name    string
	rrn     booking.RRN
	number  string
	expires time.Time
}

type lookupStore struct {
	mu sync.Mutex
	m  map[string]lookupEntry
}

// put stores e under a new random id, or returns "" when full.
func (s *lookupStore) put(e lookupEntry, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]lookupEntry{}
	}
	if len(s.m) >= maxLookups {
		for k, v := range s.m {
			if !now.Before(v.expires) {
				delete(s.m, k)
			}
		}
		if len(s.m) >= maxLookups {
			return ""
		}
	} else {
		n := 0
		for k, v := range s.m { // a little lazy expiry on every insert
			if !now.Before(v.expires) {
				delete(s.m, k)
			}
			if n++; n >= 2 {
				break
			}
		}
	}
	tok := randomToken(24)
	s.m[tok] = e
	return tok
}

func (s *lookupStore) get(tok string, now time.Time) (lookupEntry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[tok]
	if ok && !now.Before(e.expires) {
		delete(s.m, tok)
		return lookupEntry{}, false
	}
	return e, ok
}

// --- small helpers ----------------------------------------------------------------------

func randomToken(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// trimField bounds a form value echoed back into a form.
func trimField(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// keepOnly keeps the characters of s found in allowed, at most n of them.
func keepOnly(s, allowed string, n int) string {
	var b strings.Builder
	for _, c := range s {
		if b.Len() >= n {
			break
		}
		if strings.ContainsRune(allowed, c) && !unicode.IsSpace(c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}
