// Operator dashboard: the live figures (the page and /admin/api/live).

package ui

import (
	"cmp"
	"context"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/web"
)

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
	// ClearSeconds is how long the line now waiting takes to clear at the
	// current admission rate, at most room.MaxETA: 0 when nobody waits, -1
	// when it does not move (paused, closed, no rate yet).
	ClearSeconds float64 `json:"clear_seconds"`
	// Backend is the health of what the room protects, when the dashboard
	// can tell (the booking service behind the booking room): "ok" or
	// "error" (BackendError says what), else "".
	Backend      string `json:"backend,omitempty"`
	BackendError string `json:"backend_error,omitempty"`
	// Message and ResumeAt: the operator's word to the line, as it shows.
	Message  string    `json:"message"`
	ResumeAt time.Time `json:"resume_at,omitzero"`
	// ResumeInput is ResumeAt as the message form's field writes it.
	ResumeInput string `json:"-"`
	// Pacing is how the rate is chosen (docs/PACING.md), for the pacing
	// form.
	Pacing room.Pacing `json:"-"`
	// PacingLeader: this node's pacer chooses the room's rate, from the
	// health of PacingNodes nodes (docs/PACING.md, "Several nodes").
	PacingLeader bool        `json:"pacing_leader"`
	PacingNodes  int         `json:"pacing_nodes"`
	Series       dashSeries  `json:"series"`
	Charts       []dashChart `json:"-"`
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
	// ID is "campaign/cohort": cohort ids are unique only within their
	// campaign.
	ID         string  `json:"id"`
	Campaign   string  `json:"campaign"` // the campaign's name
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

// HistoryExtra is the source of a room's extra history figures
// (room.History's Run and Sample): the total of its gate rejections on srv
// and, for bookingRoom when svc is not nil, the number of bookings. The
// app's history sampler and the dashboard's own (without a History given)
// both sample with it.
func HistoryExtra(srv *web.Server, svc *booking.Service, bookingRoom string) func(name string) map[string]float64 {
	return func(name string) map[string]float64 {
		var rejected uint64
		for _, c := range srv.GateRejections()[name] {
			rejected += c
		}
		out := map[string]float64{room.ExtraGateRejections: float64(rejected)}
		if svc != nil && name == bookingRoom && name != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if st, err := svc.Stats(ctx); err == nil {
				out[room.ExtraBookings] = float64(st.Booked)
			}
		}
		return out
	}
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
			d.History.Sample(HistoryExtra(d.Server, d.Booking, d.BookingRoom))
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
	gates := d.Server.GateRejections()
	// The booking figures are read once (Stats caches them for a second).
	var bst *booking.ProgrammeStats
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
	backend, backendErr := d.backendHealth()
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
		stopped := c.State == room.StatePaused || c.State == room.StateClosed
		series := d.History.Series(name)
		if cur, ok := d.History.Current(name, dashRateGap, extra); ok {
			if stopped {
				// Nobody is admitted now, whatever the last seconds say.
				cur.AdmitRate = 0
			}
			v.AdmitRate, v.JoinRate = cur.AdmitRate, cur.JoinRate
			if cur.HasBooking {
				v.HasBooking, v.BookingRate = true, cur.BookingRate
				bookingRate = cur.BookingRate
			}
			if n := len(series); n == 0 || cur.Elapsed > series[n-1].Elapsed {
				series = append(series, cur)
			}
		}
		v.ClearSeconds = clearSeconds(v.Waiting, c.AdmitRate, stopped)
		v.Message, v.ResumeAt = c.Settings.Message, c.Settings.ResumeAt
		v.Pacing = c.Settings.Pacing
		v.PacingLeader, v.PacingNodes = rm.PaceLead(), rm.PaceNodes()
		if !v.ResumeAt.IsZero() {
			v.ResumeInput = v.ResumeAt.In(d.location()).Format(dashResumeLayout)
		}
		if name == d.BookingRoom && backend != "" {
			v.Backend, v.BackendError = backend, backendErr
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
		txt[name+".clear"] = clearText(lang, v)
		txt[name+".message"] = cmp.Or(v.Message, lang.T("dash.notice_none"))
		txt[name+".resume"] = "—"
		if !v.ResumeAt.IsZero() {
			txt[name+".resume"] = v.ResumeAt.In(d.location()).Format("01-02 15:04")
		}
		txt[name+".backend"] = lang.T("dash.backend_" + cmp.Or(v.Backend, "none"))
		for _, ch := range v.Charts {
			txt[ch.ID+".now"], txt[ch.ID+".max"] = ch.Now, ch.Max
			for _, o := range ch.Overlays {
				txt[ch.ID+"."+o.Key+".now"] = o.Now
			}
			if ch.Note != "" {
				txt[ch.ID+".note"] = ch.Note
			}
		}
	}
	// The room that matters first: the one in front of the booking
	// service, then the longest lines.
	slices.SortStableFunc(lv.Rooms, func(a, b dashRoom) int {
		if (a.Room == d.BookingRoom) != (b.Room == d.BookingRoom) {
			if a.Room == d.BookingRoom {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.Waiting+uint64(b.Active), a.Waiting+uint64(a.Active))
	})
	if d.Booking != nil {
		lv.Booking = d.bookingStats(bst, bErr, lang, txt)
		lv.Booking.PerMinute = bookingRate
		txt["booking.per_min"] = lang.Decimal(bookingRate)
	}
	lv.Notifications = d.notices(lang)
	return lv
}

