package ui_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/ui"
)

// citizenApp starts the demo (booking campaign on its 2021 clock, no crowd)
// on a random port.
func citizenApp(t *testing.T) *app.App { return demoApp(t, nil) }

// demoApp starts the demo on a random port, after with (if not nil) has
// changed its configuration and options.
func demoApp(t *testing.T, with func(*config.Config, *app.Options)) *app.App {
	t.Helper()
	cfg, opts := apptest.Config(), app.Options{Demo: true, Log: quiet}
	if with != nil {
		with(&cfg, &opts)
	}
	return apptest.Start(t, cfg, opts)
}

// citBrowser is a browser without JavaScript: a cookie jar, following
// redirects, asking for HTML.
type citBrowser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func newCitBrowser(t *testing.T, base string) *citBrowser {
	jar, _ := cookiejar.New(nil)
	return &citBrowser{t: t, c: &http.Client{Jar: jar, Timeout: 10 * time.Second}, base: base}
}

type citPage struct {
	status int
	body   string
	url    string // after redirects
}

func (b *citBrowser) do(method, path string, form url.Values, headers map[string]string) citPage {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		// What a browser sends with a form post from the same site.
		req.Header.Set("Origin", b.base)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return citPage{status: resp.StatusCode, body: string(out), url: resp.Request.URL.RequestURI()}
}

func (b *citBrowser) get(path string) citPage { return b.do("GET", path, nil, nil) }

func (b *citBrowser) post(path string, form url.Values) citPage {
	if form == nil {
		form = url.Values{}
	}
	return b.do("POST", path, form, nil)
}

