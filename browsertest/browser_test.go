package browsertest

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/booking"
)

// bookingRoom is the room in front of the booking pages in `sluice demo`.
const bookingRoom = "vaccine"

// person is someone who books.
type person struct {
	name, rrn, phone string
	year, month, day string // date of birth, as the landing page's check asks it
}

var (
	minsu = person{name: "김민수", rrn: "680315-1234567", phone: "010-1234-5678", year: "1968", month: "3", day: "15"}
	jane  = person{name: "Jane Lee", rrn: "670520-2345678", phone: "01022223333", year: "1967", month: "5", day: "20"}
)

// texts are what the person reads and presses, in one language.
type texts struct {
	year, month, day, check, canBook, goBook       string
	waitH1, ahead, progress, eta, rate             string
	session, movedOne, perMinute                   string
	verifyH1, verifyH1Step, doneStep               string
	name, rrnFront, rrnBack, phone                 string
	sendCode                                       string
	demoCode, code, confirmCode                    string
	eligible, findClinic                           string
	region, seoul, district, gangnam, date, day26  string
	dong, nearFirst, away                          string
	search, block, confirmH1, dose1, dose2, bookIt string
	doneH1, number, lookUp, bring, calendar        string
	book, booked, lookupNav                        string
	frontCount, triesLeft, lostNumber              string
	change, changeConfirm, changeIt, cancelYes     string
	cancelledNote                                  string
	lookupH1, lookupNumber, lookupBtn, viewH1      string
}

// korean and english are what the person reads and presses in each
// language. Each phrase is written beside its translation, as in ui's
// catalogue, so that neither language can be given a field the other
// lacks (a missing one would be "", which every text contains).
var korean, english = inBothLanguages(func(say func(ko, en string) string) texts {
	return texts{
		year:          say("태어난 해 (4자리)", "Year (4 digits)"),
		month:         say("월", "Month"),
		day:           say("일", "Day"),
		check:         say("확인하기", "Check"),
		canBook:       say("지금 예약할 수 있습니다", "Yes, you can book now"),
		goBook:        say("예약하러 가기", "Go to booking"),
		waitH1:        say("예약 대기실", "Booking waiting room"),
		ahead:         say("내 앞 대기 인원", "People ahead of you"),
		progress:      say("진행 상황", "Progress"),
		eta:           say("예상 대기 시간", "Estimated wait"),
		rate:          say("입장 속도", "Admission rate"),
		session:       say("차례가 되면 20분 동안", "you have 20 min on the booking pages"),
		movedOne:      say("처음보다 1명 줄었습니다", "1 fewer ahead"),
		perMinute:     say("1분에", "a minute"),
		verifyH1:      say("본인확인", "Verify your identity"),
		verifyH1Step:  say("본인확인", "Verify"),
		doneStep:      say("완료", "Done"),
		name:          say("이름", "Name"),
		rrnFront:      say("앞 6자리", "First 6 digits"),
		rrnBack:       say("뒤 7자리", "Last 7 digits"),
		phone:         say("휴대전화 번호", "Mobile phone number"),
		sendCode:      say("인증번호 받기", "Text me a code"),
		demoCode:      say("데모용 인증번호", "Demo code"),
		code:          say("인증번호 6자리", "6-digit code"),
		confirmCode:   say("확인", "Confirm"),
		eligible:      say("지금 예약할 수 있습니다", "You can book now"),
		findClinic:    say("접종기관 찾기", "Find a clinic"),
		region:        say("시·도", "Province or city"),
		seoul:         say("서울특별시", "Seoul"),
		district:      say("시·군·구", "District"),
		gangnam:       say("강남구", "Gangnam-gu"),
		date:          say("접종 날짜", "Date"),
		day26:         say("7월 26일", "26 July"),
		dong:          say("동네", "Neighbourhood"),
		nearFirst:     say("에서 가까운 순", " first"),
		away:          say("거리", "away"),
		search:        say("빈자리 찾기", "Find free places"),
		block:         say("10:00~11:00", "10:00–11:00"),
		confirmH1:     say("예약 내용 확인", "Check your booking"),
		dose1:         say("1차 접종", "First dose"),
		dose2:         say("2차 접종", "Second dose"),
		bookIt:        say("이대로 예약하기", "Book this"),
		doneH1:        say("예약이 완료되었습니다", "You are booked"),
		number:        say("예약번호", "Booking number"),
		lookUp:        say("예약 조회하기", "Look up your booking"),
		bring:         say("신분증", "identity document"),
		calendar:      say("캘린더에 추가", "Add to your phone"),
		book:          say("예약하기", "Book"),
		booked:        say("이미 예약하셨습니다", "You are already booked"),
		lookupNav:     say("예약 조회·변경·취소", "Look up, change or cancel"),
		frontCount:    say("지금 5자리를 입력했습니다", "You entered 5"),
		triesLeft:     say("4번 더", "4 more tries"),
		lostNumber:    say("본인확인으로 내 예약 찾기", "Find my booking by verifying my identity"),
		change:        say("날짜·기관 변경", "Change date or clinic"),
		changeConfirm: say("변경 내용 확인", "Check the change"),
		changeIt:      say("이대로 변경하기", "Change to this"),
		cancelYes:     say("예, 취소합니다", "Yes, cancel it"),
		cancelledNote: say("취소된 예약입니다", "This booking is cancelled"),
		lookupH1:      say("예약 조회", "Look up a booking"),
		lookupNumber:  say("예약번호", "Booking number"),
		lookupBtn:     say("조회하기", "Look up"),
		viewH1:        say("예약 내용", "Your booking"),
	}
})

