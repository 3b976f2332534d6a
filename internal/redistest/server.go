//go:build linux

package redistest

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/internal/testenv"
)

// Server is a redis-server of the test's own, on a random port of
// 127.0.0.1. NewServer's keeps nothing on disk: Restart brings it back
// empty, as a Redis without persistence comes back after a crash.
// NewPersistentServer's writes every command to its append-only file
// before answering (appendfsync always): Restart brings it back with
// everything it acknowledged. It is for tests that break Redis; tests
// that only use one take a Prefix of the shared server.
type Server struct {
	tb         testing.TB
	bin        string
	dir        string
	port       int
	cmd        *exec.Cmd
	persistent bool
}

// NewServer starts a redis-server without persistence for the test,
// killed when the test ends. Without the program the test is skipped, or
// fails when SLUICE_REQUIRE_SERVICES=1.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	return newServer(tb, false)
}

// NewPersistentServer starts a redis-server with AOF on (appendfsync
// always) in a directory of the test's own, as a deployment would run it.
func NewPersistentServer(tb testing.TB) *Server {
	tb.Helper()
	return newServer(tb, true)
}

func newServer(tb testing.TB, persistent bool) *Server {
	tb.Helper()
	bin := testenv.LookPath(tb, "redis-server", "Debian: apt-get install redis-server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := &Server{tb: tb, bin: bin, dir: tb.TempDir(), port: port, persistent: persistent}
	tb.Cleanup(s.kill)
	s.start()
	return s
}

// URL is the server's redis:// URL.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// Restart kills the server (kill -9) and starts it again: empty, or with
// its append-only file if it is persistent.
func (s *Server) Restart() {
	s.tb.Helper()
	s.kill()
	s.start()
}

func (s *Server) start() {
	s.tb.Helper()
	persistence := []string{"--appendonly", "no"}
	if s.persistent {
		persistence = []string{"--appendonly", "yes", "--appendfsync", "always"}
	}
	cmd := exec.Command(s.bin, append([]string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--protected-mode", "no"}, persistence...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.tb.Fatalf("redis-server: %v", err)
	}
	s.cmd = cmd
	c := goredis.NewClient(&goredis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port)})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.kill()
			s.tb.Fatalf("redis-server on port %d does not answer: %v", s.port, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *Server) kill() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}
