//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/randid"
	"github.com/sluicehq/sluice/internal/seal"
	"github.com/sluicehq/sluice/room"
)

// The crash tests run `sluice serve` as a child process on a state
// directory, kill it with SIGKILL at the worst moment and start it again on
// the same directory: what the first process acknowledged must hold in the
// second. They loop a few times in CI; SLUICE_CRASH_LOOPS=N runs N rounds.

// crashLoops is how many rounds a crash test runs.
func crashLoops(t *testing.T, short int) int {
	t.Helper()
	if v := os.Getenv("SLUICE_CRASH_LOOPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("SLUICE_CRASH_LOOPS=%q: want a positive number", v)
		}
		return n
	}
	return short
}

// serveNode is one `sluice serve` process: the test binary, which
// loadtest_test.go's init turns into the sluice command.
type serveNode struct {
	t   *testing.T
	cmd *exec.Cmd
	URL string

	mu  sync.Mutex
	log []string // the last lines of its log, for failure messages
}

// crashEnv is the environment of a crash test's servers: secrets made for
// the test, the same in every process of it.
func crashEnv() []string {
	return []string{
		"SLUICE_LOADTEST_TEST_CHILD=1",
		"SLUICE_SIGNING_KEYS=k1:" + randid.New(32),
		"SLUICE_ADMIN_TOKEN=" + crashAdminToken,
		"SLUICE_PERSON_KEY_SECRET=" + randid.New(32),
		"SLUICE_SESSION_KEYS=" + seal.FormatKey(seal.Key{ID: "crash", Secret: seal.RandomSecret()}),
	}
}

const crashAdminToken = "crash-test-admin-token"

// writeCrashConfig writes a configuration with the state directory dir and
// one room, "vaccine", with capacity and rate; the booking API is on so
// that the gate has something to guard.
func writeCrashConfig(t *testing.T, dir string, capacity int, rate float64) string {
	t.Helper()
	cfg := fmt.Sprintf(`addr: 127.0.0.1:0
state_dir: %s
log_level: info
rooms:
  - name: vaccine
    capacity: %d
    rate: %g
    claim_timeout: 2m
booking:
  campaign: 2021-07-50s
  database: %s
  room: vaccine
`, filepath.Join(dir, "state"), capacity, rate, filepath.Join(dir, "state", "sluice.db"))
	path := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// crashServer starts `sluice serve` with a room of capacity and rate on a
// state directory of the test's own, and returns it with a function that
// kills a server (kill -9) and starts it again on the same directory.
func crashServer(t *testing.T, capacity int, rate float64) (*serveNode, func(*serveNode) *serveNode) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts and kills sluice serve processes")
	}
	cfg := writeCrashConfig(t, t.TempDir(), capacity, rate)
	env := crashEnv()
	return startServe(t, cfg, env), func(n *serveNode) *serveNode {
		n.kill()
		return startServe(t, cfg, env)
	}
}

// startServe starts `sluice serve --config cfgPath` and waits until it
// listens.
func startServe(t *testing.T, cfgPath string, env []string) *serveNode {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "serve", "--config", cfgPath)
	cmd.Env = append(os.Environ(), env...)
	// Its own process group, killed with the test binary if that dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &serveNode{t: t, cmd: cmd}
	t.Cleanup(n.kill)
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			n.mu.Lock()
			n.log = append(n.log, line)
			if len(n.log) > 40 {
				n.log = n.log[1:]
			}
			n.mu.Unlock()
			if strings.Contains(line, "sluice listening") {
				for _, f := range strings.Fields(line) {
					if u, ok := strings.CutPrefix(f, "url="); ok {
						listening <- u
					}
				}
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	select {
	case n.URL = <-listening:
	case <-time.After(30 * time.Second):
		n.kill()
		t.Fatalf("sluice serve did not start:\n%s", n.lastLog())
	}
	return n
}

func (n *serveNode) lastLog() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.log, "\n")
}

// kill is kill -9.
func (n *serveNode) kill() {
	if n.cmd.ProcessState != nil {
		return
	}
	syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	n.cmd.Wait()
}

