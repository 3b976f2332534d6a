package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/sim"
)

func runMemory(ctx context.Context, stdout, stderr io.Writer, n uint64, conns int) error {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		return errors.New("--memory reads /proc/PID/status: Linux only")
	}
	sl, err := startChild(ctx, stderr, childSluice, nil)
	if err != nil {
		return err
	}
	defer sl.stop()
	fmt.Fprintln(stdout, machineLine())
	join := sim.JoinRequest(sl.Addr, benchRoom)
	issue := func(k uint64) (*sim.Result, error) {
		res, err := sim.Run(ctx, sim.Config{Addr: sl.Addr, Request: join, Connections: conns, Duration: 30 * time.Minute, Requests: k})
		if err != nil {
			return nil, err
		}
		if res.OK != k {
			return res, fmt.Errorf("asked for %d tickets, got %d (%s)", k, res.OK, res.StatusSummary())
		}
		return res, nil
	}
	const warm = 10_000
	if _, err := issue(warm); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	time.Sleep(time.Second)
	settled, err := sl.command(ctx, "gc")
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	before, err := rss(sl.Pid())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "sluice server pid %d, room %q (capacity 1: everyone waits), %d connections\n", sl.Pid(), benchRoom, conns)
	fmt.Fprintf(stdout, "after %d warm-up joins and a GC: VmRSS %.1f MB (%s)\n", warm, mb(before.rss), settled)
	res, err := issue(n)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "issued %d tickets in %v (%.0f joins/s, p99 %v)\n", res.OK, res.Elapsed.Round(time.Millisecond), res.RPS(), res.Latency.Quantile(0.99).Round(time.Microsecond))
	time.Sleep(2 * time.Second)
	after, err := rss(sl.Pid())
	if err != nil {
		return err
	}
	st, _ := sl.command(ctx, "stats")
	fmt.Fprintf(stdout, "2 s later, no forced GC: VmRSS %.1f MB, VmHWM %.1f MB (%s)\n", mb(after.rss), mb(after.hwm), st)
	gc, _ := sl.command(ctx, "gc")
	time.Sleep(time.Second)
	afterGC, err := rss(sl.Pid())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "after a forced GC:       VmRSS %.1f MB (%s)\n\n", mb(afterGC.rss), gc)
	growth := int64(after.rss) - int64(before.rss)
	peak := int64(after.hwm) - int64(before.rss)
	verdict := "met"
	if growth >= 10<<20 || peak >= 10<<20 {
		verdict = "MISSED"
	}
	fmt.Fprintf(stdout, "| tickets | RSS before | RSS after | growth | peak (VmHWM) growth | after forced GC | target < 10 MB |\n|---|---|---|---|---|---|---|\n")
	fmt.Fprintf(stdout, "| %d | %.1f MB | %.1f MB | %+.1f MB | %+.1f MB | %.1f MB | %s |\n", n, mb(before.rss), mb(after.rss),
		float64(growth)/(1<<20), float64(peak)/(1<<20), mb(afterGC.rss), verdict)
	return nil
}

type rssInfo struct{ rss, hwm uint64 }

func rss(pid int) (rssInfo, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return rssInfo{}, err
	}
	var r rssInfo
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			continue
		}
		kb, _ := strconv.ParseUint(f[0], 10, 64)
		switch k {
		case "VmRSS":
			r.rss = kb << 10
		case "VmHWM":
			r.hwm = kb << 10
		}
	}
	if r.rss == 0 {
		return r, errors.New("no VmRSS in /proc/PID/status")
	}
	return r, nil
}

func mb(b uint64) float64 { return float64(b) / (1 << 20) }
