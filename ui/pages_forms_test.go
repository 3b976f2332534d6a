package ui_test

import (
	"html"
	"net/url"
	"testing"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/web"
)

// verifiedSlot takes b through the waiting room and verifies 김민수, and
// returns the address of the confirmation step of a free slot.
func verifiedSlot(t *testing.T, b *citBrowser) string {
	t.Helper()
	b.get("/book")
	if p := b.verify("김민수", "680315-1234567", "010-1234-5678"); p.url != "/book/eligibility" {
		t.Fatalf("verify: %d at %s", p.status, p.url)
	}
	links := citConfirmRE.FindAllStringSubmatch(b.get("/book/clinics?region=11&district=11680&date=2021-07-26&vaccine=pfizer").body, -1)
	if len(links) == 0 {
		t.Fatal("no slot to book")
	}
	return html.UnescapeString(links[0][1])
}

// bookedAndLookedUp books verifiedSlot's slot for 김민수 and looks the
// booking up, so b stands on the booking's page; it returns the booking
// number.
func bookedAndLookedUp(t *testing.T, b *citBrowser) string {
	t.Helper()
	p := b.post("/book", citHidden(b.get(verifiedSlot(t, b)).body))
	number := citNumberRE.FindStringSubmatch(p.body)
	if number == nil {
		t.Fatalf("booking: %d\n%s", p.status, p.body)
	}
	if p = b.post("/booking", url.Values{"name": {"김민수"}, "rrn": {"680315-1234567"}, "number": {number[1]}}); p.url != "/booking/view" {
		t.Fatalf("look-up: %d at %s", p.status, p.url)
	}
	return number[1]
}

// The change and cancel forms carry a key of their own, made when the
// form is rendered: sent twice (a double click, or again after a lost
// answer), a change changes once and a cancel answers as cancelled, not
// as an error.
func TestChangeAndCancelFormsSentTwice(t *testing.T) {
	b := newCitBrowser(t, citizenApp(t).URL())
	number := bookedAndLookedUp(t, b)

	p := b.get("/booking/change?region=26&date=2021-07-27")
	ch := citChangeRE.FindStringSubmatch(p.body)
	if ch == nil {
		t.Fatalf("no change links:\n%s", p.body)
	}
	form := citHidden(b.get(html.UnescapeString(ch[1])).body)
	if form.Get("idempotency_key") == "" {
		t.Fatalf("the change form has no key: %v", form)
	}
	for i := range 2 {
		p = b.post("/booking/change", form)
		checkCitizenPage(t, "changed", p, "ko")
		mustContain(t, "changed", p, number, "2021년 7월 27일(화)")
		if p.status != 200 {
			t.Fatalf("change sent %d times: %d", i+1, p.status)
		}
	}

	form = citHidden(b.get("/booking/cancel").body)
	if form.Get("idempotency_key") == "" {
		t.Fatalf("the cancel form has no key: %v", form)
	}
	for i := range 2 {
		p = b.post("/booking/cancel", form)
		if p.status != 200 {
			t.Fatalf("cancel sent %d times: %d\n%s", i+1, p.status, p.body)
		}
		mustContain(t, "cancelled", p, "예약이 취소되었습니다", number)
	}
	// A new cancel form: the booking is cancelled already, and says so.
	if p = b.post("/booking/cancel", citHidden(b.get("/booking/cancel").body)); p.status == 200 {
		t.Errorf("a new cancel form for a cancelled booking: %d", p.status)
	}
}

// The change and cancel steps without a look-up (no cookie, or one that
// expired) send the person to look their booking up again.
func TestChangeStepsWithoutALookUp(t *testing.T) {
	a := citizenApp(t)
	b := newCitBrowser(t, a.URL())
	b.get("/book") // through the waiting room
	// The status and the sentence are the API's (web.BookingProblem).
	api := web.BookingProblem(booking.ErrLookupExpired)
	for _, path := range []string{"/booking/view", "/booking/cancel", "/booking/change"} {
		p := b.get(path)
		if p.status != api.Status {
			t.Errorf("%s without a look-up: %d, want %d and the look-up form", path, p.status, api.Status)
		}
		mustContain(t, path, p, `action="/booking"`, api.DetailKO)
	}
}

// A confirmation step naming a clinic that does not exist, a time that
// does not, or a vaccine the clinic does not offer answers with the
// status and sentence the API answers the same booking error with
// (web.BookingProblem), and the way back to the search.
func TestConfirmStepsAnswerAsTheAPI(t *testing.T) {
	b := newCitBrowser(t, citizenApp(t).URL())
	link, err := url.Parse(verifiedSlot(t, b))
	if err != nil {
		t.Fatal(err)
	}
	form := citHidden(b.get(link.String()).body)
	check := func(name string, p citPage, want error) {
		t.Helper()
		api := web.BookingProblem(want)
		if p.status != api.Status {
			t.Errorf("%s: %d, want %d as the API answers %s", name, p.status, api.Status, api.Code)
		}
		mustContain(t, name, p, html.EscapeString(api.DetailKO), `href="/book/clinics`)
	}
	for _, tc := range []struct {
		field, value string
		want         error
	}{
		{"clinic", "999999999", booking.ErrClinicNotFound},
		{"clinic", "abc", booking.ErrClinicNotFound},
		{"block", "99", booking.ErrInvalidSlot},
		{"vaccine", "no-such-vaccine", booking.ErrVaccineNotOffered},
	} {
		q := link.Query()
		q.Set(tc.field, tc.value)
		check("GET confirm with "+tc.field+"="+tc.value, b.get(link.Path+"?"+q.Encode()), tc.want)
	}
	for _, tc := range []struct {
		field, value string
		want         error
	}{
		{"clinic", "999999999", booking.ErrClinicNotFound},
		{"block", "x", booking.ErrInvalidSlot},
	} {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set(tc.field, tc.value)
		check("POST /book with "+tc.field+"="+tc.value, b.post("/book", f), tc.want)
	}
}

// The change flow's confirmation step answers a slot that does not exist
// as the API does, with web's table's status and sentence.
func TestChangeConfirmAnswersAsTheAPI(t *testing.T) {
	b := newCitBrowser(t, citizenApp(t).URL())
	bookedAndLookedUp(t, b)
	for _, tc := range []struct {
		query string
		want  error
	}{
		{"clinic=999999999&date=2021-07-27&block=0", booking.ErrClinicNotFound},
		{"clinic=abc&date=2021-07-27&block=0", booking.ErrClinicNotFound},
		{"clinic=1&date=2021-07-27&block=99", booking.ErrInvalidSlot},
	} {
		p := b.get("/booking/change/confirm?" + tc.query)
		api := web.BookingProblem(tc.want)
		if p.status != api.Status {
			t.Errorf("%s: %d, want %d as the API answers %s", tc.query, p.status, api.Status, api.Code)
		}
		mustContain(t, tc.query, p, html.EscapeString(api.DetailKO))
	}
}
