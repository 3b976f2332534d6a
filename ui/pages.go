// Package ui holds Sluice's server-rendered pages: the citizen pages
// (landing, waiting room, booking steps, look-up/change/cancel) and the
// operator dashboard. Templates, styles and scripts are embedded in the
// binary; nothing is loaded from outside it.
package ui

import (
	"bytes"
	"context"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/localurl"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/web"
)

// Cookies of the citizen pages (all SameSite=Lax; the session ones
// HttpOnly).
const (
	// SessionCookie holds the booking session id after identity
	// verification; the booking API reads it too (web.SessionCookie).
	SessionCookie = web.SessionCookie
	// LookupCookie holds the token of a recent look-up
	// (booking.Service.GrantLookup), which the change and cancel steps act
	// on (the RRN is never put in a page or a cookie).
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
}

//go:embed templates/layout.html templates/parts.html templates/landing.html templates/wait.html
//go:embed templates/verify.html templates/code.html templates/eligibility.html templates/clinics.html
//go:embed templates/confirm.html templates/done.html templates/lookup.html templates/booking.html
//go:embed templates/cancel.html templates/message.html templates/proxy.html
//go:embed templates/leftovers.html templates/clinic.html
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
	// Every booking step carries the request's deadline to the database
	// (web.Server.WithDeadline).
	get := func(pattern string, h http.HandlerFunc) {
		mux.Handle("GET "+pattern, p.Server.WithDeadline(p.gated(h)))
	}
	post := func(pattern string, h http.HandlerFunc) {
		mux.Handle("POST "+pattern, csrf.Handler(p.Server.WithDeadline(p.gated(h))))
	}

	mux.HandleFunc("GET /{$}", p.landing)
	get("/book", p.bookStart)
	post("/book/verify", p.bookVerify)
	post("/book/code", p.bookCode)
	get("/book/eligibility", p.bookEligibility)
	get("/book/for", p.proxyForm)
	post("/book/for", p.proxySubmit)
	post("/book/for/end", p.proxyEnd)
	get("/book/leftovers", p.leftoversPage)
	post("/book/leftovers", p.leftoverSubmit)
	get("/book/clinics", p.bookClinics)
	get("/book/confirm", p.bookConfirm)
	post("/book", p.bookSubmit)
	get("/book/done", p.bookDone)
	get("/book/calendar.ics", p.bookCalendar)
	get("/booking", p.lookupForm)
	post("/booking", p.lookupSubmit)
	get("/booking/view", p.lookupView)
	get("/booking/calendar.ics", p.lookupCalendar)
	get("/booking/cancel", p.cancelConfirm)
	post("/booking/cancel", p.cancelSubmit)
	get("/booking/change", p.changeSearch)
	get("/booking/change/confirm", p.changeConfirm)
	post("/booking/change", p.changeSubmit)
	// The clinic page is not behind the waiting room: a clinic has its
	// own credential (booking.Service.ClinicOf).
	mux.Handle("GET /clinic", p.Server.WithDeadline(http.HandlerFunc(p.clinicPage)))
	for pattern, h := range map[string]http.HandlerFunc{"/clinic/login": p.clinicLogin, "/clinic/logout": p.clinicLogout, "/clinic/leftovers": p.clinicPost} {
		mux.Handle("POST "+pattern, csrf.Handler(p.Server.WithDeadline(h)))
	}
}

func (p *Pages) now() time.Time { return p.Clock.Now() }

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

