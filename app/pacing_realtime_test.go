package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/internal/pacereport"
	"github.com/sluicehq/sluice/web"
)

// TestPacingRealBackend runs the closed loop in real time: `sluice proxy`
// with auto pacing in front of a real HTTP backend whose capacity halves,
// recovers, fails for 10 s and recovers, with a crowd of people who each
// make 4 requests once admitted. It logs, per phase, how soon the p95
// people saw was back under the objective and how much of the backend's
// capacity was used (timed figures are logged, not asserted), and asserts
// that nobody lost their place and nothing reached the backend without a
// pass. It takes about 80 s: only with SLUICE_PACING_FULL=1.
func TestPacingRealBackend(t *testing.T) {
	if os.Getenv("SLUICE_PACING_FULL") != "1" {
		t.Skip("real-time pacing scenario: set SLUICE_PACING_FULL=1")
	}
	const (
		base     = 100 * time.Millisecond
		c        = 10
		target   = 800 * time.Millisecond
		requests = 4
		think    = 300 * time.Millisecond
		people   = 2500
	)
	phases := []pacereport.Phase{{At: 0, C: c}, {At: 20 * time.Second, C: c / 2}, {At: 40 * time.Second, C: 0}, {At: 50 * time.Second, C: c}}
	total := 70 * time.Second
	be := newBackend(t, base, c)
	cfg := apptest.Config()
	cfg.Limits = config.Limits{}
	cfg.Rooms = []config.RoomConfig{{Name: "shop", RoomTuning: config.RoomTuning{Capacity: new(100_000), Rate: new(5.0),
		Pacing: &config.PacingTuning{Mode: new("auto"), TargetP95: new(config.Duration(target)), MaxRate: new(200.0)}}}}
	a := apptest.Proxy(t, cfg, be.URL, app.Options{TickInterval: 50 * time.Millisecond})
	api := a.URL() + "/.sluice/api/v1/rooms/shop"
	tr := &http.Transport{MaxIdleConnsPerHost: people + 10}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	call := callWith(client)
	start := time.Now()
	var mu sync.Mutex
	stats := make([]pacereport.Second, int(total/time.Second)+2)
	record := func(code int, lat time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		s := &stats[min(int(time.Since(start)/time.Second), len(stats)-1)]
		switch {
		case code == http.StatusOK:
			s.OK++
			s.Latencies = append(s.Latencies, lat)
		case code == http.StatusServiceUnavailable && lat < 0:
			s.Busy++
		default:
			s.Failed++
		}
	}
	go func() {
		for _, ph := range phases {
			time.Sleep(time.Until(start.Add(ph.At)))
			be.failing.Store(ph.C == 0)
			if ph.C > 0 {
				be.c.Store(int64(ph.C))
			}
		}
	}()
	rm, _ := a.Rooms.Get("shop")
	go func() {
		for s := range stats {
			time.Sleep(time.Until(start.Add(time.Duration(s)*time.Second + 900*time.Millisecond)))
			mu.Lock()
			stats[s].Rate, stats[s].Limit = rm.Settings().Rate, rm.Health().Read().Limit
			if !be.failing.Load() {
				stats[s].C = int(be.c.Load())
			}
			mu.Unlock()
		}
	}()
	var lost atomic.Int64
	var wg sync.WaitGroup
	deadline := start.Add(total)
	for range people {
		wg.Go(func() {
			code, b, err := call("POST", api+"/tickets", "", "")
			if err != nil || code != http.StatusCreated {
				return
			}
			var st web.StatusDocument
			json.Unmarshal(b, &st)
			tok := st.Ticket
			for st.State != "admitted" {
				if time.Now().After(deadline) {
					return
				}
				time.Sleep(time.Duration(st.PollAfterMS) * time.Millisecond)
				code, b, err = call("GET", api+"/status?wait=10", tok, "")
				if code == http.StatusGone {
					lost.Add(1) // turn over while waiting: a lost place
					return
				}
				if err != nil || code != http.StatusOK {
					time.Sleep(time.Second)
					continue
				}
				st = web.StatusDocument{}
				json.Unmarshal(b, &st)
			}
			for left := requests; left > 0 && time.Now().Before(deadline); {
				t0 := time.Now()
				code, b, _ := call("GET", a.URL()+"/page", "", st.Pass)
				lat := time.Since(t0)
				if code == http.StatusServiceUnavailable && bytes.Contains(b, []byte(`"backend_busy"`)) {
					record(code, -1)
					time.Sleep(time.Second)
					continue
				}
				record(code, lat)
				if code != http.StatusOK {
					time.Sleep(time.Second)
					continue
				}
				left--
				time.Sleep(think)
			}
			call("POST", api+"/leave", st.Pass, "")
		})
	}
	wg.Wait()
	if n := be.noPass.Load(); n != 0 {
		t.Errorf("%d requests reached the backend without a pass", n)
	}
	if n := lost.Load(); n != 0 {
		t.Errorf("%d people in line lost their place", n)
	}
	for i, res := range pacereport.Judge(phases, total, base, target, stats) {
		t.Logf("phase %d %v", i, res)
	}
	if testing.Verbose() {
		for s, st := range stats {
			fmt.Printf("%3ds %v\n", s, st)
		}
	}
}