// redirect asks for path without following a redirect; it returns the
// status and the Location.
func (b *citBrowser) redirect(path string) (int, string) {
	b.t.Helper()
	c := &http.Client{Jar: b.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest("GET", b.base+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// eventually polls cond until it holds, and fails the test if it does not
// within timeout.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
	}
}

func (b *citBrowser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var (
	citControlRE = regexp.MustCompile(`<(input|select|textarea|progress)\b[^>]*>`)
	citAttrRE    = regexp.MustCompile(`\b(id|type|for)="([^"]*)"`)
	citLabelRE   = regexp.MustCompile(`<label\b[^>]*>`)
	citH1RE      = regexp.MustCompile(`<h1[\s>]`)
	citLangRE    = regexp.MustCompile(`<html lang="([a-z]+)">`)
)

func citAttrs(tag string) map[string]string {
	out := map[string]string{}
	for _, m := range citAttrRE.FindAllStringSubmatch(tag, -1) {
		out[m[1]] = m[2]
	}
	return out
}

// checkCitizenPage checks what every page must have: one h1, the language
// in <html lang>, a <label for> for every control, and nothing loaded from
// another site.
func checkCitizenPage(t *testing.T, name string, p citPage, lang string) {
	t.Helper()
	if m := citLangRE.FindStringSubmatch(p.body); m == nil || m[1] != lang {
		t.Errorf("%s: html lang = %v, want %q", name, m, lang)
	}
	if n := len(citH1RE.FindAllString(p.body, -1)); n != 1 {
		t.Errorf("%s: %d h1 elements, want 1", name, n)
	}
	labels := map[string]bool{}
	for _, tag := range citLabelRE.FindAllString(p.body, -1) {
		if f := citAttrs(tag)["for"]; f != "" {
			labels[f] = true
		}
	}
	for _, tag := range citControlRE.FindAllString(p.body, -1) {
		a := citAttrs(tag)
		switch a["type"] {
		case "hidden", "submit", "button":
			continue
		}
		if a["id"] == "" || !labels[a["id"]] {
			t.Errorf("%s: control without <label for>: %s", name, tag)
		}
	}
	for _, bad := range []string{`src="http`, `href="http`, `src="//`, `href="//`, `@import`} {
		if strings.Contains(p.body, bad) {
			t.Errorf("%s: loads something from outside: %q", name, bad)
		}
	}
}

func mustContain(t *testing.T, name string, p citPage, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(p.body, w) {
			t.Errorf("%s (%d %s): missing %q", name, p.status, p.url, w)
		}
	}
	if t.Failed() {
		t.Logf("%s body:\n%s", name, p.body)
		t.FailNow()
	}
}

func TestLandingInKoreanAndEnglishRemembered(t *testing.T) {
	a := citizenApp(t)
	b := newCitBrowser(t, a.URL())

	p := b.get("/")
	if p.status != 200 {
		t.Fatalf("landing: %d", p.status)
	}
	checkCitizenPage(t, "landing ko", p, "ko")
	// Demo clock: 2021-07-19 21:00, inside the 53-54 and 55-59 windows.
	mustContain(t, "landing ko", p, "2021년 7월 50대 코로나19 예방접종 사전예약", "오늘의 예약 일정",
		"1967~1968년생: 7월 19일 20시 ~ 7월 20일 18시", "지금 예약 가능", `href="/?lang=en"`, "English",
		"지금 예약할 수 있나요?", `<label for="y">`)

	p = b.get("/?lang=en")
	checkCitizenPage(t, "landing en", p, "en")
	mustContain(t, "landing en", p, "July 2021 COVID-19 vaccination pre-booking", "Today&#39;s booking windows",
		"Born 1967-1968: 20:00 on 19 July to 18:00 on 20 July", "Open now", `href="/?lang=ko"`, "한국어", "May I book now?")
	if b.cookie(ui.LangCookie) != "en" {
		t.Fatalf("lang cookie = %q", b.cookie(ui.LangCookie))
	}
	// Remembered on the next page, without ?lang.
	p = b.get("/")
	checkCitizenPage(t, "landing en again", p, "en")
	mustContain(t, "landing en again", p, "Today&#39;s booking windows")
	p = b.get("/booking")
	checkCitizenPage(t, "lookup en", p, "en")
	mustContain(t, "lookup en", p, "Look up a booking", `<label for="rrn1">`, "alien registration number")
	// And switched back.
	p = b.get("/?lang=ko")
	checkCitizenPage(t, "landing ko again", p, "ko")
	// An unknown language is ignored.
	p = b.get("/?lang=fr")
	checkCitizenPage(t, "landing fr", p, "ko")
}

func TestLandingMayIBookNow(t *testing.T) {
	a := citizenApp(t)
	b := newCitBrowser(t, a.URL())

	p := b.get("/?birth_date=1968-03-15")
	checkCitizenPage(t, "yes", p, "ko")
	mustContain(t, "yes", p, "지금 예약할 수 있습니다", "1968년생은 7월 20일 18시까지 예약할 수 있습니다.",
		`href="/wait/vaccine?return=/book"`, "예약하러 가기")

	// Born 1970: the 50-52 window opens at 20:00 the next day.
	p = b.get("/?y=1970&m=1&d=1")
	checkCitizenPage(t, "when", p, "ko")
	mustContain(t, "when", p, "지금은 예약할 수 없습니다", "1970년생은 7월 20일 20시부터 예약할 수 있습니다.",
		"예약 시작: 7월 20일(화) 20:00", `value="1970"`, `<option value="1" selected>`)
	if strings.Contains(p.body, "/wait/vaccine?return=/book\" class") || strings.Contains(p.body, "예약하러 가기") {
		t.Fatal("not eligible, yet offered to join the line")
	}
	p = b.get("/?lang=en&y=1970&m=1&d=1")
	mustContain(t, "when en", p, "Not now", "Your booking opens: Tue 20 July, 20:00", "People born in 1970 can book from 20:00 on 20 July.")

	// Full-width digits typed on a phone keyboard are fine.
	p = b.get("/?lang=ko&y=" + url.QueryEscape("１９６８") + "&m=3&d=15")
	mustContain(t, "full-width", p, "지금 예약할 수 있습니다")

	// In the August campaign of the programme: told when, in July.
	p = b.get("/?birth_date=1990-05-05")
	mustContain(t, "august cohort in july", p, "지금은 예약할 수 없습니다", "생일 끝자리가 5인 1990년생은 8월 15일 20시부터 예약할 수 있습니다.")

	// In no campaign of the programme: told so, and what to do.
	p = b.get("/?birth_date=1940-05-05")
	mustContain(t, "other cohort", p, "지금은 예약할 수 없습니다", "지금 진행 중인 예약(", "해당 연령대의 예약 일정이 발표되면")
	if strings.Contains(p.body, "더 예약할 수 없습니다") {
		t.Error("someone who was never eligible is told they cannot book any more")
	}

	// A date that is wrong or incomplete: what to do, the box it is about
	// marked (and no other), the form filled back in.
	for _, c := range []struct{ query, field, want string }{
		{"y=1970&m=2&d=30", "d", "2월에는 30일이 없습니다"},
		{"y=1970&m=&d=5", "m", "태어난 달을 목록에서 골라 주세요"},
		{"y=1970&m=4&d=", "d", "태어난 날을 목록에서 골라 주세요"},
		{"y=70&m=4&d=5", "y", "태어난 해를 4자리 숫자로 입력해 주세요"},
		{"birth_date=1970-13-01", "y", "생년월일을 확인해 주세요"},
	} {
		p = b.get("/?" + c.query)
		if p.status != http.StatusBadRequest {
			t.Fatalf("%s: %d", c.query, p.status)
		}
		checkCitizenPage(t, c.query, p, "ko")
		mustContain(t, c.query, p, `role="alert"`, c.want, "다시 눌러 주세요")
		marked := regexp.MustCompile(`id="([ymd])"[^>]*aria-invalid="true"`).FindAllStringSubmatch(p.body, -1)
		if len(marked) != 1 || marked[0][1] != c.field {
			t.Errorf("%s: marked %v, want only %q", c.query, marked, c.field)
		}
	}
	mustContain(t, "month kept", b.get("/?y=1970&m=4&d="), `value="1970"`, `<option value="4" selected>`)
}

var (
	citChallengeRE = regexp.MustCompile(`name="challenge" value="([^"]+)"`)
	citDemoCodeRE  = regexp.MustCompile(`id="demo-code">(\d+)<`)
	citConfirmRE   = regexp.MustCompile(`href="(/book/confirm\?[^"]+)"`)
	citChangeRE    = regexp.MustCompile(`href="(/booking/change/confirm\?[^"]+)"`)
	citHiddenRE    = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)">`)
	citNumberRE    = regexp.MustCompile(`id="booking-number">(SLC-[0-9A-Z]{4}-[0-9A-Z]{4})<`)
	citRRNValueRE  = regexp.MustCompile(`name="rrn2?"[^>]*value=`)
)