// inBothLanguages builds texts twice from phrases: once with the Korean
// of each pair, once with the English.
func inBothLanguages(phrases func(say func(ko, en string) string) texts) (ko, en texts) {
	return phrases(func(ko, _ string) string { return ko }), phrases(func(_, en string) string { return en })
}

// checkBirth asks the landing page whether who may book.
func (tb *tab) checkBirth(tx texts, who person) {
	tb.t.Helper()
	tb.fill(tx.year, who.year)
	tb.choose(tx.month, who.month)
	tb.choose(tx.day, who.day)
	tb.press(tx.check)
}

// verify fills the identity form as who and confirms with the code the
// demo shows.
func (tb *tab) verify(tx texts, who person) {
	tb.t.Helper()
	tb.fill(tx.name, who.name)
	tb.fillRRN(tx, who.rrn)
	tb.fill(tx.phone, who.phone)
	tb.press(tx.sendCode)
	tb.fill(tx.code, tb.text("#demo-code"))
	tb.press(tx.confirmCode)
}

// searchGangnam searches the clinics of Gangnam-gu, Seoul, on 26 July.
func (tb *tab) searchGangnam(tx texts) {
	tb.t.Helper()
	tb.choose(tx.region, tx.seoul)
	tb.choose(tx.district, tx.gangnam) // the list follows the province
	tb.choose(tx.date, tx.day26)
	tb.press(tx.search)
}

var bookingNumber = regexp.MustCompile(`^[A-Z0-9]+(-[A-Z0-9]+)+$`)

// digits is the first number in s ("1,234번째" -> 1234), -1 if none.
func digits(s string) int {
	m := regexp.MustCompile(`[0-9][0-9,]*`).FindString(s)
	n, err := strconv.Atoi(strings.ReplaceAll(m, ",", ""))
	if err != nil {
		return -1
	}
	return n
}

