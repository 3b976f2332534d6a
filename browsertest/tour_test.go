package browsertest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sluicehq/sluice/room"
)

// The tours visit every page of the citizen site and of the dashboard, in
// both languages, with the errors and states a person can meet, so that
// the accessibility audit (every page checkPage sees) covers them all.

// tourTexts are the words of the tours beyond those of the journeys.
type tourTexts struct {
	lang                      string
	leave, rejoin, pauseTitle string
}

var tourKO = tourTexts{lang: "ko", leave: "나가기", rejoin: "다시 줄 서기", pauseTitle: "입장이 잠시 멈췄습니다"}
var tourEN = tourTexts{lang: "en", leave: "Leave", rejoin: "Join the line again", pauseTitle: "Admission is paused"}

// deleteCookie drops one of the tab's cookies (a pass that ran out).
func (tb *tab) deleteCookie(name string) {
	tb.t.Helper()
	tb.step("delete cookie "+name, func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, network.DeleteCookies, network.DeleteCookiesParams{Name: name, URL: tb.base + "/"})
		return err
	})
}

// cookie reads one of the tab's cookies ("" if none).
func (tb *tab) cookie(name string) string {
	tb.t.Helper()
	var v string
	tb.step("read cookie "+name, func(ctx context.Context) error {
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.base + "/"}})
		if err != nil {
			return err
		}
		for _, c := range res.Cookies {
			if c.Name == name {
				v = c.Value
			}
		}
		return nil
	})
	return v
}

// setCookie gives the tab a cookie, as a browser that kept an old one.
func (tb *tab) setCookie(name, value string) {
	tb.t.Helper()
	tb.step("set cookie "+name, func(ctx context.Context) error {
		_, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{Name: name, Value: value, URL: tb.base + "/"})
		return err
	})
}

// submitRaw sends the form sel as it is, without the page's checks (the
// browser's constraint validation and the page's scripts), and waits for
// the answer: what a hurried or hostile client sends.
func (tb *tab) submitRaw(sel string) {
	tb.t.Helper()
	tb.step("submit "+sel, func(ctx context.Context) error {
		if err := markPage(ctx); err != nil {
			return err
		}
		if _, err := eval[chromedp.Void](ctx, fmt.Sprintf(`HTMLFormElement.prototype.submit.call(document.querySelector(%s))`, jsArgs(sel))); err != nil {
			return err
		}
		return waitNewPage(ctx)
	})
	tb.checkPage()
}

// TestTourCitizenPages: the pages the journeys (browser_test.go) do not
// reach, in both languages: the landing's answers and its error, no
// verified session, not eligible yet, a pass that ran out.
func TestTourCitizenPages(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		tx   texts
		tour tourTexts
		who  person
	}{
		{korean, tourKO, minsu},
		{english, tourEN, jane},
	} {
		t.Run(c.tour.lang, func(t *testing.T) {
			t.Parallel()
			a := startDemo(t)
			tx, tour, who := c.tx, c.tour, c.who
			b := newTab(t, a, "citizen-"+tour.lang)
			b.open("/?lang=" + tour.lang)
			b.open("/?y=1968&m=3&d=15")
			b.open("/?y=1971&m=5&d=5")
			b.open("/?y=1975&m=1&d=1")
			b.open("/?y=1970&m=2&d=30")

			// No verified session; not eligible yet; a pass that ran out.
			c := newTab(t, a, "other-"+tour.lang)
			c.open("/book?lang=" + tour.lang)
			c.open("/book/clinics")
			c.open("/book")
			c.verify(tx, person{name: "이영희", rrn: "700101-2345678", phone: "010-2222-3333"})
			d := newTab(t, a, "late-"+tour.lang)
			d.open("/book?lang=" + tour.lang)
			d.deleteCookie(room.PassCookie)
			d.fill(tx.name, who.name)
			d.fillRRN(tx, who.rrn)
			d.fill(tx.phone, who.phone)
			d.press(tx.sendCode)
			d.see("[role=alert]", "")
		})
	}
}

// TestTourWaitingRoom: every state of the waiting page, in both languages.
func TestTourWaitingRoom(t *testing.T) {
	t.Parallel()
	for _, tour := range []tourTexts{tourKO, tourEN} {
		t.Run(tour.lang, func(t *testing.T) {
			t.Parallel()
			a := startDemo(t)
			admin(t, a, "PATCH", "/rooms/"+bookingRoom, map[string]any{"capacity": 1})
			inside := joinAPI(t, a, bookingRoom) // holds the only place
			w := newTab(t, a, "waiting-"+tour.lang)
			w.open("/wait/" + bookingRoom + "?return=/book&lang=" + tour.lang)
			admin(t, a, "POST", "/rooms/"+bookingRoom+"/pause", nil)
			w.open("/wait/" + bookingRoom + "?return=/book")
			w.see("#wait", tour.pauseTitle)
			admin(t, a, "POST", "/rooms/"+bookingRoom+"/resume", nil)
			w.movesOnAfter("be let in", inside.leave)

			// Admitted with nowhere to go on to; leaving; an old ticket.
			w.open("/wait/" + bookingRoom)
			ticket := w.cookie("sluice_ticket_" + bookingRoom)
			w.press(tour.leave)
			w.setCookie("sluice_ticket_"+bookingRoom, ticket)
			w.open("/wait/" + bookingRoom)
			w.see("#wait", tour.rejoin)

			// Before the pre-queue, in the pre-queue, closed.
			now := a.Clock.Now()
			for _, st := range []room.Settings{
				{Name: "later", PrequeueAt: now.Add(-time.Minute), OpensAt: now.Add(time.Hour)},
				{Name: "tomorrow", OpensAt: now.Add(24 * time.Hour)},
			} {
				if _, err := a.Rooms.Add(st); err != nil {
					t.Fatal(err)
				}
				w.open("/wait/" + st.Name)
			}
			admin(t, a, "POST", "/rooms/"+bookingRoom+"/close", nil)
			w.open("/wait/" + bookingRoom)
			w.open("/demo")
			w.open("/demo/protected")
		})
	}
}

// TestTourDashboard: the operator's sign-in (wrong, then right), the
// dashboard, the confirmation page of a control without JavaScript and a
// refused setting.
func TestTourDashboard(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"ko", "en"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			a := startDemo(t)
			words := map[string][4]string{
				"ko": {"관리자 토큰", "로그인", "입장 일시정지", "예, 진행합니다"},
				"en": {"Admin token", "Sign in", "Pause admission", "Yes, go ahead"},
			}[lang]
			op := newTab(t, a, "operator-"+lang, noScript)
			op.open("/admin/login?lang=" + lang)
			op.fill(words[0], "not-the-token")
			op.press(words[1])
			op.fill(words[0], a.Cfg.AdminToken)
			op.press(words[1])
			op.pressIn("#room-"+bookingRoom, words[2])
			op.press(words[3])
			op.see("main", bookingRoom)
			js := newTab(t, a, "operator-js-"+lang)
			js.open("/admin/login?lang=" + lang)
			js.fill(words[0], a.Cfg.AdminToken)
			js.press(words[1])
			js.step("set an impossible capacity", func(ctx context.Context) error {
				_, err := eval[chromedp.Void](ctx, `document.getElementById('capacity-`+bookingRoom+`').value = '0'`)
				return err
			})
			js.submitRaw("#room-" + bookingRoom + " form.settings")
		})
	}
}
