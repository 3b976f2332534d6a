// Citizen pages: leftover doses (잔여백신) near the person, and the minimal
// clinic page to post them and see who is coming.

package ui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// ClinicCookie holds a clinic's credential on the clinic page (HttpOnly,
// path /clinic).
const ClinicCookie = "sluice_clinic"

// leftoversRefreshSeconds is how often the leftover list reloads itself.
const leftoversRefreshSeconds = 20

type leftoverRow struct {
	ID              int64
	Clinic, Address string
	Vaccine         string
	Left, Doses     int
	Until, PostedAt string
}

type districtOption struct {
	Code, Name string
	Selected   bool
}

type districtGroup struct {
	Name      string
	Districts []districtOption
}

type leftoversData struct {
	Groups    []districtGroup
	District  string
	Leftovers []leftoverRow
}

func (p *Pages) leftoverRow(l Lang, x booking.Leftover) leftoverRow {
	row := leftoverRow{ID: x.ID, Left: x.Left(), Doses: x.Doses, Until: l.When(x.Until), PostedAt: l.When(x.PostedAt)}
	if c, ok := p.Booking.Availability().Clinic(x.ClinicID); ok {
		row.Clinic, row.Address = l.Pick(c.Name, c.NameEN), l.Pick(c.Address, c.AddressEN)
	}
	if v := p.Booking.Programme().Vaccine(x.VaccineID); v != nil {
		row.Vaccine = l.Pick(v.Name, v.NameEN)
	}
	return row
}

// GET /book/leftovers[?district=CODE]: today's leftover doses near the
// verified person, newest first.
func (p *Pages) leftoversPage(w http.ResponseWriter, r *http.Request) {
	pg, _, ok := p.verifiedStep(w, r, "left.h1", "/book/leftovers", 3)
	if !ok {
		return
	}
	district := keepOnly(r.URL.Query().Get("district"), "0123456789", 5)
	ls, err := p.Booking.LeftoversNear(r.Context(), district)
	if err != nil {
		p.renderError(w, pg, "left.h1", err, "/book/leftovers")
		return
	}
	d := leftoversData{District: district}
	for _, rg := range booking.Regions() {
		g := districtGroup{Name: pg.Lang.Pick(rg.Name, rg.NameEN)}
		for _, dc := range rg.Districts {
			g.Districts = append(g.Districts, districtOption{Code: dc.Code, Name: pg.Lang.Pick(dc.Name, dc.NameEN), Selected: dc.Code == district})
		}
		d.Groups = append(d.Groups, g)
	}
	for _, l := range ls {
		d.Leftovers = append(d.Leftovers, p.leftoverRow(pg.Lang, l))
	}
	pg.D = d
	// Live without JavaScript: leftovers go fast, so the list reloads
	// itself.
	w.Header().Set("Refresh", strconv.Itoa(leftoversRefreshSeconds))
	p.render(w, http.StatusOK, "leftovers", pg)
}

// POST /book/leftovers: book one leftover dose, first come, first served.
func (p *Pages) leftoverSubmit(w http.ResponseWriter, r *http.Request) {
	pg, sess, ok := p.verifiedStep(w, r, "left.h1", "/book/leftovers", 4)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(r.PostFormValue("leftover"), 10, 64)
	if _, err := p.Booking.BookLeftover(r.Context(), sess.ID, id); err != nil {
		p.renderError(w, pg, "left.h1", err, "/book/leftovers")
		return
	}
	http.Redirect(w, r, "/book/done", http.StatusSeeOther)
}

type clinicData struct {
	Clinic    string
	Date      string
	Vaccines  []option
	Leftovers []leftoverRow
	Coming    []comingRow
	Until     string // the form's default: 17:00
}

type comingRow struct {
	When, Name, Phone, Vaccine, Number string
}

// GET /clinic: the clinic page (its credential in ClinicCookie), or the
// form to give the credential.
func (p *Pages) clinicPage(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "clinic.h1", "/clinic")
	c, err := r.Cookie(ClinicCookie)
	if err != nil || c.Value == "" {
		p.render(w, http.StatusOK, "clinic", pg)
		return
	}
	day, err := p.Booking.ClinicToday(r.Context(), c.Value)
	if err != nil {
		if errors.Is(err, booking.ErrClinicToken) {
			p.clearClinic(w, r)
		}
		p.renderFormError(w, pg, "clinic", err, "/clinic")
		return
	}
	l := pg.Lang
	d := clinicData{Clinic: l.Pick(day.Clinic.Name, day.Clinic.NameEN), Date: l.Date(day.Date), Until: "17:00"}
	for _, id := range day.Clinic.Vaccines {
		if v := p.Booking.Programme().Vaccine(id); v != nil {
			d.Vaccines = append(d.Vaccines, option{Value: id, Label: l.Pick(v.Name, v.NameEN)})
		}
	}
	for _, x := range day.Leftovers {
		d.Leftovers = append(d.Leftovers, p.leftoverRow(l, x))
	}
	for _, cp := range day.Coming {
		row := comingRow{When: l.Block(cp.Block), Name: cp.Name, Phone: cp.Phone, Number: cp.Number}
		if v := p.Booking.Programme().Vaccine(cp.Vaccine); v != nil {
			row.Vaccine = l.Pick(v.Name, v.NameEN)
		}
		d.Coming = append(d.Coming, row)
	}
	pg.D = d
	p.render(w, http.StatusOK, "clinic", pg)
}

// POST /clinic/login: check the credential, keep it in ClinicCookie.
func (p *Pages) clinicLogin(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "clinic.h1", "/clinic")
	token := strings.TrimSpace(r.PostFormValue("token"))
	if _, err := p.Booking.ClinicOf(r.Context(), token); err != nil {
		p.renderFormError(w, pg, "clinic", err, "/clinic")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: ClinicCookie, Value: token, Path: "/clinic", MaxAge: int((12 * time.Hour).Seconds()),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/clinic", http.StatusSeeOther)
}

// POST /clinic/logout
func (p *Pages) clinicLogout(w http.ResponseWriter, r *http.Request) {
	p.clearClinic(w, r)
	http.Redirect(w, r, "/clinic", http.StatusSeeOther)
}

func (p *Pages) clearClinic(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: ClinicCookie, Value: "", Path: "/clinic", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
}

// POST /clinic/leftovers: post leftover doses for today, until HH:MM.
func (p *Pages) clinicPost(w http.ResponseWriter, r *http.Request) {
	pg := p.newPage(w, r, "clinic.h1", "/clinic")
	c, err := r.Cookie(ClinicCookie)
	if err != nil {
		http.Redirect(w, r, "/clinic", http.StatusSeeOther)
		return
	}
	doses, _ := strconv.Atoi(strings.TrimSpace(r.PostFormValue("doses")))
	today := booking.DateOf(p.now())
	until, terr := time.ParseInLocation("2006-01-02 15:04", today.String()+" "+strings.TrimSpace(r.PostFormValue("until")), booking.Seoul)
	if terr != nil {
		until = time.Time{}
	}
	if _, err := p.Booking.PostLeftover(r.Context(), c.Value, booking.LeftoverInput{VaccineID: r.PostFormValue("vaccine"), Doses: doses, Until: until}); err != nil {
		p.renderError(w, pg, "clinic.h1", err, "/clinic")
		return
	}
	http.Redirect(w, r, "/clinic", http.StatusSeeOther)
}
