package sim

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/room"
)

// Crowd is a line of simulated people in one room, for demos: they join
// through Room.Join like anyone else, and from then on behave like real
// clients. Each keeps only its own ticket (client memory, here a slice in
// the simulator), asks for its status when the server's poll_after says so
// (people far back rarely, people near the front often), collects its pass
// when admitted, stays a random while (MinStay..MaxStay) and leaves
// (Room.Leave), which frees the place for the next person. The room holds
// nothing for a simulated person that it would not hold for a real one: no
// state while waiting, one active session while inside.
//
// The crowd calls the room in process (no HTTP), from one goroutine.
type Crowd struct {
	Room *room.Room
	// Clock is the room's clock, used to read pass expiry times (default:
	// the system clock). Sleeping always uses real timers.
	Clock clock.Clock
	// MinStay and MaxStay bound how long an admitted person stays before
	// leaving (defaults 5s and 40s).
	MinStay, MaxStay time.Duration
	// Retry is the wait after an error or a refused join (default 5s).
	Retry time.Duration
	Log   *slog.Logger

	mu      sync.Mutex
	queue   crowdHeap
	pending int // people still to join (the room refused them so far)
	wake    chan struct{}

	joined, admitted, left, missed, polls atomic.Uint64
	inside                                atomic.Int64
}

// CrowdStats counts what the crowd did.
type CrowdStats struct {
	Joined   uint64 `json:"joined"`   // people who got a ticket
	Pending  int    `json:"pending"`  // still to join (room not taking people yet)
	Waiting  int    `json:"waiting"`  // in line
	Inside   int    `json:"inside"`   // admitted, not yet left
	Admitted uint64 `json:"admitted"` // collected a pass
	Left     uint64 `json:"left"`     // left (or whose pass ran out)
	Missed   uint64 `json:"missed"`   // whose turn passed (ErrTurnOver)
	Polls    uint64 `json:"polls"`    // status requests made
}

// person is what one simulated client remembers: its ticket, or once
// admitted its pass, and when to act next.
type person struct {
	tok    string
	inside bool
	due    time.Time // real time
}

type crowdHeap []person

func (h crowdHeap) Len() int           { return len(h) }
func (h crowdHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h crowdHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *crowdHeap) Push(x any)        { *h = append(*h, x.(person)) }
func (h *crowdHeap) Pop() any {
	old := *h
	p := old[len(old)-1]
	*h = old[:len(old)-1]
	return p
}

func (c *Crowd) init() {
	if c.wake == nil {
		c.wake = make(chan struct{}, 1)
	}
	if c.Clock == nil {
		c.Clock = clock.System{}
	}
	if c.MinStay <= 0 {
		c.MinStay = 5 * time.Second
	}
	if c.MaxStay < c.MinStay {
		c.MaxStay = max(c.MinStay, 40*time.Second)
	}
	if c.Retry <= 0 {
		c.Retry = 5 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
}

// Join puts n more people in line now, in order. If the room refuses (not
// open yet, closed, cannot persist), the rest are kept pending and Run
// tries again every Retry. It returns how many joined now.
func (c *Crowd) Join(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.init()
	c.pending += n
	return c.joinPendingLocked()
}

func (c *Crowd) joinPendingLocked() int {
	joined := 0
	for c.pending > 0 {
		tok, st, err := c.Room.Join()
		if tok == "" { // refused: no ticket
			c.Log.Debug("crowd: room refused a join; will retry", "room", c.Room.Name(), "err", err, "pending", c.pending)
			break
		}
		c.pending--
		joined++
		c.joined.Add(1)
		p := person{tok: tok}
		if c.handleStatus(&p, st, err, time.Now()) {
			heap.Push(&c.queue, p)
		}
	}
	if joined > 0 {
		c.poke()
	}
	return joined
}

func (c *Crowd) poke() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// handleStatus updates p after a status (or join) reply and reports whether
// p stays in the crowd.
func (c *Crowd) handleStatus(p *person, st room.Status, err error, now time.Time) bool {
	switch {
	case errors.Is(err, room.ErrTurnOver):
		c.missed.Add(1)
		return false
	case err != nil:
		p.due = now.Add(c.Retry)
		return true
	case st.State == room.StateAdmitted:
		// Collect the pass, stay a while (not past the pass's expiry), leave.
		p.tok, p.inside = st.Pass, true
		c.admitted.Add(1)
		c.inside.Add(1)
		stay := c.MinStay + rand.N(c.MaxStay-c.MinStay+1)
		if !st.PassUntil.IsZero() {
			stay = max(min(stay, st.PassUntil.Sub(c.Clock.Now())), 0)
		}
		p.due = now.Add(stay)
		return true
	}
	wait := st.PollAfter
	if wait <= 0 {
		wait = time.Second
	}
	p.due = now.Add(wait)
	return true
}

// act does what p is due to do: ask for its status, or leave.
func (c *Crowd) act(p *person, now time.Time) bool {
	if p.inside {
		c.inside.Add(-1)
		c.left.Add(1)
		if pass, err := c.Room.VerifyPass(p.tok); err == nil {
			_ = c.Room.Leave(pass) // on failure the session ends at expiry
		} // else the session already ended (expired): nothing to return
		return false
	}
	c.polls.Add(1)
	t, err := c.Room.VerifyTicket(p.tok)
	if err != nil { // cannot happen with a ticket of this room; drop it
		c.Log.Warn("crowd: ticket does not verify", "room", c.Room.Name(), "err", err)
		return false
	}
	st, err := c.Room.Status(t)
	return c.handleStatus(p, st, err, now)
}

// Run moves the crowd until ctx ends or everyone has left.
func (c *Crowd) Run(ctx context.Context) {
	c.mu.Lock()
	c.init()
	c.mu.Unlock()
	timer := time.NewTimer(0)
	defer timer.Stop()
	const slack = 5 * time.Millisecond // act on what is due this soon, in one pass
	lastJoinTry := time.Now()
	for {
		now := time.Now()
		c.mu.Lock()
		if c.pending > 0 && now.Sub(lastJoinTry) >= c.Retry {
			lastJoinTry = now
			c.joinPendingLocked()
		}
		for len(c.queue) > 0 && !c.queue[0].due.After(now.Add(slack)) {
			if ctx.Err() != nil {
				break
			}
			p := heap.Pop(&c.queue).(person)
			if c.act(&p, now) {
				heap.Push(&c.queue, p)
			}
		}
		next := time.Hour
		if len(c.queue) > 0 {
			next = c.queue[0].due.Sub(now)
		}
		if c.pending > 0 {
			next = min(next, c.Retry)
		}
		empty := len(c.queue) == 0 && c.pending == 0
		c.mu.Unlock()
		if empty && c.joined.Load() > 0 {
			return // everyone has been through
		}
		timer.Reset(max(next, time.Millisecond))
		select {
		case <-ctx.Done():
			return
		case <-c.wake:
		case <-timer.C:
		}
	}
}

// Stats returns the crowd's counts.
func (c *Crowd) Stats() CrowdStats {
	c.mu.Lock()
	n, pending := len(c.queue), c.pending
	c.mu.Unlock()
	inside := int(c.inside.Load())
	return CrowdStats{
		Joined: c.joined.Load(), Pending: pending, Waiting: n - inside, Inside: inside,
		Admitted: c.admitted.Load(), Left: c.left.Load(), Missed: c.missed.Load(), Polls: c.polls.Load(),
	}
}
