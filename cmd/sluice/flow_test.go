package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/sim"
)

const flowTestSecret = "flow-test-secret-0123456789abcdef-0123456789"

// startFlowTarget starts the server of --flow in the test, on a random
// port.
func startFlowTarget(t *testing.T) *app.App {
	t.Helper()
	at, _ := time.Parse(time.RFC3339, flowClockDefault)
	a, shutdown, err := startFlowServer("127.0.0.1:0", at, []byte(flowTestSecret))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(context.Background()) })
	return a
}

// The load generator's journeys against a real server: every booking it
// counts is found by the server's own look-up, under the person's name and
// RRN, and is still booked (a third of the people also change theirs).
func TestFlowJourneysBookForReal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs journeys against a server for a second")
	}
	a := startFlowTarget(t)
	var mu sync.Mutex
	booked := map[string]sim.Person{}
	stats, elapsed, err := sim.RunFlow(context.Background(), sim.FlowConfig{
		Targets: []string{a.URL()}, Connections: 4, Duration: time.Second,
		ChangeShare: 0.3, TestIdentitySecret: []byte(flowTestSecret), Seed: 7,
		Booked: func(p sim.Person, number string) {
			mu.Lock()
			defer mu.Unlock()
			booked[number] = p
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if stats.Flows == 0 || elapsed <= 0 || len(booked) < int(stats.Flows) {
		t.Fatalf("%d journeys in %v, %d bookings reported", stats.Flows, elapsed, len(booked))
	}
	if stats.Failed > 0 || len(stats.Errors) > 0 {
		t.Errorf("%d failed journeys, errors %v", stats.Failed, stats.Errors)
	}
	rrns := map[string]bool{}
	for number, p := range booked {
		b, err := a.Booking().Lookup(context.Background(), p.Name, p.RRN, number)
		if err != nil || b.Status != "booked" || b.BirthDate != p.BirthDate {
			t.Fatalf("booking %s of %s: %+v, %v", number, p.Name, b, err)
		}
		if rrns[p.RRN] {
			t.Fatalf("two bookings for one person (%s)", p.Name)
		}
		rrns[p.RRN] = true
	}
	st, err := a.Booking().Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	total := st.Booked
	if total < len(booked) {
		t.Errorf("the store holds %d bookings, the journeys confirmed %d", total, len(booked))
	}
}

// The command against a target: the JSON report has the documented keys.
func TestLoadtestFlowTarget(t *testing.T) {
	if testing.Short() {
		t.Skip("runs journeys against a server for a second")
	}
	a := startFlowTarget(t)
	t.Setenv("SLUICE_TEST_IDENTITY_SECRET", flowTestSecret)
	file := filepath.Join(t.TempDir(), "flow.json")
	ackedFile := filepath.Join(t.TempDir(), "acked.jsonl")
	out := runOK(t, "loadtest", "--flow", "--target", a.URL(), "--duration", "1s", "--warmup", "0s",
		"--connections", "4", "--json", file, "--retry-budget", "30s", "--acked", ackedFile)
	rep := readFlowJSON(t, file)
	if rep["retry_budget_seconds"] != 30.0 {
		t.Errorf("retry_budget_seconds = %v, want 30", rep["retry_budget_seconds"])
	}
	// --acked: one line per acknowledged form; every confirmed journey
	// booked once.
	b, err := os.ReadFile(ackedFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	booked := map[string]bool{}
	for _, line := range lines {
		var a sim.Acked
		if err := json.Unmarshal([]byte(line), &a); err != nil || a.Number == "" || a.RRN == "" {
			t.Fatalf("acked line %q: %+v %v", line, a, err)
		}
		if a.Kind == "book" {
			if booked[a.Number] || a.Clinic == 0 || a.Date == "" {
				t.Errorf("acked booking %+v: booked twice or without its slot", a)
			}
			booked[a.Number] = true
		}
	}
	if float64(len(lines)) != rep["acked"] || float64(len(booked)) < rep["flows"].(float64) {
		t.Errorf("%d acked lines (%d bookings); the report says %v acked and %v journeys", len(lines), len(booked), rep["acked"], rep["flows"])
	}
	if rep["server_cpu_ms_per_flow"] != nil {
		t.Errorf("server CPU %v for a server that is not a child", rep["server_cpu_ms_per_flow"])
	}
	if !strings.Contains(out, "server CPU:        unknown (the target is not a child of this run)") {
		t.Errorf("output does not say the server CPU is unknown:\n%s", out)
	}
}

// Without --target the command starts its own server and reads its CPU.
func TestLoadtestFlowChild(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and runs journeys for a second")
	}
	t.Setenv("SLUICE_LOADTEST_TEST_CHILD", "1")
	file := filepath.Join(t.TempDir(), "flow.json")
	out := runOK(t, "loadtest", "--flow", "--duration", "1s", "--warmup", "0s", "--connections", "4", "--json", file)
	rep := readFlowJSON(t, file)
	if cpu, ok := rep["server_cpu_ms_per_flow"].(float64); !ok || cpu <= 0 {
		t.Errorf("server_cpu_ms_per_flow = %v, want the child's CPU time", rep["server_cpu_ms_per_flow"])
	}
	for _, want := range []string{"complete journeys:", "| book |", "target P6"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// readFlowJSON checks the keys issue 10 names and returns the document.
func readFlowJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, k := range []string{"flows", "flows_per_second", "flows_per_hour", "errors", "steps", "server_cpu_ms_per_flow"} {
		if _, ok := rep[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, b)
		}
	}
	if f, _ := rep["flows"].(float64); f <= 0 {
		t.Errorf("flows = %v", rep["flows"])
	}
	if _, ok := rep["errors"].(map[string]any); !ok {
		t.Errorf("errors is not an object: %v", rep["errors"])
	}
	// Without a warm-up, every step of a counted journey was measured (the
	// pass is returned after the journey counts: it may fall after the end).
	steps, _ := rep["steps"].(map[string]any)
	for _, name := range []string{"eligibility", "join", "verify", "confirm", "search", "book", "lookup"} {
		s, _ := steps[name].(map[string]any)
		for _, k := range []string{"p50_ms", "p95_ms", "p99_ms"} {
			if _, ok := s[k].(float64); !ok {
				t.Errorf("steps.%s.%s missing: %v", name, k, steps[name])
			}
		}
	}
	return rep
}

// A server that neither returns codes nor shares the secret stops the run
// with a message saying what to do, instead of counting failures.
func TestFlowNeedsAVerificationCode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	a := startFlowTarget(t)
	_, _, err := sim.RunFlow(context.Background(), sim.FlowConfig{
		Targets: []string{a.URL()}, Connections: 2, Duration: 5 * time.Second,
	})
	if err == nil || !strings.Contains(err.Error(), "SLUICE_TEST_IDENTITY_SECRET") {
		t.Fatalf("err = %v, want one naming SLUICE_TEST_IDENTITY_SECRET", err)
	}
}

// The campaign lists each cohort's vaccines, which the journeys search for.
func TestCampaignListsCohortVaccines(t *testing.T) {
	a := startFlowTarget(t)
	resp, err := http.Get(a.URL() + "/api/v1/campaign")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var camp struct {
		Cohorts []struct {
			ID       string   `json:"id"`
			Vaccines []string `json:"vaccines"`
		} `json:"cohorts"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&camp); err != nil {
		t.Fatal(err)
	}
	for _, c := range camp.Cohorts {
		if c.ID == "53-54" && slices.Equal(c.Vaccines, []string{"moderna", "pfizer"}) {
			return
		}
	}
	t.Fatalf("cohort 53-54 does not list moderna, pfizer: %+v", camp.Cohorts)
}

// People who would have to wait past the end of the run are not replaced
// by new people joining (and dropping) over and over: the line of a real
// room is not flooded.
func TestFlowDoesNotFloodALongLine(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a demo server")
	}
	at, _ := time.Parse(time.RFC3339, flowClockDefault)
	// The demo's booking room admits 10 people a second; 300 simulated
	// people are ahead.
	a := apptest.Start(t, apptest.Config(), app.Options{Demo: true, DemoAt: at, Crowd: 300})
	const conns = 4
	stats, _, err := sim.RunFlow(context.Background(), sim.FlowConfig{
		Targets: []string{a.URL()}, Connections: conns, Duration: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := stats.Steps[sim.StepJoin].Count(); n == 0 || n > conns {
		t.Errorf("%d joins by %d people at a time in a line that does not move in time", n, conns)
	}
}

// A booking, change or cancel whose answer is lost (the connection closes
// after the server acted) is sent again with the same Idempotency-Key: the
// person gets what the first one did, never a second booking, and a
// cancel sent again is not refused as already cancelled. Every such form
// carries a key.
func TestFlowRetriesALostBookingWithTheSameKey(t *testing.T) {
	if testing.Short() {
		t.Skip("runs journeys against a server")
	}
	a := startFlowTarget(t)
	var mu sync.Mutex
	keys := map[string]int{} // Idempotency-Key -> booking requests seen
	lost := map[string]int{} // path -> answers lost
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		out, _ := http.NewRequest(r.Method, a.URL()+r.URL.RequestURI(), bytes.NewReader(body))
		out.Header = r.Header.Clone()
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		answer, _ := io.ReadAll(resp.Body)
		switch path := r.URL.Path; {
		case r.Method != "POST":
		case path == "/api/v1/bookings", path == "/api/v1/bookings/change", path == "/api/v1/bookings/cancel":
			mu.Lock()
			key := r.Header.Get("Idempotency-Key")
			if key == "" {
				t.Errorf("%s sent without an Idempotency-Key", path)
			}
			keys[key]++
			drop := keys[key] == 1 && lost[path] < 3 && resp.StatusCode < 300 // the first answers to three forms of each
			if drop {
				lost[path]++
			}
			mu.Unlock()
			if drop {
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				return
			}
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		w.Write(answer)
	}))
	defer proxy.Close()
	var booked []string
	stats, _, err := sim.RunFlow(context.Background(), sim.FlowConfig{
		Targets: []string{proxy.URL}, Connections: 2, Duration: 3 * time.Second,
		ChangeShare: 0.3, CancelShare: 0.3,
		TestIdentitySecret: []byte(flowTestSecret),
		Booked: func(p sim.Person, number string) {
			mu.Lock()
			defer mu.Unlock()
			booked = append(booked, number)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if lost["/api/v1/bookings"] < 3 || lost["/api/v1/bookings/cancel"] == 0 || lost["/api/v1/bookings/change"] == 0 {
		t.Fatalf("answers lost %v; the run was too short", lost)
	}
	retried, dropped := 0, 0
	for _, n := range keys {
		if n > 1 {
			retried++
		}
	}
	for _, n := range lost {
		dropped += n
	}
	if retried < dropped || stats.Errors["net"] < uint64(dropped) || stats.Failed > 0 || stats.Errors["cancelled"] > 0 {
		t.Errorf("%d lost answers, %d keys sent again, errors %v, %d failed journeys", dropped, retried, stats.Errors, stats.Failed)
	}
	st, err := a.Booking().Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	total := st.Booked
	// Journeys cut by the end of the run may have booked without counting,
	// but a lost answer must never add a booking of its own.
	if total > len(booked)+2 || len(booked) != int(stats.Flows) {
		t.Errorf("%d bookings in the store for %d confirmed journeys (+ at most 2 cut short)", total, len(booked))
	}
}
