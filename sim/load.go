package sim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// Config is one load run.
type Config struct {
	// Addr is the server's HOST:PORT.
	Addr string
	// Request is sent on every connection, one at a time (no pipelining).
	Request Request
	// Connections is the number of keep-alive connections (default 64).
	Connections int
	// Duration of the run (required, at most MaxDuration).
	Duration time.Duration
	// Requests, if > 0, stops the run once this many responses have been
	// received (or at Duration, whichever comes first).
	Requests uint64
}

// MaxDuration bounds every run: a load loop must stop by itself.
const MaxDuration = time.Hour

// Result of a run.
type Result struct {
	// OK counts 2xx responses, ByStatus every response by status code.
	OK       uint64
	ByStatus map[int]uint64
	// NetErrors counts failed connections, writes and reads.
	NetErrors uint64
	// FirstError is the first network error seen, if any.
	FirstError error
	Elapsed    time.Duration
	Latency    Histogram // of all responses
}

// Total is the number of responses of any status.
func (r *Result) Total() uint64 {
	var n uint64
	for _, c := range r.ByStatus {
		n += c
	}
	return n
}

// RPS is successful (2xx) responses per second.
func (r *Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// Errors is the number of non-2xx responses plus network errors.
func (r *Result) Errors() uint64 { return r.Total() - r.OK + r.NetErrors }

// StatusSummary lists the counts by status, e.g. "201:51234 429:12".
func (r *Result) StatusSummary() string {
	codes := make([]int, 0, len(r.ByStatus))
	for c := range r.ByStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var b strings.Builder
	for i, c := range codes {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%d", c, r.ByStatus[c])
	}
	if r.NetErrors > 0 {
		fmt.Fprintf(&b, " net-errors:%d", r.NetErrors)
	}
	return b.String()
}

type worker struct {
	status    [600]uint64
	netErrors uint64
	firstErr  error
	hist      Histogram
	_         [64]byte // keep workers' counters on separate cache lines
}

// Run keeps cfg.Connections connections busy with cfg.Request for
// cfg.Duration and reports what came back. Responses that arrive after the
// duration are not counted. It returns an error only if no connection at
// all can be opened.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Connections <= 0 {
		cfg.Connections = 64
	}
	if cfg.Duration <= 0 || cfg.Duration > MaxDuration {
		return nil, fmt.Errorf("sim: duration must be in (0, %v], got %v", MaxDuration, cfg.Duration)
	}
	req := cfg.Request.Wire()
	conns := make([]*Conn, cfg.Connections)
	for i := range conns {
		conns[i] = NewConn(cfg.Addr)
		if err := conns[i].Dial(ctx); err != nil {
			for _, c := range conns[:i] {
				c.Close()
			}
			return nil, fmt.Errorf("sim: connecting to %s: %w", cfg.Addr, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	end := start.Add(cfg.Duration)
	var budget *countdown
	if cfg.Requests > 0 {
		budget = &countdown{left: int64(cfg.Requests)}
	}
	workers := make([]worker, cfg.Connections)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func(w *worker, c *Conn) {
			defer wg.Done()
			w.run(ctx, c, req, end, budget)
		}(&workers[i], conns[i])
	}
	wg.Wait()
	// Responses after the end are not counted, so the run lasted Duration
	// unless it was cut short (request budget spent, cancelled).
	elapsed := min(time.Since(start), cfg.Duration)
	res := &Result{ByStatus: map[int]uint64{}, Elapsed: elapsed}
	for i := range workers {
		w := &workers[i]
		for code, n := range w.status {
			if n > 0 {
				res.ByStatus[code] += n
				if code >= 200 && code < 300 {
					res.OK += n
				}
			}
		}
		res.NetErrors += w.netErrors
		if res.FirstError == nil {
			res.FirstError = w.firstErr
		}
		res.Latency.Merge(&w.hist)
	}
	return res, nil
}

type countdown struct {
	mu   sync.Mutex
	left int64
}

// take reports whether one more request may be sent.
func (c *countdown) take() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left <= 0 {
		return false
	}
	c.left--
	return true
}

func (w *worker) fail(err error) {
	if ctxDone(err) {
		return
	}
	w.netErrors++
	if w.firstErr == nil {
		w.firstErr = err
	}
}

func ctxDone(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (w *worker) run(ctx context.Context, c *Conn, req []byte, end time.Time, budget *countdown) {
	// A response that has not come by the end of the run plus a grace
	// period is a failure, and the worker stops: nothing can hang.
	hard := end.Add(5 * time.Second)
	defer c.Close()
	for {
		if !time.Now().Before(end) || ctx.Err() != nil {
			return
		}
		if err := c.Dial(ctx); err != nil {
			w.fail(err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		if budget != nil && !budget.take() {
			return
		}
		t0 := time.Now()
		status, _, err := c.Exchange(ctx, req, hard, nil)
		t1 := time.Now()
		if err != nil {
			if t1.Before(end) {
				w.fail(err)
			}
			continue
		}
		if t1.After(end) {
			return
		}
		if status < len(w.status) {
			w.status[status]++
		}
		w.hist.Record(t1.Sub(t0))
	}
}
