package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/sluicehq/sluice/internal/localurl"
	"github.com/sluicehq/sluice/room"
)

//go:embed templates/*.html
var templateFS embed.FS

var waitTmpl = template.Must(template.New("wait.html").Funcs(template.FuncMap{"wait": formatWait}).ParseFS(templateFS, "templates/wait.html"))

// TicketCookie names the cookie that keeps a browser's ticket for a room.
func TicketCookie(roomName string) string { return "sluice_ticket_" + roomName }

// FirstCookie names the cookie that keeps the first place a browser was
// shown in a room (the start of its progress bar). Not HttpOnly: the
// waiting page's script updates it when it recovers a ticket.
func FirstCookie(roomName string) string { return "sluice_first_" + roomName }

// States of the waiting page (WaitView.State): the ticket states of the
// JSON API plus the page's own.
const (
	WaitPrequeue = "prequeue"  // before opening; places are drawn at opening
	WaitWaiting  = "waiting"   // in line
	WaitPaused   = "paused"    // in line, admission paused by the operator
	WaitClosed   = "closed"    // the room is closed
	WaitAdmitted = "admitted"  // admitted, no return path to go on to
	WaitTurnOver = "turn_over" // the ticket's turn has passed (returned or expired)
	WaitLeft     = "left"      // the browser has just given its place back
	WaitNotOpen  = "not_open"  // the room does not take people yet
	WaitBusy     = "busy"      // rate limited: try again shortly
	WaitError    = "error"     // something failed on the server; try again
)

// WaitView is everything the waiting page shows. The handler computes it
// (joining, reading the ticket cookie, setting the pass cookie, redirecting
// when admitted); Server.WaitPage or the built-in template renders it.
type WaitView struct {
	Room   string
	Return string // local path to go on to when admitted ("" if none)
	State  string // one of the Wait* states
	// Code is the HTTP status to answer with (0 means 200).
	Code int
	// Ticket is the browser's ticket (also in its cookie), "" if none.
	Ticket string
	// Joined reports that the ticket was issued by this request because the
	// browser sent no valid ticket cookie: a page script holding an older
	// ticket (local storage) may recover that place instead.
	Joined          bool
	Position, Ahead uint64
	// First is the first place this browser was shown in this line, the
	// baseline of the progress bar; Moved is how many places it has moved
	// since (First-Position), Progress the same in percent, 0..100.
	First    uint64
	Moved    uint64
	Progress int
	// Session is how long an admitted person may use the protected pages
	// (the room's pass lifetime), for people to know before their turn.
	Session time.Duration
	// ETA is the expected wait (negative: unknown). During the pre-queue it
	// is the time until opening.
	ETA       time.Duration
	OpensAt   time.Time
	Now       time.Time // the server clock when the view was made
	PollAfter time.Duration
	// Refresh is the meta-refresh interval in seconds for browsers without
	// JavaScript (0: do not refresh).
	Refresh int
	// HoldURL, when set, is where a browser without JavaScript refreshes
	// to at once instead of after Refresh: the page with ?wait=, which the
	// server holds until the ticket's turn comes or the wait ends (the
	// status API's long poll, docs/API.md). Set while the ticket's turn
	// is expected within room.MaxStatusWait, so that the person learns of
	// it at once; the server, not the browser, does the waiting.
	HoldURL   string
	PassUntil time.Time
	// Message is a plain detail for State error (bilingual).
	Message string
	// Notice and ResumeAt are the operator's word to the line and when
	// they expect to admit again (zero: not said).
	Notice   string
	ResumeAt time.Time
	// QueueID is the ticket's short name for people to quote.
	QueueID string
}

func formatWait(d time.Duration) string {
	if d < 0 {
		return "—"
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%d시간 %d분 (%dh %dm)", h, m, h, m)
	case m > 0:
		return fmt.Sprintf("%d분 %d초 (%dm %ds)", m, s, m, s)
	}
	return fmt.Sprintf("%d초 (%ds)", s, s)
}

// waitCookieAge is how long the waiting page's cookies (ticket, first
// place, seen) are kept, in seconds: a day, longer than any night's line
// (ui/static/wait.js keeps the ones it writes as long).
const waitCookieAge = 86400

