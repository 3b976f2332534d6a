package room

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/clock"
)

func benchRoom(b *testing.B, s Settings, store Persister) (*Room, *clock.Manual) {
	b.Helper()
	if s.Name == "" {
		s.Name = "vaccine"
	}
	clk := clock.NewManual(t0)
	r, err := New(s, testKeyring(b, "k1", 1), clk, store)
	if err != nil {
		b.Fatal(err)
	}
	return r, clk
}

// serialAndParallel benchmarks op alone and from GOMAXPROCS goroutines.
func serialAndParallel(b *testing.B, op func()) {
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			op()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				op()
			}
		})
	})
}

func BenchmarkIssueTicket(b *testing.B) {
	kr := testKeyring(b, "k1", 1)
	t := Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 1_234_567, Issued: t0}
	serialAndParallel(b, func() { kr.IssueTicket(t) })
}

func BenchmarkVerifyTicket(b *testing.B) {
	kr := testKeyring(b, "k1", 1)
	tok := kr.IssueTicket(Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 1_234_567, Issued: t0})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.VerifyTicket(tok, "vaccine"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStatus: a waiting ticket in the middle of an open room's line of
// a million (the hot path: every poll of every waiting person).
func BenchmarkStatus(b *testing.B) {
	r, clk := benchRoom(b, Settings{Capacity: 100, Rate: 100}, nil)
	addWaiting(r, 1_000_000)
	clk.Advance(time.Second)
	r.Tick()
	t := Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: 500_000, Issued: t0}
	if st, err := r.Status(t); err != nil || st.State != StateWaiting {
		b.Fatalf("%+v %v", st, err)
	}
	serialAndParallel(b, func() { r.Status(t) })
}

// BenchmarkStatusPrequeueTicket: a pre-queue ticket after opening with a
// pre-queue of a million: the status includes the lottery permutation.
func BenchmarkStatusPrequeueTicket(b *testing.B) {
	r, clk := benchRoom(b, Settings{Capacity: 100, Rate: 100, PrequeueAt: t0, OpensAt: t0.Add(time.Minute)}, nil)
	change(r, func(l *line) { // as if a million had joined the pre-queue
		l.v.PreSeq, l.v.ResvPre, l.v.Joins = 1_000_000, 1_000_000, 1_000_000
	})
	clk.Set(t0.Add(time.Minute))
	r.Tick()
	if r.n.Load() != 1_000_000 {
		b.Fatalf("n = %d", r.n.Load())
	}
	t := Ticket{Room: "vaccine", Phase: PhasePrequeue, Seq: 777_777, Issued: t0}
	if st, err := r.Status(t); err != nil || st.State != StateWaiting {
		b.Fatalf("%+v %v", st, err)
	}
	serialAndParallel(b, func() { r.Status(t) })
}

// BenchmarkVerifyPass: the gate's check of a claimed pass (signature, room,
// expiry and the session table), and the stateless check alone.
func BenchmarkVerifyPass(b *testing.B) {
	r, clk := benchRoom(b, Settings{Capacity: 100, Rate: 1000}, nil)
	r.Tick()
	clk.Advance(time.Second)
	_, st, err := r.Join()
	if err != nil || st.Pass == "" {
		b.Fatalf("%+v %v", st, err)
	}
	pass := st.Pass
	b.Run("room", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := r.VerifyPass(pass); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("room/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.VerifyPass(pass)
			}
		})
	})
	v := StatelessVerifier{Keys: r.keys, Room: "vaccine", Clock: clk}
	b.Run("stateless", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.VerifyPass(pass); err != nil {
				b.Fatal(err)
			}
		}
	})
	g := &Gate{Verifier: r, WaitingURL: "/wait/vaccine"}
	h := g.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req := httptest.NewRequest("GET", "/book", nil)
	req.Header.Set(PassHeader, pass)
	w := httptest.NewRecorder()
	b.Run("gate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, req)
		}
	})
}