// TestBookInKorean: a person checks they may book, joins a line, watches
// their place fall as the people ahead leave, is let in, verifies their
// identity with the code the demo shows, books a clinic and time, gets a
// booking number and finds the booking with it.
func TestBookInKorean(t *testing.T) {
	t.Parallel()
	a := startDemo(t)
	// A line: one person at a time inside, three people ahead.
	admin(t, a, "PATCH", "/rooms/"+bookingRoom, map[string]any{"capacity": 1})
	ahead := []*joiner{joinAPI(t, a, bookingRoom), joinAPI(t, a, bookingRoom), joinAPI(t, a, bookingRoom)}

	b := newTab(t, a, "citizen")
	tx := korean
	b.open("/")
	if l := b.lang(); l != "ko" {
		t.Errorf("landing page language %q, want ko by default", l)
	}
	b.screenshot("ko-01-landing")
	b.onPhone(func() {
		if !b.onFirstScreen(tx.check) {
			t.Errorf("the landing's %q button is below the first screen of a phone", tx.check)
		}
	})
	b.checkBirth(tx, minsu)
	b.see("#result", tx.canBook)
	b.follow(tx.goBook)

	// The waiting room.
	b.seeHeading(tx.waitH1)
	first := digits(b.term(tx.ahead))
	if first != 2 {
		t.Errorf("people ahead %q, want 2 (three people joined first, one of them inside)", b.term(tx.ahead))
	}
	b.see("#wait", tx.session)
	ahead[0].leave()
	b.waitTerm(tx.ahead, "go down", func(s string) bool { n := digits(s); return n >= 0 && n < first })
	if moved := digits(b.value(tx.progress)); moved != 1 {
		t.Errorf("progress bar at %d after one person went in, want 1 (a step per person)", moved)
	}
	b.see("#moved", tx.movedOne)
	if eta, rate := b.term(tx.eta), b.term(tx.rate); eta == "" || !strings.Contains(rate, tx.perMinute) {
		t.Errorf("estimated wait %q, rate %q", eta, rate)
	}
	b.phoneShot("ko-02-waiting-room")
	ahead[1].leave()
	b.waitTerm(tx.ahead, "go down again", func(s string) bool { return digits(s) == 0 })
	b.movesOnAfter("be let in: the waiting page moves on by itself", ahead[2].leave)

	// Identity.
	b.seeHeading(tx.verifyH1)
	b.onPhone(func() {
		if steps := b.shownTexts(".steps .lbl"); len(steps) != 5 || !strings.HasSuffix(steps[0], tx.verifyH1Step) || !strings.HasSuffix(steps[4], tx.doneStep) {
			t.Errorf("the steps shown on a phone: %q, want all five", steps)
		}
	})
	// A digit short: the box is named, with the count, and the form comes
	// back with what was typed but the hidden digits.
	b.fill(tx.name, minsu.name)
	b.fill(tx.rrnFront, "68031")
	b.fill(tx.rrnBack, "1234567")
	b.fill(tx.phone, minsu.phone)
	b.press(tx.sendCode)
	b.see("[role=alert]", tx.frontCount)
	if n, f, k, p := b.value(tx.name), b.value(tx.rrnFront), b.value(tx.rrnBack), b.value(tx.phone); n != minsu.name || f != "68031" || k != "" || p != minsu.phone {
		t.Errorf("the form came back with %q %q %q %q", n, f, k, p)
	}
	b.phoneShot("ko-03-identity-error")
	// All 13 digits typed into the first box: the last 7 go on into the
	// second, which hides them as they are typed.
	b.fill(tx.rrnFront, strings.ReplaceAll(minsu.rrn, "-", ""))
	if f, k := b.value(tx.rrnFront), b.value(tx.rrnBack); f+"-"+k != minsu.rrn {
		t.Errorf("the RRN boxes hold %q and %q after typing the 13 digits, want %q", f, k, minsu.rrn)
	}
	if !b.masked(tx.rrnBack) {
		t.Error("the last 7 digits of the RRN are shown as they are typed")
	}
	b.fill(tx.phone, minsu.phone)
	b.phoneShot("ko-03-identity")
	b.press(tx.sendCode)
	code := b.text("#demo-code")
	b.see("body", tx.demoCode)
	if len(code) != 6 || digits(code) < 0 {
		t.Fatalf("demo code %q, want 6 digits", code)
	}
	b.phoneShot("ko-04-code")
	b.fill(tx.code, code)
	b.press(tx.confirmCode)

	// Eligibility, then clinic and time.
	b.see("main", tx.eligible)
	b.phoneShot("ko-05-eligibility")
	b.follow(tx.findClinic)
	b.searchGangnam(tx)
	b.see("#results", tx.gangnam)
	// Near home: the district's neighbourhoods, nearest clinics first.
	home := booking.Dongs("11680")[2]
	b.choose(tx.dong, home.Name)
	b.press(tx.search)
	b.see("#results", home.Name+tx.nearFirst, tx.away)
	b.onPhone(func() {
		if h := b.pageHeight(); h > 3000 {
			t.Errorf("the clinic list is %d px long on a phone", h)
		}
	})
	b.phoneShot("ko-06-clinics")
	b.followIn(".clinic", tx.block) // the first clinic's 10:00 block

	// Confirmation: both doses.
	b.seeHeading(tx.confirmH1)
	b.see("main", tx.dose1, tx.dose2, minsu.name, tx.block)
	b.phoneShot("ko-07-confirm")
	b.press(tx.bookIt)
	afterBooking(t, b, tx, minsu, "ko")
}

