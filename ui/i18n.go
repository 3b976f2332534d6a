package ui

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/booking"
)

// Lang is the language a page is shown in.
type Lang string

// The two languages of the citizen pages: Korean by default, English by a
// switch remembered in the LangCookie cookie.
const (
	LangKO Lang = "ko"
	LangEN Lang = "en"
)

// LangCookie remembers the language chosen with ?lang=ko|en.
const LangCookie = "lang"

// LangOf returns the language of a request: ?lang=ko|en (remembered in a
// cookie for a year), else the cookie, else Korean.
func LangOf(w http.ResponseWriter, r *http.Request) Lang {
	if l, ok := parseLang(r.URL.Query().Get("lang")); ok {
		http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: string(l), Path: "/", MaxAge: 365 * 86400,
			Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
		return l
	}
	if c, err := r.Cookie(LangCookie); err == nil {
		if l, ok := parseLang(c.Value); ok {
			return l
		}
	}
	return LangKO
}

func parseLang(s string) (Lang, bool) {
	switch s {
	case "ko":
		return LangKO, true
	case "en":
		return LangEN, true
	}
	return "", false
}

// Other is the language the switch on a page leads to.
func (l Lang) Other() Lang {
	if l == LangEN {
		return LangKO
	}
	return LangEN
}

// T returns the text of a catalogue key in l, formatted with args (fmt
// verbs) when there are any. An unknown key gives the key itself, which
// the tests catch.
func (l Lang) T(key string, args ...any) string {
	m, ok := catalogue[key]
	if !ok {
		return key
	}
	s := m.ko
	if l == LangEN {
		s = m.en
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Pick returns ko or en as l says (for texts that come with the data, such
// as campaign and clinic names).
func (l Lang) Pick(ko, en string) string {
	if l == LangEN && en != "" {
		return en
	}
	return ko
}

// Num formats a count with thousands separators: 1,234,567.
func (l Lang) Num(n any) string {
	var s string
	switch v := n.(type) {
	case int:
		s = strconv.Itoa(v)
	case int64:
		s = strconv.FormatInt(v, 10)
	case uint64:
		s = strconv.FormatUint(v, 10)
	default:
		return fmt.Sprint(n)
	}
	neg := s != "" && s[0] == '-'
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

var (
	koWeekday = [7]string{"일", "월", "화", "수", "목", "금", "토"}
	enWeekday = [7]string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
)

// Date formats a calendar date: "2021년 7월 26일(월)", "Mon 26 July 2021".
func (l Lang) Date(d booking.Date) string {
	if l == LangEN {
		return fmt.Sprintf("%s %d %s %d", enWeekday[d.Weekday()], d.Day, d.Month, d.Year)
	}
	return fmt.Sprintf("%d년 %d월 %d일(%s)", d.Year, int(d.Month), d.Day, koWeekday[d.Weekday()])
}

// ShortDate formats a date without the year: "7월 26일(월)", "Mon 26 July".
func (l Lang) ShortDate(d booking.Date) string {
	if l == LangEN {
		return fmt.Sprintf("%s %d %s", enWeekday[d.Weekday()], d.Day, d.Month)
	}
	return fmt.Sprintf("%d월 %d일(%s)", int(d.Month), d.Day, koWeekday[d.Weekday()])
}

// When formats an instant in Korea time: "7월 19일(월) 20:00",
// "Mon 19 July, 20:00".
func (l Lang) When(t time.Time) string {
	t = t.In(booking.Seoul)
	d := booking.DateOf(t)
	if l == LangEN {
		return l.ShortDate(d) + ", " + t.Format("15:04")
	}
	return l.ShortDate(d) + " " + t.Format("15:04")
}

// WhenPtr is When for an optional time ("" for nil).
func (l Lang) WhenPtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return l.When(*t)
}

// Clock formats the time of day in Korea time: "21:04:05".
func (l Lang) Clock(t time.Time) string { return t.In(booking.Seoul).Format("15:04:05") }

// Block formats a time block: "09:00~10:00" / "09:00–10:00".
func (l Lang) Block(b booking.TimeBlock) string {
	h := booking.FirstBlockHour + int(b)
	sep := "~"
	if l == LangEN {
		sep = "–"
	}
	return fmt.Sprintf("%02d:00%s%02d:00", h, sep, h+1)
}

// Dur formats an expected wait, coarser as it grows: "1시간 5분", "25분",
// "3분 20초", "40초". Negative: unknown.
func (l Lang) Dur(d time.Duration) string {
	if d < 0 {
		return l.T("wait.eta.unknown")
	}
	s := int(d.Round(time.Second) / time.Second)
	h, m, sec := s/3600, s%3600/60, s%60
	switch {
	case h > 0:
		return l.T("dur.hm", h, m)
	case m >= 10:
		return l.T("dur.m", m)
	case m > 0:
		return l.T("dur.ms", m, sec)
	}
	return l.T("dur.s", sec)
}

// Countdown formats the time until an opening to the second.
func (l Lang) Countdown(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int(d.Round(time.Second) / time.Second)
	h, m, sec := s/3600, s%3600/60, s%60
	switch {
	case h > 0:
		return l.T("dur.hms", h, m, sec)
	case m > 0:
		return l.T("dur.ms", m, sec)
	}
	return l.T("dur.s", sec)
}

// jsTexts are the catalogue keys the waiting page's script needs, with
// {n}/{h}/{m}/{s} placeholders instead of fmt verbs.
func (l Lang) jsTexts() map[string]string {
	return map[string]string{
		"hm":           l.T("js.hm"),
		"hms":          l.T("js.hms"),
		"m":            l.T("js.m"),
		"ms":           l.T("js.ms"),
		"s":            l.T("js.s"),
		"people":       l.T("js.people"),
		"place":        l.T("js.place"),
		"unknown":      l.T("wait.eta.unknown"),
		"live":         l.T("wait.live"),
		"reconnecting": l.T("wait.reconnecting"),
		"recovered":    l.T("wait.recovered"),
		"soon":         l.T("wait.prequeue.soon"),
		"admitted":     l.T("wait.admitted.moving"),
	}
}

type msg struct{ ko, en string }

// catalogue holds every text of the citizen pages in Korean and English.
var catalogue = map[string]msg{
	// Layout
	"site":         {"코로나19 예방접종 사전예약", "COVID-19 vaccination pre-booking"},
	"skip":         {"본문 바로가기", "Skip to content"},
	"lang.switch":  {"English", "한국어"},
	"lang.label":   {"Read this page in English", "이 페이지를 한국어로 보기"},
	"nav.label":    {"주 메뉴", "Main menu"},
	"nav.home":     {"처음", "Home"},
	"nav.book":     {"예약하기", "Book"},
	"nav.lookup":   {"예약 조회·변경·취소", "Look up, change or cancel"},
	"footer.clock": {"모든 시간은 한국 시간(서버 시계) 기준입니다.", "All times are Korea time (KST), by the server's clock."},
	"footer.help":  {"도움이 필요하면 질병관리청 콜센터 1339 또는 가까운 보건소에 문의하세요.", "For help, call the KDCA call centre on 1339 or ask your local public health centre."},
	"demo.banner":  {"데모 서버입니다. 실제 예약이 아니며, 시계는 %s에 맞춰져 있습니다.", "This is a demo: nothing is really booked. Its clock reads %s."},
	"demo.about":   {"데모 안내", "About the demo"},
	"required":     {"필수", "required"},

	// Landing
	"landing.now":          {"지금 시각: %s", "Now: %s"},
	"landing.today":        {"오늘의 예약 일정", "Today's booking windows"},
	"landing.none_today":   {"오늘은 열리는 예약이 없습니다.", "No booking window is open today."},
	"landing.next":         {"다음 예약", "Next booking window"},
	"landing.over":         {"이번 사전예약은 모두 끝났습니다.", "All windows of this booking round are over."},
	"landing.lookup":       {"이미 예약하셨나요? 예약을 조회하거나 바꾸거나 취소할 수 있습니다.", "Booked already? You can look up, change or cancel your booking."},
	"window.open":          {"지금 예약 가능", "Open now"},
	"window.later":         {"예약 전", "Not open yet"},
	"window.closed":        {"마감", "Closed"},
	"check.title":          {"지금 예약할 수 있나요?", "May I book now?"},
	"check.intro":          {"생년월일만 입력하면 바로 알려 드립니다. 본인확인은 필요 없고, 입력한 날짜는 저장하지 않습니다.", "Enter your date of birth to find out at once. No identity check is needed and nothing is stored."},
	"check.legend":         {"생년월일", "Date of birth"},
	"check.year":           {"태어난 해 (4자리)", "Year (4 digits)"},
	"check.month":          {"월", "Month"},
	"check.day":            {"일", "Day"},
	"check.choose":         {"선택", "Choose"},
	"check.submit":         {"확인하기", "Check"},
	"check.result":         {"확인 결과", "Result"},
	"check.yes":            {"지금 예약할 수 있습니다", "Yes, you can book now"},
	"check.no":             {"지금은 예약할 수 없습니다", "Not now"},
	"check.opens":          {"예약 시작: %s", "Your booking opens: %s"},
	"check.closes":         {"예약 마감: %s", "Booking closes: %s"},
	"check.come_back":      {"그 시간이 지나면 이 페이지에서 다시 확인한 뒤 예약해 주세요. 미리 줄을 설 필요는 없습니다.", "Please come back to this page after that time to book. There is no need to queue before then."},
	"check.none_next":      {"이번 사전예약에서는 더 예약할 수 없습니다. 추가 예약 일정이 발표되면 다시 확인해 주세요.", "This booking round has no more windows for you. Please check again when a new round is announced."},
	"check.join":           {"예약하러 가기", "Go to booking"},
	"check.join_hint":      {"접속자가 많으면 대기실에서 순서를 기다립니다. 차례가 되면 자동으로 예약 화면으로 넘어갑니다.", "If many people are booking, you wait your turn in the waiting room. When your turn comes, the booking form opens by itself."},
	"check.bad_date":       {"생년월일을 확인해 주세요. 태어난 해는 4자리(예: 1968)로, 월과 일은 목록에서 골라 주세요.", "Please check the date of birth: the year in 4 digits (e.g. 1968), and the month and day from the lists."},
	"check.fix":            {"날짜를 고친 뒤 [확인하기]를 다시 눌러 주세요.", "Correct the date and press Check again."},
	"landing.join_any":     {"예약 대상인 것을 이미 아신다면 바로 줄을 설 수 있습니다.", "If you know you may book now, you can join the line straight away."},
	"landing.join_any.btn": {"대기열에 들어가기", "Join the line"},

	// Waiting room
	"wait.title":            {"대기실", "Waiting room"},
	"wait.h1":               {"예약 대기실", "Booking waiting room"},
	"wait.ahead":            {"내 앞 대기 인원", "People ahead of you"},
	"wait.position":         {"내 순서", "Your place in line"},
	"wait.eta":              {"예상 대기 시간", "Estimated wait"},
	"wait.progress":         {"진행 상황", "Progress"},
	"wait.progress.text":    {"%d%% 진행", "%d%% of the way"},
	"wait.updated":          {"마지막 업데이트", "Last update"},
	"wait.keep":             {"이 페이지를 열어 두세요. 새로고침하거나, 창을 닫았다 다시 열거나, 잠시 연결이 끊겨도 순서는 그대로입니다. 차례가 되면 자동으로 다음 화면으로 넘어갑니다.", "Keep this page open. Your place is kept if you refresh, close and reopen the page, or lose the connection for a while. When your turn comes, you move on by yourself."},
	"wait.noscript":         {"이 페이지는 %d초마다 자동으로 새로고침됩니다.", "This page refreshes itself every %d seconds."},
	"wait.refresh":          {"지금 새로고침", "Refresh now"},
	"wait.reconnecting":     {"연결이 끊겼습니다. 다시 연결하는 중… 순서는 그대로 유지됩니다.", "Connection lost. Reconnecting… Your place is kept."},
	"wait.recovered":        {"이전 순서를 되찾았습니다.", "Your earlier place in line is restored."},
	"wait.live":             {"자동으로 업데이트됩니다.", "Updates by itself."},
	"wait.eta.unknown":      {"계산 중", "Calculating"},
	"wait.prequeue.h":       {"곧 시작합니다", "Opening soon"},
	"wait.prequeue.in":      {"시작까지 남은 시간", "Time until opening"},
	"wait.prequeue.text":    {"대기열은 %s에 열립니다. 지금 기다리는 모든 분은 열리는 순간 무작위로 순서를 받습니다. 먼저 왔다고 유리하지 않으니 서두르지 않으셔도 됩니다.", "The line opens at %s. Everyone waiting now gets a random place at opening: arriving earlier gives no advantage, so there is no need to rush."},
	"wait.prequeue.soon":    {"곧 순서가 정해집니다…", "Drawing places…"},
	"wait.paused.h":         {"입장이 잠시 멈췄습니다", "Admission is paused"},
	"wait.paused.text":      {"운영자가 입장을 잠시 멈췄습니다. 순서는 그대로 유지되니 이 페이지를 열어 두세요. 다시 시작되면 자동으로 이어집니다.", "The operators have paused admission for a moment. Your place is kept: keep this page open and it carries on by itself."},
	"wait.closed.h":         {"대기실이 닫혔습니다", "The waiting room is closed"},
	"wait.closed.text":      {"지금은 예약을 받지 않습니다. 처음 화면에서 다음 예약 일정을 확인해 주세요.", "Booking is not taking people now. See the next booking windows on the home page."},
	"wait.admitted.h":       {"차례가 되었습니다", "It's your turn"},
	"wait.admitted.text":    {"%s까지 이용할 수 있습니다.", "You can go on until %s."},
	"wait.admitted.moving":  {"차례가 되었습니다. 이동합니다…", "It's your turn. Moving on…"},
	"wait.continue":         {"계속하기", "Continue"},
	"wait.leave":            {"나가기 (다음 분께 자리 넘기기)", "Leave (give your place to the next person)"},
	"wait.turn_over.h":      {"차례가 지났습니다", "Your turn has passed"},
	"wait.turn_over.text":   {"입장 시간이 지났거나 자리를 반납했습니다. 다시 줄을 서 주세요.", "Your time to enter ran out or your place was given back. Please join the line again."},
	"wait.rejoin":           {"다시 줄 서기", "Join the line again"},
	"wait.left.h":           {"퇴장했습니다", "You left"},
	"wait.left.text":        {"자리를 반납했습니다. 다음 분이 입장합니다. 감사합니다.", "You gave back your place, so the next person is let in. Thank you."},
	"wait.not_open.h":       {"아직 열리지 않았습니다", "Not open yet"},
	"wait.not_open.text":    {"대기열은 %s에 열립니다. 그때 이 페이지를 다시 열어 주세요.", "The line opens at %s. Please open this page again then."},
	"wait.busy.h":           {"접속이 많습니다", "Very busy"},
	"wait.busy.text":        {"요청이 너무 많습니다. 이 페이지가 잠시 후 자동으로 다시 시도합니다.", "Too many requests right now. This page tries again by itself in a moment."},
	"wait.error.h":          {"잠시 문제가 생겼습니다", "Something went wrong"},
	"wait.error.text":       {"이 페이지가 잠시 후 자동으로 다시 시도합니다. 순서는 유지됩니다.", "This page tries again by itself shortly. Your place is kept."},
	"wait.home":             {"처음 화면으로", "Go to the home page"},
	"wait.people":           {"%s명", "%s"},
	"wait.place":            {"%s번째", "No. %s"},
	"dur.hm":                {"%d시간 %d분", "%d h %d min"},
	"dur.hms":               {"%d시간 %d분 %d초", "%d h %d min %d s"},
	"dur.m":                 {"%d분", "%d min"},
	"dur.ms":                {"%d분 %d초", "%d min %d s"},
	"dur.s":                 {"%d초", "%d s"},
	"js.hm":                 {"{h}시간 {m}분", "{h} h {m} min"},
	"js.hms":                {"{h}시간 {m}분 {s}초", "{h} h {m} min {s} s"},
	"js.m":                  {"{m}분", "{m} min"},
	"js.ms":                 {"{m}분 {s}초", "{m} min {s} s"},
	"js.s":                  {"{s}초", "{s} s"},
	"js.people":             {"{n}명", "{n}"},
	"js.place":              {"{n}번째", "No. {n}"},
	"wait.gate.h":           {"예약 화면 이용 시간이 끝났습니다", "Your time on the booking pages has ended"},
	"wait.gate.text":        {"입장권이 없거나 이용 시간이 지났습니다. 방금 보낸 내용은 처리되지 않았습니다. 다시 줄을 선 뒤 이어서 진행해 주세요.", "You have no pass, or its time ran out. What you just sent was not processed. Please join the line again and carry on."},
	"csrf.h":                {"요청을 처리할 수 없습니다", "This request was refused"},
	"csrf.text":             {"다른 사이트에서 보낸 요청으로 보여 거부했습니다. 이 사이트의 화면에서 다시 시도해 주세요.", "It looked like it came from another website, so it was refused. Please try again from this site's pages."},
	"error.h":               {"문제가 생겼습니다", "Something went wrong"},
	"error.generic":         {"일시적인 오류입니다. 예약은 처리되지 않았습니다.", "A temporary error occurred. Nothing was booked."},
	"next.verify":           {"본인확인 다시 하기", "Verify your identity again"},
	"next.newcode":          {"인증번호 다시 받기", "Get a new code"},
	"next.search":           {"다른 날짜·시간 고르기", "Choose another date or time"},
	"next.lookup":           {"예약 조회하기", "Look up your booking"},
	"next.home":             {"처음 화면에서 예약 일정 보기", "See the booking windows"},
	"next.retry":            {"다시 시도하기", "Try again"},
	"next.fix":              {"표시된 칸을 고친 뒤 다시 보내 주세요.", "Correct the marked field and send the form again."},
	"next.wait":             {"잠시 기다린 뒤 다시 시도해 주세요.", "Wait a moment, then try again."},
	"next.clinic":           {"접종기관에 전화로 문의해 주세요.", "Please call the clinic."},
	"next.lookup_again":     {"다시 조회하기", "Look it up again"},
	"error.session_missing": {"먼저 본인확인을 해 주세요.", "Please verify your identity first."},
	"error.lookup_expired":  {"조회한 지 오래되어 다시 확인이 필요합니다. 예약을 다시 조회해 주세요.", "It has been a while since you looked up the booking. Please look it up again."},
	"error.busy":            {"요청이 너무 많습니다. %d초 뒤에 다시 시도해 주세요.", "Too many requests. Please try again in %d seconds."},
	"error.slot_invalid":    {"선택한 접종기관이나 시간이 올바르지 않습니다.", "The clinic or time chosen is not valid."},

	// Booking steps
	"steps.label":        {"예약 단계", "Booking steps"},
	"step.1":             {"본인확인", "Verify"},
	"step.2":             {"대상 확인", "Eligibility"},
	"step.3":             {"기관·시간 선택", "Clinic & time"},
	"step.4":             {"예약 확인", "Confirm"},
	"step.5":             {"완료", "Done"},
	"step.of":            {"%d단계 / 5단계", "Step %d of 5"},
	"verify.h1":          {"본인확인", "Verify your identity"},
	"verify.intro":       {"예약하려면 본인확인이 필요합니다. 입력한 휴대전화로 인증번호 6자리를 보내 드립니다.", "To book, first verify your identity. We text a 6-digit code to your mobile phone."},
	"verify.other":       {"본인확인 완료: %s님. 다른 분으로 다시 확인하려면 아래에 입력하세요.", "Verified: %s. To verify as someone else, fill in the form below."},
	"verify.continue":    {"%s님으로 계속하기", "Carry on as %s"},
	"field.name":         {"이름", "Name"},
	"field.name.hint":    {"주민등록상 이름", "As on your registration card"},
	"field.rrn":          {"주민등록번호 13자리", "Resident registration number (13 digits)"},
	"field.rrn.hint":     {"예: 680315-1234567. 붙여 넣어도 됩니다. 번호는 저장하지 않고 화면에 다시 보여 주지 않습니다.", "E.g. 680315-1234567. Pasting is fine. The number is not stored and is never shown back."},
	"field.phone":        {"휴대전화 번호", "Mobile phone number"},
	"field.phone.hint":   {"예: 010-1234-5678", "E.g. 010-1234-5678"},
	"field.code":         {"인증번호 6자리", "6-digit code"},
	"field.number":       {"예약번호", "Booking number"},
	"field.number.hint":  {"예: SLC-7K2M-9QXD (예약 완료 문자에 있습니다)", "E.g. SLC-7K2M-9QXD (in your confirmation text message)"},
	"verify.submit":      {"인증번호 받기", "Text me a code"},
	"verify.demo":        {"데모용 예시: 이름 김민수, 주민등록번호 680315-1234567, 휴대전화 010-1234-5678 (1968년생: 지금 예약 가능). 1970년생(예: 700101-1234567)은 7월 20일 20시부터입니다.", "Demo example: name 김민수, number 680315-1234567, phone 010-1234-5678 (born 1968: may book now). Born 1970 (e.g. 700101-1234567): from 20:00 on 20 July."},
	"code.h1":            {"인증번호 입력", "Enter the code"},
	"code.sent":          {"%s(으)로 인증번호 6자리를 보냈습니다. %s까지 입력해 주세요.", "We texted a 6-digit code to %s. Enter it before %s."},
	"code.demo":          {"데모용 인증번호", "Demo code"},
	"code.demo.note":     {"데모에서는 문자 대신 여기에 보여 드립니다. 실제 서비스에서는 화면에 나오지 않습니다.", "In the demo the code is shown here instead of being texted. The real service never shows it."},
	"code.submit":        {"확인", "Confirm"},
	"code.resend":        {"인증번호가 오지 않았나요? 다시 받기", "No code? Get a new one"},
	"elig.h1":            {"예약 대상 확인", "Eligibility"},
	"elig.hello":         {"%s님, 본인확인이 완료되었습니다.", "%s, you are verified."},
	"elig.yes":           {"지금 예약할 수 있습니다", "You can book now"},
	"elig.no":            {"지금은 예약할 수 없습니다", "You cannot book now"},
	"elig.cohort":        {"대상: %s", "Group: %s"},
	"elig.continue":      {"접종기관 찾기", "Find a clinic"},
	"elig.other":         {"다른 분으로 본인확인", "Verify as someone else"},
	"search.h1":          {"접종기관과 시간 선택", "Choose a clinic and time"},
	"search.legend":      {"지역과 날짜", "Area and date"},
	"field.region":       {"시·도", "Province or city"},
	"field.district":     {"시·군·구", "District"},
	"field.district.all": {"전체", "All districts"},
	"field.date":         {"접종 날짜", "Date"},
	"field.vaccine":      {"백신", "Vaccine"},
	"search.submit":      {"빈자리 찾기", "Find free places"},
	"search.pick_region": {"시·도를 고르고 [빈자리 찾기]를 누르세요. 그러면 시·군·구 목록도 나옵니다.", "Choose a province or city and press Find free places; its districts then appear too."},
	"search.results":     {"%s곳에 빈자리가 있습니다", "%s clinics have free places"},
	"search.showing":     {"%d–%d번째 기관 (남은 자리가 많은 순)", "Clinics %d–%d (most free places first)"},
	"search.none":        {"이 날짜에 빈자리가 있는 기관이 없습니다. 다른 날짜나 지역을 골라 주세요.", "No clinic has free places on this date. Please choose another date or area."},
	"search.free":        {"남은 자리 %s", "%s places free"},
	"search.block":       {"%s, %s자리 남음", "%s, %s free"},
	"search.full":        {"마감", "Full"},
	"search.left":        {"%s자리", "%s free"},
	"search.more":        {"다음 기관 더 보기", "More clinics"},
	"search.times":       {"시간 선택", "Choose a time"},
	"search.vaccines":    {"제공 백신: %s", "Vaccines: %s"},
	"kind.clinic":        {"위탁의료기관", "Clinic"},
	"kind.centre":        {"예방접종센터", "Vaccination centre"},
	"confirm.h1":         {"예약 내용 확인", "Check your booking"},
	"confirm.intro":      {"아래 내용이 맞으면 [이대로 예약하기]를 눌러 주세요.", "If everything below is right, press Book this."},
	"confirm.person":     {"접종 대상자", "Person"},
	"confirm.clinic":     {"접종기관", "Clinic"},
	"confirm.vaccine":    {"백신", "Vaccine"},
	"confirm.dose1":      {"1차 접종", "First dose"},
	"confirm.dose2":      {"2차 접종", "Second dose"},
	"confirm.dose2.auto": {"2차 접종일은 예약 시 자동으로 정해집니다", "The second-dose date is set automatically when you book"},
	"confirm.dose2.hint": {"같은 기관에서, 보통 %s 무렵입니다. 그날이 차 있으면 가까운 날로 정해집니다.", "At the same clinic, usually around %s; if that day is full, the nearest free day."},
	"confirm.free":       {"이 시간 남은 자리: %s", "Places left at this time: %s"},
	"confirm.submit":     {"이대로 예약하기", "Book this"},
	"confirm.back":       {"다른 시간 고르기", "Choose another time"},
	"done.h1":            {"예약이 완료되었습니다", "You are booked"},
	"done.number":        {"예약번호", "Booking number"},
	"done.keep":          {"예약번호를 적어 두세요. 조회·변경·취소할 때 필요합니다. 예약 내용은 문자로도 보내 드립니다.", "Write down the booking number: you need it to look up, change or cancel. We also text you the details."},
	"done.change_until":  {"온라인 변경·취소는 %s까지 가능합니다.", "You can change or cancel online until %s."},
	"done.finish":        {"마치기 (대기실 자리 반납)", "Finish (give back your place)"},
	"done.finish.hint":   {"예약을 마쳤다면 자리를 반납해 주세요. 다음 분이 바로 입장합니다.", "If you are done, give back your place so that the next person gets in at once."},
	"booking.status":     {"상태", "Status"},
	"booking.booked":     {"예약됨", "Booked"},
	"booking.cancelled":  {"취소됨", "Cancelled"},
	"booking.name":       {"이름", "Name"},
	"booking.phone":      {"알림 받을 번호", "Texts go to"},
	"lookup.h1":          {"예약 조회", "Look up a booking"},
	"lookup.intro":       {"이름, 주민등록번호, 예약번호를 입력하면 예약을 보고, 바꾸거나 취소할 수 있습니다.", "Enter your name, registration number and booking number to see, change or cancel your booking."},
	"lookup.submit":      {"조회하기", "Look up"},
	"view.h1":            {"예약 내용", "Your booking"},
	"view.change":        {"날짜·기관 변경", "Change date or clinic"},
	"view.cancel":        {"예약 취소", "Cancel the booking"},
	"view.too_late":      {"온라인 변경·취소 기한이 지났습니다. 바꾸거나 취소하려면 접종기관에 전화로 문의해 주세요.", "The online deadline for changes has passed. To change or cancel, please call the clinic."},
	"view.cancelled":     {"이 예약은 취소되었습니다. 다시 예약하려면 예약 가능한 시간에 [예약하기]에서 새로 예약해 주세요.", "This booking is cancelled. To book again, use Book while your window is open."},
	"cancel.h1":          {"예약을 취소할까요?", "Cancel this booking?"},
	"cancel.warn":        {"1차와 2차 접종 예약이 모두 취소되며 되돌릴 수 없습니다. 빈자리는 다른 분께 돌아갑니다.", "Both the first and second dose are cancelled, and this cannot be undone. The places go to other people."},
	"cancel.yes":         {"예, 취소합니다", "Yes, cancel it"},
	"cancel.no":          {"아니요, 예약을 유지합니다", "No, keep my booking"},
	"cancelled.h1":       {"예약이 취소되었습니다", "Your booking is cancelled"},
	"cancelled.text":     {"취소 안내 문자를 보내 드립니다.", "We text you a confirmation."},
	"change.h1":          {"새 날짜와 기관 선택", "Choose a new date and clinic"},
	"change.intro":       {"지금 예약: %s. 새 1차 접종 시간을 고르면 2차 접종일도 다시 정해집니다.", "Booked now: %s. When you choose a new first-dose time, the second dose is set again too."},
	"change.confirm.h1":  {"변경 내용 확인", "Check the change"},
	"change.old":         {"지금 예약", "Booked now"},
	"change.new":         {"바꿀 예약", "New booking"},
	"change.submit":      {"이대로 변경하기", "Change to this"},
	"changed.h1":         {"예약이 변경되었습니다", "Your booking is changed"},
	"changed.text":       {"변경 안내 문자를 보내 드립니다.", "We text you the new details."},
	"back.view":          {"예약 내용으로 돌아가기", "Back to the booking"},
}