// setCookie sets a cookie of the waiting page (ticket, first place): only
// Sluice's own pages need it, so it is kept to the Prefix (sluice proxy
// sends none of them to the protected site).
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: s.Path("/"), MaxAge: maxAge,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// setPassCookie sets (or, with maxAge -1, removes) the pass cookie: every
// path of the site, where the gate looks for it, and never to scripts.
func (s *Server) setPassCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: room.PassCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// AllowJoin applies the per-client limit on joins (and other expensive
// steps such as identity checks from pages) to r. When it refuses, it says
// how long to wait.
func (s *Server) AllowJoin(r *http.Request) (bool, time.Duration) {
	if s.Limiter == nil {
		return true, 0
	}
	return s.Limiter.Allow(r, kindJoin)
}

// handleWaitPage serves the waiting page. It works without JavaScript: the
// ticket lives in a cookie and the page refreshes itself at the server's
// advised interval. Admitted browsers get the pass cookie and are sent on to
// their return path.
func (s *Server) handleWaitPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("room")
	rm, ok := s.roomNamed(w, name)
	if !ok {
		return
	}
	q := r.URL.Query()
	now := s.Clock.Now()
	// Only a page of this site, as the browser will read it, so that the
	// waiting page cannot be used as an open redirect.
	ret, _ := localurl.Path(q.Get("return"))
	v := WaitView{Room: name, Return: ret, Now: now, ETA: -1, Session: rm.Settings().PassTTL}
	if q.Get("left") == "1" {
		v.State = WaitLeft
		s.renderWait(w, r, v)
		return
	}
	rejoin := q.Get("rejoin") != ""
	// ?wait=S holds the page as the status API's long poll holds its
	// answer (HoldURL); a value the API would refuse holds nothing here,
	// so that no address of the page stops working.
	hold, _ := statusWait(r)
	var st room.Status
	var err error
	if c, cerr := r.Cookie(TicketCookie(name)); cerr == nil && !rejoin {
		t, verr := rm.VerifyTicket(c.Value)
		switch {
		case verr == nil:
			v.Ticket = c.Value
			err = s.ticketStatusSeen(&st, w, r, rm, t, hold)
		case !FinalTicketError(verr):
			// This node cannot tell (it lacks the key the ticket was
			// signed with): the ticket is kept, and the page tries again.
			v.Ticket, err = c.Value, verr
		}
		// A ticket that can never be valid is replaced by a new one.
	}
	if v.Ticket == "" {
		if ok, wait := s.AllowJoin(r); !ok {
			secs := SetRetryAfter(w, wait)
			v.State, v.Code, v.Refresh = WaitBusy, http.StatusTooManyRequests, secs
			s.renderWait(w, r, v)
			return
		}
		var tok string
		tok, st, err = rm.Join()
		if err == nil {
			s.setCookie(w, r, TicketCookie(name), tok, waitCookieAge)
			s.noteSeen(w, r, rm, st)
			if rejoin {
				// Drop ?rejoin from the address, or every refresh of the
				// page would join the line again at its end.
				http.Redirect(w, r, s.WaitURL(name, ret), http.StatusSeeOther)
				return
			}
			v.Ticket, v.Joined = tok, true
		}
	}
	switch {
	case errors.Is(err, room.ErrNotYetOpen):
		v.State, v.OpensAt, v.Refresh = WaitNotOpen, st.OpensAt, 30
		if d := st.OpensAt.Sub(now); d > 0 && d < 30*time.Second {
			v.Refresh = max(1, int(d.Seconds()))
		}
	case errors.Is(err, room.ErrRoomClosed):
		v.State = WaitClosed
	case errors.Is(err, room.ErrTurnOver):
		// The ticket is kept: one answer is not proof (a node that lost
		// its shared state, or restarted, may say so wrongly). A reload
		// asks again; the page's script asks again by itself and forgets
		// the ticket once the answer is confirmed; "join again" replaces it.
		v.State = WaitTurnOver
	case err != nil:
		s.Log.Warn("waiting page", "room", name, "err", err)
		w.Header().Set("Retry-After", "5")
		v.State, v.Code, v.Refresh = WaitError, http.StatusServiceUnavailable, 5
		v.Message = "잠시 후 다시 시도하세요. 순서는 유지됩니다. Please try again shortly; your place is kept."
	default:
		v.State = string(st.State)
		v.Position, v.Ahead, v.ETA, v.OpensAt, v.PollAfter = st.Position, st.Ahead, st.ETA, st.OpensAt, st.PollAfter
		v.Notice, v.ResumeAt = st.Message, st.ResumeAt
		if st.Ticket.Room != "" {
			v.QueueID = st.Ticket.QueueID()
		}
		v.Refresh = max(1, int(math.Ceil(st.PollAfter.Seconds())))
		switch st.State {
		case room.StatePrequeue:
			v.Refresh = max(1, min(v.Refresh, 30))
			if v.Joined {
				// A new ticket starts a new progress bar.
				s.setCookie(w, r, FirstCookie(name), "", -1)
			}
		case room.StateClosed:
			v.Refresh = 0
		case room.StateWaiting, room.StatePaused:
			// The progress bar fills from the first place this browser
			// was shown.
			v.First = st.Position
			if c, err := r.Cookie(FirstCookie(name)); err == nil && !v.Joined {
				if f, err := strconv.ParseUint(c.Value, 10, 64); err == nil && f >= st.Position {
					v.First = f
				}
			}
			if v.First == st.Position {
				s.setCookie(w, r, FirstCookie(name), strconv.FormatUint(v.First, 10), waitCookieAge)
			}
			if v.First > 0 {
				v.Moved = v.First - st.Position
				v.Progress = int(100 * float64(v.Moved) / float64(v.First))
			}
			if st.WithinReach(room.MaxStatusWait) {
				v.HoldURL = s.waitHoldURL(name, ret)
			}
		case room.StateAdmitted:
			s.setPassCookie(w, r, st.Pass, int(st.PassUntil.Sub(now).Seconds())+1)
			v.Refresh, v.PassUntil = 0, st.PassUntil
			if ret != "" {
				http.Redirect(w, r, ret, http.StatusSeeOther)
				return
			}
		}
	}
	s.renderWait(w, r, v)
}

