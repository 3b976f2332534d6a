package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSimulate(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "night.json")
	out := runOK(t, "simulate", "--scenario", "real-check", "--arrivals", "2000", "--seed", "3", "--json", js, "--report", filepath.Join(dir, "night"))
	for _, want := range []string{"scenario real-check, seed 3: 2000 arrivals", "FIFO inversions", "minute"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var res struct {
		Arrivals, Booked, Overbooked int
		Timeline                     []json.RawMessage
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Arrivals != 2000 || res.Booked == 0 || res.Overbooked != 0 || len(res.Timeline) == 0 {
		t.Errorf("JSON: %+v", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "night", "index.html")); err != nil {
		t.Error(err)
	}
}

// TestSimulateCompareRates plays a small night with auto pacing and at
// two fixed rates and checks the table and the JSON of the runs.
func TestSimulateCompareRates(t *testing.T) {
	js := filepath.Join(t.TempDir(), "runs.json")
	out := runOK(t, "simulate", "--scenario", "real-check", "--arrivals", "2000", "--compare-rates", "20,50", "--json", js)
	for _, want := range []string{"pacing", "auto", "from 100", "over objective"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var runs []struct {
		Pacing string
		Rate   float64
		Result struct{ Arrivals int }
	}
	if err := json.Unmarshal(b, &runs); err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].Pacing != "auto" || runs[1].Rate != 20 || runs[2].Result.Arrivals != 2000 {
		t.Errorf("JSON runs: %+v", runs)
	}
}

func TestSimulateFlags(t *testing.T) {
	for _, args := range [][]string{
		{"simulate", "--arrivals", "-1"},
		{"simulate", "--scenario", "no-such-night"},
		{"simulate", "extra"},
		{"simulate", "--compare-rates", "100,fast"},
		{"simulate", "--compare-rates", "0"},
		{"simulate", "--compare-rates", "100", "--real"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr, os.Getenv); code != 2 {
			t.Errorf("%q: exit %d, want 2 (%s)", args, code, stderr.String())
		}
	}
}

// TestSimulateReal plays a one-minute night for real against a server in
// the process and checks that both timelines are printed.
func TestSimulateReal(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of real time")
	}
	b, err := os.ReadFile("../../sim/rehearsal/scenarios/real-check.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc := strings.NewReplacer("count: 20000", "count: 300", "duration: 5m", "duration: 1m").Replace(string(b))
	file := filepath.Join(t.TempDir(), "tiny.yaml")
	if err := os.WriteFile(file, []byte(sc), 0o644); err != nil {
		t.Fatal(err)
	}
	out := runOK(t, "simulate", "--scenario", file, "--real")
	for _, want := range []string{"simulated vs real", "admitted: sim", "difference"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
