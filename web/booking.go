package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/internal/ttl"
)

// SessionHeader carries a verified person's booking session id.
const SessionHeader = "Sluice-Session"

// SessionCookie carries it too: the citizen pages (ui) set it after
// identity verification, and the API takes it when there is no header.
const SessionCookie = "sluice_session"

// BookingAPI serves the booking backend's JSON API. Every endpoint that
// touches identity, clinics or bookings is behind the gate of the booking
// room: no valid pass, no access. Eligibility, the campaign and the region
// list are public (they are cheap, need no identity, and let people check
// before they queue).
type BookingAPI struct {
	Server  *Server
	Service *booking.Service
	// Room is the waiting room whose passes admit to the booking API.
	Room string
	// DemoClock, if set, is moved by POST /api/v1/admin/clock (demo only).
	DemoClock *clock.Settable
	// Sent returns the last notifications delivered (operator view).
	Sent func() []booking.Message

	cache    searchCache
	failures outageOnce
}

// problem answers an error of the booking service (BookingProblem). An
// internal error, which is a bug, is logged with its cause, as an
// outage: a line when such errors start, then every outage.DefaultEvery
// with their number. (The service logs the database's outages itself.)
func (b *BookingAPI) problem(w http.ResponseWriter, err error) {
	p := BookingProblem(err)
	if p.Status == http.StatusInternalServerError {
		b.failures.get(b.Server.Log, "booking requests failing with internal errors").Failed(err)
	}
	WriteProblem(w, p)
}

// searchCache keeps encoded search answers for a short time. At the opening
// minute thousands of people ask for the same province and date; encoding
// the same answer for each of them would cost more than finding it. The
// answers may lag bookings by at most searchCacheTTL; that only affects
// what is shown, never what can be booked (the store's transaction decides).
type searchCache struct {
	once sync.Once
	m    *ttl.Map[string, []byte]
}

const (
	searchCacheTTL = 100 * time.Millisecond
	searchCacheMax = 4096
)

func (c *searchCache) entries() *ttl.Map[string, []byte] {
	c.once.Do(func() { c.m = ttl.New[string, []byte](searchCacheMax) })
	return c.m
}

func (c *searchCache) get(key string) ([]byte, bool) { return c.entries().Get(key, time.Now()) }

func (c *searchCache) put(key string, body []byte) {
	now := time.Now()
	c.entries().Put(key, body, now.Add(searchCacheTTL), now) // a full cache just does not keep this one
}

func searchKey(q booking.SearchQuery) string {
	return q.RegionCode + "|" + q.DistrictCode + "|" + q.Date.String() + "|" + q.Vaccine + "|" +
		strconv.FormatBool(q.OnlyFree) + "|" + strconv.Itoa(q.Limit) + "|" + strconv.Itoa(q.Offset)
}

