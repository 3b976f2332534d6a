package rehearsal

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/sluicehq/sluice/booking"
	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/room"
)

// step is the resolution of the virtual clock: every event happens at a
// multiple of it.
const step = 100 * time.Millisecond

const stepsPerSecond = int(time.Second / step)

// A person's state.
const (
	stArriving    uint8 = iota // not arrived yet, or told to come back at opening
	stWaiting                  // holds at least one ticket
	stSession                  // admitted, booking
	stSessionLong              // admitted, will still be booking when the pass expires
	stBooked
	stGaveUp
	stTurnedAway // not eligible (told by the check or once admitted)
	stMissedTurn // came back after the claim timeout
	stExpired    // the pass expired while booking
	stNoSlot     // admitted and eligible, but no free slot was found
)

// Ticket flags.
const (
	tfPrequeue uint8 = 1 << iota
	tfRefresh        // the next poll is a page reload
	tfDropped        // the tab is closed: the ticket is never used again
	tfInverted       // counted as a FIFO inversion already
)

// eventPerson marks a person's event (arrival or end of booking) in the
// wheel; other entries are tickets' polls.
const eventPerson = 1 << 31

// Options of a run.
type Options struct {
	Arrivals int    // replaces the scenario's count when > 0
	Seed     uint64 // people's choices and the signing key
	// Progress, if set, is called about a hundred times with the virtual
	// steps done and their total.
	Progress func(done, total int)
}

type engine struct {
	sc   *Scenario
	seed uint64
	clk  *clock.Manual
	rm   *room.Room // the first node: its counters are the timeline's
	// nodes share the line (room.NewShared) when the scenario has several;
	// otherwise it is rm alone, with its own line (room.New).
	nodes []*room.Room
	bk    *booker
	be    *backend
	name  string

	t0       time.Time // virtual time of step 0
	openStep int
	steps    int
	now      int // current step
	tickEach int // steps per room tick
	passTTL  int // steps
	rate     float64
	capacity int

	// People: compact arrays indexed by person.
	arrive []int32 // step of arrival
	etaAt  []int32 // step at which the ETA was predicted (-1: none yet)
	eta    []int32 // the predicted wait, in seconds
	pstate []uint8
	pos    []uint32 // admitted place (for Leave)

	// Tickets: indexed by ticket.
	towner []uint32
	tseq   []uint32
	tflag  []uint8
	tseen  []uint32 // several nodes: the position the tab was last shown

	wheel [][]uint32 // per step: events
	spare [][]uint32 // emptied steps' arrays, for reuse

	// Counters.
	inSession      int
	waiting        int
	maxClaimedSeq  int64 // of tickets joined after opening; -1: none
	fifoInversions int
	overbooked     int
	tickets        int
	arrived        int
	claimedExpired int      // passes that expired while their holder booked
	frontDoor      []uint32 // requests per second
	statusPerSec   []uint32
	waitHist       hist
	etaErrHist     hist
	outcomes       [stNoSlot + 1]int
	timeline       []Minute
	minute         Minute
	lastAdmissions uint64
	lastWaiting    int // step at which somebody last waited, after opening
}

// Run plays the scenario and returns its result. The same scenario, options
// and seed give the same result, apart from WallSeconds.
func Run(sc *Scenario, opt Options) (*Result, error) {
	wallStart := time.Now()
	e, err := newEngine(sc, opt)
	if err != nil {
		return nil, err
	}
	if err := e.run(opt.Progress); err != nil {
		return nil, err
	}
	res := e.result()
	res.WallSeconds = math.Round(time.Since(wallStart).Seconds()*10) / 10
	return res, nil
}

