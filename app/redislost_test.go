//go:build linux

package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/app"
	"github.com/sluicehq/sluice/app/apptest"
	"github.com/sluicehq/sluice/config"
	"github.com/sluicehq/sluice/internal/redistest"
	"github.com/sluicehq/sluice/room"
	"github.com/sluicehq/sluice/web"
)

// redisNode is one server of a several-node test on a Redis of the test's
// own, with a state directory of its own (or none); stop and start again
// as an operator would.
type redisNode struct {
	t   *testing.T
	cfg config.Config
	app *app.App
}

func newRedisNode(t *testing.T, redisURL string, keys *room.Keyring, stateDir string) *redisNode {
	cfg := apptest.Config()
	cfg.Keys = keys
	cfg.RedisURL, cfg.RedisPrefix = redisURL, "sluice:"
	cfg.StateDir = stateDir
	cfg.Rooms = []config.RoomConfig{{Name: "shop", RoomTuning: config.RoomTuning{Capacity: new(2), Rate: new(100.0), PassTTL: new(config.Duration(10 * time.Minute))}}}
	n := &redisNode{t: t, cfg: cfg}
	n.start()
	t.Cleanup(n.stop)
	return n
}

func (n *redisNode) start() {
	n.t.Helper()
	n.app = apptest.Boot(n.t, n.cfg, app.Options{})
}

func (n *redisNode) stop() {
	if n.app == nil {
		return
	}
	apptest.Stop(n.t, n.app)
	n.app = nil
}

func (n *redisNode) restart() {
	n.t.Helper()
	n.stop()
	n.start()
}

// statusOf asks the node for the ticket's status: the HTTP status and the
// document (zero unless 200). A 410 fails the test: no valid ticket may be
// told its turn is over because Redis lost the line.
func (n *redisNode) statusOf(ticket string) (int, web.StatusDocument) {
	n.t.Helper()
	resp, b := do(n.t, "GET", n.app.URL()+"/api/v1/rooms/shop/status", map[string]string{"Authorization": "Bearer " + ticket}, "")
	switch resp.StatusCode {
	case http.StatusOK:
		return resp.StatusCode, decode[web.StatusDocument](n.t, b)
	case http.StatusGone:
		n.t.Fatalf("%s told a valid ticket: %d %s", n.app.URL(), resp.StatusCode, b)
	case http.StatusServiceUnavailable:
		if resp.Header.Get("Retry-After") == "" {
			n.t.Errorf("503 without Retry-After: %s", b)
		}
	}
	return resp.StatusCode, web.StatusDocument{}
}

// settled polls until every ticket has an answer on every node (503s
// while the line comes back are fine) and returns node 0's answers.
func settled(t *testing.T, nodes []*redisNode, tickets []string) []web.StatusDocument {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var docs []web.StatusDocument
		ok := true
		for _, n := range nodes {
			for _, tk := range tickets {
				code, d := n.statusOf(tk)
				ok = ok && code == http.StatusOK
				if n == nodes[0] {
					docs = append(docs, d)
				}
			}
		}
		if ok {
			return docs
		}
		if time.Now().After(deadline) {
			t.Fatal("the nodes do not answer every ticket again")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestRedisLostNodesRestarted: Redis restarts empty under two running
// nodes, which are then restarted one at a time; nobody loses their place,
// no position goes up, no place is given twice, and nobody is told their
// turn is over. Then the sequence of the issue: every node down, Redis
// empty, a node with no state directory starts a new line and people join
// it; a node that served the old line refuses to mix the two (503, and
// /readyz says why) instead of telling people their turn is over.
func TestRedisLostNodesRestarted(t *testing.T) {
	rs := redistest.NewServer(t)
	keys := room.GenerateKeyring("k1")
	a := newRedisNode(t, rs.URL(), keys, t.TempDir())
	b := newRedisNode(t, rs.URL(), keys, t.TempDir())
	nodes := []*redisNode{a, b}
	var tickets []string
	for i := range 12 {
		tickets = append(tickets, join(t, nodes[i%2].app.URL(), "shop").Ticket)
	}
	before := settled(t, nodes, tickets)

	check := func(what string) {
		t.Helper()
		after := settled(t, nodes, tickets)
		positions := map[uint64]int{}
		for i, d := range after {
			if before[i].State == "admitted" && d.State != "admitted" && !(d.State == "waiting" && *d.Position == 1) {
				t.Errorf("%s: ticket %d admitted before, now %+v", what, i, d)
			}
			if d.State != "waiting" || before[i].State != "waiting" {
				continue
			}
			if *d.Position > *before[i].Position {
				t.Errorf("%s: ticket %d at position %d, was %d", what, i, *d.Position, *before[i].Position)
			}
			if j, dup := positions[*d.Position]; dup {
				t.Errorf("%s: tickets %d and %d both at position %d", what, j, i, *d.Position)
			}
			positions[*d.Position] = i
		}
	}
	rs.Restart()
	check("after Redis restarted empty")
	a.restart()
	check("after node A restarted")
	b.restart()
	check("after node B restarted")
	// New tickets after the hold get new places.
	time.Sleep(room.RestoreHold)
	for i := range 4 {
		tickets = append(tickets, join(t, nodes[i%2].app.URL(), "shop").Ticket)
	}
	before = settled(t, nodes, tickets)
	check("after new joins")
	for _, n := range nodes {
		if resp, body := do(t, "GET", n.app.URL()+"/readyz", nil, ""); resp.StatusCode != 200 {
			t.Errorf("readyz: %d %s", resp.StatusCode, body)
		}
	}

	// Every node down, Redis empty, a node without records starts anew.
	a.stop()
	b.stop()
	rs.Restart()
	c := newRedisNode(t, rs.URL(), keys, "")
	newTicket := join(t, c.app.URL(), "shop").Ticket
	a.start()
	resp, body := do(t, "GET", a.app.URL()+"/readyz", nil, "")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `room \"shop\"`) || strings.Contains(string(body), "redis://") {
		t.Errorf("readyz of a node whose line was started anew: %d %s, want 503 naming the room (and no URL)", resp.StatusCode, body)
	}
	for _, tk := range append(tickets, newTicket) {
		if code, _ := a.statusOf(tk); code != http.StatusServiceUnavailable {
			t.Errorf("node A on the old line answered %d, want 503", code)
		}
	}
}
