package web

import (
	"embed"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strings"
	"time"

	"github.com/sluicehq/sluice/room"
)

//go:embed templates/*.html
var templateFS embed.FS

var waitTmpl = template.Must(template.ParseFS(templateFS, "templates/wait.html"))

// TicketCookie names the cookie that keeps a browser's ticket for a room.
func TicketCookie(roomName string) string { return "sluice_ticket_" + roomName }

type waitPage struct {
	Room, State, ETA, OpensAt, OpensIn, Updated, Message, Return string
	Position, Ahead                                              uint64
	Progress                                                     int
	Refresh                                                      int
}

// safeReturn accepts only local paths, so the waiting page cannot be used
// as an open redirect.
func safeReturn(s string) string {
	if s == "" || !strings.HasPrefix(s, "/") || strings.HasPrefix(s, "//") || strings.HasPrefix(s, "/\\") || strings.ContainsAny(s, "\r\n") {
		return ""
	}
	return s
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

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int, httpOnly bool) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: httpOnly, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// handleWaitPage serves the waiting page. It works without JavaScript: the
// ticket lives in a cookie and the page refreshes itself at the server's
// advised interval.
func (s *Server) handleWaitPage(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("room")
	rm, ok := s.Rooms.Get(name)
	if !ok {
		problem(w, http.StatusNotFound, "room_not_found", "There is no waiting room named "+trunc(name, 64)+".", "해당 대기실이 없습니다.")
		return
	}
	ret := safeReturn(r.URL.Query().Get("return"))
	page := waitPage{Room: name, Return: ret, Updated: s.Clock.Now().Format("15:04:05")}
	if r.URL.Query().Get("left") == "1" {
		page.State = "left"
		s.renderWait(w, page)
		return
	}
	var tok string
	var st room.Status
	var err error
	if c, cerr := r.Cookie(TicketCookie(name)); cerr == nil && r.URL.Query().Get("rejoin") == "" {
		if t, verr := rm.VerifyTicket(c.Value); verr == nil {
			tok = c.Value
			st, err = rm.Status(t)
		}
	}
	if tok == "" {
		if s.limited(w, r, kindJoin) {
			return
		}
		tok, st, err = rm.Join()
		if err == nil {
			s.setCookie(w, r, TicketCookie(name), tok, 86400, false)
		}
	}
	switch {
	case errors.Is(err, room.ErrNotYetOpen):
		page.State, page.OpensAt, page.Refresh = "not_open", st.OpensAt.Format("2006-01-02 15:04 MST"), 30
	case errors.Is(err, room.ErrRoomClosed):
		page.State = "closed"
	case errors.Is(err, room.ErrTurnOver):
		page.State = "turn_over"
		s.setCookie(w, r, TicketCookie(name), "", -1, false)
	case err != nil:
		page.State, page.Message, page.Refresh = "error", "잠시 후 다시 시도하세요. Please try again shortly.", 5
	default:
		page.State = string(st.State)
		page.Position, page.Ahead = st.Position, st.Ahead
		page.ETA = formatWait(st.ETA)
		page.Refresh = max(1, int(math.Ceil(st.PollAfter.Seconds())))
		if st.State == room.StatePrequeue {
			page.OpensAt = st.OpensAt.Format("2006-01-02 15:04:05 MST")
			page.OpensIn = formatWait(st.OpensAt.Sub(s.Clock.Now()))
			page.Refresh = max(1, min(page.Refresh, 30))
		}
		if st.State == room.StateWaiting || st.State == room.StatePaused {
			// Progress since the ticket was first shown: the cookie keeps
			// the first place seen so the bar fills as the line moves.
			first := st.Position
			if c, err := r.Cookie("sluice_first_" + name); err == nil {
				fmt.Sscan(c.Value, &first)
			} else {
				s.setCookie(w, r, "sluice_first_"+name, fmt.Sprint(first), 86400, true)
			}
			if first > 0 && first >= st.Position {
				page.Progress = int(100 * float64(first-st.Position) / float64(first))
			}
		}
		if st.State == room.StateAdmitted {
			s.setCookie(w, r, room.PassCookie, st.Pass, int(st.PassUntil.Sub(s.Clock.Now()).Seconds())+1, true)
			page.Refresh = 0
			if ret != "" {
				http.Redirect(w, r, ret, http.StatusSeeOther)
				return
			}
		}
	}
	s.renderWait(w, page)
}

func (s *Server) renderWait(w http.ResponseWriter, page waitPage) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := waitTmpl.Execute(w, page); err != nil {
		s.Log.Error("rendering waiting page", "err", err)
	}
}

// handleWaitLeave returns a browser's pass (form post; cross-origin posts
// are refused by CrossOriginProtection in the handler chain).
func (s *Server) handleWaitLeave(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("room")
	rm, ok := s.Rooms.Get(name)
	if !ok {
		problem(w, http.StatusNotFound, "room_not_found", "There is no waiting room named "+trunc(name, 64)+".", "해당 대기실이 없습니다.")
		return
	}
	if c, err := r.Cookie(room.PassCookie); err == nil {
		if p, err := s.Keys.VerifyPass(c.Value, name, s.Clock.Now()); err == nil || errors.Is(err, room.ErrExpired) {
			rm.Leave(p)
		}
	}
	s.setCookie(w, r, room.PassCookie, "", -1, true)
	s.setCookie(w, r, TicketCookie(name), "", -1, false)
	s.setCookie(w, r, "sluice_first_"+name, "", -1, true)
	http.Redirect(w, r, "/wait/"+name+"?left=1", http.StatusSeeOther)
}
