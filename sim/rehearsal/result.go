package rehearsal

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"text/tabwriter"
	"time"
)

// Minute is one minute of the timeline, counted from the opening (minute
// 0 is the pre-queue before it). Rates are per second, averaged over the
// minute; gauges are as at its end.
type Minute struct {
	Minute         int     `json:"minute"`
	Arrivals       int     `json:"arrivals"`
	Waiting        int     `json:"waiting"`
	ActiveSessions int     `json:"active_sessions"`
	AdmissionsPS   float64 `json:"admissions_per_second"`
	StatusPS       float64 `json:"status_requests_per_second"`
	FrontDoorPS    float64 `json:"front_door_requests_per_second"`
	BookingsPS     float64 `json:"bookings_per_second"`
	FreeSlots      int     `json:"free_slots"`
	// The modelled backend over the minute: its worst p95 and share of
	// failed requests, and the most people booking at once; the room's
	// admission rate (the pacer's choice when auto) at the minute's end.
	BackendP95Ms     float64 `json:"backend_p95_ms"`
	BackendErrorRate float64 `json:"backend_error_rate"`
	PeakSessions     int     `json:"peak_sessions"`
	RateLimit        float64 `json:"admission_rate_limit"`
	Bookings         int     `json:"-"`
	fromSec          int
}

// Result of a rehearsal. The JSON keys named in issue 10 are kept as
// written there.
type Result struct {
	Scenario       string  `json:"scenario"`
	Seed           uint64  `json:"seed"`
	Arrivals       int     `json:"arrivals"`
	People         int     `json:"people"`
	Tickets        int     `json:"tickets"`
	Booked         int     `json:"booked"`
	GaveUp         int     `json:"gave_up"`
	TurnedAway     int     `json:"turned_away"`
	StillWaiting   int     `json:"still_waiting"`
	MissedTurn     int     `json:"missed_turn"`
	SessionExpired int     `json:"session_expired"`
	NoSlot         int     `json:"no_slot"`
	StillBooking   int     `json:"still_booking"`
	WaitP50        float64 `json:"wait_p50_s"`
	WaitP99        float64 `json:"wait_p99_s"`
	ETAErrorP50    float64 `json:"eta_error_p50_s"`
	ETAErrorP90    float64 `json:"eta_error_p90_s"`
	FIFOInversions int     `json:"fifo_inversions"`
	// FIFOOvertakenMax: the most people who joined after someone (after
	// opening) and got a place ahead of them; FIFOBound: the documented
	// bound (room.LeaseBlock-1 per other node; 0 on one node).
	FIFOOvertakenMax int `json:"fifo_overtaken_max"`
	FIFOBound        int `json:"fifo_bound"`
	Nodes            int `json:"nodes"`
	// Pacing is the room's pacing ("fixed" or "auto"); PaceChanges the
	// pacer's changes of rate over all nodes.
	Pacing      string `json:"pacing"`
	PaceChanges uint64 `json:"pace_changes"`
	// The modelled backend: seconds over the pacing objective (p95 above
	// target_p95 or errors above max_error_rate), its worst p95, and the
	// most people booking at once.
	BackendOverloadS float64 `json:"backend_overload_s"`
	BackendP95MaxMs  float64 `json:"backend_p95_max_ms"`
	PeakSessions     int     `json:"peak_sessions"`
	// LineClearedS: seconds after opening until nobody waited any more (the
	// whole night if somebody still waits at the end).
	LineClearedS      float64  `json:"line_cleared_s"`
	Overbooked        int      `json:"overbooked"`
	WastedAdmissions  uint64   `json:"wasted_admissions"`
	Admissions        uint64   `json:"admissions"`
	PeakFrontDoorRPS  int      `json:"peak_front_door_rps"`
	PeakStatusRPS     int      `json:"peak_status_rps"`
	FrontDoorRequests uint64   `json:"front_door_requests"`
	WallSeconds       float64  `json:"wall_seconds"`
	Timeline          []Minute `json:"timeline"`
}

