package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/room"
)

// On several nodes a status is answered from the node's view of the line
// (room.StatusSeen): a client tells what position it was last shown, so
// that the next node never shows a larger one. Browsers need do nothing:
// the server keeps it in the cookie sluice_seen_<room> (with the ticket's
// phase and number, so that a new ticket does not inherit it), sent with
// the waiting page's requests and its polls of the status API alike (an
// API request that brings no cookies gets none: the browser's polls bring
// the ticket cookie). Other clients may send ?seen=<position>.

// SeenCookie names the cookie that keeps the last position a browser was
// shown in a room: "phase.seq.position".
func SeenCookie(roomName string) string { return "sluice_seen_" + roomName }

// seenOf is the position the holder of ticket t says it was last shown
// (?seen= first, then the cookie), 0 if none.
func seenOf(r *http.Request, rm *room.Room, t room.Ticket) uint64 {
	if r.URL.RawQuery != "" {
		if q := r.URL.Query().Get("seen"); q != "" {
			n, _ := strconv.ParseUint(q, 10, 64)
			return n
		}
	}
	if len(r.Header["Cookie"]) == 0 {
		return 0
	}
	c, err := r.Cookie(SeenCookie(rm.Name()))
	if err != nil {
		return 0
	}
	f := strings.Split(c.Value, ".")
	if len(f) != 3 || f[0] != strconv.Itoa(int(t.Phase)) || f[1] != strconv.FormatUint(t.Seq, 10) {
		return 0
	}
	n, _ := strconv.ParseUint(f[2], 10, 64)
	return n
}

// ticketStatusSeen sets st to the status of t, held up to wait for its
// turn (room.StatusWait); in a room on several nodes never further back
// than the position its holder was last shown, and the position shown is
// remembered in the cookie. (st is the caller's: the status is not copied
// on its way out.)
func (s *Server) ticketStatusSeen(st *room.Status, w http.ResponseWriter, r *http.Request, rm *room.Room, t room.Ticket, wait time.Duration) error {
	shared := rm.SharesLine()
	var seen uint64
	if shared {
		seen = seenOf(r, rm, t)
	}
	var err error
	*st, err = rm.StatusWait(r.Context(), t, wait, seen)
	if shared && err == nil && st.Position != seen && len(r.Header["Cookie"]) > 0 {
		s.noteSeen(w, r, rm, *st)
	}
	return err
}

// noteSeen remembers the position st shows in the cookie, for a room on
// several nodes.
func (s *Server) noteSeen(w http.ResponseWriter, r *http.Request, rm *room.Room, st room.Status) {
	if !rm.SharesLine() || st.Position == 0 {
		return
	}
	t := st.Ticket
	s.setCookie(w, r, SeenCookie(rm.Name()), strconv.Itoa(int(t.Phase))+"."+strconv.FormatUint(t.Seq, 10)+"."+strconv.FormatUint(st.Position, 10), waitCookieAge)
}
