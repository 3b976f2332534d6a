package sim

import (
	"errors"
	"net"
	"os"
	"slices"
	"testing"
	"time"
)

func TestFlowReport(t *testing.T) {
	ms := time.Millisecond
	stats := func(flows, failed uint64, errs map[string]uint64, lat map[Step][]time.Duration) *FlowStats {
		s := &FlowStats{Flows: flows, Failed: failed}
		for code, n := range errs {
			s.addError(code, n)
		}
		for step, ds := range lat {
			for _, d := range ds {
				s.Steps[step].Record(d)
			}
		}
		return s
	}
	for _, c := range []struct {
		name      string
		s         *FlowStats
		elapsed   time.Duration
		perSecond float64
		perHour   float64
		errorRate float64
		perFlow   float64
		steps     []string
	}{
		{name: "nothing", s: &FlowStats{}, elapsed: time.Second},
		{name: "no time", s: stats(10, 0, nil, nil), elapsed: 0},
		{name: "600 in 30 s", s: stats(600, 0, nil, nil), elapsed: 30 * time.Second, perSecond: 20, perHour: 72_000},
		{name: "2M per hour", s: stats(16_667, 0, nil, nil), elapsed: 30 * time.Second,
			perSecond: 555.567, perHour: 2_000_040},
		{name: "failures and retried errors", s: stats(990, 10, map[string]uint64{"slot_full": 40, "net": 9}, nil),
			elapsed: 10 * time.Second, perSecond: 99, perHour: 356_400, errorRate: 0.01, perFlow: 49.0 / 990},
		{name: "only failures", s: stats(0, 5, map[string]uint64{"internal": 5}, nil), elapsed: time.Second, errorRate: 1},
		{name: "steps taken", s: stats(1, 0, nil, map[Step][]time.Duration{StepBook: {2 * ms}, StepJoin: {ms}}),
			elapsed: time.Second, perSecond: 1, perHour: 3600, steps: []string{"book", "join"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := c.s.Report(c.elapsed)
			if r.FlowsPerSecond != c.perSecond || r.FlowsPerHour != c.perHour {
				t.Errorf("%v/s %v/h, want %v/s %v/h", r.FlowsPerSecond, r.FlowsPerHour, c.perSecond, c.perHour)
			}
			if r.ErrorRate != c.errorRate || r.ErrorsPerFlow != round6(c.perFlow) {
				t.Errorf("error rate %v, errors per flow %v; want %v, %v", r.ErrorRate, r.ErrorsPerFlow, c.errorRate, round6(c.perFlow))
			}
			var steps []string
			for name := range r.Steps {
				steps = append(steps, name)
			}
			slices.Sort(steps)
			if !slices.Equal(steps, c.steps) {
				t.Errorf("steps %v, want %v", steps, c.steps)
			}
			if r.Errors == nil || r.Steps == nil {
				t.Error("errors and steps must be objects, even empty")
			}
		})
	}
}

func TestLatencyPercentiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i) * time.Millisecond)
	}
	l := latencyOf(&h)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"p50", l.P50, 500}, {"p95", l.P95, 950}, {"p99", l.P99, 990}, {"max", l.Max, 1000},
	} {
		// The histogram's buckets are within 1.6%.
		if c.got < c.want*0.984 || c.got > c.want*1.016 {
			t.Errorf("%s = %v ms, want %v ms within 1.6%%", c.name, c.got, c.want)
		}
	}
	if l.Count != 1000 {
		t.Errorf("count %d", l.Count)
	}
}

func TestFlowStatsMerge(t *testing.T) {
	a := &FlowStats{Flows: 3, Failed: 1}
	a.addError("slot_full", 2)
	a.Steps[StepBook].Record(time.Millisecond)
	b := &FlowStats{Flows: 4}
	b.addError("slot_full", 1)
	b.addError("net", 1)
	b.Steps[StepBook].Record(time.Millisecond)
	b.Journey.Record(time.Second)
	a.Merge(b)
	if a.Flows != 7 || a.Failed != 1 || a.Errors["slot_full"] != 3 || a.Errors["net"] != 1 ||
		a.Steps[StepBook].Count() != 2 || a.Journey.Count() != 1 {
		t.Errorf("merged %+v", a)
	}
	r := a.Report(time.Second)
	if got := r.ErrorCodes(); !slices.Equal(got, []string{"slot_full", "net"}) {
		t.Errorf("error codes by count: %v", got)
	}
}

func TestPerFlowMs(t *testing.T) {
	r := FlowReport{Flows: 1000}
	if v := r.PerFlowMs(1500 * time.Millisecond); v == nil || *v != 1.5 {
		t.Errorf("PerFlowMs = %v, want 1.5", v)
	}
	r.Flows = 0
	if v := r.PerFlowMs(time.Second); v != nil {
		t.Errorf("PerFlowMs without journeys = %v, want nil", *v)
	}
}

func TestErrorClasses(t *testing.T) {
	answer := func(code string) error { return &answerError{step: StepBook, status: 409, code: code} }
	timeout := &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}
	for _, c := range []struct {
		err        error
		code       string
		lost, busy bool
	}{
		{nil, "", false, false},
		{answer("slot_full"), "slot_full", false, false},
		{answer("http_502"), "http_502", true, false},
		{answer("internal"), "internal", true, false},
		{answer("unavailable"), "unavailable", true, true},
		{answer("rate_limited"), "rate_limited", false, true},
		{answer("overloaded"), "overloaded", false, true},
		{timeout, "timeout", true, false},
		{errors.New("connection reset"), "net", true, false},
		{errRunOver, "run_over", false, false},
		// The gate's 503 when it cannot check a pass: come back later.
		{&answerError{step: StepSearch, status: 503, code: "pass_internal"}, "pass_internal", false, true},
		{&overBudget{answer("unavailable")}, "over_budget", false, false}, // not retried again
	} {
		if got := codeOf(c.err); got != c.code {
			t.Errorf("codeOf(%v) = %q, want %q", c.err, got, c.code)
		}
		if lostAnswer(c.err) != c.lost || busy(c.err) != c.busy {
			t.Errorf("%v: lost %v busy %v, want %v %v", c.err, lostAnswer(c.err), busy(c.err), c.lost, c.busy)
		}
	}
}

func TestProblemCode(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		want   string
	}{
		{409, `{"type":"x","status":409,"code":"slot_full"}`, "slot_full"},
		{502, `<html>bad gateway</html>`, "http_502"},
		{500, ``, "http_500"},
		{400, `{"code":""}`, "http_400"},
	} {
		if got := problemCode(c.status, []byte(c.body)); got != c.want {
			t.Errorf("problemCode(%d, %q) = %q, want %q", c.status, c.body, got, c.want)
		}
	}
}