// clearSeconds is how long waiting people take to be admitted at rate (per
// second), at most room.MaxETA as the waiting page's estimates (a longer
// time means nothing, and a tiny measured rate overflowed time.Duration);
// -1 when the line does not move.
func clearSeconds(waiting uint64, rate float64, stopped bool) float64 {
	switch {
	case waiting == 0:
		return 0
	case stopped || !(rate > 0):
		return -1
	}
	return min(math.Ceil(float64(waiting)/rate), room.MaxETA.Seconds())
}

func clearText(lang Lang, v dashRoom) string {
	switch {
	case v.Waiting == 0:
		return lang.T("dash.clear_empty")
	case v.Paused || v.Closed:
		return lang.T("dash.clear_stopped")
	case v.ClearSeconds < 0:
		return "—"
	}
	return lang.Dur(time.Duration(v.ClearSeconds) * time.Second)
}

// backendHealth asks the server whether what it protects answers (its
// readiness: the booking database, the shared queue state): "ok", or
// "error" and why; "" when there is nothing to ask.
func (d *Dashboard) backendHealth() (string, string) {
	if d.Booking == nil || d.Server == nil || len(d.Server.Ready) == 0 {
		return "", ""
	}
	if _, err := d.Server.CheckReady(context.Background()); err != nil {
		return "error", err.Error()
	}
	return "ok", ""
}

func (d *Dashboard) bookingStats(st *booking.ProgrammeStats, err error, lang Lang, txt map[string]string) *dashBooking {
	b := &dashBooking{}
	if err != nil {
		b.Error = lang.T("dash.stats_error")
		if d.Server.Log != nil {
			d.Server.Log.Warn("dashboard: booking stats", "err", err)
		}
		return b
	}
	b.Campaign = lang.Pick(d.Booking.Programme().Name())
	b.Booked, b.Population, b.Rate = st.Booked, st.Population, st.Rate
	txt["booking.booked"] = lang.Round(float64(st.Booked))
	txt["booking.population"] = lang.Round(float64(st.Population))
	txt["booking.rate"] = lang.Percent(st.Rate)
	for _, cs := range st.Campaigns {
		campaign := lang.Pick(cs.Name, cs.NameEN)
		for _, c := range cs.Cohorts {
			id := cs.CampaignID + "/" + c.ID
			b.Cohorts = append(b.Cohorts, dashCohort{ID: id, Campaign: campaign, Name: lang.Pick(c.Name, c.NameEN), Population: c.Population, Booked: c.Booked, Rate: c.Rate})
			txt["booking.cohort."+id+".booked"] = lang.Round(float64(c.Booked))
			txt["booking.cohort."+id+".population"] = lang.Round(float64(c.Population))
			txt["booking.cohort."+id+".rate"] = lang.Percent(c.Rate)
		}
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
	if !d.authed(r) && !d.Server.RequireAdmin(w, r, "Sign in at /admin/login or send \"Authorization: Bearer <admin token>\".") {
		return
	}
	lv := d.live(r.Context(), LangOf(nil, r, ""))
	b, err := json.Marshal(lv)
	if err != nil {
		http.Error(w, "encoding failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(b)
}
