package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/clock"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/internal/every"
	"github.com/sluicehq/sluice/internal/randid"
	"github.com/sluicehq/sluice/internal/seal"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/sim"
	"github.com/sluicehq/sluice/sim/rehearsal"
)

// maxRealArrivals bounds --real: every arrival is a goroutine with
// connections to a server on this machine.
const maxRealArrivals = 50_000

// runSimReal plays the scenario for real: a Sluice server in this process
// (embedded store, the scenario's room settings, open at once) and one
// client per arrival, arriving when the rehearsal has them arrive, over
// HTTP through the published waiting-room API: join, ask for the status
// as poll_after_ms says, collect the pass, hold it for the booking time
// the scenario draws, return it. It then prints the real timeline beside
// the rehearsal's. What is compared is the room under real load (line,
// sessions, admissions, status requests, waits); the clients do not book
// (sluice loadtest --flow measures whole journeys).
func runSimReal(stdout, stderr io.Writer, getenv func(string) string, sc *rehearsal.Scenario, res *rehearsal.Result, seed uint64) error {
	if res.Arrivals > maxRealArrivals {
		return fmt.Errorf("%d arrivals: --real plays at most %d (use --arrivals or the real-check scenario)", res.Arrivals, maxRealArrivals)
	}
	if sc.Room.Prequeue > 0 || sc.Arrivals.BeforeOpening > 0 || sc.Ineligible.Share > 0 || sc.Tabs.SecondTab > 0 || sc.Refresh.Every > 0 {
		return fmt.Errorf("scenario %s: --real plays scenarios without pre-queue, ineligible people, second tabs or reloads (like real-check)", sc.Name)
	}
	opens, err := time.Parse(time.RFC3339, sc.Room.OpensAt)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "sluice-simreal-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	const roomName = "rehearsal"
	cfg := config.Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.LogLevel = "warn"
	cfg.Keys = room.GenerateKeyring("real")
	tuning := sc.Room.RoomTuning
	tuning.Pacing = nil // the real run checks the model at a fixed rate: the scenario's
	cfg.Rooms = []config.RoomConfig{{Name: roomName, RoomTuning: tuning}}
	cfg.Booking = config.Booking{Campaign: sc.Campaign.ID, Database: filepath.Join(dir, "sluice.db"), Room: roomName}
	cfg.PersonKeySecret = []byte(randid.New(32))
	cfg.SessionKeys = seal.Generate("real")
	a, err := app.New(cfg, app.Options{Clock: clock.NewSettable(opens)})
	if err != nil {
		return err
	}
	if err := a.Start(); err != nil {
		return err
	}
	defer a.Shutdown(context.Background())
	fmt.Fprintf(stderr, "real run: %d clients against %s for %s\n", res.Arrivals, a.URL(), sc.Duration.D())

	rr := newRealRun(a.URL()+"/api/v1/rooms/"+roomName, sc, seed)
	rr.run(sc.ArrivalOffsets(res.Arrivals), stderr)
	rr.print(stdout, res)
	return nil
}

type realRun struct {
	base   string
	sc     *rehearsal.Scenario
	seed   uint64
	client *http.Client
	start  time.Time
	secs   int
	// Per second since the opening.
	arrivals, admissions, status []atomic.Uint32
	joined, admitted, left       atomic.Int64
	missed, errs                 atomic.Int64
	mu                           sync.Mutex
	waits                        []float64
	// Gauges at each minute's end.
	waiting, sessions []int64
}

func newRealRun(base string, sc *rehearsal.Scenario, seed uint64) *realRun {
	secs := int(sc.Duration.D()/time.Second) + 1
	tr := &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}
	return &realRun{base: base, sc: sc, seed: seed, secs: secs,
		client:   &http.Client{Transport: tr, Timeout: 30 * time.Second},
		arrivals: make([]atomic.Uint32, secs), admissions: make([]atomic.Uint32, secs), status: make([]atomic.Uint32, secs)}
}

func (rr *realRun) sec() int {
	return min(max(0, int(time.Since(rr.start)/time.Second)), rr.secs-1)
}

func (rr *realRun) run(offsets []time.Duration, stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), rr.sc.Duration.D())
	defer cancel()
	rr.start = time.Now()
	var wg sync.WaitGroup
	gauges := make(chan struct{})
	go func() { // gauges at each minute's end
		defer close(gauges)
		every.Interval(ctx, time.Minute, func() {
			adm := rr.admitted.Load()
			rr.waiting = append(rr.waiting, rr.joined.Load()-adm-rr.missed.Load())
			rr.sessions = append(rr.sessions, adm-rr.left.Load())
			fmt.Fprintf(stderr, "real run: minute %d, %d joined, %d admitted, %d left\n", len(rr.waiting), rr.joined.Load(), adm, rr.left.Load())
		})
	}()
	for i, off := range offsets {
		if d := time.Until(rr.start.Add(off)); d > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(d):
			}
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr.person(ctx, uint64(i))
		}()
	}
	<-ctx.Done()
	wg.Wait()
	<-gauges
	// The last minute's gauges, if the ticker lost the race with the end.
	if want := int(rr.sc.Duration.D() / time.Minute); len(rr.waiting) < want {
		adm := rr.admitted.Load()
		rr.waiting = append(rr.waiting, rr.joined.Load()-adm-rr.missed.Load())
		rr.sessions = append(rr.sessions, adm-rr.left.Load())
	}
}

