package web

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/room"
)

// referenceStatus is the status document as encoding/json writes it: the
// reference appendStatusJSON must match byte for byte. It applies
// docs/API.md's rules: position and ahead are numbers while waiting or
// paused, 0 once admitted and null otherwise; eta_seconds is null when it cannot be estimated (negative), paused or
// closed; opens_at when the room has one; pass and its expiry when given.
func referenceStatus(tok string, st room.Status) StatusDocument {
	d := StatusDocument{Ticket: tok, State: string(st.State), PollAfterMS: st.PollAfter.Milliseconds(), Pass: st.Pass}
	switch st.State {
	case room.StateWaiting, room.StatePaused:
		d.Position, d.Ahead = &st.Position, &st.Ahead
	case room.StateAdmitted:
		var zero uint64
		d.Position, d.Ahead = &zero, &zero
	}
	if st.ETA >= 0 && st.State != room.StateClosed {
		secs := int64(st.ETA / time.Second)
		d.ETASeconds = &secs
	}
	if !st.OpensAt.IsZero() {
		d.OpensAt = st.OpensAt.Format(time.RFC3339)
	}
	if st.Pass != "" {
		d.PassExpiresAt = st.PassUntil.Format(time.RFC3339)
	}
	if st.Ticket.Room != "" {
		d.QueueID = st.Ticket.QueueID()
	}
	d.Message = st.Message
	if !st.ResumeAt.IsZero() {
		d.ResumeAt = st.ResumeAt.Format(time.RFC3339)
	}
	return d
}

func TestStatusJSONMatchesEncodingJSON(t *testing.T) {
	keys := room.GenerateKeyring("k1")
	at := time.Date(2021, 7, 19, 20, 0, 0, 0, time.UTC)
	ticket := keys.IssueTicket(room.Ticket{Room: "vaccine", Phase: room.PhaseOpen, Seq: math.MaxUint64, Issued: at})
	pass := keys.IssuePass(room.Pass{Room: "vaccine", Position: math.MaxUint64, Issued: at, Expires: at.Add(time.Hour)})
	seoul := time.FixedZone("KST", 9*3600)
	opens := []time.Time{{}, at, at.In(seoul).Add(123456789 * time.Nanosecond), time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, seoul)}
	etas := []time.Duration{-1, -time.Hour, 0, time.Second - 1, time.Second, 36 * time.Second, math.MaxInt64}
	polls := []time.Duration{0, time.Millisecond - 1, 1500 * time.Millisecond, time.Minute, math.MaxInt64, -time.Second}
	// Operators write anything: quotes, HTML, controls, Korean, lone bytes.
	messages := []string{"", `서버 점검 중 "21:30" 재개 예정`, "<b>&amp;</b> \\ \n\t\r\x00\x1f", "\u2028\u2029 \xff\xfe ok", "👍 é"}
	states := []room.State{room.StatePrequeue, room.StateWaiting, room.StateAdmitted, room.StatePaused, room.StateClosed, room.StateScheduled, room.StateOpen}
	n := 0
	for _, state := range states {
		for _, pos := range []uint64{0, 1, 49, math.MaxUint64} {
			for i, eta := range etas {
				st := room.Status{State: state, Position: pos, Ahead: pos - min(pos, 1), ETA: eta,
					PollAfter: polls[i%len(polls)], OpensAt: opens[i%len(opens)], Message: messages[i%len(messages)]}
				if i%3 != 0 {
					st.Ticket = room.Ticket{Room: "vaccine", Phase: room.Phase(i % 2), Seq: pos}
				}
				if i%2 == 1 {
					st.ResumeAt = opens[(i+2)%len(opens)]
				}
				if state == room.StateAdmitted && i%2 == 0 {
					st.Pass, st.PassUntil = pass, opens[(i+1)%len(opens)].Add(time.Hour)
				}
				want, err := json.Marshal(referenceStatus(ticket, st))
				if err != nil {
					t.Fatal(err)
				}
				got := appendStatusJSON(nil, ticket, &st)
				if !bytes.Equal(got, want) {
					t.Errorf("%+v:\nhand-written %s\nencoding/json %s", st, got, want)
				}
				if !json.Valid(got) {
					t.Errorf("%+v: not valid JSON: %s", st, got)
				}
				n++
			}
		}
	}
	t.Logf("%d status documents compared", n)
}

// The hand-written document copies the ticket without escaping. The ticket
// comes from the client on a rejoin, so only a ticket that verified may
// reach it, and no string that needs escaping in JSON verifies.
func TestStatusJSONTicketNeedsNoEscaping(t *testing.T) {
	keys := room.GenerateKeyring("k1")
	tok := keys.IssueTicket(room.Ticket{Room: "vaccine", Phase: room.PhaseOpen, Seq: 7, Issued: time.Unix(1_700_000_000, 0)})
	if quoted, _ := json.Marshal(tok); string(quoted) != `"`+tok+`"` {
		t.Fatalf("a real ticket needs escaping: %s", quoted)
	}
	for _, bad := range []string{tok + `"`, tok + `\`, `"` + tok, tok[:10] + "\n" + tok[10:], tok[:10] + "\u2028" + tok[10:], tok + "<", tok + "\x00", strings.Replace(tok, tok[5:6], `"`, 1)} {
		if _, err := keys.VerifyTicket(bad, "vaccine"); err == nil {
			t.Errorf("a ticket that needs escaping in JSON verified: %q", bad)
		}
	}
}
