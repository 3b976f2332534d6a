package room

import (
	"errors"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
)

// sharedNode is one node of a room on a shared line, with its own records
// (its state directory).
func sharedNode(t *testing.T, sh Shared, clk clock.Clock, keys *Keyring, records Persister) *Room {
	t.Helper()
	r, err := NewShared(Settings{Name: "vaccine", Capacity: 2, Rate: 100, ClaimTimeout: time.Minute, PassTTL: 10 * time.Minute}, keys, clk, sh, records)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// statuses is every ticket's status on r, failing on ErrTurnOver (a valid
// ticket must never be told its turn is over because the line was lost).
func statuses(t *testing.T, r *Room, tickets []Ticket) []Status {
	t.Helper()
	var out []Status
	for i, tk := range tickets {
		st, err := r.Status(tk)
		if errors.Is(err, ErrTurnOver) {
			t.Fatalf("ticket %d told its turn is over", i)
		}
		out = append(out, st)
	}
	return out
}

// TestNodesRestartedWhileLineLost: Redis loses the line and every node is
// restarted one at a time before it could notice: each node's records
// (state directory) bring the line back, nobody's position goes up, and
// no place is given twice.
func TestNodesRestartedWhileLineLost(t *testing.T) {
	sh := NewMemShared()
	clk := clock.NewManual(t0)
	keys := testKeyring(t, "k1", 1)
	recA, recB := newMemStore(), newMemStore()
	a, b := sharedNode(t, sh, clk, keys, recA), sharedNode(t, sh, clk, keys, recB)
	var tickets []Ticket
	for i := range 12 {
		tickets = append(tickets, joinTickets(t, []*Room{a, b}[i%2], 1)...)
	}
	a.Tick()
	b.Tick()
	before := statuses(t, b, tickets)
	sh.Forget("vaccine")
	// Node A is restarted first (its view is gone), then node B.
	a = sharedNode(t, sh, clk, keys, recA)
	b = sharedNode(t, sh, clk, keys, recB)
	for _, r := range []*Room{a, b} {
		if err := r.Problem(); err != nil {
			t.Fatalf("a node restarted with its records: %v", err)
		}
	}
	after := statuses(t, a, tickets)
	for i := range tickets {
		if before[i].State == StateWaiting && after[i].State == StateWaiting && after[i].Position > before[i].Position {
			t.Errorf("ticket %d: position %d before the loss, %d after", i, before[i].Position, after[i].Position)
		}
	}
	clk.Advance(RestoreHold)
	more := joinTickets(t, b, 5)
	requireOnePlaceEach(t, a, append(tickets, more...))
}

// TestNodeRefusesAnotherLine: a node restarted without records while the
// line was lost starts a new one; a node still running on the old line
// does not answer from its view (which would tell the new tickets and its
// own waiting ones that their turn is over): it answers ErrPersist (503)
// and reports the room. If nobody joined the new line yet, the node that
// knows the old one brings it back instead.
func TestNodeRefusesAnotherLine(t *testing.T) {
	for _, joinNew := range []bool{true, false} {
		sh := NewMemShared()
		clk := clock.NewManual(t0)
		keys := testKeyring(t, "k1", 1)
		old := sharedNode(t, sh, clk, keys, nil)
		tickets := joinTickets(t, old, 12)
		old.Tick()
		sh.Forget("vaccine")
		fresh := sharedNode(t, sh, clk, keys, nil) // no records: a new line
		var newTickets []Ticket
		if joinNew {
			newTickets = joinTickets(t, fresh, 12)
		}
		for i, tk := range append(tickets, newTickets...) {
			if st, err := old.Status(tk); !errors.Is(err, ErrPersist) {
				t.Fatalf("joinNew=%v: the node on the old line, ticket %d: %+v %v, want ErrPersist", joinNew, i, st, err)
			}
		}
		err := old.Tick()
		if joinNew {
			if !errors.Is(err, ErrLineReset) || !errors.Is(old.Problem(), ErrLineReset) {
				t.Errorf("the node on the old line after its tick: %v, problem %v; want ErrLineReset", err, old.Problem())
			}
			continue
		}
		if err != nil || old.Problem() != nil {
			t.Fatalf("the node on the old line could not bring it back over an empty new one: %v, %v", err, old.Problem())
		}
		// The node that started the empty line takes the old one.
		if st := statuses(t, fresh, tickets); st[11].State != StateWaiting || fresh.Problem() != nil {
			t.Errorf("the other node after the old line came back: %+v, %v", st[11], fresh.Problem())
		}
	}
}
