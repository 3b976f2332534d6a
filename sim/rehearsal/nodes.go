package rehearsal

import (
	"github.com/sluicehq/sluice/room"
)

// newNodes creates the room: one node with its own line, or the
// scenario's nodes sharing one line in memory (room.NewMemShared), each
// leasing blocks of join numbers from it and answering status from its
// own view of it, as nodes sharing a line in Redis do.
func (e *engine) newNodes(s room.Settings, keys *room.Keyring) error {
	if e.sc.Nodes <= 1 {
		r, err := room.New(s, keys, e.clk, nil)
		if err != nil {
			return err
		}
		e.rm, e.nodes = r, []*room.Room{r}
		return nil
	}
	sh := room.NewMemShared()
	for range e.sc.Nodes {
		r, err := room.NewShared(s, keys, e.clk, sh, nil)
		if err != nil {
			return err
		}
		e.nodes = append(e.nodes, r)
	}
	e.rm = e.nodes[0]
	return nil
}

// joinNode is the node a person joins (and returns the pass) on: the load
// balancer's choice, the same for the person all night.
func (e *engine) joinNode(p uint32) *room.Room {
	if len(e.nodes) == 1 {
		return e.rm
	}
	return e.nodes[mix(e.seed, uint64(p), 10)%uint64(len(e.nodes))]
}

// pollNode is the node a tab's poll of this step lands on: any of them.
func (e *engine) pollNode(k uint32) *room.Room {
	if len(e.nodes) == 1 {
		return e.rm
	}
	return e.nodes[mix(e.seed^uint64(e.now)*0x9e3779b97f4a7c15, uint64(k), 11)%uint64(len(e.nodes))]
}

// status asks a node for the tab's status, with the position it was last
// shown (the waiting page sends it; room.Room.StatusSeen).
func (e *engine) status(k uint32) (room.Status, error) {
	if e.tseen == nil {
		return e.rm.Status(e.ticket(k))
	}
	return e.pollNode(k).StatusSeen(e.ticket(k), uint64(e.tseen[k]))
}

// fifoOvertaken is the most people who joined after someone (in the open
// phase) and yet got a place ahead of them: over the tabs in the order
// they joined (their index), the most later tabs with a lower join
// number. One node hands out numbers in join order (0); nodes sharing a
// line hand out blocks, and the documented bound is LeaseBlock-1 people
// per other node (room/lease.go). A Fenwick tree over join numbers, from
// the last tab to the first.
func (e *engine) fifoOvertaken() int {
	top := uint32(0)
	for k, f := range e.tflag {
		if f&tfPrequeue == 0 {
			top = max(top, e.tseq[k]+1)
		}
	}
	tree := make([]int32, top+1)
	most := 0
	for k := len(e.tseq) - 1; k >= 0; k-- {
		if e.tflag[k]&tfPrequeue != 0 {
			continue
		}
		seq := int(e.tseq[k])
		n := 0
		for i := seq; i > 0; i -= i & -i { // later tabs with numbers below seq
			n += int(tree[i])
		}
		most = max(most, n)
		for i := seq + 1; i < len(tree); i += i & -i {
			tree[i]++
		}
	}
	return most
}

// fifoBound is the documented bound on fifoOvertaken: LeaseBlock-1 people
// per other node.
func (e *engine) fifoBound() int {
	return (len(e.nodes) - 1) * (room.LeaseBlock - 1)
}