// hist counts durations by whole second (the last bucket takes the rest).
type hist struct {
	n      uint64
	counts []uint32
}

const histSeconds = 24 * 3600

func (h *hist) add(d time.Duration) {
	if h.counts == nil {
		h.counts = make([]uint32, histSeconds+1)
	}
	h.counts[min(max(0, int(d/time.Second)), histSeconds)]++
	h.n++
}

// quantile is the smallest whole second at or below which a share q of the
// values lie (0 when empty).
func (h *hist) quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	want := uint64(math.Ceil(q * float64(h.n)))
	var seen uint64
	for s, c := range h.counts {
		seen += uint64(c)
		if seen >= max(want, 1) {
			return float64(s)
		}
	}
	return histSeconds
}

// closeMinute ends the timeline's current minute.
func (e *engine) closeMinute() {
	m := &e.minute
	m.Minute = (e.now - e.openStep + 60*stepsPerSecond - 1) / (60 * stepsPerSecond)
	c := e.rm.Counters()
	m.Waiting = e.waiting
	m.ActiveSessions = c.Active
	sec := e.now / stepsPerSecond
	secs := float64(max(1, sec-m.fromSec))
	m.AdmissionsPS = round1(float64(c.Admissions-e.lastAdmissions) / secs)
	e.lastAdmissions = c.Admissions
	var fd, st uint64
	for s := m.fromSec; s < sec && s < len(e.frontDoor); s++ {
		fd += uint64(e.frontDoor[s])
		st += uint64(e.statusPerSec[s])
	}
	m.FrontDoorPS, m.StatusPS = round1(float64(fd)/secs), round1(float64(st)/secs)
	m.BookingsPS = round1(float64(m.Bookings) / secs)
	m.FreeSlots = e.bk.freeSlots(e.clk.Now())
	m.BackendP95Ms, m.BackendErrorRate, m.PeakSessions = e.be.closeMinute()
	m.RateLimit = c.Settings.Rate
	e.timeline = append(e.timeline, *m)
	e.minute = Minute{fromSec: sec}
}

func round1(x float64) float64 { return math.Round(x*10) / 10 }

func (e *engine) result() *Result {
	c := e.rm.Counters()
	r := &Result{Scenario: e.sc.Name, Seed: e.seed, Arrivals: e.arrived, People: e.arrived, Tickets: e.tickets,
		FIFOInversions: e.fifoInversions, Overbooked: e.overbooked, Admissions: c.Admissions,
		Timeline: e.timeline, FIFOOvertakenMax: e.fifoOvertaken(), FIFOBound: e.fifoBound(), Nodes: len(e.nodes),
		Pacing: c.Settings.Pacing.Mode, BackendOverloadS: float64(e.be.overloadSteps) / float64(stepsPerSecond),
		BackendP95MaxMs: float64(e.be.maxP95.Milliseconds()), PeakSessions: e.be.peakSessions}
	for _, n := range e.nodes {
		r.PaceChanges += n.PaceChanges()
	}
	r.LineClearedS = float64(e.steps-e.openStep) / float64(stepsPerSecond)
	if e.waiting == 0 {
		r.LineClearedS = float64(max(0, e.lastWaiting+1-e.openStep)) / float64(stepsPerSecond)
	}
	for p := range e.arrived {
		switch e.pstate[p] {
		case stWaiting, stArriving:
			r.StillWaiting++
		case stSession, stSessionLong:
			r.StillBooking++
		case stBooked:
			r.Booked++
		case stGaveUp:
			r.GaveUp++
		case stTurnedAway:
			r.TurnedAway++
		case stMissedTurn:
			r.MissedTurn++
		case stExpired:
			r.SessionExpired++
		case stNoSlot:
			r.NoSlot++
		}
	}
	r.WaitP50, r.WaitP99 = e.waitHist.quantile(0.5), e.waitHist.quantile(0.99)
	r.ETAErrorP50, r.ETAErrorP90 = e.etaErrHist.quantile(0.5), e.etaErrHist.quantile(0.9)
	// Every admission either was claimed (a session) or expired unclaimed;
	// the sessions are the claims counted here.
	claimed := uint64(e.waitHist.n)
	r.WastedAdmissions = c.Admissions - min(c.Admissions, claimed)
	for s, n := range e.frontDoor {
		r.FrontDoorRequests += uint64(n)
		r.PeakFrontDoorRPS = max(r.PeakFrontDoorRPS, int(n))
		r.PeakStatusRPS = max(r.PeakStatusRPS, int(e.statusPerSec[s]))
	}
	return r
}