func citHidden(body string) url.Values {
	v := url.Values{}
	for _, m := range citHiddenRE.FindAllStringSubmatch(body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

func TestBookingFlowThroughTheForms(t *testing.T) {
	a := citizenApp(t)
	b := newCitBrowser(t, a.URL())
	const name, rrn, phone = "김민수", "680315-1234567", "010-1234-5678"
	noRRN := func(what string, p citPage) {
		t.Helper()
		for _, s := range []string{"6803151234567", "680315-1234567", "1234567"} {
			if strings.Contains(p.body, s) {
				t.Fatalf("%s shows the RRN (%q)", what, s)
			}
		}
	}

	// The booking form is behind the waiting room: a browser without a
	// pass goes through it (here admitted at once) and comes back.
	p := b.get("/book")
	if p.status != 200 || p.url != "/book" {
		t.Fatalf("/book through the waiting room: %d at %s", p.status, p.url)
	}
	if b.cookie(room.PassCookie) == "" || b.cookie("sluice_ticket_vaccine") == "" {
		t.Fatal("no pass or ticket cookie after the waiting room")
	}
	checkCitizenPage(t, "verify", p, "ko")
	mustContain(t, "verify", p, "본인확인", `<label for="name">`, `<label for="rrn1">앞 6자리 (생년월일)</label>`,
		`<label for="rrn2">뒤 7자리</label>`, `class="rrn-back"`, `<label for="phone">`,
		`inputmode="numeric"`, `autocomplete="name"`, `aria-current="step"`, "/static/book.js?v=")
	// Every booking page says how long the pass lasts (20 minutes in the demo).
	if !regexp.MustCompile(`id="session-left"[^>]*>예약 화면 이용 시간: 21:[0-9:]+까지 \((19|20)분 남음\)<`).MatchString(p.body) {
		t.Errorf("no time left on the booking page:\n%s", p.body)
	}

	// Bad input: told what and what next, the right box marked; what was
	// typed comes back but the last 7 digits.
	p = b.post("/book/verify", url.Values{"name": {name}, "rrn1": {"680230"}, "rrn2": {"1234567"}, "phone": {phone}})
	if p.status != http.StatusBadRequest {
		t.Fatalf("impossible RRN: %d", p.status)
	}
	checkCitizenPage(t, "verify error", p, "ko")
	mustContain(t, "verify error", p, `role="alert"`, "표시된 칸을 고친 뒤", `value="김민수"`, `value="010-1234-5678"`,
		`value="680230" data-rrn="front" aria-invalid="true"`, `id="rrn2-cleared"`, "뒷자리는 지웠습니다")
	if citRRNValueRE.MatchString(p.body) {
		t.Fatal("the last 7 digits are filled back in")
	}
	// Only the phone is wrong: it is marked, the birth date stays.
	p = b.post("/book/verify", url.Values{"name": {name}, "rrn1": {"680315"}, "rrn2": {"1234567"}, "phone": {"02-123-4567"}})
	checkCitizenPage(t, "phone error", p, "ko")
	mustContain(t, "phone error", p, `value="680315" data-rrn="front">`, `value="02-123-4567" aria-describedby="phone-hint problem" aria-invalid="true"`, `id="rrn2-cleared"`)
	if citRRNValueRE.MatchString(p.body) {
		t.Fatal("the last 7 digits are filled back in")
	}
	// A box with the wrong number of digits is named, with the count.
	for _, c := range []struct{ front, back, field, want string }{
		{"68031", "1234567", "rrn1", "앞자리는 생년월일 6자리입니다. 지금 5자리를 입력했습니다."},
		{"680315", "123456", "rrn2", "뒷자리는 7자리입니다. 지금 6자리를 입력했습니다."},
		{"", "1234567", "rrn1", "앞 6자리(생년월일)를 입력해 주세요"},
		{"680315", "", "rrn2", "뒤 7자리를 입력해 주세요"},
		{"68O315", "1234567", "rrn1", "숫자로만"},
	} {
		p = b.post("/book/verify", url.Values{"name": {name}, "rrn1": {c.front}, "rrn2": {c.back}, "phone": {phone}})
		if p.status != http.StatusBadRequest {
			t.Fatalf("%s/%s: %d", c.front, c.back, p.status)
		}
		mustContain(t, "digit count "+c.front+"/"+c.back, p, c.want, `id="`+c.field+`" name="`+c.field+`"`)
		if !regexp.MustCompile(`id="` + c.field + `"[^>]*aria-invalid="true"`).MatchString(p.body) {
			t.Errorf("%s/%s: box %s not marked", c.front, c.back, c.field)
		}
	}

	// Pasted forms of RRN and phone are accepted: the whole number in the
	// first box (a browser without JavaScript), full-width digits, spaces.
	p = b.post("/book/verify", url.Values{"name": {name}, "rrn1": {"６８０３１５ – 1234567"}, "rrn2": {""}, "phone": {"+82 10 1234 5678"}})
	checkCitizenPage(t, "code", p, "ko")
	mustContain(t, "code", p, "인증번호 입력", "인증번호 6자리를 010-****-5678 번호로 보냈습니다", "데모용 인증번호", `autocomplete="one-time-code"`)
	noRRN("code page", p)
	challenge, code := citChallengeRE.FindStringSubmatch(p.body), citDemoCodeRE.FindStringSubmatch(p.body)
	if challenge == nil || code == nil {
		t.Fatalf("no challenge or demo code:\n%s", p.body)
	}
	form := citHidden(p.body)
	form.Set("code", "000000")
	if code[1] == "000000" {
		form.Set("code", "111111")
	}
	p = b.post("/book/code", form)
	if p.status != http.StatusBadRequest {
		t.Fatalf("wrong code: %d", p.status)
	}
	mustContain(t, "wrong code", p, "인증번호가 맞지 않습니다", "4번 더 입력할 수 있고", `aria-invalid="true"`, "데모용 인증번호", code[1])
	form.Set("code", code[1])
	p = b.post("/book/code", form)
	if p.url != "/book/eligibility" {
		t.Fatalf("after the code: %d at %s", p.status, p.url)
	}
	if b.cookie(ui.SessionCookie) == "" {
		t.Fatal("no session cookie")
	}
	// The JSON API takes the pages' session cookie for its header.
	if s := b.get("/api/v1/session"); s.status != http.StatusOK || !strings.Contains(s.body, `"eligibility"`) {
		t.Fatalf("the API with the pages' session cookie: %d\n%s", s.status, s.body)
	}
	checkCitizenPage(t, "eligibility", p, "ko")
	mustContain(t, "eligibility", p, "김민수님", "지금 예약할 수 있습니다", "53~54세", `href="/book/clinics"`)

	// Search: the form first, then Gangnam on Monday 26 July.
	p = b.get("/book/clinics")
	checkCitizenPage(t, "search form", p, "ko")
	mustContain(t, "search form", p, `<label for="region">`, `<label for="district">`, `<label for="date">`, `<label for="vaccine">`, "서울특별시")
	p = b.get("/book/clinics?region=11&district=11680&date=2021-07-26&vaccine=pfizer")
	checkCitizenPage(t, "search results", p, "ko")
	mustContain(t, "search results", p, "곳에 빈자리가 있습니다", `<option value="11680" selected>강남구</option>`, "09:00~10:00")
	links := citConfirmRE.FindAllStringSubmatch(p.body, -1)
	if len(links) < 3 {
		t.Fatalf("block links: %v", links)
	}
	p = b.get(html.UnescapeString(links[2][1]))
	checkCitizenPage(t, "confirm", p, "ko")
	mustContain(t, "confirm", p, "예약 내용 확인", "1차 접종", "2차 접종", "2차 접종일은 예약 시 자동으로 정해집니다", "2021년 7월 26일(월)", "화이자")
	form = citHidden(p.body)
	if form.Get("idempotency_key") == "" || form.Get("clinic") == "" {
		t.Fatalf("confirm form: %v", form)
	}

	// Book; a double submit of the same form books once.
	p = b.post("/book", form)
	checkCitizenPage(t, "done", p, "ko")
	mustContain(t, "done", p, "예약이 완료되었습니다", "예약번호", "2021년 7월 26일(월)", "2021년 9월 6일(월)", "/wait/vaccine/leave")
	if strings.Contains(p.body, "자동으로 정해집니다") {
		t.Fatal("done page still says the second dose is to be set")
	}
	number := citNumberRE.FindStringSubmatch(p.body)
	if number == nil {
		t.Fatalf("no booking number:\n%s", p.body)
	}
	p2 := b.post("/book", form)
	if n2 := citNumberRE.FindStringSubmatch(p2.body); n2 == nil || n2[1] != number[1] {
		t.Fatalf("double submit gave %v, want %s", n2, number[1])
	}
	// A new form (new key) for the same person: already booked, with the way on.
	p = b.get(html.UnescapeString(links[2][1]))
	form2 := citHidden(p.body)
	p = b.post("/book", form2)
	mustContain(t, "book twice", p, "이미 예약이 있습니다", `href="/booking"`)

	// Look it up (number typed in lower case), in English.
	b.get("/booking?lang=en")
	p = b.post("/booking", url.Values{"name": {name}, "rrn": {"6803151234567"}, "number": {strings.ToLower(number[1])}})
	if p.url != "/booking/view" {
		t.Fatalf("lookup: %d at %s\n%s", p.status, p.url, p.body)
	}
	checkCitizenPage(t, "booking view", p, "en")
	mustContain(t, "booking view", p, number[1], "Your booking", "Booked", "Mon 26 July 2021", "Mon 6 September 2021",
		`href="/booking/change"`, `href="/booking/cancel"`)
	noRRN("booking view", p)
	mustContain(t, "booking view", p, "On the day", "Bring an identity document", "If you have a fever", `href="/booking/calendar.ics" download`)

	// Both doses as a calendar file, each with a reminder.
	p = b.get("/booking/calendar.ics")
	if p.status != http.StatusOK || !strings.HasPrefix(p.body, "BEGIN:VCALENDAR\r\n") || strings.Count(p.body, "BEGIN:VEVENT") != 2 {
		t.Fatalf("calendar: %d\n%s", p.status, p.body)
	}
	unfolded := strings.ReplaceAll(p.body, "\r\n ", "")
	for _, want := range []string{"DTSTART:20210726T", "DTSTART:20210906T", "UID:" + number[1] + "-1@sluice", "SUMMARY:COVID-19 vaccination\\, dose 2", "TRIGGER:-P1D", "Booking number " + number[1]} {
		if !strings.Contains(unfolded, want) {
			t.Errorf("calendar: no %q in\n%s", want, p.body)
		}
	}

	// Change to another clinic and day.
	p = b.get("/booking/change?region=26&date=2021-07-27")
	checkCitizenPage(t, "change search", p, "en")
	ch := citChangeRE.FindStringSubmatch(p.body)
	if ch == nil {
		t.Fatalf("no change links:\n%s", p.body)
	}
	p = b.get(html.UnescapeString(ch[1]))
	checkCitizenPage(t, "change confirm", p, "en")
	mustContain(t, "change confirm", p, "Booked now", "New booking", "Tue 27 July 2021", "The second-dose date is set automatically when you book")
	p = b.post("/booking/change", citHidden(p.body))
	checkCitizenPage(t, "changed", p, "en")
	mustContain(t, "changed", p, "Your booking is changed", "Tue 27 July 2021", "Tue 7 September 2021", number[1])

	// Cancel, with a confirmation step.
	p = b.get("/booking/cancel?lang=ko")
	checkCitizenPage(t, "cancel confirm", p, "ko")
	mustContain(t, "cancel confirm", p, "예약을 취소할까요?", "예, 취소합니다", "아니요, 예약을 유지합니다")
	p = b.post("/booking/cancel", nil)
	checkCitizenPage(t, "cancelled", p, "ko")
	mustContain(t, "cancelled", p, "예약이 취소되었습니다", "취소됨")
	p = b.get("/booking/view")
	mustContain(t, "view cancelled", p, "취소됨", "이 예약은 취소되었습니다", `<div class="card cancelled">`, "취소된 예약입니다", `class="badge cancelled"`)
	if strings.Contains(p.body, `href="/booking/cancel"`) || strings.Contains(p.body, "calendar.ics") {
		t.Fatal("a cancelled booking still offers cancel or a calendar file")
	}
	if p = b.get("/booking/calendar.ics"); p.status != http.StatusConflict || strings.Contains(p.body, "VCALENDAR") {
		t.Fatalf("calendar of a cancelled booking: %d", p.status)
	}

	// Wrong look-up details: no hint which one, the next step, no RRN echo.
	p = b.post("/booking", url.Values{"name": {"김민순"}, "rrn": {rrn}, "number": {number[1]}})
	if p.status != http.StatusNotFound {
		t.Fatalf("wrong name: %d", p.status)
	}
	mustContain(t, "wrong lookup", p, "예약을 찾을 수 없습니다", "예약할 때 입력한 것과 같은지", "예약번호를 잊었다면", `href="/book">본인확인으로 내 예약 찾기`, `value="김민순"`)
	if strings.Contains(p.body, "표시된 칸") || strings.Contains(p.body, `aria-invalid="true"`) {
		t.Error("a look-up that found nothing speaks of a marked field")
	}
	if citRRNValueRE.MatchString(p.body) {
		t.Fatal("the RRN field is filled back in")
	}
}

// verify goes through identity verification with the demo code the page
// shows, and returns the page it ends on.
func (b *citBrowser) verify(name, rrn, phone string) citPage {
	b.t.Helper()
	p := b.post("/book/verify", url.Values{"name": {name}, "rrn": {rrn}, "phone": {phone}})
	code := citDemoCodeRE.FindStringSubmatch(p.body)
	if code == nil {
		b.t.Fatalf("no demo code after /book/verify: %d\n%s", p.status, p.body)
	}
	form := citHidden(p.body)
	form.Set("code", code[1])
	return b.post("/book/code", form)
}

// TestSearchOffersTheConfiguredHorizon: the clinic search offers exactly
// the dates the service books, for the configured horizon
// (booking.horizon_days), not a default of its own.
func TestSearchOffersTheConfiguredHorizon(t *testing.T) {
	a := demoApp(t, func(cfg *config.Config, _ *app.Options) { cfg.Booking.HorizonDays = 10 })
	b := newCitBrowser(t, a.URL())
	b.get("/book")
	if p := b.verify("김민수", "680315-1234567", "010-1234-5678"); p.url != "/book/eligibility" {
		t.Fatalf("verification ended at %s (%d)", p.url, p.status)
	}
	p := b.get("/book/clinics")
	sel := regexp.MustCompile(`(?s)<select[^>]*id="date".*?</select>`).FindString(p.body)
	var got []string
	for _, m := range regexp.MustCompile(`<option value="(\d{4}-\d{2}-\d{2})"`).FindAllStringSubmatch(sel, -1) {
		got = append(got, m[1])
	}
	var want []string
	for _, d := range a.Booking().BookableDates(a.Clock.Now()) {
		want = append(want, d.String())
	}
	// The demo clock: 19 July 2021, 21:00. Ten days ahead is 29 July.
	if strings.Join(got, " ") != strings.Join(want, " ") || len(got) == 0 || got[len(got)-1] != "2021-07-29" {
		t.Fatalf("dates offered %v, want the service's %v (to 2021-07-29)", got, want)
	}
}

func TestBookingSessionAndGateErrorsSayWhatNext(t *testing.T) {
	a := citizenApp(t)
	b := newCitBrowser(t, a.URL())
	// With a pass but no verified session: sent back to verification.
	b.get("/book")
	p := b.get("/book/clinics")
	if p.status != http.StatusUnauthorized {
		t.Fatalf("clinics without session: %d", p.status)
	}
	checkCitizenPage(t, "no session", p, "ko")
	mustContain(t, "no session", p, "먼저 본인확인을 해 주세요", `href="/book"`)

	// Someone whose window opens tomorrow is told when to come back, and
	// cannot reach the clinic search meanwhile.
	p = b.verify("이영희", "700101-2345678", "010-2222-3333")
	checkCitizenPage(t, "not eligible", p, "ko")
	mustContain(t, "not eligible", p, "이영희님", "지금은 예약할 수 없습니다", "1970년생은 7월 20일 20시부터 예약할 수 있습니다.",
		"예약 시작: 7월 20일(화) 20:00", "다시 확인한 뒤 예약해 주세요")
	if p = b.get("/book/clinics?region=11"); p.url != "/book/eligibility" {
		t.Fatalf("clinic search while not eligible: %d at %s", p.status, p.url)
	}

	// A form sent without a pass (it ran out): a page saying to queue again.
	c := newCitBrowser(t, a.URL())
	p = c.post("/book/verify", url.Values{"name": {"김민수"}, "rrn": {"680315-1234567"}, "phone": {"010-1234-5678"}})
	if p.status != http.StatusUnauthorized {
		t.Fatalf("post without pass: %d", p.status)
	}
	checkCitizenPage(t, "no pass", p, "ko")
	mustContain(t, "no pass", p, "다시 줄 서기", `href="/wait/vaccine?return=%2Fbook"`)
	// ... which the gate counted.
	if n := a.Server.GateRejections()["vaccine"][room.ReasonMissing]; n == 0 {
		t.Fatal("gate rejection not counted")
	}
	// A GET without a pass goes to the waiting page, not the form.
	if status, to := newCitBrowser(t, a.URL()).redirect("/booking"); status != http.StatusSeeOther || to != "/wait/vaccine?return=%2Fbooking" {
		t.Fatalf("GET /booking without pass: %d %s", status, to)
	}
}

// A form that starts expensive work (a text message, a look-up) comes
// back with when to try again when the join limiter refuses the client.
func TestFormsRefusedWhenBusy(t *testing.T) {
	a := demoApp(t, func(cfg *config.Config, _ *app.Options) {
		// One join per client, then a wait of over 15 minutes; the client
		// is the one the trusted local proxy names.
		cfg.TrustedProxies = []string{"127.0.0.1/32", "::1/128"}
		cfg.Limits.JoinsPerSecond, cfg.Limits.JoinBurst = 0.001, 1
	})
	b := newCitBrowser(t, a.URL())
	client := map[string]string{"X-Forwarded-For": "203.0.113.7"}
	if p := b.do("GET", "/book", nil, client); p.status != http.StatusOK || p.url != "/book" {
		t.Fatalf("/book through the waiting room (the one join): %d at %s", p.status, p.url)
	}
	p := b.do("POST", "/book/verify", url.Values{"name": {"김민수"}, "rrn": {"680315-1234567"}, "phone": {"010-1234-5678"}}, client)
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("verify over the limit: %d", p.status)
	}
	checkCitizenPage(t, "verify busy", p, "ko")
	mustContain(t, "verify busy", p, `role="alert"`, "요청이 너무 많습니다", "잠시 기다린 뒤 다시 시도해 주세요", `value="김민수"`, "/static/book.js?v=")
	if citRRNValueRE.MatchString(p.body) {
		t.Fatal("the RRN field is filled back in")
	}
	p = b.do("POST", "/booking?lang=en", url.Values{"name": {"Jane Lee"}, "rrn": {"670520-2345678"}, "number": {"SLC-7K2M-9QXD"}}, client)
	if p.status != http.StatusTooManyRequests {
		t.Fatalf("look-up over the limit: %d", p.status)
	}
	checkCitizenPage(t, "lookup busy", p, "en")
	mustContain(t, "lookup busy", p, "Too many requests", `value="Jane Lee"`, `value="SLC-7K2M-9QXD"`)
}

func TestCrossOriginPostsRefused(t *testing.T) {
	a := citizenApp(t)
	b := newCitBrowser(t, a.URL())
	b.get("/book") // has a pass: the refusal is the CSRF check, not the gate
	for _, path := range []string{"/book/verify", "/book/code", "/book", "/booking", "/booking/cancel", "/booking/change"} {
		p := b.do("POST", path, url.Values{"name": {"x"}}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
		if p.status != http.StatusForbidden {
			t.Errorf("%s cross-site: %d, want 403", path, p.status)
			continue
		}
		mustContain(t, path, p, "요청을 처리할 수 없습니다", "이 사이트의 화면에서 다시 시도해 주세요")
	}
	// Cookies are SameSite=Lax.
	req, _ := http.NewRequest("GET", a.URL()+"/?lang=en", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s: SameSite %v", c.Name, c.SameSite)
		}
	}
}

func TestWaitingPageStates(t *testing.T) {
	a := citizenApp(t)
	rm, _ := a.Rooms.Get("vaccine")
	if _, err := rm.Update(func(st *room.Settings) { st.Paused = true }); err != nil {
		t.Fatal(err)
	}
	b := newCitBrowser(t, a.URL())
	p := b.get("/wait/vaccine?return=/book")
	if p.status != 200 || p.url != "/wait/vaccine?return=/book" {
		t.Fatalf("paused room: %d at %s", p.status, p.url)
	}
	checkCitizenPage(t, "paused", p, "ko")
	ticket := b.cookie("sluice_ticket_vaccine")
	if strings.Contains(p.body, "Admission is paused") {
		t.Error("the Korean paused notice has an English subtitle")
	}
	mustContain(t, "paused", p, "입장이 잠시 멈췄습니다", `data-state="paused"`, `data-ticket="`+ticket+`"`,
		`data-joined="1"`, `<noscript><meta http-equiv="refresh"`, `<label for="progress"`, `<progress id="progress"`,
		"내 앞 대기 인원", "예상 대기 시간", "마지막 업데이트", "/static/wait.js?v=", "21:0",
		`<dd id="rate">멈춤</dd>`, `<progress id="progress" max="1" value="0"`, `id="moved"`, "차례가 되면 20분 동안 예약 화면을 이용할 수 있습니다")
	if strings.Contains(p.body, "내 순서") {
		t.Error("the waiting page repeats the people ahead as a place")
	}
	if !regexp.MustCompile(`대기 번호: <strong id="queue-id">[2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{2,}</strong>`).MatchString(p.body) {
		t.Error("no queue ID to quote")
	}
	mustContain(t, "paused without a word", p, `<div id="notice" class="notice operator" role="status" hidden>`, `<dd id="eta">재개되면 다시 계산합니다</dd>`)
	// The operator says why, and when they expect to resume.
	if _, err := rm.Update(func(st *room.Settings) {
		st.Message, st.ResumeAt = `서버 점검 중입니다 <곧> "재개"`, time.Date(2021, 7, 19, 22, 0, 0, 0, booking.Seoul)
	}); err != nil {
		t.Fatal(err)
	}
	p = b.get("/wait/vaccine?return=/book")
	mustContain(t, "paused with a word", p, "운영자 안내", "서버 점검 중입니다 &lt;곧&gt; &#34;재개&#34;", "다시 시작 예정: 7월 19일(월) 22:00",
		`<dd id="eta">7월 19일(월) 22:00 재개 예정</dd>`)
	p = b.get("/wait/vaccine?return=/book&lang=en")
	mustContain(t, "paused with a word en", p, "From the operators", "Expected to resume: Mon 19 July, 22:00", "Queue ID")
	rm.Update(func(st *room.Settings) { st.Message, st.ResumeAt = "", time.Time{} })
	b.get("/wait/vaccine?return=/book&lang=ko")
	// The script's texts are valid JSON.
	m := regexp.MustCompile(`(?s)<script type="application/json" id="wait-text">(.*?)</script>`).FindStringSubmatch(p.body)
	var texts map[string]string
	if m == nil || json.Unmarshal([]byte(m[1]), &texts) != nil || texts["reconnecting"] == "" {
		t.Fatalf("wait-text JSON: %v", m)
	}
	// A refresh keeps the ticket (and its place).
	p = b.get("/wait/vaccine?return=/book&lang=en")
	checkCitizenPage(t, "paused en", p, "en")
	mustContain(t, "paused en", p, "Admission is paused", "People ahead of you", `data-joined=""`, "Last update")
	if b.cookie("sluice_ticket_vaccine") != ticket {
		t.Fatal("the refresh changed the ticket")
	}

	// Resumed: admitted, the pass cookie set, on to the booking form.
	rm.Update(func(st *room.Settings) { st.Paused = false })
	eventually(t, 3*time.Second, "admitted after resume", func() bool {
		p = b.get("/wait/vaccine?return=/book")
		return p.url == "/book"
	})
	if b.cookie(room.PassCookie) == "" {
		t.Fatalf("after resume: %d at %s", p.status, p.url)
	}
	// Without a return path the page says so and offers to leave.
	p = b.get("/wait/vaccine")
	checkCitizenPage(t, "admitted", p, "en")
	mustContain(t, "admitted", p, "It&#39;s your turn", `action="/wait/vaccine/leave"`, "You can use the booking pages for 20 min, until 21:")
	// Leaving frees the place.
	p = b.post("/wait/vaccine/leave", nil)
	mustContain(t, "left", p, "You left", `data-state="left"`)
	if b.cookie(room.PassCookie) != "" || b.cookie("sluice_ticket_vaccine") != "" {
		t.Fatal("cookies kept after leaving")
	}
	// Rejoining drops ?rejoin from the address (or each refresh would
	// join again at the end of the line).
	if status, to := b.redirect("/wait/vaccine?rejoin=1&return=%2Fbook"); status != http.StatusSeeOther || to != "/wait/vaccine?return=%2Fbook" {
		t.Fatalf("rejoin: %d %s", status, to)
	}

	// Closed.
	rm.Update(func(st *room.Settings) { st.Closed = true })
	c := newCitBrowser(t, a.URL())
	p = c.get("/wait/vaccine")
	checkCitizenPage(t, "closed", p, "ko")
	mustContain(t, "closed", p, "대기실이 닫혔습니다", `href="/"`)

	// Before opening: the pre-queue counts down; before the pre-queue, not open yet.
	now := a.Clock.Now()
	if _, err := a.Rooms.Add(room.Settings{Name: "later", PrequeueAt: now.Add(-time.Minute), OpensAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Rooms.Add(room.Settings{Name: "tomorrow", OpensAt: now.Add(24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	p = c.get("/wait/later")
	checkCitizenPage(t, "prequeue", p, "ko")
	mustContain(t, "prequeue", p, `data-state="prequeue"`, "곧 시작합니다", "시작까지 남은 시간", "7월 19일(월) 22:00에 열립니다", "무작위로 순서를 받습니다")
	if !regexp.MustCompile(`id="countdown">(1시간 0분 0초|59분 [0-9]+초)<`).MatchString(p.body) {
		t.Fatal("no countdown to the opening")
	}
	p = c.get("/wait/tomorrow?lang=en")
	checkCitizenPage(t, "not open", p, "en")
	mustContain(t, "not open", p, "Not open yet", "The line opens at Tue 20 July, 21:00", `<meta http-equiv="refresh" content="30">`)

	// Other rooms get the same page without the campaign's name and menu.
	p = c.get("/wait/demo?lang=ko")
	checkCitizenPage(t, "demo room", p, "ko")
	mustContain(t, "demo room", p, "대기실", "차례가 되었습니다")
	if strings.Contains(p.body, "코로나19") {
		t.Fatal("the demo room's waiting page shows the campaign")
	}
}

func TestStaticAssetsVersionedAndCached(t *testing.T) {
	a := citizenApp(t)
	for _, name := range []string{"sluice.css", "wait.js", "book.js"} {
		u := ui.AssetURL(name)
		if !strings.Contains(u, "?v=") {
			t.Fatalf("%s: %s has no version", name, u)
		}
		resp, err := http.Get(a.URL() + u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) == 0 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
			t.Fatalf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") && !strings.HasPrefix(ct, "text/javascript") {
			t.Fatalf("%s: content type %s", name, ct)
		}
		for _, bad := range []string{"http://", "https://", "@import", "url("} {
			if strings.Contains(string(body), bad) {
				t.Fatalf("%s refers to %q", name, bad)
			}
		}
	}
	// Pages allow only their own scripts and styles.
	resp, err := http.Get(a.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("headers: %v", resp.Header)
	}
}

// verifiedCitizen is a browser that has been through the waiting room and
// verified its identity with the demo's code.
func verifiedCitizen(t *testing.T, a *app.App, name, rrn, phone string) *citBrowser {
	t.Helper()
	b := newCitBrowser(t, a.URL())
	b.get("/book")
	front, back, _ := strings.Cut(rrn, "-")
	p := b.post("/book/verify", url.Values{"name": {name}, "rrn1": {front}, "rrn2": {back}, "phone": {phone}})
	code := citDemoCodeRE.FindStringSubmatch(p.body)
	if code == nil {
		t.Fatalf("no demo code:\n%s", p.body)
	}
	form := citHidden(p.body)
	form.Set("code", code[1])
	if p = b.post("/book/code", form); p.url != "/book/eligibility" {
		t.Fatalf("after the code: %d at %s", p.status, p.url)
	}
	return b
}

var (
	citAwayRE = regexp.MustCompile(`<strong>([0-9.]+)(k?m) 거리</strong>`)
	citDongRE = regexp.MustCompile(`<p class="muted">[^·<]+ · ([^<·]+?)(?: · |<br>)`)
)

// A person looks for clinics near their neighbourhood: the district's
// neighbourhoods to choose from, the clinics nearest first with how far,
// or only that neighbourhood's; a short page; English addresses in English.
func TestClinicSearchByNeighbourhood(t *testing.T) {
	a := citizenApp(t)
	b := verifiedCitizen(t, a, "김민수", "680315-1234567", "010-1234-5678")
	const base = "/book/clinics?region=11&district=11680&date=2021-07-26&vaccine=pfizer"
	dongs := booking.Dongs("11680")
	p := b.get(base)
	checkCitizenPage(t, "district", p, "ko")
	mustContain(t, "district", p, `<label for="dong">`, `<option value="`+dongs[3].Name+`">`+dongs[3].Name+`</option>`, "1–5번째 기관 (남은 자리가 많은 순)")
	if n := strings.Count(p.body, `<li class="card clinic">`); n != 5 {
		t.Errorf("%d clinics on a page, want 5", n)
	}
	if strings.Contains(p.body, `<label for="sort">`) {
		t.Error("an order to choose before a neighbourhood is chosen")
	}

	dong := dongs[3]
	p = b.get(base + "&dong=" + url.QueryEscape(dong.Name))
	checkCitizenPage(t, "near", p, "ko")
	mustContain(t, "near", p, `<option value="`+dong.Name+`" selected>`, `<label for="sort">`, `<option value="near" selected>`, dong.Name+"에서 가까운 순")
	var last float64
	aways := citAwayRE.FindAllStringSubmatch(p.body, -1)
	if len(aways) != 5 {
		t.Fatalf("distances shown: %v", aways)
	}
	for _, m := range aways {
		v, _ := strconv.ParseFloat(m[1], 64)
		if m[2] == "km" {
			v *= 1000
		}
		if v < last {
			t.Errorf("not nearest first: %v", aways)
		}
		last = v
	}
	mustContain(t, "near more", p, "sort=near", "dong="+url.QueryEscape(dong.Name))

	p = b.get(base + "&dong=" + url.QueryEscape(dong.Name) + "&sort=free")
	mustContain(t, "only", p, `<option value="free" selected>`)
	for _, m := range citDongRE.FindAllStringSubmatch(p.body, -1) {
		if m[1] != dong.Name {
			t.Errorf("a clinic of %s among those of %s only", m[1], dong.Name)
		}
	}
	if citAwayRE.MatchString(p.body) {
		t.Error("distances shown without ordering by distance")
	}

	// An unknown neighbourhood is ignored, not an error.
	p = b.get(base + "&dong=" + url.QueryEscape("없는동"))
	mustContain(t, "unknown dong", p, `<option value="" selected>전체</option>`, "남은 자리가 많은 순")

	p = b.get(base + "&lang=en&dong=" + url.QueryEscape(dong.Name))
	checkCitizenPage(t, "near en", p, "en")
	mustContain(t, "near en", p, dong.NameEN, "Gangnam-gu, Seoul", " away</strong>", "nearest to "+dong.NameEN+" first")
	if strings.Contains(p.body, "서울특별시 강남구") {
		t.Error("Korean addresses on the English page")
	}
}

// A person who has booked is told so at once when they go to book again,
// with their booking; the done page has its own address, reloads, and
// gives the calendar file; the look-up form knows their name and number.
func TestBookedPersonToldAtOnce(t *testing.T) {
	a := citizenApp(t)
	b := verifiedCitizen(t, a, "김민수", "680315-1234567", "010-1234-5678")
	// Before booking there is no done page: the eligibility page says what to do.
	if p := b.get("/book/done"); p.url != "/book/eligibility" {
		t.Fatalf("done page before booking: %d at %s", p.status, p.url)
	}
	p := b.get("/book/clinics?region=11&district=11680&date=2021-07-26&vaccine=pfizer")
	links := citConfirmRE.FindAllStringSubmatch(p.body, -1)
	if len(links) == 0 {
		t.Fatalf("no times:\n%s", p.body)
	}
	p = b.post("/book", citHidden(b.get(html.UnescapeString(links[0][1])).body))
	if p.url != "/book/done" {
		t.Fatalf("after booking: %d at %s", p.status, p.url)
	}
	checkCitizenPage(t, "done", p, "ko")
	number := citNumberRE.FindStringSubmatch(p.body)
	if number == nil {
		t.Fatalf("no booking number:\n%s", p.body)
	}
	mustContain(t, "done", p, "예약이 완료되었습니다", `href="/book/calendar.ics" download`, "신분증", "열이 나거나", "예약 마치기")
	// Reloaded: the same page.
	again := b.get("/book/done")
	mustContain(t, "done reloaded", again, "예약이 완료되었습니다", number[1])
	if c := b.get("/book/calendar.ics"); c.status != http.StatusOK || !strings.Contains(c.body, "UID:"+number[1]+"-2@sluice") {
		t.Fatalf("calendar: %d\n%s", c.status, c.body)
	}

	// Going to book again: told at once, with the booking, not offered a clinic.
	p = b.get("/book")
	if p.url != "/book/eligibility" {
		t.Fatalf("book again: %d at %s", p.status, p.url)
	}
	checkCitizenPage(t, "booked", p, "ko")
	mustContain(t, "booked", p, "이미 예약하셨습니다", number[1], `href="/booking"`, "신분증")
	if strings.Contains(p.body, "지금 예약할 수 있습니다") || strings.Contains(p.body, `href="/book/clinics"`) {
		t.Error("a booked person is told they can book")
	}
	p = b.get("/booking")
	mustContain(t, "look-up form", p, `value="김민수"`, `value="`+number[1]+`"`)
	if citRRNValueRE.MatchString(p.body) {
		t.Error("the look-up form fills in the registration number")
	}
}
