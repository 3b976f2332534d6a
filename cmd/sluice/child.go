package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/sim"
	"github.com/sluicehq/sluice/web"
)

// child is a server started as a child process of this run. Its stdin is a
// command channel ("gc", "stats", "cpuprofile FILE", "cpuprofile-stop");
// when stdin closes it exits, so it cannot outlive the run.
type child struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	lines chan string
	URL   string
	Addr  string
}

// startChild starts a child server of the kind, with env added to this
// process's environment and extra flags.
func startChild(ctx context.Context, stderr io.Writer, kind string, env []string, extra ...string) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, append([]string{"loadtest", kind, "--addr", "127.0.0.1:0"}, extra...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, in: in, lines: make(chan string, 16)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		close(c.lines)
	}()
	line, err := c.reply(ctx, 15*time.Second)
	if err != nil || !strings.HasPrefix(line, "ready ") {
		c.stop()
		return nil, fmt.Errorf("%s did not start: %q %v", kind, line, err)
	}
	c.URL = strings.TrimPrefix(line, "ready ")
	c.Addr = strings.TrimPrefix(c.URL, "http://")
	return c, nil
}

func (c *child) reply(ctx context.Context, timeout time.Duration) (string, error) {
	select {
	case line, ok := <-c.lines:
		if !ok {
			return "", errors.New("child exited")
		}
		return line, nil
	case <-time.After(timeout):
		return "", errors.New("child did not answer")
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// command sends one command and returns the child's one-line answer.
func (c *child) command(ctx context.Context, cmd string) (string, error) {
	if _, err := fmt.Fprintln(c.in, cmd); err != nil {
		return "", err
	}
	return c.reply(ctx, 30*time.Second)
}

func (c *child) Pid() int { return c.cmd.Process.Pid }

// stop closes stdin (the child shuts down) and waits, killing it if it
// takes too long.
func (c *child) stop() {
	c.in.Close()
	done := make(chan struct{})
	go func() {
		c.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
}

// runChild is a child server: the bare baseline; a full Sluice server
// with one open room "bench" of capacity 1 (so a line forms) and otherwise
// the default configuration, exactly as `sluice serve` builds it; or the
// booking server of --flow (startFlowServer).
func runChild(kind string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sluice loadtest "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	lifetime := fs.Duration("max-lifetime", time.Hour, "exit after this long whatever happens")
	at := fs.String("at", flowClockDefault, kindFlow+": where the server's clock starts (RFC 3339)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	var (
		url      string
		shutdown func(context.Context) error
		stats    func() string
	)
	switch kind {
	case childBaseline:
		srv := web.NewHTTPServer(sim.BaselineHandler())
		ln, err := listen(*addr)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		go srv.Serve(ln)
		url, shutdown = "http://"+ln.Addr().String(), srv.Shutdown
		stats = func() string { return "" }
	case childSluice:
		cfg := config.Default()
		cfg.Addr = *addr
		cfg.LogLevel = "warn"
		cfg.Keys = room.GenerateKeyring("bench")
		cfg.Rooms = []config.RoomConfig{{Name: benchRoom, RoomTuning: config.RoomTuning{Capacity: new(1), Rate: new(1.0)}}}
		a, err := app.New(cfg, app.Options{})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if err := a.Start(); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		url, shutdown = a.URL(), a.Shutdown
		stats = func() string {
			rm, _ := a.Rooms.Get(benchRoom)
			c := rm.Counters()
			return fmt.Sprintf(" joined=%d waiting=%d active=%d", c.Joined, c.Waiting, c.Active)
		}
	case kindFlow:
		var err error
		if url, shutdown, err = runFlowChild(*addr, *at); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		stats = func() string { return "" }
	}
	fmt.Fprintf(stdout, "ready %s\n", url)
	var prof *os.File
	stopProfile := func() {
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
			prof = nil
		}
	}
	cmds := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			cmds <- sc.Text()
		}
		close(cmds)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, stopSignals...)
	deadline := time.After(*lifetime)
loop:
	for {
		select {
		case <-sig:
			break loop
		case <-deadline:
			fmt.Fprintln(stderr, kind+": --max-lifetime reached, exiting")
			break loop
		case line, ok := <-cmds:
			if !ok {
				break loop
			}
			cmd, arg, _ := strings.Cut(line, " ")
			switch cmd {
			case "gc":
				runtime.GC()
				debug.FreeOSMemory()
				fmt.Fprintln(stdout, memStats()+stats())
			case "stats":
				fmt.Fprintln(stdout, memStats()+stats())
			case "cpuprofile":
				stopProfile()
				f, err := os.Create(arg)
				if err == nil {
					err = pprof.StartCPUProfile(f)
				}
				if err != nil {
					fmt.Fprintln(stdout, "error", err)
					continue
				}
				prof = f
				fmt.Fprintln(stdout, "ok")
			case "cpuprofile-stop":
				stopProfile()
				fmt.Fprintln(stdout, "ok")
			default:
				fmt.Fprintln(stdout, "error unknown command")
			}
		}
	}
	stopProfile()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	shutdown(ctx)
	return 0
}

func memStats() string {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return fmt.Sprintf("heap_alloc=%d heap_inuse=%d heap_sys=%d sys=%d num_gc=%d total_alloc=%d mallocs=%d",
		m.HeapAlloc, m.HeapInuse, m.HeapSys, m.Sys, m.NumGC, m.TotalAlloc, m.Mallocs)
}

func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// procCPU is the user+system CPU time a process has used so far.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may contain spaces) in ")".
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64)
	stime, err2 := strconv.ParseUint(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc/PID/stat")
	}
	// USER_HZ is 100 on every Linux platform Go supports.
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// loadavg is /proc/loadavg's three load averages, or "unknown".
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
