package web

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/room"
)

// discardWriter is the cheapest ResponseWriter: the benchmarks below
// measure the handlers' own cost, not net/http's (sluice loadtest --compare
// measures the whole server against a bare net/http handler).
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) Header() http.Header  { return w.h }
func (w *discardWriter) WriteHeader(code int) { w.code = code }
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = 200
	}
	w.n += len(b)
	return len(b), nil
}

func (w *discardWriter) reset() {
	clear(w.h)
	w.code, w.n = 0, 0
}

func benchServer(b *testing.B) (*Server, http.Handler) {
	s := testServer(b, room.GenerateKeyring("bench"), nil, room.Settings{Name: "bench", Capacity: 1, Rate: 1})
	s.Limiter = NewLimiter(DefaultLimits())
	return s, s.Handler()
}

func benchRequest(method, path, auth string) *http.Request {
	r, _ := http.NewRequest(method, "http://127.0.0.1:8080"+path, nil)
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("User-Agent", "sluice-sim")
	if auth != "" {
		r.Header.Set("Authorization", "Bearer "+auth)
	}
	return r
}

func runHandlerBench(b *testing.B, h http.Handler, r *http.Request, want int) {
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
		if w.code != want {
			b.Fatalf("status %d, want %d", w.code, want)
		}
	}
}

// BenchmarkHandlerBaseline is the bare handler of the load test's baseline
// server (sim.BaselineHandler), for scale.
func BenchmarkHandlerBaseline(b *testing.B) {
	body := []byte(strings.Repeat("x", 144))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	runHandlerBench(b, h, benchRequest("GET", "/", ""), 200)
}

func BenchmarkHandlerJoin(b *testing.B) {
	_, h := benchServer(b)
	runHandlerBench(b, h, benchRequest("POST", "/api/v1/rooms/bench/tickets", ""), http.StatusCreated)
}

// benchTicket is the ticket of the 50th person in the bench room.
func benchTicket(s *Server) string {
	rm, _ := s.Rooms.Get("bench")
	var tok string
	for range 50 {
		tok, _, _ = rm.Join()
	}
	return tok
}

func BenchmarkHandlerStatus(b *testing.B) {
	s, h := benchServer(b)
	tok := benchTicket(s)
	runHandlerBench(b, h, benchRequest("GET", "/api/v1/rooms/bench/status", tok), http.StatusOK)
}

// The parallel variants show contention between requests served at once
// (room lookup, the room's lock, pools).
func runHandlerBenchParallel(b *testing.B, h http.Handler, r *http.Request, want int) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			w.reset()
			h.ServeHTTP(w, r)
			if w.code != want {
				b.Errorf("status %d, want %d", w.code, want)
				return
			}
		}
	})
}

func BenchmarkHandlerJoinParallel(b *testing.B) {
	_, h := benchServer(b)
	runHandlerBenchParallel(b, h, benchRequest("POST", "/api/v1/rooms/bench/tickets", ""), http.StatusCreated)
}

func BenchmarkHandlerStatusParallel(b *testing.B) {
	s, h := benchServer(b)
	tok := benchTicket(s)
	runHandlerBenchParallel(b, h, benchRequest("GET", "/api/v1/rooms/bench/status", tok), http.StatusOK)
}
