package ui_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/ui"
)

// A child books for a parent (대리예약) through the pages: the parent's name
// and RRN once, then the usual search and confirmation; the booking is the
// parent's, the confirmation goes to the child's verified phone, and the
// RRN never appears in a page or an address.
func TestProxyBookingThroughThePages(t *testing.T) {
	a := citizenApp(t) // 2021-07-19 21:00: 55-59 and 53-54 open
	const child, childPhone, parent = "김지은", "010-3333-4444", "김영수"
	childRRN := booking.FormatRRN(booking.Date{Year: 1995, Month: 1, Day: 1}, false, 23456)
	parentRRN := booking.FormatRRN(booking.Date{Year: 1964, Month: 5, Day: 5}, true, 23456)
	youngRRN := booking.FormatRRN(booking.Date{Year: 1990, Month: 8, Day: 19}, true, 23457)
	b := verifiedCitizen(t, a, child, childRRN, childPhone)
	rrnForm := func(name, rrn string) url.Values {
		digits := strings.ReplaceAll(rrn, "-", "")
		return url.Values{"name": {name}, "rrn1": {digits[:6]}, "rrn2": {digits[6:]}}
	}
	cookie := func() string {
		u, _ := url.Parse(a.URL() + "/book/for")
		for _, c := range b.c.Jar.Cookies(u) {
			if c.Name == ui.ProxyCookie {
				return c.Value
			}
		}
		return ""
	}

	p := b.get("/book/eligibility")
	mustContain(t, "eligibility", p, `href="/book/for"`, "대리예약")
	p = b.get("/book/for")
	checkCitizenPage(t, "proxy form", p, "ko")
	mustContain(t, "proxy form", p, "대리예약", `<label for="rrn1">`, "55~59세", "18~49세는 본인만 예약할 수 있습니다", "010-****-4444")

	// One's own RRN is refused, and says so.
	p = b.post("/book/for", rrnForm(child, childRRN))
	if p.status < 400 || !strings.Contains(p.body, `role="alert"`) || cookie() != "" {
		t.Fatalf("own RRN: %d, cookie %q\n%s", p.status, cookie(), p.body)
	}
	// Someone aged 18-49 may not be booked for.
	p = b.post("/book/for", rrnForm("김동생", youngRRN))
	if p.status < 400 || cookie() != "" {
		t.Fatalf("18-49: %d\n%s", p.status, p.body)
	}
	mustContain(t, "18-49 refused", p, `role="alert"`)

	// The parent: on to the search, as them.
	p = b.post("/book/for", rrnForm(parent, parentRRN))
	if p.url != "/book/clinics" || cookie() == "" {
		t.Fatalf("proxy start: %d at %s\n%s", p.status, p.url, p.body)
	}
	if strings.Contains(cookie(), parentRRN[7:]) {
		t.Fatal("the RRN is in the cookie in clear")
	}
	p = b.get("/book/clinics?region=11&district=11680&date=2021-07-26&vaccine=moderna")
	links := citConfirmRE.FindAllStringSubmatch(p.body, -1)
	if len(links) == 0 {
		t.Fatalf("no slots:\n%s", p.body)
	}
	p = b.get(html.UnescapeString(links[0][1]))
	checkCitizenPage(t, "proxy confirm", p, "ko")
	mustContain(t, "proxy confirm", p, `id="proxy-for"`, "김영수님 대신 예약 중 (예약자: 김지은)", `action="/book/for/end"`)
	p = b.post("/book", citHidden(p.body))
	checkCitizenPage(t, "proxy done", p, "ko")
	mustContain(t, "proxy done", p, "예약이 완료되었습니다", parent)
	for _, s := range []string{strings.ReplaceAll(parentRRN, "-", ""), parentRRN, parentRRN[7:]} {
		if strings.Contains(p.body, s) || strings.Contains(p.url, s) {
			t.Fatalf("the parent's RRN (%s) is on the done page or in its address", s)
		}
	}
	n := citNumberRE.FindStringSubmatch(p.body)
	if n == nil {
		t.Fatalf("no booking number:\n%s", p.body)
	}
	bk, err := a.Booking().Lookup(t.Context(), parent, parentRRN, n[1])
	if err != nil || bk.Name != parent || bk.Phone != "01033334444" || bk.CohortID != "55-59" || bk.BookedBy == bk.PersonKey {
		t.Fatalf("the booking: %+v, %v", bk, err)
	}

	// Back on the eligibility page the child books for themselves again.
	b.get("/book/eligibility")
	if cookie() != "" {
		t.Error("the proxy cookie outlived the return to one's own booking")
	}
	// A forged cookie books nobody.
	u, _ := url.Parse(a.URL() + "/book")
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: ui.ProxyCookie, Value: "AAAA", Path: "/book"}})
	p = b.post("/book", url.Values{"clinic": {"1"}, "date": {"2021-07-26"}, "block": {"1"}})
	if p.status == http.StatusOK && strings.Contains(p.body, "예약이 완료되었습니다") {
		t.Fatal("a forged proxy cookie booked")
	}
}