// afterBooking: the done page (its own address: it reloads), booking again
// (told at once), finding the booking with its number.
func afterBooking(t *testing.T, b *tab, tx texts, who person, lang string) {
	t.Helper()
	b.seeHeading(tx.doneH1)
	if lang == "en" {
		b.expectEnglish()
	}
	number := b.text("#booking-number")
	if !bookingNumber.MatchString(number) {
		t.Fatalf("booking number %q", number)
	}
	b.see("main", tx.number, tx.dose1, tx.dose2, tx.bring, tx.calendar)
	b.phoneShot(lang + "-08-done")
	b.open("/book/done")
	b.see("#booking-number", number)

	b.follow(tx.book)
	b.see("#booked", tx.booked)
	b.see("main", number)
	b.phoneShot(lang + "-09-booked-again")

	b.follow(tx.lookupNav)
	b.seeHeading(tx.lookupH1)
	if n := b.value(tx.lookupNumber); n != number {
		t.Errorf("the look-up form holds number %q, want %q (the verified person's)", n, number)
	}
	b.fillRRN(tx, who.rrn)
	b.press(tx.lookupBtn)
	b.seeHeading(tx.viewH1)
	b.see("main", number, who.name, tx.dose1, tx.dose2)
	b.phoneShot(lang + "-10-booking")

	// Change to Busan on the 27th, then cancel.
	b.follow(tx.change)
	b.open("/booking/change?region=26&date=2021-07-27")
	b.followIn(".clinic", tx.block)
	b.seeHeading(tx.changeConfirm)
	b.press(tx.changeIt)
	b.open("/booking/cancel")
	b.press(tx.cancelYes)
	b.open("/booking/view")
	b.see(".card.cancelled", tx.cancelledNote)
	b.phoneShot(lang + "-11-cancelled")
	// The wrong details: what to check, how to find a lost number.
	b.open("/booking")
	b.fill(tx.name, who.name+"x")
	b.fillRRN(tx, who.rrn)
	b.fill(tx.lookupNumber, number)
	b.press(tx.lookupBtn)
	b.see("[role=alert]", tx.lostNumber)
}

// TestBookInEnglish: the same person's path in English, switched on the
// first page and remembered on every page after it.
func TestBookInEnglish(t *testing.T) {
	t.Parallel()
	a := startDemo(t)
	admin(t, a, "PATCH", "/rooms/"+bookingRoom, map[string]any{"capacity": 1})
	ahead := joinAPI(t, a, bookingRoom)

	b := newTab(t, a, "citizen-en")
	tx := english
	b.open("/")
	b.follow("English")
	b.expectEnglish()
	b.phoneShot("en-01-landing")
	b.checkBirth(tx, jane)
	b.expectEnglish()
	b.see("#result", tx.canBook)
	b.follow(tx.goBook)

	b.seeHeading(tx.waitH1)
	b.expectEnglish()
	if n := b.term(tx.ahead); n != "0" {
		t.Errorf("people ahead %q, want 0", n)
	}
	b.see("#wait", tx.session)
	b.phoneShot("en-02-waiting-room")
	b.movesOnAfter("be let in: the waiting page moves on by itself", ahead.leave)

	b.seeHeading(tx.verifyH1)
	b.expectEnglish()
	b.fill(tx.name, jane.name)
	b.fillRRN(tx, jane.rrn)
	b.fill(tx.phone, jane.phone) // the mask adds the dashes
	if v := b.value(tx.phone); v != "010-2222-3333" {
		t.Errorf("the phone field shows %q after typing %q, want 010-2222-3333 (input mask)", v, jane.phone)
	}
	b.phoneShot("en-03-identity")
	b.press(tx.sendCode)
	b.expectEnglish()
	b.see("body", tx.demoCode)
	b.phoneShot("en-04-code")
	code := b.text("#demo-code")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	b.fill(tx.code, wrong)
	b.press(tx.confirmCode)
	b.see("[role=alert]", tx.triesLeft)
	b.fill(tx.code, code)
	b.press(tx.confirmCode)

	b.expectEnglish()
	b.see("main", tx.eligible)
	b.phoneShot("en-05-eligibility")
	b.follow(tx.findClinic)
	b.expectEnglish()
	b.searchGangnam(tx)
	b.see("#results", tx.gangnam, "Gangnam-gu, Seoul") // addresses in English
	b.choose(tx.dong, booking.Dongs("11680")[2].NameEN)
	b.press(tx.search)
	b.see("#results", tx.nearFirst, tx.away)
	b.phoneShot("en-06-clinics")
	b.followIn(".clinic", tx.block)

	b.seeHeading(tx.confirmH1)
	b.expectEnglish()
	b.see("main", tx.dose1, tx.dose2, jane.name)
	b.phoneShot("en-07-confirm")
	b.press(tx.bookIt)
	afterBooking(t, b, tx, jane, "en")
}