// citizenTemplates has one template set per page: the layout, the shared
// parts and the page's file.
var citizenTemplates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"landing", "wait", "verify", "code", "eligibility", "clinics", "confirm", "done", "lookup", "booking", "cancel", "message", "proxy", "leftovers", "clinic"} {
		out[name] = template.Must(template.New("layout.html").ParseFS(citizenFS,
			"templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
	}
	return out
}()

// page is what every template gets: the language, the layout's data and
// the page's own (D).
type page struct {
	Lang Lang
	// Base is the prefix of Sluice's own paths (web.Server.Prefix: "" but
	// in sluice proxy).
	Base      string
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
	// PassUntil is when the person's time on the booking pages ends (zero
	// outside them); the layout shows the time left.
	PassUntil time.Time
	D         any
}

// T translates a catalogue key.
func (pg *page) T(key string, args ...any) string { return pg.Lang.T(key, args...) }

// Asset is the versioned address of a static file.
func (pg *page) Asset(name string) string { return pg.Base + AssetURL(name) }

// Invalid reports whether the page's problem is about the named field.
func (pg *page) Invalid(field string) bool { return pg.Problem != nil && pg.Problem.Field == field }

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

// selectField is a labelled select box of a form (the "select" template).
type selectField struct {
	ID, Label    string // ID is also the form field's name
	Options      []option
	Autocomplete string
	Choose       string // the label of a first, empty option ("" for none)
	Invalid      bool   // the page's problem is about it
}

// Select is a select box whose label is the catalogue's labelKey.
func (pg *page) Select(id, labelKey string, options []option) selectField {
	return selectField{ID: id, Label: pg.T(labelKey), Options: options}
}

// BirthSelect is the select box of a part of a birth date (autocomplete:
// "bday-month", ...): it starts empty ("choose") and is marked when the
// page's problem is about it.
func (pg *page) BirthSelect(id, labelKey, autocomplete string, options []option) selectField {
	f := pg.Select(id, labelKey, options)
	f.Autocomplete, f.Choose, f.Invalid = autocomplete, pg.T("check.choose"), pg.Invalid(id)
	return f
}

// nameField is the name box of a form that names a person (the
// "name-field" template).
type nameField struct {
	Label, Hint  string
	Autocomplete string // "name" for one's own name, "off" for another's
	Value        string
	Invalid      bool // the page's problem is about it
}

// NameField is the name box labelled labelKey (with the hint hintKey, if
// not ""), holding value.
func (pg *page) NameField(labelKey, hintKey, autocomplete, value string) nameField {
	f := nameField{Label: pg.T(labelKey), Autocomplete: autocomplete, Value: value, Invalid: pg.Invalid("name")}
	if hintKey != "" {
		f.Hint = pg.T(hintKey)
	}
	return f
}

// PassLeft is the time left on the booking pages, in words ("18분").
func (pg *page) PassLeft() string {
	return pg.Lang.Dur(pg.PassUntil.Sub(pg.Now).Truncate(time.Minute))
}

// Steps lists the booking steps for the indicator.
func (pg *page) Steps() []int { return []int{1, 2, 3, 4, 5} }

// newPage starts a page: the language (remembered from ?lang=), and the
// language switch, which for a POST leads to the GET page back.
func (p *Pages) newPage(w http.ResponseWriter, r *http.Request, titleKey, back string) *page {
	l := LangOf(w, r, p.Server.Path("/"))
	pg := &page{Lang: l, Base: p.Server.Prefix, Now: p.now(), Demo: p.Demo, Generic: p.Booking == nil}
	pg.Title = l.T(titleKey)
	if until, ok := r.Context().Value(passUntilKey{}).(time.Time); ok && until.After(pg.Now) {
		pg.PassUntil = until
	}
	target := back
	q := url.Values{}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		target = r.URL.Path
		q = r.URL.Query()
	}
	q.Set("lang", string(l.Other()))
	// The same page in the other language, as a browser reads the link
	// (localurl.Path; the request's own path is under the prefix).
	pg.SwitchURL, _ = localurl.Path(p.Server.Path(target) + "?" + q.Encode())
	return pg
}

// render writes a page with the headers every page has (setPageHeaders).
func (p *Pages) render(w http.ResponseWriter, status int, name string, pg *page) {
	if !pg.PassUntil.IsZero() && !slices.Contains(pg.Scripts, "book.js") {
		pg.Scripts = append(pg.Scripts, "book.js") // counts the time left down
	}
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

// gated puts h behind the booking room's gate: a browser without a valid
// pass is sent to the waiting page (GET), or told to queue again (POST:
// a form sent after the pass ran out).
func (p *Pages) gated(h http.HandlerFunc) http.Handler {
	g := p.Server.Gate(p.Room)
	return g.Guard(func(w http.ResponseWriter, r *http.Request, pass room.Pass) {
		// The page says how long the pass lasts (page.PassUntil).
		h(w, r.WithContext(context.WithValue(r.Context(), passUntilKey{}, pass.Expires)))
	},
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
				Text: pg.T("wait.gate.text"), Link: p.Server.WaitURL(p.Room, ret), LinkText: pg.T("wait.rejoin"),
			})
		})
}

// passUntilKey carries the expiry of the pass of a gated request.
type passUntilKey struct{}

func (p *Pages) denyCrossOrigin(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "csrf.h", "/")
	p.renderMessage(w, http.StatusForbidden, pg, pg.T("csrf.h"), &problem{
		Text: pg.T("csrf.text"), Link: "/", LinkText: pg.T("wait.home"),
	})
}

// idempotencyKey is the key a booking, change or cancel form carries (the
// form's own randid.New token, made when it was rendered), bounded like any
// form value.
func idempotencyKey(r *http.Request) string {
	return trimField(r.PostFormValue("idempotency_key"), 200)
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
