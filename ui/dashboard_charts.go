// Operator dashboard: the history charts (SVG, drawn server-side;
// dashboard.js redraws them live).

package ui

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/room"
)

// dashSeries holds a room's history as parallel arrays, oldest first.
type dashSeries struct {
	Age        []float64 `json:"age_seconds"` // how long ago, in real seconds
	Waiting    []float64 `json:"waiting"`
	Active     []float64 `json:"active"`
	AdmitRate  []float64 `json:"admissions_per_second"`
	JoinRate   []float64 `json:"joins_per_second"`
	Bookings   []float64 `json:"bookings_per_minute,omitempty"`
	Rejections []float64 `json:"gate_rejections_total"`
	// Pacing, while the room's rate is chosen from the backend's health
	// (docs/PACING.md): measured p95, objective, chosen rate, and the
	// rate at which the line's places end (the sessions rule's signal).
	P95     []float64 `json:"p95_ms,omitempty"`
	Target  []float64 `json:"target_p95_ms,omitempty"`
	Rate    []float64 `json:"rate,omitempty"`
	EndRate []float64 `json:"end_rate,omitempty"`
}

type dashChart struct {
	Key, Label, ID string
	Line, Area     string // SVG points
	Now, Max       string
	// Overlays are more lines on the chart: on its scale (Shared) or on
	// one of their own.
	Overlays []dashOverlay
	// Note is a line of text under the chart's figures (the pacing
	// chart: which node chooses the rate).
	Note string
}

// dashOverlay is a line drawn over a chart: on the chart's scale
// (Shared), on one it shares with the other overlays of the same Scale,
// or on its own.
type dashOverlay struct {
	Key, Class, Label, Now string
	Shared                 bool
	Scale                  string
	Line                   string
}

func (d *Dashboard) series(samples []room.Sample) dashSeries {
	el := d.History.Elapsed()
	s := dashSeries{}
	hasBooking := false
	hasPacing := false
	for _, x := range samples {
		hasBooking = hasBooking || x.HasBooking
		hasPacing = hasPacing || x.PacingAuto
	}
	for _, x := range samples {
		s.Age = append(s.Age, math.Round((el - x.Elapsed).Seconds()))
		s.Waiting = append(s.Waiting, float64(x.Waiting))
		s.Active = append(s.Active, float64(x.Active))
		s.AdmitRate = append(s.AdmitRate, dashRound2(x.AdmitRate))
		s.JoinRate = append(s.JoinRate, dashRound2(x.JoinRate))
		s.Rejections = append(s.Rejections, float64(x.Rejections))
		if hasBooking {
			s.Bookings = append(s.Bookings, dashRound2(x.BookingRate))
		}
		if hasPacing {
			s.P95 = append(s.P95, math.Round(x.P95Ms))
			s.Target = append(s.Target, math.Round(x.TargetP95Ms))
			s.Rate = append(s.Rate, dashRound2(x.Rate))
			s.EndRate = append(s.EndRate, dashRound2(x.EndRate))
		}
	}
	return s
}

func dashRound2(v float64) float64 { return math.Round(v*100) / 100 }

// chartWindow is the span the charts show, in seconds: the history's whole
// window once it is full, less while the server is young (so that the first
// minutes are not a sliver at the right edge).
func (d *Dashboard) chartWindow() int {
	full := int(d.History.Window() / time.Second)
	var oldest time.Duration
	el := d.History.Elapsed()
	for _, rm := range d.Rooms.Rooms() {
		if s := d.History.Series(rm.Name()); len(s) > 0 {
			oldest = max(oldest, el-s[0].Elapsed)
		}
	}
	for _, w := range []int{300, 600, 1200, 1800} {
		if w < full && oldest <= time.Duration(w)*time.Second {
			return w
		}
	}
	return full
}

// dashMinutes formats seconds as minutes: "60′", "2.5′", "45″".
func dashMinutes(sec int) string {
	if sec < 60 {
		return strconv.Itoa(sec) + "″"
	}
	return strconv.FormatFloat(float64(sec)/60, 'f', -1, 64) + "′"
}

// dashChartDefs are the charts of a room: key (as in dashSeries' JSON),
// catalogue label, whether a rate (decimals).
var dashChartDefs = []struct {
	key, label string
	rate       bool
	pick       func(s *dashSeries) []float64
}{
	{"waiting", "dash.chart_waiting", false, func(s *dashSeries) []float64 { return s.Waiting }},
	{"active", "dash.chart_active", false, func(s *dashSeries) []float64 { return s.Active }},
	{"admissions_per_second", "dash.chart_admit", true, func(s *dashSeries) []float64 { return s.AdmitRate }},
	{"joins_per_second", "dash.chart_joins", true, func(s *dashSeries) []float64 { return s.JoinRate }},
	{"bookings_per_minute", "dash.chart_bookings", true, func(s *dashSeries) []float64 { return s.Bookings }},
	{"p95_ms", "dash.chart_pacing", false, func(s *dashSeries) []float64 { return s.P95 }},
}