func newEngine(sc *Scenario, opt Options) (*engine, error) {
	opens, err := sc.opensAt()
	if err != nil {
		return nil, err
	}
	n := sc.Arrivals.Count
	if opt.Arrivals > 0 {
		n = opt.Arrivals
	}
	lead := max(sc.Room.Prequeue.D(), sc.Arrivals.Early.D())
	e := &engine{sc: sc, seed: opt.Seed, name: "vaccine"}
	e.t0 = opens.Add(-lead)
	e.openStep = int(lead / step)
	e.steps = e.openStep + int(sc.Duration.D()/step)
	e.tickEach = int(sc.Tick.D() / step)
	e.clk = clock.NewManual(e.t0)
	var secret [32]byte
	for i := range 4 {
		v := mix(opt.Seed, uint64(i), 0x6b6579)
		for j := range 8 {
			secret[i*8+j] = byte(v >> (8 * j))
		}
	}
	keys, err := room.NewKeyring(room.Key{ID: "rehearsal", Secret: secret[:]})
	if err != nil {
		return nil, err
	}
	s := room.Settings{Name: e.name, OpensAt: opens, PrequeueAt: opens.Add(-sc.Room.Prequeue.D())}
	sc.Room.Apply(&s)
	if err := e.newNodes(s, keys); err != nil {
		return nil, fmt.Errorf("scenario %s: room: %w", sc.Name, err)
	}
	set := e.rm.Settings()
	e.passTTL = int(set.PassTTL / step)
	e.rate, e.capacity = set.Rate, set.Capacity
	e.be = newBackend(sc, set.Pacing)
	if set.Pacing.Auto() {
		// A tab's place can come up no sooner than at the highest rate the
		// pacer may choose.
		e.rate = max(e.rate, set.Pacing.MaxRate)
		for _, n := range e.nodes {
			n.SetLog(slog.New(slog.DiscardHandler))
			e.be.health = append(e.be.health, n.Health())
		}
	}
	if e.bk, err = newBooker(sc, e.seed); err != nil {
		return nil, err
	}
	e.arrive = make([]int32, n)
	e.etaAt = make([]int32, n)
	e.eta = make([]int32, n)
	e.pstate = make([]uint8, n)
	e.pos = make([]uint32, n)
	// Tickets: one per person who queues, a second for some.
	guess := int(float64(n) * (1 - sc.Ineligible.Share*sc.Ineligible.CheckFirst) * (1 + sc.Tabs.SecondTab))
	e.towner = make([]uint32, 0, guess)
	e.tseq = make([]uint32, 0, guess)
	e.tflag = make([]uint8, 0, guess)
	e.wheel = make([][]uint32, e.steps+1)
	secs := e.steps/stepsPerSecond + 1
	e.frontDoor = make([]uint32, secs)
	e.statusPerSec = make([]uint32, secs)
	e.maxClaimedSeq = -1
	return e, nil
}

// at returns the virtual time of a step.
func (e *engine) at(st int) time.Time { return e.t0.Add(time.Duration(st) * step) }

// schedule puts an event d after now (at least one step later).
func (e *engine) schedule(ev uint32, d time.Duration) {
	st := e.now + max(1, int((d+step-1)/step))
	if st > e.steps {
		return // after the end: the person is still where they are
	}
	w := e.wheel[st]
	if w == nil && len(e.spare) > 0 {
		w = e.spare[len(e.spare)-1]
		e.spare = e.spare[:len(e.spare)-1]
	}
	e.wheel[st] = append(w, ev)
}

func (e *engine) request(status bool) {
	s := e.now / stepsPerSecond
	e.frontDoor[s]++
	if status {
		e.statusPerSec[s]++
	}
}

