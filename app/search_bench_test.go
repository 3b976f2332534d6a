package app_test

import (
	"context"
	"fmt"
	"net"
	"sort"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testenv"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/sim"
	"github.com/sluicehq/sluice/web"
)

// TestClinicSearchThroughputRatio measures clinic search over HTTP (through
// the gate, from the in-memory index) against a bare net/http handler that
// returns a constant small JSON body, in the same process and the same run,
// interleaved round by round so machine noise hits both alike. It reports
// ratios and does not assert on them (the machines are noisy); the target
// (>= 0.5x) is checked by reading the output, recorded in docs/BENCHMARKS.md.
//
//	SLUICE_BENCH=1 go test -run TestClinicSearchThroughputRatio -v ./app/
func TestClinicSearchThroughputRatio(t *testing.T) {
	testenv.Bench(t)
	a := startDemo(t)
	st := waitAdmitted(t, a.URL(), "vaccine", join(t, a.URL(), "vaccine").Ticket)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bare := web.NewHTTPServer(sim.BaselineHandler())
	go bare.Serve(ln)
	defer bare.Close()

	host := a.Addr()
	pass := []string{room.PassHeader + ": " + st.Pass}
	scenarios := []struct {
		name string
		addr string
		req  sim.Request
	}{
		{"baseline", ln.Addr().String(), sim.BaselineRequest(ln.Addr().String())},
		{"search district (Gangnam-gu, 135 clinics)", host, sim.Request{Method: "GET", Host: host, Path: "/api/v1/clinics?district=11680&date=2021-07-26&limit=20", Header: pass}},
		{"search region (Gyeonggi-do, 3,428 clinics)", host, sim.Request{Method: "GET", Host: host, Path: "/api/v1/clinics?region=41&date=2021-07-26&vaccine=pfizer&limit=20", Header: pass}},
	}
	const rounds = 3
	d := 4 * time.Second
	rps := make([][]float64, len(scenarios))
	for r := 0; r < rounds; r++ {
		for i, sc := range scenarios {
			res, err := sim.Run(context.Background(), sim.Config{Addr: sc.addr, Request: sc.req, Connections: 32, Duration: d})
			if err != nil {
				t.Fatal(err)
			}
			if res.Errors() > 0 {
				t.Fatalf("%s: errors: %s", sc.name, res.StatusSummary())
			}
			rps[i] = append(rps[i], res.RPS())
		}
	}
	med := func(xs []float64) float64 {
		ys := append([]float64(nil), xs...)
		sort.Float64s(ys)
		return ys[len(ys)/2]
	}
	base := med(rps[0])
	for i, sc := range scenarios {
		t.Log(fmt.Sprintf("%-45s rounds %v  median %.0f req/s  ratio %.2fx", sc.name, roundAll(rps[i]), med(rps[i]), med(rps[i])/base))
	}
}

func roundAll(xs []float64) []int {
	out := make([]int, len(xs))
	for i, x := range xs {
		out[i] = int(x)
	}
	return out
}
