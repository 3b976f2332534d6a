// Citizen pages, booking step 3 (and a change): clinic and time search.

package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sluicehq/sluice/booking"
)

type option struct {
	Value    string
	Label    string
	Selected bool
}

type blockRow struct {
	Start string // "09:00"
	End   string // "~10:00", for screen readers (the list says blocks are an hour)
	Free  int
	URL   string // "" when full or past
}

type clinicRow struct {
	ID       int64
	Name     string
	Kind     string
	Dong     string
	Distance string // from the neighbourhood chosen, when sorted by distance
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
	// Dongs are the chosen district's neighbourhoods; with one chosen,
	// Sort "near" lists the district's clinics nearest to it first and
	// "free" only its own, most free places first.
	Dongs     []option
	Dong      string
	DongLabel string // its name in the page's language
	Sorts     []option
	Sort      string
	Near      bool // the results are in order of distance
	Searched  bool
	Total     int
	From, To  int
	Results   []clinicRow
	MoreURL   string
}

// searchPageSize is short: on a phone each clinic with its time blocks is
// most of a screen.
const searchPageSize = 5

// search reads the search form (region, district, date, vaccine, offset)
// and runs it against the availability index (memory, never the database).
// search runs the clinic search of a booking or change page. share, if
// not nil, lowers each result's free places to the person's share
// (booking.Service.ShareView).
func (p *Pages) search(r *http.Request, l Lang, vaccines []*booking.Vaccine, action, confirm string, share func(*booking.ClinicAvailability)) searchData {
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
	dong, hasDong := searchDongs(q, l, &d)
	// The dates the service accepts (its configured horizon).
	valid := false
	for _, day := range p.Booking.BookableDates(now) {
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
	sq := booking.SearchQuery{
		RegionCode: d.Region, DistrictCode: d.District, Date: date, Vaccine: d.Vaccine,
		OnlyFree: true, Limit: searchPageSize, Offset: offset,
	}
	switch {
	case hasDong && d.Near:
		sq.Near = dong.Name
	case hasDong:
		sq.Dong = dong.Name
	}
	res, total := p.Booking.Availability().SearchTotal(sq)
	if share != nil {
		for i := range res {
			share(&res[i])
		}
	}
	d.Searched, d.Total = true, total
	if len(res) > 0 {
		d.From, d.To = offset+1, offset+len(res)
	}
	for _, c := range res {
		row := clinicRow{ID: c.Clinic.ID, Name: l.Pick(c.Clinic.Name, c.Clinic.NameEN), Address: l.Pick(c.Clinic.Address, c.Clinic.AddressEN),
			Kind: l.T("kind." + string(c.Clinic.Kind)), Dong: l.Pick(c.Clinic.Dong, c.Clinic.DongEN), Free: c.DayFree}
		if d.Near {
			row.Distance = l.Distance(booking.Distance(c.Clinic.X, c.Clinic.Y, dong.X, dong.Y))
		}
		var names []string
		for _, id := range c.Clinic.Vaccines {
			if v := p.Booking.Programme().Vaccine(id); v != nil {
				names = append(names, l.Pick(v.Name, v.NameEN))
			}
		}
		row.Vaccines = strings.Join(names, ", ")
		for b := range booking.BlocksPerDay {
			tb := booking.TimeBlock(b)
			start, end := l.BlockStartEnd(tb)
			br := blockRow{Start: start, End: end, Free: c.Free[b]}
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
		if d.Dong != "" {
			mq.Set("dong", d.Dong)
			mq.Set("sort", d.Sort)
		}
		if d.Vaccine != "" {
			mq.Set("vaccine", d.Vaccine)
		}
		d.MoreURL = action + "?" + mq.Encode()
	}
	return d
}

// searchDongs fills in the neighbourhoods of the chosen district and the
// order asked for, and returns the neighbourhood chosen.
func searchDongs(q url.Values, l Lang, d *searchData) (booking.Dong, bool) {
	if d.District == "" {
		return booking.Dong{}, false
	}
	dong, ok := booking.DongOf(d.District, q.Get("dong"))
	d.Dongs = []option{{"", l.T("search.dong.all"), !ok}}
	for _, dg := range booking.Dongs(d.District) {
		d.Dongs = append(d.Dongs, option{dg.Name, l.Pick(dg.Name, dg.NameEN), ok && dg.Name == dong.Name})
	}
	if !ok {
		return booking.Dong{}, false
	}
	d.Dong, d.DongLabel, d.Sort = dong.Name, l.Pick(dong.Name, dong.NameEN), "near"
	if q.Get("sort") == "free" {
		d.Sort = "free"
	}
	d.Near = d.Sort == "near"
	d.Sorts = []option{{"near", l.T("search.sort.near"), d.Near}, {"free", l.T("search.sort.free"), !d.Near}}
	return dong, true
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

// GET /book/clinics
func (p *Pages) bookClinics(w http.ResponseWriter, r *http.Request) {
	pg, _, e, ok := p.eligibleStep(w, r, "search.h1", "/book/clinics", 3)
	if !ok {
		return
	}
	d := p.search(r, pg.Lang, e.Campaign.VaccinesFor(e.Cohort), "/book/clinics", "/book/confirm", p.Booking.ShareView(e, pg.Now))
	d.H1 = pg.T("search.h1")
	pg.Scripts, pg.D = []string{"book.js"}, d
	p.render(w, http.StatusOK, "clinics", pg)
}