// TestNotEligibleToday: a person whose window has not opened is told, on
// the landing page and before joining any line, when to come back; one
// with no window left in this round is told so.
func TestNotEligibleToday(t *testing.T) {
	t.Parallel()
	a := startDemo(t)
	b := newTab(t, a, "citizen")
	tx := korean
	b.open("/")
	// Born 1971: the 50-52 window opens on 20 July at 20:00 (the demo
	// clock reads 19 July 21:00).
	b.checkBirth(tx, person{year: "1971", month: "5", day: "5"})
	b.see("#result", "지금은 예약할 수 없습니다", "예약 시작: 7월 20일(화) 20:00", "다시 확인")
	if got := b.text("#result"); strings.Contains(got, tx.goBook) {
		t.Errorf("a person who may not book yet is offered the line: %q", got)
	}
	b.phoneShot("11-landing-not-yet")

	// The same in English.
	b.follow("English")
	b.see("#result", "Not now", "Your booking opens: Tue 20 July, 20:00", "come back")

	// Born 1975 on the 1st: the demo runs the August round too, so they
	// are told when their birth-day window opens.
	b.fill(english.year, "1975")
	b.choose(english.month, "1")
	b.choose(english.day, "1")
	b.press(english.check)
	b.see("#result", "Not now", "on a day ending in 1 can book from 20:00 on 11 August")

	// Born 1940: in no round of the programme at all.
	b.fill(english.year, "1940")
	b.press(english.check)
	b.see("#result", "Not now", "when booking for your age group is announced")
}

// TestOperatorPausesRoom: an operator signs in to the dashboard with the
// admin token and pauses the booking room; the waiting page of a person in
// line shows it, with JavaScript (the page polls) and without (the page
// refreshes itself).
func TestOperatorPausesRoom(t *testing.T) {
	t.Parallel()
	a := startDemo(t)
	admin(t, a, "PATCH", "/rooms/"+bookingRoom, map[string]any{"capacity": 1})
	joinAPI(t, a, bookingRoom) // inside, holding the only place

	citizen := newTab(t, a, "citizen")
	citizen.open("/wait/" + bookingRoom + "?return=/book")
	citizen.seeHeading(korean.waitH1)
	if n := citizen.term(korean.ahead); n != "0명" {
		t.Errorf("people ahead %q, want 0명", n)
	}
	// The browser without scripts joins far enough back that its turn is
	// not within a long poll's reach: its page then refreshes itself on a
	// timer instead of being held for the turn (that hold is
	// app.TestNoScriptPageHeldUntilTurn's), and this test reads it.
	rm, _ := a.Rooms.Get(bookingRoom)
	for range 200 {
		if _, _, err := rm.Join(); err != nil {
			t.Fatal(err)
		}
	}
	plain := newTab(t, a, "citizen-nojs", noScript)
	plain.open("/wait/" + bookingRoom + "?return=/book")
	plain.seeHeading(korean.waitH1)

	op := newTab(t, a, "operator")
	op.open("/admin")
	op.seeHeading("관리자 로그인")
	op.fill("관리자 토큰", a.Cfg.AdminToken)
	op.press("로그인")
	op.seeHeading("운영 대시보드")
	op.see("#room-"+bookingRoom, "대기")
	op.pressIn("#room-"+bookingRoom, "입장 일시정지") // confirmed in a dialog
	op.see("#room-"+bookingRoom, "입장 재개")
	if _, out := api(t, a, "GET", "/api/v1/admin/rooms/"+bookingRoom, a.Cfg.AdminToken, nil); !isPaused(out) {
		t.Errorf("the room is not paused after the operator paused it: %v", out)
	}
	// The admission rate reads zero at once.
	if rate := op.text("[data-v=\"" + bookingRoom + ".admit_rate\"]"); rate != "0.0" {
		t.Errorf("admission rate %q just after pausing, want 0.0", rate)
	}
	// Why, and until when: the operator's word to the line.
	const why = "예약 서버를 점검하고 있습니다. 순서는 그대로입니다."
	op.fill("안내 문구", why)
	op.setValue("재개 예정 시각 (비워 두면 표시하지 않음)", "2021-07-19T22:00")
	op.pressIn("#room-"+bookingRoom, "안내 게시") // confirmed in a dialog
	op.see("#overview", why)
	op.screenshot("12-dashboard")

	citizen.waitVisible("see the paused notice", "#panel-paused")
	citizen.see("#wait", "입장이 잠시 멈췄습니다")
	citizen.see("#notice", why, "다시 시작 예정: 7월 19일(월) 22:00") // the page polls
	citizen.see("#eta", "22:00 재개 예정")
	citizen.see("#wait", "대기 번호")
	citizen.phoneShot("13-waiting-room-paused")
	plain.see("#wait", "입장이 잠시 멈췄습니다", why) // the page refreshes itself
}

// isPaused reads settings.paused of the admin API's view of a room.
func isPaused(room map[string]any) bool {
	st, _ := room["settings"].(map[string]any)
	return st["paused"] == true
}