func writeRawJSON(w http.ResponseWriter, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// Register adds the routes to mux.
func (b *BookingAPI) Register(mux *http.ServeMux) {
	s := b.Server
	gate := s.Gate(b.Room)
	// Every route that may reach the database carries the request's
	// deadline (Server.WithDeadline).
	gated := func(pattern string, h http.HandlerFunc) {
		mux.Handle(pattern, s.WithDeadline(gate.Wrap(h)))
	}
	mux.HandleFunc("GET /api/v1/eligibility", b.handleEligibility)
	mux.HandleFunc("GET /api/v1/campaign", b.handleCampaign)
	mux.HandleFunc("GET /api/v1/regions", b.handleRegions)
	gated("POST /api/v1/identity/verifications", b.handleStartVerification)
	gated("POST /api/v1/identity/verifications/{id}/confirm", b.handleConfirm)
	gated("GET /api/v1/session", b.handleSession)
	gated("DELETE /api/v1/session", b.handleEndSession)
	gated("GET /api/v1/session/booking", b.handleSessionBooking)
	gated("GET /api/v1/clinics", b.handleSearch)
	gated("GET /api/v1/clinics/{id}", b.handleClinic)
	gated("POST /api/v1/bookings", b.handleBook)
	gated("POST /api/v1/bookings/lookup", b.handleLookup)
	gated("POST /api/v1/bookings/change", b.handleChange)
	gated("POST /api/v1/bookings/cancel", b.handleCancel)
	b.registerLeftovers(mux, gated)
	mux.Handle("GET /api/v1/admin/stats", s.WithDeadline(s.admin(b.handleStats)))
	mux.HandleFunc("GET /api/v1/admin/notifications", s.admin(b.handleNotifications))
	if b.DemoClock != nil {
		mux.HandleFunc("POST /api/v1/admin/clock", s.admin(b.handleClock))
		mux.HandleFunc("GET /api/v1/admin/clock", s.admin(b.handleClock))
	}
}

func badRequest(w http.ResponseWriter, code, en, ko string) {
	problem(w, http.StatusBadRequest, code, en, ko)
}

// slotInput checks the date and time block of a booking or change request,
// answering 400 when either is wrong.
func slotInput(w http.ResponseWriter, date string, block *int) (booking.Date, booking.TimeBlock, bool) {
	d, err := booking.ParseDate(date)
	if err != nil {
		badRequest(w, "date_invalid", "date must be a real date YYYY-MM-DD.", "날짜가 올바르지 않습니다.")
		return booking.Date{}, 0, false
	}
	if block == nil || *block < 0 || *block >= booking.BlocksPerDay {
		badRequest(w, "block_invalid", "block must be a time block from 0 (09:00) to "+strconv.Itoa(booking.BlocksPerDay-1)+".", "시간대를 선택해 주세요.")
		return booking.Date{}, 0, false
	}
	return d, booking.TimeBlock(*block), true
}

func (b *BookingAPI) now() time.Time { return b.Server.Clock.Now() }

// GET /api/v1/eligibility?birth_date=YYYY-MM-DD
func (b *BookingAPI) handleEligibility(w http.ResponseWriter, r *http.Request) {
	raw := r.URL.Query().Get("birth_date")
	if raw == "" {
		badRequest(w, "birth_date_missing", "Give your birth date as ?birth_date=YYYY-MM-DD.", "생년월일을 YYYY-MM-DD 형식으로 입력해 주세요.")
		return
	}
	d, err := booking.ParseDate(raw)
	if err != nil {
		badRequest(w, "birth_date_invalid", "The birth date must be a real date written YYYY-MM-DD (for example 1968-03-15).", "생년월일이 올바르지 않습니다. 예: 1968-03-15")
		return
	}
	e := b.Service.Programme().Eligibility(d, b.now())
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, eligibilityJSON(e))
}

// windowDoc is a booking window in plain words (GET /api/v1/campaign).
type windowDoc struct {
	Campaign string `json:"campaign_id"`
	Cohort   string `json:"cohort_id"`
	Label    string `json:"label"`
	LabelEN  string `json:"label_en"`
	Opens    string `json:"opens_at"`
	Closes   string `json:"closes_at"`
	Text     string `json:"text"`
	TextEN   string `json:"text_en"`
	OpenNow  bool   `json:"open_now"`
	DayDigit *int   `json:"birth_day_digit"`
}

func windowJSON(wi booking.WindowInfo, now time.Time) windowDoc {
	return windowDoc{wi.CampaignID, wi.CohortID, wi.Label, wi.LabelEN, wi.Opens.In(booking.Seoul).Format(time.RFC3339),
		wi.Closes.In(booking.Seoul).Format(time.RFC3339), wi.Text, wi.TextEN,
		wi.OpenAt(now), wi.BirthDayDigit}
}