// BenchmarkJoin: Room.Join in an open room whose capacity is full (every
// joiner waits), without a store and with the file store (a durable
// reservation every 256 joins).
func BenchmarkJoin(b *testing.B) {
	setup := func(b *testing.B, store Persister) *Room {
		r, clk := benchRoom(b, Settings{Capacity: 1, Rate: 1}, store)
		r.Tick()
		clk.Advance(time.Second)
		r.Join() // fills the one place
		return r
	}
	b.Run("serial", func(b *testing.B) {
		r := setup(b, nil)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := r.Join(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		r := setup(b, nil)
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r.Join()
			}
		})
	})
	b.Run("filestore", func(b *testing.B) {
		fs, err := NewFileStore(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		r := setup(b, fs)
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := r.Join(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkTick: one admission tick of a room with a long line and a full
// session table.
func BenchmarkTick(b *testing.B) {
	r, clk := benchRoom(b, Settings{Capacity: 10_000, Rate: 1000}, nil)
	addWaiting(r, 1_000_000)
	for range 20 {
		clk.Advance(time.Second)
		r.Tick()
	}
	b.ReportAllocs()
	for b.Loop() {
		clk.Advance(10 * time.Millisecond)
		r.Tick()
	}
}

// BenchmarkClaimLeave: the two steps a person's turn takes after admission,
// in a room of capacity 100 with a long line, where each leave admits the
// next person at once: collecting the pass (Status, which claims the
// place) and returning it (Leave). claim-ns/op and leave-ns/op are each
// step's mean wall time, which includes waiting for the state file to be
// written (fsync) when the step is durable before it answers; ns/op is one
// of each. "parallel" runs 8 goroutines per CPU, as many people returning
// passes at once do.
func BenchmarkClaimLeave(b *testing.B) {
	for _, tc := range []struct {
		name     string
		file     bool
		parallel bool
	}{
		{"memory", false, false},
		{"filestore", true, false},
		{"filestore/parallel", true, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var store Persister
			if tc.file {
				fs, err := NewFileStore(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				store = fs
			}
			r, clk := benchRoom(b, Settings{Capacity: 100, Rate: 1e6, ClaimTimeout: time.Hour, PassTTL: time.Hour}, store)
			addWaiting(r, uint64(b.N)+1000)
			if err := r.Tick(); err != nil {
				b.Fatal(err)
			}
			var next atomic.Uint64
			var claimNs, leaveNs atomic.Int64
			// cycle reports failures with b.Error: RunParallel's goroutines
			// must not call b.Fatal.
			cycle := func() {
				t := Ticket{Room: "vaccine", Phase: PhaseOpen, Seq: next.Add(1) - 1}
				// A microsecond a cycle refills the token bucket at 1e6/s:
				// with the clock standing still, the bucket (a tenth of the
				// rate) ran dry after 100,000 cycles and the run failed.
				clk.Advance(time.Microsecond)
				t0 := time.Now()
				st, err := r.Status(t)
				t1 := time.Now()
				if err != nil || st.Pass == "" {
					b.Errorf("status of ticket %d: %+v %v", t.Seq, st, err)
					return
				}
				p, err := r.keys.VerifyPass(st.Pass, "vaccine", r.clock.Now())
				if err != nil {
					b.Error(err)
					return
				}
				t2 := time.Now()
				if err := r.Leave(p); err != nil {
					b.Error(err)
					return
				}
				leaveNs.Add(int64(time.Since(t2)))
				claimNs.Add(int64(t1.Sub(t0)))
			}
			b.ResetTimer()
			if tc.parallel {
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						cycle()
					}
				})
			} else {
				for range b.N {
					cycle()
				}
			}
			b.ReportMetric(float64(claimNs.Load())/float64(b.N), "claim-ns/op")
			b.ReportMetric(float64(leaveNs.Load())/float64(b.N), "leave-ns/op")
		})
	}
}
