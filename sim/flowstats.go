package sim

import (
	"math"
	"sort"
	"time"
)

// Step is one request of a citizen's journey, in the order people take
// them (status, change and cancel only for some).
type Step int

// The steps of a journey.
const (
	StepEligibility Step = iota // GET /api/v1/eligibility
	StepJoin                    // POST /api/v1/rooms/{room}/tickets
	StepStatus                  // GET /api/v1/rooms/{room}/status, as told by poll_after_ms
	StepVerify                  // POST /api/v1/identity/verifications
	StepConfirm                 // POST /api/v1/identity/verifications/{id}/confirm
	StepSearch                  // GET /api/v1/clinics?district=&date=
	StepBook                    // POST /api/v1/bookings (first and second dose)
	StepLookup                  // POST /api/v1/bookings/lookup
	StepChange                  // POST /api/v1/bookings/change
	StepCancel                  // POST /api/v1/bookings/cancel
	StepLeave                   // POST /api/v1/rooms/{room}/leave (return the pass)
	numSteps
)

var stepNames = [numSteps]string{"eligibility", "join", "status", "verify", "confirm",
	"search", "book", "lookup", "change", "cancel", "leave"}

func (s Step) String() string {
	if s < 0 || s >= numSteps {
		return "setup"
	}
	return stepNames[s]
}

// FlowStats is what journeys measured: latency per step and per whole
// journey, journeys completed and failed, and error answers by problem
// code. Each worker keeps its own (no locks on the request path); Merge
// adds them up.
type FlowStats struct {
	Steps   [numSteps]Histogram
	Journey Histogram // from the eligibility check to the confirmed look-up
	// Flows counts journeys whose booking was confirmed and found again
	// by a look-up; Failed, journeys that ended without one.
	Flows, Failed uint64
	// Errors counts answers that were not what the step wanted, by
	// problem code ("slot_full", ...), or "http_NNN" for an answer without
	// one, "net" for a connection that failed and "timeout" for an answer
	// that did not come in time. An answer retried successfully counts too.
	Errors map[string]uint64
	// FailedBy counts failed journeys by the code of the answer that
	// ended them ("over_budget": still failing when the retry budget ran
	// out, FlowConfig.RetryBudget).
	FailedBy map[string]uint64
}

// Merge adds o to s.
func (s *FlowStats) Merge(o *FlowStats) {
	for i := range s.Steps {
		s.Steps[i].Merge(&o.Steps[i])
	}
	s.Journey.Merge(&o.Journey)
	s.Flows += o.Flows
	s.Failed += o.Failed
	for code, n := range o.Errors {
		s.addError(code, n)
	}
	for code, n := range o.FailedBy {
		s.addFailure(code, n)
	}
}

func (s *FlowStats) addFailure(code string, n uint64) {
	if s.FailedBy == nil {
		s.FailedBy = map[string]uint64{}
	}
	s.FailedBy[code] += n
}

func (s *FlowStats) addError(code string, n uint64) {
	if s.Errors == nil {
		s.Errors = map[string]uint64{}
	}
	s.Errors[code] += n
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50_ms"`
	P95   float64 `json:"p95_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func latencyOf(h *Histogram) Latency {
	ms := func(d time.Duration) float64 { return math.Round(float64(d)/1e3) / 1e3 } // to the microsecond
	return Latency{Count: h.Count(), P50: ms(h.Quantile(0.5)), P95: ms(h.Quantile(0.95)),
		P99: ms(h.Quantile(0.99)), Max: ms(h.Max())}
}

// FlowReport is the outcome of a run, as `sluice loadtest --flow --json`
// writes it.
type FlowReport struct {
	Flows          uint64  `json:"flows"`
	FailedFlows    uint64  `json:"failed_flows"`
	Seconds        float64 `json:"seconds"`
	FlowsPerSecond float64 `json:"flows_per_second"`
	FlowsPerHour   float64 `json:"flows_per_hour"`
	// ErrorRate is failed journeys over journeys that ended (completed or
	// failed); journeys cut short by the end of the run are neither.
	ErrorRate float64 `json:"error_rate"`
	// ErrorsPerFlow is error answers (Errors, retried ones included) per
	// completed journey.
	ErrorsPerFlow float64           `json:"errors_per_flow"`
	Errors        map[string]uint64 `json:"errors"`
	// FailedBy is the failed journeys by the code that ended them.
	FailedBy map[string]uint64 `json:"failed_by,omitempty"`
	// Steps has one entry per step that was taken at least once.
	Steps   map[string]Latency `json:"steps"`
	Journey Latency            `json:"journey"`
	// ServerCPUMsPerFlow is the server processes' CPU time (user+system)
	// per completed journey; nil (null) when it cannot be read, e.g. for a
	// server that is not a child of the load generator.
	ServerCPUMsPerFlow *float64 `json:"server_cpu_ms_per_flow"`
	// ClientCPUMsPerFlow is the load generator's own CPU time per journey
	// (it shares the machine with the server).
	ClientCPUMsPerFlow *float64 `json:"client_cpu_ms_per_flow,omitempty"`
}

// Report computes the figures of a run whose measured window lasted
// elapsed.
func (s *FlowStats) Report(elapsed time.Duration) FlowReport {
	r := FlowReport{
		Flows: s.Flows, FailedFlows: s.Failed, Seconds: round3(elapsed.Seconds()),
		Errors: map[string]uint64{}, Steps: map[string]Latency{}, Journey: latencyOf(&s.Journey),
	}
	if elapsed > 0 {
		r.FlowsPerSecond = round3(float64(s.Flows) / elapsed.Seconds())
		r.FlowsPerHour = math.Round(float64(s.Flows) / elapsed.Hours())
	}
	if ended := s.Flows + s.Failed; ended > 0 {
		r.ErrorRate = round6(float64(s.Failed) / float64(ended))
	}
	var answers uint64
	for code, n := range s.Errors {
		r.Errors[code] = n
		answers += n
	}
	if s.Flows > 0 {
		r.ErrorsPerFlow = round6(float64(answers) / float64(s.Flows))
	}
	for code, n := range s.FailedBy {
		if r.FailedBy == nil {
			r.FailedBy = map[string]uint64{}
		}
		r.FailedBy[code] = n
	}
	for i := range s.Steps {
		if s.Steps[i].Count() > 0 {
			r.Steps[Step(i).String()] = latencyOf(&s.Steps[i])
		}
	}
	return r
}

// PerFlowMs divides a CPU time over the report's journeys, in ms (nil
// without journeys).
func (r *FlowReport) PerFlowMs(cpu time.Duration) *float64 {
	if r.Flows == 0 {
		return nil
	}
	v := round3(float64(cpu) / 1e6 / float64(r.Flows))
	return &v
}

// ErrorCodes lists the error codes, most frequent first.
func (r *FlowReport) ErrorCodes() []string {
	codes := make([]string, 0, len(r.Errors))
	for c := range r.Errors {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		if r.Errors[codes[i]] != r.Errors[codes[j]] {
			return r.Errors[codes[i]] > r.Errors[codes[j]]
		}
		return codes[i] < codes[j]
	})
	return codes
}

// StepNames lists the steps in journey order.
func StepNames() []string { return append([]string(nil), stepNames[:]...) }

func round3(v float64) float64 { return math.Round(v*1e3) / 1e3 }
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
