//go:build linux

package faults_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/pgtest"
	"github.com/sluicehq/sluice/internal/redistest"
	"github.com/sluicehq/sluice/internal/seal"
	"github.com/sluicehq/sluice/internal/tcpproxy"
	"github.com/sluicehq/sluice/internal/testenv"
)

// cluster is what the suite runs: HAProxy (deploy/haproxy/sluice.cfg) in
// front of three `sluice serve` nodes (secrets handed over as
// deploy/systemd/sluice.service hands them), one Redis of the suite's own
// with AOF, one PostgreSQL schema of its own reached through a proxy that
// can stall it.
type cluster struct {
	t       *testing.T
	dir     string
	bin     string // the sluice binary
	nodes   []*node
	redis   *redistest.Server
	pg      *tcpproxy.Proxy
	pgURL   string // direct, for the checks afterwards
	front   string // HAProxy's URL
	secret  string // SLUICE_TEST_IDENTITY_SECRET
	timeout time.Duration
}

// requestTimeout is the nodes' request_timeout: every request that
// reaches the database or Redis is answered by then.
const requestTimeout = 5 * time.Second

// node is one `sluice serve`, kept running as systemd's Restart=always
// would: killed, it is started again a second later.
type node struct {
	name, addr string
	env        []string
	cfg, log   string

	mu      sync.Mutex
	cmd     *exec.Cmd
	running bool // cmd started and not yet waited for
	kills   int
	stop    bool
	done    chan struct{}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// buildSluice builds cmd/sluice into dir.
func buildSluice(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "sluice")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/sluicehq/sluice/cmd/sluice")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/sluice: %v\n%s", err, out)
	}
	return bin
}