func (e *engine) run(progress func(done, total int)) error {
	arr := newArrivals(e.sc, len(e.arrive), e.openStep, e.steps)
	next := uint32(0)
	every := max(1, e.steps/100)
	for e.now = 0; e.now <= e.steps; e.now++ {
		e.clk.Set(e.at(e.now))
		e.be.step(e.inSession)
		if e.now%e.tickEach == 0 || e.now == e.openStep {
			for _, n := range e.nodes {
				if err := n.Tick(); err != nil {
					return fmt.Errorf("room tick: %w", err)
				}
			}
		}
		for k := arr.upTo(e.now); next < k; next++ {
			e.arrive[next] = int32(e.now)
			e.arrived++
			e.minute.Arrivals++
			if err := e.arrival(next); err != nil {
				return err
			}
		}
		// Events added while the step runs (an immediate re-join) go to
		// later steps, so this loop ends.
		for i := 0; i < len(e.wheel[e.now]); i++ {
			ev := e.wheel[e.now][i]
			var err error
			if ev&eventPerson != 0 {
				err = e.personEvent(ev &^ eventPerson)
			} else {
				err = e.poll(ev)
			}
			if err != nil {
				return err
			}
		}
		if w := e.wheel[e.now]; cap(w) > 0 {
			e.spare = append(e.spare, w[:0])
		}
		e.wheel[e.now] = nil
		if e.waiting > 0 && e.now >= e.openStep {
			e.lastWaiting = e.now
		}
		atOpen := e.now == e.openStep && e.openStep > 0
		onMinute := e.now > e.openStep && (e.now-e.openStep)%(60*stepsPerSecond) == 0
		if atOpen || onMinute || e.now == e.steps && e.minute.fromSec < e.now/stepsPerSecond {
			e.closeMinute()
		}
		if progress != nil && e.now%every == 0 {
			progress(e.now, e.steps)
		}
	}
	e.overbooked = e.bk.overbooked(e.t0)
	if progress != nil {
		progress(e.steps, e.steps)
	}
	return nil
}

// arrival: a person arrives. Some who are not eligible ask first and are
// turned away; everyone else joins the line (some in two tabs).
func (e *engine) arrival(p uint32) error {
	if e.ineligible(p) && e.unit(p, 2) < e.sc.Ineligible.CheckFirst {
		e.request(false)
		if !e.bk.eligible(e.birth(p), e.clk.Now()) {
			e.pstate[p] = stTurnedAway
			return nil
		}
	}
	return e.join(p, true)
}

// join gives the person a ticket (and a second one for some, first time).
func (e *engine) join(p uint32, first bool) error {
	e.request(false)
	node := e.joinNode(p)
	_, st, err := node.Join()
	if errors.Is(err, room.ErrNotYetOpen) {
		// Told the booking room opens at 20:00: they come back then, within
		// half a minute.
		e.pstate[p] = stArriving
		wait := st.OpensAt.Sub(e.clk.Now()) + time.Duration(e.unit(p, 3)*30*float64(time.Second))
		e.schedule(eventPerson|p, wait)
		return nil
	}
	if errors.Is(err, room.ErrRoomClosed) {
		return nil // still waiting at the end
	}
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	if e.pstate[p] != stWaiting {
		e.pstate[p] = stWaiting
		e.etaAt[p] = -1
		e.waiting++
	}
	k := e.newTicket(p, st.Ticket)
	if err := e.handle(k, st); err != nil {
		return err
	}
	if first && e.unit(p, 4) < e.sc.Tabs.SecondTab && e.pstate[p] == stWaiting {
		e.request(false)
		_, st2, err := node.Join()
		if err != nil {
			return fmt.Errorf("join: %w", err)
		}
		return e.handle(e.newTicket(p, st2.Ticket), st2)
	}
	return nil
}

func (e *engine) newTicket(p uint32, t room.Ticket) uint32 {
	k := uint32(len(e.towner))
	var f uint8
	if t.Phase == room.PhasePrequeue {
		f = tfPrequeue
	}
	e.towner = append(e.towner, p)
	e.tseq = append(e.tseq, uint32(t.Seq))
	e.tflag = append(e.tflag, f)
	if len(e.nodes) > 1 {
		e.tseen = append(e.tseen, 0)
	}
	e.tickets++
	return k
}

func (e *engine) ticket(k uint32) room.Ticket {
	ph := room.PhaseOpen
	if e.tflag[k]&tfPrequeue != 0 {
		ph = room.PhasePrequeue
	}
	return room.Ticket{Room: e.name, Phase: ph, Seq: uint64(e.tseq[k]), Issued: e.at(int(e.arrive[e.towner[k]]))}
}

