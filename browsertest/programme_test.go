package browsertest

import (
	"context"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/booking"
)

// TestProxyBookingInTheBrowser: a child verifies themselves, books for a
// parent of the 55-59 cohort (대리예약) with the parent's name and RRN, and
// gets the parent's booking; the confirmation names both. The form is in
// English too.
func TestProxyBookingInTheBrowser(t *testing.T) {
	t.Parallel()
	a := startDemo(t) // 2021-07-19 21:00: 55-59 open
	child := person{name: "김지은", rrn: booking.FormatRRN(booking.Date{Year: 1995, Month: 1, Day: 1}, false, 23456), phone: "010-3333-4444"}
	parent := person{name: "김영수", rrn: booking.FormatRRN(booking.Date{Year: 1964, Month: 5, Day: 5}, true, 23456)}
	tx := korean
	b := newTab(t, a, "citizen")
	b.open("/book")
	b.seeHeading(tx.verifyH1)
	b.verify(tx, child)

	// Born 1995, the child may not book in July; they may book for a parent.
	b.see("main", "지금은 예약할 수 없습니다")
	b.follow("부모님 등 다른 분 대신 예약하기 (대리예약)")
	b.seeHeading("대리예약")
	b.see("main", "55~59세", "18~49세는 본인만 예약할 수 있습니다", "010-****-4444")
	b.phoneShot("ko-12-proxy")
	// Their own number is refused, with the reason.
	b.fill("예약 대상자 이름", child.name)
	b.fillRRN(tx, child.rrn)
	b.press("이 분으로 예약 계속하기")
	b.see("[role=alert]", "")
	b.fill("예약 대상자 이름", parent.name)
	b.fillRRN(tx, parent.rrn)
	b.press("이 분으로 예약 계속하기")

	b.searchGangnam(tx)
	b.followIn(".clinic", tx.block)
	b.seeHeading(tx.confirmH1)
	b.see("#proxy-for", "김영수님 대신 예약 중 (예약자: 김지은)")
	b.see("main", parent.name, tx.dose1, tx.dose2)
	b.phoneShot("ko-13-proxy-confirm")
	b.press(tx.bookIt)
	b.seeHeading(tx.doneH1)
	b.see("main", parent.name)
	if body := b.text("main"); strings.Contains(body, strings.ReplaceAll(parent.rrn, "-", "")[6:]) {
		t.Error("the parent's RRN is on the done page")
	}

	// The form in English.
	b.open("/book/for?lang=en")
	b.seeHeading("Book for someone else")
	b.see("main", "People aged 18-49 must book for themselves", "Continue for this person")
}

// TestLeftoverDosesInTheBrowser: a clinic signs in with the key the
// operator issued and posts two leftover doses; a verified person finds
// them in the clinic's district and books one; the clinic's page lists
// them, masked.
func TestLeftoverDosesInTheBrowser(t *testing.T) {
	t.Parallel()
	a := startDemo(t)
	admin(t, a, "POST", "/clock", map[string]any{"at": "2021-07-20T10:30:00+09:00"})
	const clinicID = 1
	token, err := a.Booking().IssueClinicToken(context.Background(), clinicID)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := a.Booking().Availability().Clinic(clinicID)
	tx := korean

	cl := newTab(t, a, "clinic")
	cl.open("/clinic")
	cl.seeHeading("접종기관: 잔여백신 등록")
	cl.fill("접종기관 인증키", token)
	cl.press("들어가기")
	cl.see("#clinic-name", c.Name)
	cl.fill("수량", "2")
	cl.press("등록하기")
	cl.see("#posted", "남은 수량 2 / 2")
	cl.phoneShot("ko-14-clinic")

	b := newTab(t, a, "citizen")
	b.open("/book")
	b.seeHeading(tx.verifyH1)
	b.verify(tx, minsu)
	b.follow("오늘 남은 백신(잔여백신) 예약하기")
	b.seeHeading("잔여백신")
	b.choose("지역 (시·군·구)", districtName(c.DistrictCode))
	b.press("보기")
	b.see("#leftovers", c.Name, "남은 수량 2 / 2")
	b.phoneShot("ko-15-leftovers")
	b.pressIn(".leftover", "이 잔여백신 예약하기")
	b.seeHeading(tx.doneH1)
	b.see("main", "2021년 7월 20일(화)", tx.dose2)

	cl.open("/clinic")
	cl.see("#coming", "김*수")
	cl.see("#posted", "남은 수량 1 / 2")
}

// districtName is the Korean name of a district code.
func districtName(code string) string {
	for _, r := range booking.Regions() {
		for _, d := range r.Districts {
			if d.Code == code {
				return d.Name
			}
		}
	}
	return code
}