// writeCampaign writes a campaign whose 53-54 window is open now (the
// nodes run on the real clock), as a copy of the July 2021 one.
func writeCampaign(t *testing.T, dir string) string {
	t.Helper()
	now := time.Now()
	c := fmt.Sprintf(`id: faults
name: 장애 시험 캠페인
name_en: Fault suite campaign
vaccines:
  - id: moderna
    name: 모더나
    name_en: Moderna
    supply: 0
    intervals:
      - {from: "2020-12-01", default_days: 28, earliest_days: 28, latest_days: 42}
  - id: pfizer
    name: 화이자
    name_en: Pfizer-BioNTech
    supply: 0
    intervals:
      - {from: "2020-12-01", default_days: 21, earliest_days: 21, latest_days: 42}
cohorts:
  - id: 53-54
    name: 53~54세
    name_en: Ages 53-54
    born_from: "1967-01-01"
    born_to: "1968-12-31"
    population: 1490000
    proxy_booking: true
    session_lock: 10m
    vaccines: [moderna, pfizer]
    windows:
      - id: main
        label: 시험
        label_en: Fault suite
        opens: %q
        closes: %q
`, now.Add(-time.Hour).Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339))
	path := filepath.Join(dir, "campaign.yaml")
	if err := os.WriteFile(path, []byte(c), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// unitCredentials reads deploy/systemd/sluice.service: its LoadCredential=
// names and its Environment= lines that point into the credentials
// directory (%d). The suite writes the secrets as those files and sets
// those variables, as systemd would.
func unitCredentials(t *testing.T, credDir string, secrets map[string]string) []string {
	t.Helper()
	f, err := os.Open("../deploy/systemd/sluice.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var env []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if v, ok := strings.CutPrefix(line, "LoadCredential="); ok {
			name, _, _ := strings.Cut(v, ":")
			secret, ok := secrets[name]
			if !ok {
				t.Fatalf("sluice.service loads credential %q, which the suite does not know", name)
			}
			if err := os.WriteFile(filepath.Join(credDir, name), []byte(secret+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if v, ok := strings.CutPrefix(line, "Environment="); ok && strings.Contains(v, "%d/") {
			env = append(env, strings.ReplaceAll(v, "%d", credDir))
		}
	}
	if len(env) != len(secrets) {
		t.Fatalf("sluice.service hands over %d credentials, the suite has %d secrets", len(env), len(secrets))
	}
	return env
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	haproxy := testenv.LookPath(t, "haproxy", "Debian: apt-get install haproxy")
	c := &cluster{t: t, dir: t.TempDir(), secret: "faults-" + randomHex(24), timeout: requestTimeout}
	t0 := time.Now()
	c.bin = buildSluice(t, c.dir)
	t.Logf("built sluice in %v", time.Since(t0).Round(time.Second))
	c.redis = redistest.NewPersistentServer(t)
	c.pgURL = pgtest.Schema(t, "faults")
	u, err := url.Parse(c.pgURL)
	if err != nil {
		t.Fatal(err)
	}
	c.pg = tcpproxy.Start(t, u.Host)
	u.Host = c.pg.Addr()
	// Fail fast while stalled rather than wait for the operating system.
	q := u.Query()
	q.Set("connect_timeout", "3")
	u.RawQuery = q.Encode()
	nodeDB := u.String()

	credDir := filepath.Join(c.dir, "credentials")
	if err := os.Mkdir(credDir, 0o700); err != nil {
		t.Fatal(err)
	}
	env := unitCredentials(t, credDir, map[string]string{
		"signing-keys":      "k1:" + randomHex(32),
		"admin-token":       "faults-admin-" + randomHex(16),
		"person-key-secret": randomHex(32),
		"session-keys":      seal.FormatKey(seal.Key{ID: "faults", Secret: seal.RandomSecret()}),
		"database-url":      nodeDB,
		"redis-url":         c.redis.URL(),
	})
	env = append(env, "SLUICE_TEST_IDENTITY_SECRET="+c.secret, "SLUICE_REDIS_PREFIX=faults:")
	cfg := filepath.Join(c.dir, "sluice.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`log_level: warn
request_timeout: %s
shutdown_grace: 2s
trusted_proxies: [127.0.0.1/32]
rooms:
  - name: vaccine
    capacity: 100000
    rate: 10000
    claim_timeout: 2m
booking:
  campaign_file: %s
  room: vaccine
`, requestTimeout, writeCampaign(t, c.dir))), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		n := &node{name: fmt.Sprintf("node%d", i+1), addr: freeAddr(t), cfg: cfg,
			log: filepath.Join(c.dir, fmt.Sprintf("node%d.log", i+1)), done: make(chan struct{})}
		// Each node a state directory of its own, as the unit's
		// StateDirectory= gives it (docs/CONFIG.md, "Several nodes").
		n.env = append(append([]string{}, env...), "SLUICE_ADDR="+n.addr,
			"SLUICE_STATE_DIR="+filepath.Join(c.dir, n.name+"-state"))
		c.nodes = append(c.nodes, n)
		go n.supervise(t, c.bin)
		t.Cleanup(n.shutdown)
	}
	for _, n := range c.nodes {
		c.waitHealthy("http://"+n.addr, n.log)
	}
	t.Logf("three nodes up after %v", time.Since(t0).Round(time.Second))

	front, admin := freeAddr(t), freeAddr(t)
	errs, err := filepath.Abs("../deploy/haproxy/errors")
	if err != nil {
		t.Fatal(err)
	}
	hp := exec.Command(haproxy, "-db", "-f", "../deploy/haproxy/sluice.cfg")
	hp.Env = append(os.Environ(), "SLUICE_HAPROXY_BIND="+front, "SLUICE_HAPROXY_ADMIN_BIND="+admin,
		"SLUICE_HAPROXY_ERRORS="+errs, "SLUICE_NODE1="+c.nodes[0].addr, "SLUICE_NODE2="+c.nodes[1].addr,
		"SLUICE_NODE3="+c.nodes[2].addr)
	hpLog := filepath.Join(c.dir, "haproxy.log")
	lf, err := os.Create(hpLog)
	if err != nil {
		t.Fatal(err)
	}
	hp.Stdout, hp.Stderr = lf, lf
	hp.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := hp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		hp.Process.Kill()
		hp.Wait()
		lf.Close()
	})
	c.front = "http://" + front
	c.waitHealthy(c.front, hpLog)
	return c
}

// waitHealthy waits until base answers /healthz.
func (c *cluster) waitHealthy(base, logFile string) {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logFile)
			c.t.Fatalf("%s does not answer /healthz: %v\n%s", base, err, tail(string(b), 30))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// supervise runs the node until shutdown, starting it again a second
// after it dies (killed, or gave up starting while the database stalled).
func (n *node) supervise(t *testing.T, bin string) {
	defer close(n.done)
	lf, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Error(err)
		return
	}
	defer lf.Close()
	for {
		cmd := exec.Command(bin, "serve", "--config", n.cfg)
		cmd.Env = append(os.Environ(), n.env...)
		cmd.Stdout, cmd.Stderr = lf, lf
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		n.mu.Lock()
		if n.stop {
			n.mu.Unlock()
			return
		}
		err := cmd.Start()
		n.cmd, n.running = cmd, err == nil
		n.mu.Unlock()
		if err != nil {
			t.Errorf("%s: %v", n.name, err)
			return
		}
		cmd.Wait()
		n.mu.Lock()
		n.running = false
		stop := n.stop
		state := cmd.ProcessState.String()
		n.mu.Unlock()
		if stop {
			return
		}
		fmt.Fprintf(lf, "--- %s exited (%s); starting it again in 1s\n", n.name, state)
		time.Sleep(time.Second)
	}
}

// kill is kill -9 of the node's process (the supervisor starts it again).
func (n *node) kill() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.running {
		syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
		n.kills++
	}
}

func (n *node) shutdown() {
	n.mu.Lock()
	n.stop = true
	n.mu.Unlock()
	n.kill()
	<-n.done
}

// logTail is the end of the node's log, for failure messages.
func (n *node) logTail() string {
	b, _ := os.ReadFile(n.log)
	return tail(string(b), 20)
}

// stallDatabase stalls PostgreSQL for d (every connection through the
// proxy hangs, as behind a table lock or a network that drops packets).
func (c *cluster) stallDatabase(ctx context.Context, d time.Duration) {
	c.pg.Pause()
	defer c.pg.Resume()
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