type realAnswer struct {
	Ticket      string `json:"ticket"`
	State       string `json:"state"`
	PollAfterMS int64  `json:"poll_after_ms"`
	Pass        string `json:"pass"`
}

// person is one arrival's waiting-room journey.
func (rr *realRun) person(ctx context.Context, i uint64) {
	rng := rand.New(rand.NewPCG(rr.seed, i))
	arrived := time.Now()
	rr.arrivals[rr.sec()].Add(1)
	var ans realAnswer
	for {
		code, err := rr.call(ctx, http.MethodPost, "/tickets", "", &ans)
		if ctx.Err() != nil {
			return
		}
		if err == nil && code == http.StatusCreated {
			break
		}
		rr.errs.Add(1)
		if !sim.Sleep(ctx, time.Second) {
			return
		}
	}
	rr.joined.Add(1)
	ticket := ans.Ticket
	for ans.State != string(room.StateAdmitted) {
		if !sim.Sleep(ctx, time.Duration(max(ans.PollAfterMS, 100))*time.Millisecond) {
			return
		}
		rr.status[rr.sec()].Add(1)
		code, err := rr.call(ctx, http.MethodGet, "/status", ticket, &ans)
		if ctx.Err() != nil {
			return
		}
		switch {
		case code == http.StatusGone:
			rr.missed.Add(1)
			return
		case err != nil || code != http.StatusOK:
			rr.errs.Add(1)
			ans = realAnswer{State: string(room.StateWaiting), PollAfterMS: 1000}
		}
	}
	rr.admitted.Add(1)
	rr.admissions[rr.sec()].Add(1)
	rr.mu.Lock()
	rr.waits = append(rr.waits, time.Since(arrived).Seconds())
	rr.mu.Unlock()
	lo, hi := rr.sc.Booking.Min.D(), rr.sc.Booking.Max.D()
	sim.Sleep(ctx, lo+time.Duration(rng.Float64()*float64(hi-lo)))
	rr.call(context.Background(), http.MethodPost, "/leave", ans.Pass, nil)
	rr.left.Add(1)
}

func (rr *realRun) call(ctx context.Context, method, path, bearer string, out *realAnswer) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, rr.base+path, nil)
	if err != nil {
		return 0, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := rr.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, err
		}
	} else {
		io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode, nil
}

// print writes the two timelines side by side, minute by minute after the
// opening, and how far apart they are.
func (rr *realRun) print(w io.Writer, res *rehearsal.Result) {
	perMin := func(c []atomic.Uint32, m int) float64 {
		var n uint32
		for s := (m - 1) * 60; s < m*60 && s < len(c); s++ {
			n += c[s].Load()
		}
		return float64(n) / 60
	}
	sim := map[int]rehearsal.Minute{}
	for _, m := range res.Timeline {
		sim[m.Minute] = m
	}
	var dAdm, sAdm, dWait, sWait, dSt, sSt float64
	fmt.Fprintln(w, "\nsimulated vs real, minute by minute after the opening:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "minute\tadmit/s sim\treal\twaiting sim\treal\tsessions sim\treal\tstatus/s sim\treal\t")
	for m := 1; m <= len(rr.waiting); m++ {
		s := sim[m]
		ra, rs := perMin(rr.admissions, m), perMin(rr.status, m)
		fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%.0f\t%.0f\t\n", m, s.AdmissionsPS, ra, s.Waiting, rr.waiting[m-1],
			s.ActiveSessions, rr.sessions[m-1], s.StatusPS, rs)
		dAdm += math.Abs(s.AdmissionsPS - ra)
		sAdm += ra
		dWait += math.Abs(float64(s.Waiting - int(rr.waiting[m-1])))
		sWait += float64(rr.waiting[m-1])
		dSt += math.Abs(s.StatusPS - rs)
		sSt += rs
	}
	tw.Flush()
	slices.Sort(rr.waits)
	q := func(p float64) float64 {
		if len(rr.waits) == 0 {
			return 0
		}
		return math.Round(rr.waits[min(len(rr.waits)-1, int(p*float64(len(rr.waits))))])
	}
	rel := func(d, s float64) string {
		if s == 0 {
			return "n/a"
		}
		return fmt.Sprintf("%.1f%%", 100*d/s)
	}
	fmt.Fprintf(w, "\nadmitted: sim %d, real %d; wait p50 sim %.0f s, real %.0f s; p99 sim %.0f s, real %.0f s; real errors %d, turns missed %d\n",
		res.Admissions-res.WastedAdmissions, rr.admitted.Load(), res.WaitP50, q(0.5), res.WaitP99, q(0.99), rr.errs.Load(), rr.missed.Load())
	fmt.Fprintf(w, "difference (sum of |sim - real| over sum of real, per minute): admissions/s %s, waiting %s, status/s %s\n",
		rel(dAdm, sAdm), rel(dWait, sWait), rel(dSt, sSt))
}