// GET /api/v1/campaign: the programme's campaigns and their cohorts,
// today's windows of every campaign, the next window to open and the
// dates a first dose may be booked on now.
func (b *BookingAPI) handleCampaign(w http.ResponseWriter, r *http.Request) {
	p := b.Service.Programme()
	now := b.now().In(booking.Seoul)
	type campaign struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		NameEN string `json:"name_en"`
	}
	type cohort struct {
		Campaign     string   `json:"campaign_id"`
		ID           string   `json:"id"`
		Name         string   `json:"name"`
		NameEN       string   `json:"name_en"`
		BornFrom     string   `json:"born_from"`
		BornTo       string   `json:"born_to"`
		ProxyBooking bool     `json:"proxy_booking"`
		Vaccines     []string `json:"vaccines"` // in order of preference
	}
	var campaigns []campaign
	var cohorts []cohort
	for _, c := range p.Campaigns() {
		campaigns = append(campaigns, campaign{c.ID, c.Name, c.NameEN})
		for i := range c.Cohorts {
			co := &c.Cohorts[i]
			vaccines := []string{}
			for _, v := range c.VaccinesFor(co) {
				vaccines = append(vaccines, v.ID)
			}
			cohorts = append(cohorts, cohort{c.ID, co.ID, co.Name, co.NameEN, co.BornFrom.String(), co.BornTo.String(), co.ProxyBooking, vaccines})
		}
	}
	today := []windowDoc{}
	for _, wi := range p.WindowsOn(booking.DateOf(now)) {
		today = append(today, windowJSON(wi, now))
	}
	var next *windowDoc
	if wi, ok := p.NextWindow(now); ok {
		doc := windowJSON(wi, now)
		next = &doc
	}
	dates := []string{}
	for _, d := range b.Service.BookableDates(now) {
		dates = append(dates, d.String())
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"campaigns": campaigns, "now": now.Format(time.RFC3339),
		"cohorts": cohorts, "windows_today": today, "next_window": next, "bookable_dates": dates, "room": b.Room,
	})
}

// GET /api/v1/regions
func (b *BookingAPI) handleRegions(w http.ResponseWriter, r *http.Request) {
	type district struct {
		Code   string `json:"code"`
		Name   string `json:"name"`
		NameEN string `json:"name_en"`
	}
	type region struct {
		Code      string     `json:"code"`
		Name      string     `json:"name"`
		NameEN    string     `json:"name_en"`
		Districts []district `json:"districts"`
	}
	var out []region
	for _, rg := range booking.Regions() {
		x := region{Code: rg.Code, Name: rg.Name, NameEN: rg.NameEN}
		for _, d := range rg.Districts {
			x.Districts = append(x.Districts, district{d.Code, d.Name, d.NameEN})
		}
		out = append(out, x)
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, map[string]any{"regions": out})
}

type clinicView struct {
	ID           int64    `json:"id"`
	Name         string   `json:"name"`
	NameEN       string   `json:"name_en"`
	Kind         string   `json:"kind"`
	RegionCode   string   `json:"region_code"`
	DistrictCode string   `json:"district_code"`
	Address      string   `json:"address"`
	Vaccines     []string `json:"vaccines"`
}

func viewClinic(c *booking.Clinic) clinicView {
	return clinicView{c.ID, c.Name, c.NameEN, string(c.Kind), c.RegionCode, c.DistrictCode, c.Address, c.Vaccines}
}

type dayView struct {
	Date     string `json:"date"`
	Free     []int  `json:"free_by_block"`
	DayFree  int    `json:"free"`
	Booked   int    `json:"booked"`
	Capacity int    `json:"capacity"`
}

func viewDay(d booking.DayAvailability) dayView {
	return dayView{d.Date.String(), append([]int(nil), d.Free[:]...), d.DayFree, d.DayBooked, d.DayCapacity}
}