// waitHoldURL is the waiting page's address that the server holds for up
// to room.MaxStatusWait until the ticket's turn (WaitView.HoldURL).
func (s *Server) waitHoldURL(roomName, ret string) string {
	sep := "?"
	if ret != "" {
		sep = "&"
	}
	return s.WaitURL(roomName, ret) + sep + "wait=" + strconv.Itoa(int(room.MaxStatusWait/time.Second))
}

func (s *Server) renderWait(w http.ResponseWriter, r *http.Request, v WaitView) {
	if s.WaitPage != nil {
		s.WaitPage(w, r, v)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if v.Code != 0 {
		w.WriteHeader(v.Code)
	}
	if err := waitTmpl.Execute(w, v); err != nil {
		s.Log.Error("rendering waiting page", "err", err)
	}
}

// handleWaitLeave returns a browser's pass (form post; cross-origin posts
// are refused by CrossOriginProtection in the handler chain).
func (s *Server) handleWaitLeave(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("room")
	rm, ok := s.roomNamed(w, name)
	if !ok {
		return
	}
	if c, err := r.Cookie(room.PassCookie); err == nil {
		if p, err := s.Keys.VerifyPass(c.Value, name, s.Clock.Now()); err == nil || errors.Is(err, room.ErrExpired) {
			if err := rm.Leave(p); err != nil {
				// The place is freed when the pass expires; the person
				// has left either way.
				s.Log.Warn("leave failed", "room", name, "err", err)
			}
		}
	}
	s.setPassCookie(w, r, "", -1)
	s.setCookie(w, r, TicketCookie(name), "", -1)
	s.setCookie(w, r, FirstCookie(name), "", -1)
	http.Redirect(w, r, s.Path("/wait/"+name+"?left=1"), http.StatusSeeOther)
}
