package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/clock"
)

var citLeftoverRE = regexp.MustCompile(`name="leftover" value="([0-9]+)"`)

// A clinic signs in with its key and posts leftover doses; a verified
// person sees them in their district and books one; the clinic sees them
// coming. In Korean and English.
func TestLeftoverPages(t *testing.T) {
	a := citizenApp(t)
	a.Clock.(*clock.Settable).Set(time.Date(2021, 7, 20, 10, 30, 0, 0, booking.Seoul))
	const clinicID = 1
	token, err := a.Booking().IssueClinicToken(context.Background(), clinicID)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := a.Booking().Availability().Clinic(clinicID)

	cl := newCitBrowser(t, a.URL())
	p := cl.get("/clinic")
	checkCitizenPage(t, "clinic sign-in", p, "ko")
	mustContain(t, "clinic sign-in", p, "접종기관 인증키", `type="password"`)
	p = cl.post("/clinic/login", url.Values{"token": {"sct_wrong"}})
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, `role="alert"`) {
		t.Fatalf("a wrong key: %d\n%s", p.status, p.body)
	}
	p = cl.post("/clinic/login", url.Values{"token": {token}})
	if p.url != "/clinic" || !strings.Contains(p.body, c.Name) {
		t.Fatalf("signed in: %d at %s\n%s", p.status, p.url, p.body)
	}
	checkCitizenPage(t, "clinic page", p, "ko")
	p = cl.post("/clinic/leftovers", url.Values{"vaccine": {c.Vaccines[0]}, "doses": {"2"}, "until": {"17:00"}})
	mustContain(t, "posted", p, "남은 수량 2 / 2", "17:00")

	// The person's side: in the clinic's district, newest first.
	b := verifiedCitizen(t, a, "김민수", "680315-1234567", "010-1234-5678")
	p = b.get("/book/eligibility")
	mustContain(t, "eligibility", p, `href="/book/leftovers"`)
	p = b.get("/book/leftovers?district=" + c.DistrictCode)
	checkCitizenPage(t, "leftovers", p, "ko")
	mustContain(t, "leftovers", p, "잔여백신", c.Name, "남은 수량 2 / 2")
	id := citLeftoverRE.FindStringSubmatch(p.body)
	if id == nil {
		t.Fatalf("no leftover to book:\n%s", p.body)
	}
	if resp, err := b.c.Get(a.URL() + "/book/leftovers"); err != nil || resp.Header.Get("Refresh") != "20" {
		t.Fatalf("the leftover list does not reload itself: %v %v", resp.Header, err)
	} else {
		resp.Body.Close()
	}
	p = b.get("/book/leftovers?lang=en&district=" + c.DistrictCode)
	checkCitizenPage(t, "leftovers en", p, "en")
	mustContain(t, "leftovers en", p, "Leftover doses today", "2 of 2 left", "Book this dose")
	b.get("/book/leftovers?lang=ko")
	p = b.post("/book/leftovers", url.Values{"leftover": {id[1]}})
	mustContain(t, "booked", p, "예약이 완료되었습니다", "2021년 7월 20일(화)")
	// Booked: a second leftover is refused with the way on.
	p = b.post("/book/leftovers", url.Values{"leftover": {id[1]}})
	mustContain(t, "booked twice", p, "이미 예약이 있습니다")

	// The clinic sees them coming, masked.
	p = cl.get("/clinic")
	mustContain(t, "coming", p, "김*수", "남은 수량 1 / 2")
	if strings.Contains(p.body, "김민수") || strings.Contains(p.body, "1234-5678") {
		t.Fatal("the clinic page shows a full name or phone")
	}
	// Signed out, the page asks for the key again.
	p = cl.post("/clinic/logout", nil)
	mustContain(t, "signed out", p, "접종기관 인증키")
	if strings.Contains(p.body, "김*수") {
		t.Fatal("signed out, the list is still shown")
	}
}