// GET /api/v1/clinics?region=11&district=11680&date=2021-07-26&vaccine=pfizer&only_free=true&limit=20&offset=0
// Answered from memory (the availability index), never from the database.
func (b *BookingAPI) handleSearch(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sq := booking.SearchQuery{RegionCode: q.Get("region"), DistrictCode: q.Get("district"), Vaccine: q.Get("vaccine"), OnlyFree: q.Get("only_free") != "false"}
	if sq.RegionCode == "" && sq.DistrictCode == "" {
		badRequest(w, "region_missing", "Choose a province (?region=11) or a district (?district=11680); GET /api/v1/regions lists them.", "시도 또는 시군구를 선택해 주세요.")
		return
	}
	if sq.RegionCode != "" {
		if _, ok := booking.RegionByCode(sq.RegionCode); !ok {
			badRequest(w, "region_unknown", "Unknown region code; GET /api/v1/regions lists them.", "없는 시도 코드입니다.")
			return
		}
	}
	if sq.DistrictCode != "" {
		if _, _, ok := booking.DistrictByCode(sq.DistrictCode); !ok {
			badRequest(w, "district_unknown", "Unknown district code; GET /api/v1/regions lists them.", "없는 시군구 코드입니다.")
			return
		}
	}
	d, err := booking.ParseDate(q.Get("date"))
	if err != nil {
		badRequest(w, "date_invalid", "Give the appointment date as ?date=YYYY-MM-DD.", "날짜를 YYYY-MM-DD 형식으로 입력해 주세요.")
		return
	}
	sq.Date = d
	var ok bool
	if sq.Limit, ok = intParam(w, q.Get("limit"), booking.DefaultSearchLimit, 1, booking.MaxSearchLimit, "limit"); !ok {
		return
	}
	if sq.Offset, ok = intParam(w, q.Get("offset"), 0, 0, 1_000_000, "offset"); !ok {
		return
	}
	// With a session, the free places are the person's: a slot full for
	// their window's share is full for them (not cached: it is theirs).
	var share func(*booking.ClinicAvailability)
	if id := strings.TrimSpace(r.Header.Get(SessionHeader)); id != "" {
		if sess, err := b.Service.Session(r.Context(), id); err == nil {
			share = b.Service.ShareView(b.Service.Programme().Eligibility(sess.BirthDate, b.now()), b.now())
		}
	}
	key := searchKey(sq)
	if share == nil {
		if body, ok := b.cache.get(key); ok {
			writeRawJSON(w, body)
			return
		}
	}
	res, total := b.Service.Availability().SearchTotal(sq)
	for i := range res {
		if share != nil {
			share(&res[i])
		}
	}
	type item struct {
		Clinic clinicView `json:"clinic"`
		dayView
	}
	items := make([]item, 0, len(res))
	for _, c := range res {
		items = append(items, item{viewClinic(c.Clinic), viewDay(c.DayAvailability)})
	}
	body, err := json.Marshal(map[string]any{"date": d.String(), "total": total, "offset": sq.Offset, "clinics": items, "blocks": blockTimes()})
	if err != nil {
		b.problem(w, err)
		return
	}
	if share == nil {
		b.cache.put(key, body)
	}
	writeRawJSON(w, body)
}

func blockTimes() []string {
	out := make([]string, booking.BlocksPerDay)
	for i := range out {
		start, end := booking.TimeBlock(i).Hours()
		out[i] = start + "-" + end
	}
	return out
}

func intParam(w http.ResponseWriter, s string, def, lo, hi int, name string) (int, bool) {
	if s == "" {
		return def, true
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		badRequest(w, name+"_invalid", name+" must be a whole number from "+strconv.Itoa(lo)+" to "+strconv.Itoa(hi)+".", name+" 값이 올바르지 않습니다.")
		return 0, false
	}
	return v, true
}

// clinicID is the clinic of the request's path ({id}); one that is not a
// number is a clinic that does not exist, answered as such.
func (b *BookingAPI) clinicID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		b.problem(w, booking.ErrClinicNotFound)
		return 0, false
	}
	return id, true
}

