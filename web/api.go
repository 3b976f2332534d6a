package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sluicehq/sluice/room"
)

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) string {
	// r.Header["Authorization"] is r.Header.Get("Authorization") without
	// canonicalising a key that is canonical already.
	var h string
	if v := r.Header["Authorization"]; len(v) > 0 {
		h = v[0]
	}
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func (s *Server) roomOf(w http.ResponseWriter, r *http.Request) (*room.Room, bool) {
	return s.roomNamed(w, r.PathValue("room"))
}

func (s *Server) roomNamed(w http.ResponseWriter, name string) (*room.Room, bool) {
	rm, ok := s.Rooms.Get(name)
	if !ok {
		problem(w, http.StatusNotFound, "room_not_found", "There is no waiting room named "+strconv.Quote(trunc(name, room.MaxRoomName))+".", "해당 대기실이 없습니다.")
		return nil, false
	}
	return rm, true
}

func trunc(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Server) limited(w http.ResponseWriter, r *http.Request, kind int) bool {
	ok, wait := s.Limiter.Allow(r, kind)
	if ok {
		return false
	}
	tooManyRequests(w, wait, "rate_limited",
		"Too many requests from your network. Keep your ticket and try again in a moment: your place in line is kept.",
		"요청이 너무 많습니다. 잠시 후 다시 시도하세요. 대기 순서는 그대로 유지됩니다.")
	return true
}

// tooManyRequests answers 429 with Retry-After (SetRetryAfter), also given
// in the problem document.
func tooManyRequests(w http.ResponseWriter, wait time.Duration, code, en, ko string) {
	secs := SetRetryAfter(w, wait)
	WriteProblem(w, Problem{Status: http.StatusTooManyRequests, Code: code, Detail: en, DetailKO: ko,
		Extra: map[string]any{"retry_after_seconds": secs}})
}

// SetRetryAfter sets the Retry-After of a refusal (429) that may be tried
// again after wait: the whole seconds of wait plus one, so that a client
// that waits that long is not refused again. It returns the seconds, for
// the answer to repeat (a problem document, a page's refresh). The JSON
// API, the waiting page and the dashboard's sign-in all say it this way.
func SetRetryAfter(w http.ResponseWriter, wait time.Duration) int {
	secs := int(wait/time.Second) + 1
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return secs
}

// namedByPath serves h for the room named by the {room} path value: join
// and status take the name, because fastRoutes reads it from the path
// itself and calls them directly.
func namedByPath(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { h(w, r, r.PathValue("room")) }
}

// join: POST /api/v1/rooms/{room}/tickets (namedByPath, or fastRoutes).
func (s *Server) join(w http.ResponseWriter, r *http.Request, roomName string) {
	rm, ok := s.roomNamed(w, roomName)
	if !ok {
		return
	}
	if tok := bearer(r); tok != "" {
		// Joining again with a ticket (refresh, reconnect, app restart)
		// keeps exactly the same place.
		if !s.limited(w, r, kindStatus) {
			s.ticketStatus(w, r, rm, tok, 0)
		}
		return
	}
	if s.limited(w, r, kindJoin) {
		return
	}
	// The new ticket is written straight into the answer's buffer.
	bp := statusBufs.Get().(*[]byte)
	buf, st, err := rm.AppendJoin(append((*bp)[:0], ticketField...))
	if err == nil && len(r.Header["Cookie"]) > 0 {
		s.noteSeen(w, r, rm, st)
	}
	if err != nil {
		putStatusBuf(bp, buf)
		s.writeStatusProblem(w, &st, err)
		return
	}
	writeStatusBuf(w, http.StatusCreated, bp, appendStatusFields(buf, &st))
}

// status: GET /api/v1/rooms/{room}/status (namedByPath, or fastRoutes).
func (s *Server) status(w http.ResponseWriter, r *http.Request, roomName string) {
	rm, ok := s.roomNamed(w, roomName)
	if !ok {
		return
	}
	if s.limited(w, r, kindStatus) {
		return
	}
	tok := bearer(r)
	if tok == "" {
		problem(w, http.StatusUnauthorized, "ticket_missing", "Send your ticket as \"Authorization: Bearer <ticket>\". To get a ticket, POST to the room's tickets endpoint.", "대기표가 없습니다. 대기열에 먼저 참여하세요.")
		return
	}
	wait, ok := statusWait(r)
	if !ok {
		problem(w, http.StatusBadRequest, "bad_wait", "wait must be a number of seconds from 0 to 10.", "wait 값은 0에서 10 사이의 초여야 합니다.")
		return
	}
	s.ticketStatus(w, r, rm, tok, wait)
}

// statusWait reads the status request's ?wait=S: how long the client lets
// the request be held for its turn (room.StatusWait), 0 to 10 seconds,
// fractions allowed. ok is false for anything else.
func statusWait(r *http.Request) (time.Duration, bool) {
	if r.URL.RawQuery == "" {
		return 0, true
	}
	v := r.URL.Query().Get("wait")
	if v == "" {
		return 0, true
	}
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil || !(secs >= 0 && secs <= room.MaxStatusWait.Seconds()) {
		return 0, false
	}
	return time.Duration(secs * float64(time.Second)), true
}

// ticketStatus answers with the status of ticket tok in the room, held up
// to wait for the ticket's turn (?wait=S, room.StatusWait).
func (s *Server) ticketStatus(w http.ResponseWriter, r *http.Request, rm *room.Room, tok string, wait time.Duration) {
	t, err := rm.VerifyTicket(tok)
	if err != nil {
		WriteProblem(w, ticketProblem(err))
		return
	}
	var st room.Status
	err = s.ticketStatusSeen(&st, w, r, rm, t, wait)
	s.writeStatus(w, http.StatusOK, tok, &st, err)
}

// handleLeave: POST /api/v1/rooms/{room}/leave
func (s *Server) handleLeave(w http.ResponseWriter, r *http.Request) {
	rm, ok := s.roomOf(w, r)
	if !ok {
		return
	}
	tok := bearer(r)
	if tok == "" {
		problem(w, http.StatusUnauthorized, "pass_missing", "Send your pass as \"Authorization: Bearer <pass>\".", "입장권이 없습니다.")
		return
	}
	p, err := s.Keys.VerifyPass(tok, rm.Name(), s.Clock.Now())
	if err != nil && !errors.Is(err, room.ErrExpired) {
		problem(w, http.StatusUnauthorized, "pass_"+room.ReasonOf(err), "The pass could not be verified: "+err.Error()+".", "입장권을 확인할 수 없습니다.")
		return
	}
	// An expired pass has already freed its place; leaving is still fine.
	if err := rm.Leave(p); err != nil {
		s.Log.Warn("leave failed", "room", rm.Name(), "err", err)
		WriteProblem(w, Problem{Status: http.StatusServiceUnavailable, Code: "unavailable", RetryAfter: RetryUnavailable,
			Detail: "The place could not be returned right now; it is freed when the pass expires. Try again in a few seconds.", DetailKO: "잠시 후 다시 시도하세요."})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) writeStatus(w http.ResponseWriter, code int, tok string, st *room.Status, err error) {
	if err != nil {
		s.writeStatusProblem(w, st, err)
		return
	}
	bp := statusBufs.Get().(*[]byte)
	writeStatusBuf(w, code, bp, appendStatusJSON((*bp)[:0], tok, st))
}

// writeStatusProblem answers the error of a join or status check.
func (s *Server) writeStatusProblem(w http.ResponseWriter, st *room.Status, err error) {
	p, internal := roomProblem(err, st.OpensAt)
	if internal {
		s.Log.Error("status failed", "err", err)
	}
	if p.Status == http.StatusServiceUnavailable {
		p.RetryAfter = RetryUnavailable
	}
	WriteProblem(w, p)
}

// writeStatusBuf answers code with the status document buf, written in
// the pooled buffer bp, and gives the buffer back to the pool.
func writeStatusBuf(w http.ResponseWriter, code int, bp *[]byte, buf []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Cache-Control"] = noStore
	w.WriteHeader(code)
	w.Write(buf) // writers must not retain buf (io.Writer), so it can be reused
	putStatusBuf(bp, buf)
}

// putStatusBuf gives a status buffer back to the pool, unless it grew
// large.
func putStatusBuf(bp *[]byte, buf []byte) {
	if cap(buf) <= 4096 {
		*bp = buf[:0]
		statusBufs.Put(bp)
	}
}

var (
	jsonContentType = []string{"application/json"}
	noStore         = []string{"no-store"}
	// statusBufs recycles the buffers status documents are written in: the
	// status path is the hottest of the server and need not allocate.
	statusBufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}
)

// StatusDocument is the status document of docs/API.md (the answer to a
// join and to a status check) as a Go client decodes it. The server does
// not use it: appendStatusJSON writes the document by hand, and a test
// checks the two byte for byte.
type StatusDocument struct {
	Ticket        string  `json:"ticket"`
	State         string  `json:"state"`
	Position      *uint64 `json:"position"`
	Ahead         *uint64 `json:"ahead"`
	ETASeconds    *int64  `json:"eta_seconds"`
	PollAfterMS   int64   `json:"poll_after_ms"`
	OpensAt       string  `json:"opens_at,omitempty"`
	Pass          string  `json:"pass,omitempty"`
	PassExpiresAt string  `json:"pass_expires_at,omitempty"`
	QueueID       string  `json:"queue_id,omitempty"`
	Message       string  `json:"message,omitempty"`
	ResumeAt      string  `json:"resume_at,omitempty"`
}

// appendStatusJSON writes the status document by hand: it is the hottest
// path of the server and encoding/json's reflection would cost more than
// the rest of the request's own work.
func appendStatusJSON(b []byte, tok string, st *room.Status) []byte {
	b = append(b, ticketField...)
	b = append(b, tok...) // base64url: no escaping needed
	return appendStatusFields(b, st)
}

// ticketField begins the status document; the ticket's text follows.
const ticketField = `{"ticket":"`

// appendStatusFields writes the rest of the status document after the
// ticket's text.
func appendStatusFields(b []byte, st *room.Status) []byte {
	b = append(b, `","state":"`...)
	b = append(b, st.State...)
	b = append(b, `","position":`...)
	switch st.State {
	case room.StateWaiting, room.StatePaused:
		b = strconv.AppendUint(b, st.Position, 10)
		b = append(b, `,"ahead":`...)
		b = strconv.AppendUint(b, st.Ahead, 10)
	case room.StateAdmitted:
		b = append(b, `0,"ahead":0`...)
	default:
		b = append(b, `null,"ahead":null`...)
	}
	b = append(b, `,"eta_seconds":`...)
	if st.ETA >= 0 && st.State != room.StateClosed {
		b = strconv.AppendInt(b, int64(st.ETA/time.Second), 10)
	} else {
		b = append(b, `null`...)
	}
	b = append(b, `,"poll_after_ms":`...)
	b = strconv.AppendInt(b, st.PollAfter.Milliseconds(), 10)
	if !st.OpensAt.IsZero() {
		b = append(b, `,"opens_at":"`...)
		b = st.OpensAt.AppendFormat(b, time.RFC3339)
		b = append(b, '"')
	}
	if st.Pass != "" {
		b = append(b, `,"pass":"`...)
		b = append(b, st.Pass...)
		b = append(b, `","pass_expires_at":"`...)
		b = st.PassUntil.AppendFormat(b, time.RFC3339)
		b = append(b, '"')
	}
	if st.Ticket.Room != "" {
		b = append(b, `,"queue_id":"`...)
		b = room.AppendQueueID(b, st.Ticket)
		b = append(b, '"')
	}
	if st.Message != "" {
		b = append(b, `,"message":`...)
		b = appendJSONString(b, st.Message)
	}
	if !st.ResumeAt.IsZero() {
		b = append(b, `,"resume_at":"`...)
		b = st.ResumeAt.AppendFormat(b, time.RFC3339)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it (HTML characters, U+2028 and U+2029 included; invalid UTF-8
// as U+FFFD).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&15])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
