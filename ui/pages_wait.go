// Citizen pages: the waiting page (web.Server.WaitPage).

package ui

import (
	"net/http"
	"net/url"
	"time"

	"github.com/sluicehq/sluice/web"
)

type waitData struct {
	web.WaitView
	H1            string
	ETAText       string
	CountdownText string
	OpensAtText   string
	UpdatedText   string
	PassUntilText string
	AheadText     string
	RateText      string // people admitted a minute
	MovedText     string // how far the line has moved since they came
	SessionText   string // how long an admitted session lasts
	PassLeftText  string // the same, for the admitted
	ResumeText    string // when the operator expects to admit again
	PausedETAText string // the estimate while paused
	SelfURL       string
	RejoinURL     string
	NowMS         int64
	ETASeconds    int64
	PollMS        int64
	Live          bool // the script polls (pre-queue, waiting, paused)
	JS            map[string]string
	HomeURL       string
}

// serveWait renders the waiting page (web.Server.WaitPage).
func (p *Pages) serveWait(w http.ResponseWriter, r *http.Request, v web.WaitView) {
	pg := p.newPage(w, r, "wait.title", "/wait/"+v.Room)
	l := pg.Lang
	pg.Generic = p.Booking == nil || v.Room != p.Room
	pg.Now = v.Now
	d := waitData{WaitView: v, H1: l.T("wait.title"), JS: l.jsTexts(), NowMS: v.Now.UnixMilli(), PollMS: v.PollAfter.Milliseconds()}
	if !pg.Generic {
		d.H1 = l.T("wait.h1")
		d.HomeURL = "/"
	}
	d.ETAText = l.Dur(v.ETA)
	if !v.OpensAt.IsZero() {
		d.OpensAtText = l.When(v.OpensAt)
		d.CountdownText = l.Countdown(v.OpensAt.Sub(v.Now))
	}
	if v.ETA >= 0 {
		d.ETASeconds = int64(v.ETA / time.Second)
	}
	d.UpdatedText = l.Clock(v.Now)
	if !v.PassUntil.IsZero() {
		d.PassUntilText = l.Clock(v.PassUntil)
	}
	d.AheadText = l.T("wait.people", l.Num(v.Ahead))
	d.RateText = l.PerMinute(v.Ahead, v.ETA)
	if v.State == web.WaitPaused {
		d.RateText = l.T("wait.rate.stopped")
	}
	d.MovedText = l.T("wait.moved", l.Num(v.Moved), l.Num(v.First), v.Progress)
	if v.Session > 0 {
		d.SessionText = l.Dur(v.Session)
	}
	if !v.PassUntil.IsZero() {
		d.PassLeftText = l.Dur(v.PassUntil.Sub(v.Now))
	}
	d.PausedETAText = l.T("wait.eta.paused")
	if !v.ResumeAt.IsZero() {
		d.ResumeText = l.When(v.ResumeAt)
		d.PausedETAText = l.T("wait.eta.resume", d.ResumeText)
	}
	d.SelfURL = web.WaitURL(v.Room, v.Return)
	q := url.Values{"rejoin": {"1"}}
	if v.Return != "" {
		q.Set("return", v.Return)
	}
	d.RejoinURL = "/wait/" + v.Room + "?" + q.Encode()
	switch v.State {
	case web.WaitPrequeue, web.WaitWaiting, web.WaitPaused:
		d.Live = true
	}
	// Every state keeps the script: it also forgets a ticket that is over.
	pg.Scripts = []string{"wait.js"}
	pg.Title = d.H1
	pg.D = d
	p.render(w, v.Code, "wait", pg)
}