// GET /api/v1/clinics/{id}?from=YYYY-MM-DD&to=YYYY-MM-DD: free places per day.
func (b *BookingAPI) handleClinic(w http.ResponseWriter, r *http.Request) {
	id, ok := b.clinicID(w, r)
	if !ok {
		return
	}
	c, ok := b.Service.Availability().Clinic(id)
	if !ok {
		b.problem(w, booking.ErrClinicNotFound)
		return
	}
	today := booking.DateOf(b.now())
	from, to := today, today.AddDays(20)
	var err error
	if s := r.URL.Query().Get("from"); s != "" {
		if from, err = booking.ParseDate(s); err != nil {
			badRequest(w, "date_invalid", "from must be a date YYYY-MM-DD.", "날짜 형식이 올바르지 않습니다.")
			return
		}
	}
	if s := r.URL.Query().Get("to"); s != "" {
		if to, err = booking.ParseDate(s); err != nil {
			badRequest(w, "date_invalid", "to must be a date YYYY-MM-DD.", "날짜 형식이 올바르지 않습니다.")
			return
		}
	}
	// from and to count both: the range holds DaysUntil+1 days, and
	// FreeDates answers at most MaxFreeDatesSpan of them.
	if to.Before(from) || from.DaysUntil(to)+1 > booking.MaxFreeDatesSpan {
		badRequest(w, "range_invalid", "from must not be after to, and the range at most a year.", "기간이 올바르지 않습니다.")
		return
	}
	days := []dayView{}
	for _, d := range b.Service.Availability().FreeDates(id, from, to) {
		days = append(days, viewDay(d))
	}
	writeJSON(w, http.StatusOK, map[string]any{"clinic": viewClinic(c), "days": days, "blocks": blockTimes()})
}

// GET /api/v1/admin/stats
func (b *BookingAPI) handleStats(w http.ResponseWriter, r *http.Request) {
	st, err := b.Service.Stats(r.Context())
	if err != nil {
		b.problem(w, err)
		return
	}
	out := map[string]any{"programme": st}
	q := r.URL.Query()
	d := booking.DateOf(b.now())
	if ds := q.Get("date"); ds != "" {
		if d, err = booking.ParseDate(ds); err != nil {
			badRequest(w, "date_invalid", "date must be YYYY-MM-DD.", "")
			return
		}
		booked, free := b.Service.Availability().Totals(d)
		out["day"] = map[string]any{"date": d.String(), "booked": booked, "free": free, "regions": b.Service.Availability().RegionTotals(d)}
	}
	if cs := q.Get("clinic"); cs != "" {
		id, err := strconv.ParseInt(cs, 10, 64)
		if err != nil {
			b.problem(w, booking.ErrClinicNotFound)
			return
		}
		cds, err := b.Service.ClinicDayStats(id, d)
		if err != nil {
			b.problem(w, err)
			return
		}
		out["clinic"] = cds
	}
	writeJSON(w, http.StatusOK, out)
}

// GET /api/v1/admin/notifications: the last messages delivered (a
// verification message without its code: booking.ConsoleSender.Recent).
func (b *BookingAPI) handleNotifications(w http.ResponseWriter, r *http.Request) {
	type msg struct {
		ID      int64      `json:"id"`
		Booking string     `json:"booking_number"`
		Kind    string     `json:"kind"`
		To      string     `json:"to"`
		Body    string     `json:"body"`
		SentAt  *time.Time `json:"sent_at"`
	}
	out := []msg{}
	if b.Sent != nil {
		for _, m := range b.Sent() {
			out = append(out, msg{m.ID, m.BookingNumber, m.Kind, booking.MaskPhone(m.To), m.Body, m.SentAt})
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": out})
}

// POST /api/v1/admin/clock {"at": RFC 3339}: demo mode only.
func (b *BookingAPI) handleClock(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var in struct {
			At time.Time `json:"at"`
		}
		if !decodeBody(w, r, &in) {
			return
		}
		if in.At.IsZero() {
			badRequest(w, "at_missing", `Send {"at": "2021-07-19T20:00:00+09:00"}.`, "")
			return
		}
		b.DemoClock.Set(in.At)
		b.Server.Log.Info("demo clock moved", "at", in.At.Format(time.RFC3339))
	}
	writeJSON(w, http.StatusOK, map[string]any{"now": b.DemoClock.Now().In(booking.Seoul).Format(time.RFC3339)})
}
