package tcpproxy_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/tcpproxy"
)

// echo is a server that sends back every line it gets.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// A paused proxy holds what is sent, on open and new connections, and
// lets it through, nothing lost, on Resume.
func TestPauseHoldsAndResumeDelivers(t *testing.T) {
	p := tcpproxy.Start(t, echo(t))
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	io.WriteString(c, "one\n")
	if line, err := r.ReadString('\n'); err != nil || line != "one\n" {
		t.Fatalf("before the pause: %q %v", line, err)
	}
	p.Pause()
	io.WriteString(c, "two\n")
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if line, err := r.ReadString('\n'); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("while paused the echo came through: %q %v", line, err)
	}
	fresh, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	io.WriteString(fresh, "three\n")
	p.Resume()
	c.SetReadDeadline(time.Time{})
	if line, err := r.ReadString('\n'); err != nil || line != "two\n" {
		t.Fatalf("held through the pause: %q %v", line, err)
	}
	if line, err := bufio.NewReader(fresh).ReadString('\n'); err != nil || line != "three\n" {
		t.Fatalf("a connection made during the pause: %q %v", line, err)
	}
}