func (d *Dashboard) charts(lang Lang, roomName string, v dashRoom, window float64) []dashChart {
	var out []dashChart
	for _, def := range dashChartDefs {
		vals := def.pick(&v.Series)
		if def.key == "bookings_per_minute" && !v.HasBooking || def.key == "p95_ms" && len(vals) == 0 {
			continue
		}
		line, area, top := dashChartPoints(v.Series.Age, vals, window)
		ch := dashChart{Key: def.key, Label: lang.T(def.label), ID: roomName + "." + def.key, Line: line, Area: area}
		if def.key == "p95_ms" {
			// Measured p95 and the objective on one scale; the chosen
			// rate and the rate sessions end on another, so that the
			// two compare.
			top = max(top, slices.Max(v.Series.Target))
			line, area, _ = dashChartPointsTo(v.Series.Age, vals, window, top)
			ch.Line, ch.Area = line, area
			target, _, _ := dashChartPointsTo(v.Series.Age, v.Series.Target, window, top)
			perSecond := max(slices.Max(v.Series.Rate), slices.Max(v.Series.EndRate))
			rate, _, _ := dashChartPointsTo(v.Series.Age, v.Series.Rate, window, perSecond)
			ends, _, _ := dashChartPointsTo(v.Series.Age, v.Series.EndRate, window, perSecond)
			newest := len(vals) - 1
			ch.Overlays = []dashOverlay{
				{Key: "target_p95_ms", Class: "objective", Label: lang.T("dash.chart_objective"), Shared: true, Line: target,
					Now: lang.Round(v.Series.Target[newest])},
				{Key: "rate", Class: "rate", Label: lang.T("dash.chart_rate"), Scale: "per_second", Line: rate,
					Now: lang.Decimal(v.Series.Rate[newest])},
				{Key: "end_rate", Class: "ends", Label: lang.T("dash.chart_end_rate"), Scale: "per_second", Line: ends,
					Now: lang.Decimal(v.Series.EndRate[newest])},
			}
			ch.Note = paceLeaderText(lang, v)
		}
		last := 0.0
		if len(vals) > 0 {
			last = vals[len(vals)-1]
		}
		if def.rate {
			ch.Now, ch.Max = lang.Decimal(last), lang.Decimal(top)
		} else {
			ch.Now, ch.Max = lang.Round(last), lang.Round(top)
		}
		out = append(out, ch)
	}
	return out
}

// chartPoints maps a series to SVG points in a dashChartWidth ×
// dashChartHeight box: x by age (right edge = now, left = window ago), y
// scaled to the series' maximum. dashboard.js does the same computation.
func dashChartPoints(age, vals []float64, window float64) (line, area string, top float64) {
	top = 0
	for _, v := range vals {
		top = max(top, v)
	}
	return dashChartPointsTo(age, vals, window, top)
}

// dashChartPointsTo is dashChartPoints with the top of the scale given.
func dashChartPointsTo(age, vals []float64, window, top float64) (line, area string, _ float64) {
	scale := max(top, 1)
	var b strings.Builder
	firstX, lastX := -1.0, 0.0
	for i, v := range vals {
		x := float64(dashChartWidth) * (1 - age[i]/window)
		if x < 0 {
			continue
		}
		y := float64(dashChartHeight) - v/scale*float64(dashChartHeight-4) - 2
		if firstX < 0 {
			firstX = x
		}
		lastX = x
		fmt.Fprintf(&b, "%.1f,%.1f ", x, y)
	}
	line = strings.TrimSpace(b.String())
	if line != "" {
		area = fmt.Sprintf("%.1f,%d %s %.1f,%d", firstX, dashChartHeight, line, lastX, dashChartHeight)
	}
	return line, area, top
}

// paceLeaderText says which node chooses the room's rate, as this node
// knows it: itself or another (nodes are not named), of how many; none
// while the room does not pace or before its first pacing step (no nodes:
// room.Room.PaceNodes).
func paceLeaderText(lang Lang, v dashRoom) string {
	switch {
	case v.PacingNodes == 0:
		return lang.T("dash.pace_leader_none")
	case v.PacingLeader:
		return lang.T("dash.pace_leader_here", lang.Num(int64(v.PacingNodes)))
	}
	return lang.T("dash.pace_leader_other", lang.Num(int64(v.PacingNodes)))
}