var crashClient = &http.Client{Timeout: 10 * time.Second}

// call makes a request and returns the status and the body decoded into a
// map (nil for an empty body).
func (n *serveNode) call(method, path string, header ...string) (int, map[string]any) {
	n.t.Helper()
	req, err := http.NewRequest(method, n.URL+path, nil)
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := crashClient.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v\n%s", method, path, err, n.lastLog())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &doc); err != nil {
			n.t.Fatalf("%s %s: %d %q: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode, doc
}

func (n *serveNode) join() string {
	n.t.Helper()
	code, doc := n.call("POST", "/api/v1/rooms/vaccine/tickets")
	tok, _ := doc["ticket"].(string)
	if code != http.StatusCreated || tok == "" {
		n.t.Fatalf("join: %d %v", code, doc)
	}
	return tok
}

func (n *serveNode) status(ticket string) (int, map[string]any) {
	n.t.Helper()
	return n.call("GET", "/api/v1/rooms/vaccine/status", "Authorization", "Bearer "+ticket)
}

// admitted polls the ticket's status until it carries a pass, for at most
// within; it fails the test otherwise.
func (n *serveNode) admitted(ticket string, within time.Duration) string {
	n.t.Helper()
	deadline := time.Now().Add(within)
	for {
		code, doc := n.status(ticket)
		if pass, _ := doc["pass"].(string); code == http.StatusOK && pass != "" {
			return pass
		}
		if code != http.StatusOK || time.Now().After(deadline) {
			n.t.Fatalf("ticket not admitted within %v: %d %v", within, code, doc)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCrashRightAfterLeave: a pass returned with a 204 stays returned when
// the server is killed the moment it answers: after a restart on the same
// state directory the gate refuses the pass and its place holds no slot
// (the ticket's turn is over).
func TestCrashRightAfterLeave(t *testing.T) {
	node, restart := crashServer(t, 10000, 1000)
	loops := crashLoops(t, 8)
	for i := range loops {
		ticket := node.join()
		pass := node.admitted(ticket, 30*time.Second)
		if code, doc := node.call("POST", "/api/v1/rooms/vaccine/leave", "Authorization", "Bearer "+pass); code != http.StatusNoContent {
			t.Fatalf("round %d: leave: %d %v", i, code, doc)
		}
		node = restart(node)
		code, doc := node.call("GET", "/api/v1/session", room.PassHeader, pass)
		if code != http.StatusUnauthorized || doc["code"] != "pass_revoked" {
			t.Fatalf("round %d of %d: a pass returned (204) just before kill -9 opens the gate again after the restart: %d %v", i+1, loops, code, doc)
		}
		if code, doc := node.status(ticket); code != http.StatusGone || doc["code"] != "turn_over" {
			t.Fatalf("round %d of %d: the returned ticket after the restart: %d %v, want 410 turn_over (its place holds no slot)", i+1, loops, code, doc)
		}
	}
	t.Logf("%d rounds of leave, kill -9, restart", loops)
}

// TestCrashDoesNotStallTheLine: one real person joins, the server is
// killed and started again on the same state directory; a new joiner in
// the otherwise empty line gets in within seconds, not behind the places
// that were reserved but perhaps never handed out.
func TestCrashDoesNotStallTheLine(t *testing.T) {
	node, restart := crashServer(t, 5, 5)
	for i := range crashLoops(t, 2) {
		first := node.join()
		node.admitted(first, 10*time.Second)
		node = restart(node)
		// A few seconds of polling, well below one claim timeout of a
		// phantom place (the stall this guards against lasted minutes).
		second := node.admitted(node.join(), 5*time.Second)
		code, doc := node.status(first)
		if code != http.StatusOK || doc["state"] != "admitted" {
			t.Fatalf("round %d: the person admitted before the crash: %d %v", i+1, code, doc)
		}
		for _, pass := range []string{doc["pass"].(string), second} {
			if code, doc := node.call("POST", "/api/v1/rooms/vaccine/leave", "Authorization", "Bearer "+pass); code != http.StatusNoContent {
				t.Fatalf("round %d: leave: %d %v", i+1, code, doc)
			}
		}
	}
}