// WriteJSON writes the result to a file.
func (r *Result) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// PrintSummary writes the outcomes and a short timeline as a table.
func (r *Result) PrintSummary(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	pct := func(n int) string { return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(max(1, r.People))) }
	fmt.Fprintf(w, "scenario %s, seed %d: %d arrivals, %d tickets, %.1f s wall\n\n", r.Scenario, r.Seed, r.Arrivals, r.Tickets, r.WallSeconds)
	rows := [][2]string{
		{"booked", fmt.Sprintf("%d\t%s", r.Booked, pct(r.Booked))},
		{"gave up", fmt.Sprintf("%d\t%s", r.GaveUp, pct(r.GaveUp))},
		{"turned away (ineligible)", fmt.Sprintf("%d\t%s", r.TurnedAway, pct(r.TurnedAway))},
		{"still waiting at the end", fmt.Sprintf("%d\t%s", r.StillWaiting, pct(r.StillWaiting))},
		{"still booking at the end", fmt.Sprintf("%d\t%s", r.StillBooking, pct(r.StillBooking))},
		{"missed their turn", fmt.Sprintf("%d\t%s", r.MissedTurn, pct(r.MissedTurn))},
		{"pass expired while booking", fmt.Sprintf("%d\t%s", r.SessionExpired, pct(r.SessionExpired))},
		{"no free slot found", fmt.Sprintf("%d\t%s", r.NoSlot, pct(r.NoSlot))},
		{"wait p50 / p99", fmt.Sprintf("%s\t%s", secs(r.WaitP50), secs(r.WaitP99))},
		{"ETA error p50 / p90", fmt.Sprintf("%s\t%s", secs(r.ETAErrorP50), secs(r.ETAErrorP90))},
		{"FIFO inversions", fmt.Sprintf("%d\t", r.FIFOInversions)},
		{"nodes; most overtaken / bound", fmt.Sprintf("%d\t%d / %d", r.Nodes, r.FIFOOvertakenMax, r.FIFOBound)},
		{"pacing; rate changes", fmt.Sprintf("%s\t%d", r.Pacing, r.PaceChanges)},
		{"backend over objective; worst p95", fmt.Sprintf("%s\t%.0f ms", secs(r.BackendOverloadS), r.BackendP95MaxMs)},
		{"peak booking at once; line cleared after", fmt.Sprintf("%d\t%s", r.PeakSessions, secs(r.LineClearedS))},
		{"overbooked slots", fmt.Sprintf("%d\t", r.Overbooked)},
		{"admissions / never claimed", fmt.Sprintf("%d\t%d", r.Admissions, r.WastedAdmissions)},
		{"peak front door / status req/s", fmt.Sprintf("%d\t%d", r.PeakFrontDoorRPS, r.PeakStatusRPS)},
	}
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\t\n", row[0], row[1])
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "minute\tarrivals\twaiting\tsessions\tadmit/s\trate\tp95 ms\tstatus/s\tbook/s\tfree slots\t")
	for i, m := range r.Timeline {
		if i > 10 && i%10 != 0 && i != len(r.Timeline)-1 {
			continue
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%d\t\n", m.Minute, m.Arrivals, m.Waiting, m.ActiveSessions,
			m.AdmissionsPS, m.RateLimit, m.BackendP95Ms, m.StatusPS, m.BookingsPS, m.FreeSlots)
	}
	tw.Flush()
}

func secs(s float64) string { return (time.Duration(s) * time.Second).String() }