// poll: a tab asks for its status (or the page is reloaded).
func (e *engine) poll(k uint32) error {
	p := e.towner[k]
	if e.tflag[k]&tfDropped != 0 {
		return nil
	}
	if e.pstate[p] != stWaiting {
		e.tflag[k] |= tfDropped // the person got in with another tab, or left
		return nil
	}
	if e.tflag[k]&tfRefresh != 0 {
		e.tflag[k] &^= tfRefresh
		e.request(false) // the page itself
		if e.sc.Refresh.LosesPlace {
			e.tflag[k] |= tfDropped
			return e.join(p, false)
		}
	}
	e.request(true)
	st, err := e.status(k)
	if errors.Is(err, room.ErrTurnOver) {
		e.tflag[k] |= tfDropped
		e.finish(p, stMissedTurn)
		return nil
	}
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	return e.handle(k, st)
}

// handle acts on a status answer to ticket k.
func (e *engine) handle(k uint32, st room.Status) error {
	p := e.towner[k]
	if e.tseen != nil && st.Position > 0 {
		e.tseen[k] = uint32(st.Position)
	}
	switch st.State {
	case room.StateAdmitted:
		return e.claim(k, st)
	case room.StatePrequeue:
		e.again(k, st.PollAfter, 0)
	case room.StateWaiting, room.StatePaused:
		if st.Position > 1 {
			e.checkFIFO(k)
		}
		if e.etaAt[p] < 0 && st.ETA > 0 {
			e.etaAt[p], e.eta[p] = int32(e.now), int32(st.ETA/time.Second)
		}
		if st.ETA > 0 && e.waited(p)+st.ETA > e.patience(p) {
			e.tflag[k] |= tfDropped
			e.finish(p, stGaveUp)
			return nil
		}
		e.again(k, st.PollAfter, st.Ahead)
	case room.StateClosed:
		// Still waiting at the end.
	}
	return nil
}

// again schedules the tab's next poll after d. A page reload may come
// first. A tab so far back that its place cannot come up within several
// polls (the token bucket admits at most rate per second plus its size)
// is next simulated only when it may, and the polls in between are
// counted, not played: their answer cannot change.
func (e *engine) again(k uint32, d time.Duration, ahead uint64) {
	if every := e.sc.Refresh.Every.D(); every > 0 {
		r := time.Duration(-math.Log(1-e.unit2(uint64(k), uint64(e.now), 5)) * float64(every))
		if r < d {
			e.tflag[k] |= tfRefresh
			e.schedule(uint32(k), r)
			return
		}
	}
	if ahead > 0 && d > 0 {
		safe := (float64(ahead) - max(1, e.rate/10)) / e.rate / 2 // seconds
		n := min(int(safe/d.Seconds()), int(10*time.Minute/d))
		for j := 1; j < n; j++ {
			s := (e.now + int(time.Duration(j)*d/step)) / stepsPerSecond
			if s >= len(e.frontDoor) {
				break
			}
			e.frontDoor[s]++
			e.statusPerSec[s]++
		}
		if n > 1 {
			d *= time.Duration(n)
		}
	}
	e.schedule(uint32(k), d)
}

// checkFIFO counts a tab still waiting after a tab that joined later got
// its pass: among tabs that joined after opening, by join number, and any
// tab of the pre-queue (all joined before opening) against them. A tab
// told it is next (position 1) is not asked: that is also where the holder
// of a place reached while they were away waits to claim it (a late claim,
// room/late.go, or an uncertain place), their place having come in order.
func (e *engine) checkFIFO(k uint32) {
	if e.tflag[k]&tfInverted != 0 || e.maxClaimedSeq < 0 {
		return
	}
	if e.tflag[k]&tfPrequeue != 0 || int64(e.tseq[k]) < e.maxClaimedSeq {
		e.tflag[k] |= tfInverted
		e.fifoInversions++
	}
}

