package room

import "time"

// The sessions signal of the pacer. When the backend's load is sessions
// of minutes (a booking night), a rate set now shows in the latency only
// as the people it admits collect their passes and book, and it keeps
// adding sessions until as many end as start. Holding the rate when the
// p95 nears the objective then holds the admissions, not the sessions,
// which keep growing and take the latency over the objective minutes
// later. So with the p95 past paceHeadroom of the objective, a rate above
// (1+paceHoldSlack) times the rate at which the line's places end (left
// or expired), D, is cut to D: the sessions then stop growing where the
// latency says the backend is near its capacity. D is measured over
// paceEndWindow from the line's counters (the same on every node).
// paceHoldSlack keeps the rule out of a steady state whose admissions and
// ends differ only by noise (short sessions, P9).
const (
	paceHoldSlack  = 0.1
	paceEndWindow  = 10 * time.Second
	paceEndMinSpan = 2 * time.Second
)

type endSample struct {
	at    time.Time
	ended uint64
}

// departures records the line's count of ended places at now and returns
// the rate at which places ended over the last paceEndWindow (0 until
// paceEndMinSpan is covered), which it also keeps as p.endRate.
func (p *Pacer) departures(now time.Time, ended uint64) (rate float64) {
	defer func() { p.endRate = rate }()
	if n := len(p.ends); n > 0 && ended < p.ends[n-1].ended {
		p.ends = p.ends[:0] // another line (restored): start again
	}
	p.ends = append(p.ends, endSample{at: now, ended: ended})
	i := 0
	for i < len(p.ends)-1 && now.Sub(p.ends[i+1].at) >= paceEndWindow {
		i++
	}
	p.ends = p.ends[i:]
	first := p.ends[0]
	span := now.Sub(first.at)
	if span < paceEndMinSpan {
		return 0
	}
	return float64(ended-first.ended) / span.Seconds()
}