// claim: a tab got its pass; the person books.
func (e *engine) claim(k uint32, st room.Status) error {
	p := e.towner[k]
	pass, err := e.pollNode(k).VerifyPass(st.Pass)
	if err != nil {
		return fmt.Errorf("a pass just issued does not verify: %w", err)
	}
	if e.tflag[k]&tfPrequeue == 0 {
		e.maxClaimedSeq = max(e.maxClaimedSeq, int64(e.tseq[k]))
	}
	e.pos[p] = uint32(pass.Position)
	e.waiting--
	wait := e.waited(p)
	e.waitHist.add(wait)
	if e.etaAt[p] >= 0 {
		actual := time.Duration(e.now-int(e.etaAt[p])) * step
		e.etaErrHist.add((actual - time.Duration(e.eta[p])*time.Second).Abs())
	}
	var d time.Duration
	if e.bk.eligible(e.birth(p), e.clk.Now()) {
		lo, hi := e.sc.Booking.Min.D(), e.sc.Booking.Max.D()
		d = e.be.bookingTime(lo+time.Duration(e.unit(p, 6)*float64(hi-lo)), e.inSession+1)
	} else {
		d = e.sc.Booking.Ineligible.D()
	}
	e.inSession++
	e.pstate[p] = stSession
	if d >= time.Duration(e.passTTL)*step {
		e.pstate[p] = stSessionLong
		d = time.Duration(e.passTTL) * step
	}
	e.schedule(eventPerson|p, d)
	return nil
}

// personEvent: an arrival told to come back, or the end of a booking.
func (e *engine) personEvent(p uint32) error {
	switch e.pstate[p] {
	case stArriving:
		return e.join(p, true)
	case stSessionLong:
		e.inSession--
		e.claimedExpired++
		e.finish(p, stExpired)
		return nil
	case stSession:
		e.inSession--
		now := e.clk.Now()
		switch {
		case !e.bk.eligible(e.birth(p), now):
			e.finish(p, stTurnedAway)
		case e.bk.book(mix(e.seed, uint64(p), 7), now):
			e.finish(p, stBooked)
			e.minute.Bookings++
		default:
			e.finish(p, stNoSlot)
		}
		if err := e.joinNode(p).Leave(room.Pass{Room: e.name, Position: uint64(e.pos[p])}); err != nil {
			return fmt.Errorf("leave: %w", err)
		}
	}
	return nil
}

func (e *engine) finish(p uint32, s uint8) {
	if e.pstate[p] == stWaiting {
		e.waiting--
	}
	e.pstate[p] = s
}

// waited is how long the person has waited: since arrival, or since the
// opening for those who came before it.
func (e *engine) waited(p uint32) time.Duration {
	from := max(int(e.arrive[p]), e.openStep)
	return time.Duration(max(0, e.now-from)) * step
}

func (e *engine) patience(p uint32) time.Duration {
	return time.Duration(-math.Log(1-e.unit(p, 8)) * float64(e.sc.GiveUp.Patience.D()))
}

func (e *engine) ineligible(p uint32) bool { return e.unit(p, 1) < e.sc.Ineligible.Share }

func (e *engine) birth(p uint32) booking.Date {
	return e.bk.birth(mix(e.seed, uint64(p), 9), e.ineligible(p))
}

// unit is the person's uniform draw in [0, 1) for a purpose.
func (e *engine) unit(p uint32, purpose uint64) float64 {
	return float64(mix(e.seed, uint64(p), purpose)>>11) / (1 << 53)
}

func (e *engine) unit2(a, b, purpose uint64) float64 {
	return float64(mix(e.seed^b*0x9e3779b97f4a7c15, a, purpose)>>11) / (1 << 53)
}

// mix hashes its inputs (SplitMix64's finaliser over a combination).
func mix(seed, x, purpose uint64) uint64 {
	z := seed ^ x*0xbf58476d1ce4e5b9 ^ purpose*0x94d049bb133111eb
	z += 0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
