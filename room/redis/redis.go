// Package redis keeps rooms' shared queue state (room.Shared) in Redis, so
// that several sluice nodes serve one line.
//
// Per room it stores two hashes and a bitmap, and a third hash that expires
// while the room's pacing is auto (the nodes' pooled backend health,
// PaceSignals):
//
//	<prefix>{<room>}:state  the counters (pre-queue and open-phase sequence
//	                        numbers and their reservation marks, serving
//	                        position, frozen flag and pre-queue size,
//	                        joins/admissions/leaves/expired), the controls
//	                        (paused, closed, capacity, rate, pacing, the operator's
//	                        message and expected resume) and how often
//	                        they were set, the lottery key id, the admission
//	                        token bucket and the last tick's time
//	<prefix>{<room>}:slots  position -> "expiresUnixMillis:claimed(0|1)",
//	                        one field per session: at most capacity of them
//	<prefix>{<room>}:late   a bitmap, bit p set while place p, admitted
//	                        in line order, has never had its session
//	                        collected (room/late.go): a bit per place
//	                        admitted, 125 kB a million
//	<prefix>{<room>}:pace   node -> its backend health window, and the node
//	                        leading the room's pacing (room/redis/pacing.go)
//
// That is, counters, at most `capacity` sessions and a bit per admitted
// place per room, never anything per waiting person: a ticket carries its
// own place in line. The hash tag
// {<room>} puts all keys of a room in one Redis Cluster slot.
//
// Every method is one atomic step, run as one Lua script (EVALSHA, falling
// back to EVAL) that behaves exactly like room.MemShared. Times are the
// calling node's clock at millisecond resolution. Each call is bounded by
// room.SharedTimeout.
//
// Redis is the line's only record of who is next: in production configure
// it to persist (appendonly yes, ideally appendfsync everysec or always) if
// the line must survive a Redis restart, and do not let it evict these keys
// (maxmemory-policy noeviction, or a volatile-* policy, since they have no
// TTL).
package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/room"
)

var luaScript = redis.NewScript(script)

// Store is room.Shared in Redis.
type Store struct {
	client redis.UniversalClient
	prefix string
}

var (
	_ room.Shared    = (*Store)(nil)
	_ room.PaceBoard = (*Store)(nil)
)

// New returns a Store using client, with every key it writes starting with
// prefix (for example "sluice:"). Close closes client.
func New(client redis.UniversalClient, prefix string) *Store {
	return &Store{client: client, prefix: prefix}
}

// Open connects to the Redis server at a redis://, rediss:// or unix:// URL
// (see redis.ParseURL), checks it answers PING and returns a Store on it.
// Errors name the URL without its password.
func Open(ctx context.Context, rawURL string, prefix string) (*Store, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		// url.Parse's errors quote the whole URL, password and all.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("redis %s: %w", redactURL(rawURL), err)
	}
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redis %s: ping: %w", redactURL(rawURL), err)
	}
	return New(c, prefix), nil
}

// redactURL returns rawURL fit for a log line: without the password.
func redactURL(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Close closes the Store's Redis client.
func (s *Store) Close() error { return s.client.Close() }

func (s *Store) keys(name string) []string {
	tag := s.prefix + "{" + name + "}"
	return []string{tag + ":state", tag + ":slots", tag + ":late"}
}

// args are the script's arguments (see script.go).
type args struct {
	now      time.Time
	pos      uint64
	admit    room.AdmitParams
	passTTL  time.Duration // for claim
	controls room.Controls
	phase    room.Phase    // for reserve (pos is the count) and uncertain
	seqs     room.SeqRange // for uncertain
	drawn    string        // the places of uncertain pre-queue numbers (see drawPlaces)
	seen     string        // for restore: what the node saw (script.go)
	epoch    string        // for init and restore
	key      string        // for restore: the lottery key the node saw
	node     uint64        // for lease
	set      uint64        // for setcontrolsif: the change number expected
}

// reportArg is a node's report on its block (ARGV[22]), "" when none.
func reportArg(r *room.LeaseReport) string {
	if r == nil {
		return ""
	}
	final := 0
	if r.Final {
		final = 1
	}
	return fmt.Sprintf("%d:%d:%d:%d:%d", r.Node, r.Phase, r.From, r.Used, final)
}

// pacingArg is the line's pacing (ARGV[25]): JSON, "" when unset.
func pacingArg(p room.Pacing) string {
	if p == (room.Pacing{}) {
		return ""
	}
	b, _ := json.Marshal(p) // plain numbers and a string: cannot fail
	return string(b)
}

func optMillis(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// run runs op as one step and returns its two results and the view.
func (s *Store) run(ctx context.Context, op, name string, a args) (r1, r2 int64, v room.View, err error) {
	ctx, cancel := context.WithTimeout(ctx, room.SharedTimeout)
	defer cancel()
	// A step that needs the lottery's places for uncertain pre-queue
	// numbers says so first; drawn, it runs again (another node may add
	// numbers in between: then again).
	for range 4 {
		var res []any
		res, err = luaScript.Run(ctx, s.client, s.keys(name),
			op,
			strconv.FormatInt(a.now.UnixMilli(), 10),
			strconv.FormatUint(a.pos, 10),
			optMillis(a.admit.OpensAt),
			optMillis(a.admit.ClosesAt),
			strconv.FormatInt(a.admit.ClaimTimeout.Milliseconds(), 10),
			a.admit.LotteryKey,
			bit(a.controls.Paused),
			bit(a.controls.Closed),
			strconv.Itoa(a.controls.Capacity),
			strconv.FormatFloat(a.controls.Rate, 'g', -1, 64),
			strconv.Itoa(int(a.phase)),
			a.controls.Message,
			optMillis(a.controls.ResumeAt),
			strconv.FormatInt(a.passTTL.Milliseconds(), 10),
			a.drawn,
			fmt.Sprintf("%d:%d", a.seqs.From, a.seqs.To),
			a.seen,
			a.epoch,
			a.key,
			strconv.FormatInt(room.RestoreHold.Milliseconds(), 10),
			reportArg(a.admit.Report),
			strconv.FormatUint(a.node, 10),
			strconv.FormatUint(a.set, 10),
			pacingArg(a.controls.Pacing),
			optMillis(a.admit.LateUntil),
		).Slice()
		if err != nil {
			msg := err.Error()
			if rest, ok := strings.CutPrefix(msg, "sluice: draw "); ok {
				if a.drawn, err = drawPlaces(a.admit.Draw, rest); err == nil {
					continue
				}
			} else if strings.Contains(msg, "sluice: no shared state") {
				return 0, 0, room.View{}, fmt.Errorf("redis %s %q: %w", op, name, room.ErrNoSharedState)
			} else if strings.Contains(msg, "sluice: line reset") {
				return 0, 0, room.View{}, fmt.Errorf("redis %s %q: %w", op, name, room.ErrLineReset)
			}
			return 0, 0, room.View{}, fmt.Errorf("redis %s: %w", op, err)
		}
		r1, r2, v, err = decode(res)
		if err != nil {
			return 0, 0, room.View{}, fmt.Errorf("redis %s: %w", op, err)
		}
		return r1, r2, v, nil
	}
	return 0, 0, room.View{}, fmt.Errorf("redis %s: the uncertain pre-queue numbers kept changing while their places were drawn", op)
}

// drawPlaces answers the script's "draw N key numbers": the places, with
// the lottery of the pre-queue of N drawn with key, of the pre-queue
// numbers among numbers ("phase:from:to;..."), as the script's ARGV[14].
// Without the lottery there are none (as room.line.settle).
func drawPlaces(draw func(string, uint64) (*room.Lottery, bool), req string) (string, error) {
	f := strings.SplitN(req, " ", 3)
	if len(f) != 3 {
		return "", fmt.Errorf("bad draw request %q", req)
	}
	n, err := strconv.ParseUint(f[0], 10, 64)
	if err != nil {
		return "", fmt.Errorf("bad draw request %q", req)
	}
	key, seqs := f[1], f[2]
	var lot *room.Lottery
	if draw != nil {
		lot, _ = draw(key, n)
	}
	var places []uint64
	for _, r := range strings.Split(seqs, ";") {
		var phase, from, to uint64
		if _, err := fmt.Sscanf(r, "%d:%d:%d", &phase, &from, &to); err != nil {
			return "", fmt.Errorf("bad draw request %q", req)
		}
		if phase != uint64(room.PhasePrequeue) || lot == nil {
			continue
		}
		for s := from; s < min(to, n); s++ {
			places = append(places, lot.Permute(s)+1)
		}
	}
	slices.Sort(places)
	var b strings.Builder
	for i := 0; i < len(places); {
		j := i + 1
		for j < len(places) && places[j] == places[j-1]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		fmt.Fprintf(&b, "%d:%d", places[i], places[j-1]+1)
		i = j
	}
	return fmt.Sprintf("%d|%s|%s|%s", n, key, seqs, b.String()), nil
}

// decode reads the script's reply {r1, r2, view...}.
func decode(res []any) (r1, r2 int64, v room.View, err error) {
	if len(res) != 26 {
		return 0, 0, v, fmt.Errorf("unexpected reply of %d values", len(res))
	}
	d := decoder{res: res}
	r1, r2 = d.int(), d.int()
	v.Frozen = d.bool()
	v.N, v.PreSeq, v.PostSeq = d.uint(), d.uint(), d.uint()
	v.ResvPre, v.ResvPost, v.Serving = d.uint(), d.uint(), d.uint()
	v.Active = int(d.int())
	v.Controls.Paused, v.Controls.Closed = d.bool(), d.bool()
	capacity, rate := d.str(), d.str()
	v.ControlsSet = d.uint()
	v.LotteryKey = d.str()
	v.Joins, v.Admissions, v.Leaves, v.Expired, v.Skipped = d.uint(), d.uint(), d.uint(), d.uint(), d.uint()
	v.Epoch = d.str()
	v.Controls.Message = d.str()
	resumeAt := d.str()
	pacing := d.str()
	v.Claimants = int(d.int())
	if d.err != nil {
		return 0, 0, room.View{}, d.err
	}
	if resumeAt != "" {
		ms, err := strconv.ParseInt(resumeAt, 10, 64)
		if err != nil {
			return 0, 0, room.View{}, fmt.Errorf("bad resume time in reply: %w", err)
		}
		v.Controls.ResumeAt = time.UnixMilli(ms).UTC()
	}
	if v.Controls.Capacity, err = strconv.Atoi(capacity); err != nil {
		return 0, 0, room.View{}, fmt.Errorf("bad capacity in reply: %w", err)
	}
	if v.Controls.Rate, err = strconv.ParseFloat(rate, 64); err != nil {
		return 0, 0, room.View{}, fmt.Errorf("bad rate in reply: %w", err)
	}
	if pacing != "" {
		if err := json.Unmarshal([]byte(pacing), &v.Controls.Pacing); err != nil {
			return 0, 0, room.View{}, fmt.Errorf("bad pacing in reply: %w", err)
		}
	}
	return r1, r2, v, nil
}

type decoder struct {
	res []any
	i   int
	err error
}

func (d *decoder) next() any {
	x := d.res[d.i]
	d.i++
	return x
}

// value reads the next reply value as a T (Redis integers are int64,
// bulk strings string).
func value[T any](d *decoder, want string) T {
	x := d.next()
	v, ok := x.(T)
	if !ok && d.err == nil {
		d.err = fmt.Errorf("reply value %d: want %s, got %T", d.i-1, want, x)
	}
	return v
}

func (d *decoder) int() int64 { return value[int64](d, "integer") }

func (d *decoder) uint() uint64 {
	n := d.int()
	if n < 0 && d.err == nil {
		d.err = fmt.Errorf("reply value %d: negative counter %d", d.i-1, n)
	}
	return uint64(n)
}

func (d *decoder) bool() bool { return d.int() != 0 }

func (d *decoder) str() string { return value[string](d, "string") }

// Init implements room.Shared.
func (s *Store) Init(ctx context.Context, name string, c room.Controls, epoch string, now time.Time) (room.View, error) {
	_, _, v, err := s.run(ctx, "init", name, args{now: now, controls: c, epoch: epoch})
	return v, err
}

// Restore implements room.Shared.
func (s *Store) Restore(ctx context.Context, name string, seen room.View, sessionsFrom uint64, now time.Time, a room.AdmitParams) (room.View, error) {
	fr := 0
	if seen.Frozen {
		fr = 1
	}
	_, _, v, err := s.run(ctx, "restore", name, args{now: now, admit: a, controls: seen.Controls, epoch: seen.Epoch, key: seen.LotteryKey,
		seen: fmt.Sprintf("%d:%d:%d:%d:%d:%d:%d:%d:%d:%d:%d:%d:%d:%d", fr, seen.N, seen.PreSeq, seen.ResvPre, seen.PostSeq, seen.ResvPost,
			seen.Serving, seen.ControlsSet, seen.Joins, seen.Admissions, seen.Leaves, seen.Expired, seen.Skipped, sessionsFrom)})
	return v, err
}

// Forget deletes a room's line, as a Redis restarted without persistence
// would (for tests of that failure, like room.MemShared.Forget).
func (s *Store) Forget(ctx context.Context, name string) error {
	return s.client.Del(ctx, s.keys(name)...).Err()
}

// View implements room.Shared.
func (s *Store) View(ctx context.Context, name string) (room.View, error) {
	_, _, v, err := s.run(ctx, "view", name, args{})
	return v, err
}

// Reserve implements room.Shared.
func (s *Store) Reserve(ctx context.Context, name string, phase room.Phase, n uint64, now time.Time) (room.View, error) {
	_, _, v, err := s.run(ctx, "reserve", name, args{now: now, pos: n, phase: phase})
	return v, err
}

// Join implements room.Shared.
func (s *Store) Join(ctx context.Context, name string, now time.Time, a room.AdmitParams) (room.Phase, uint64, room.View, error) {
	phase, seq, v, err := s.run(ctx, "join", name, args{now: now, admit: a})
	if err != nil {
		return 0, 0, room.View{}, err
	}
	if phase == 4 {
		return 0, 0, v, room.ErrRestoring
	}
	if phase >= 2 { // the phase's reservation is used up
		return room.Phase(phase - 2), 0, v, room.ErrUnreserved
	}
	return room.Phase(phase), uint64(seq), v, nil
}

// Freeze implements room.Shared.
func (s *Store) Freeze(ctx context.Context, name string, now time.Time, a room.AdmitParams) (room.View, error) {
	_, _, v, err := s.run(ctx, "freeze", name, args{now: now, admit: a})
	return v, err
}

// Tick implements room.Shared.
func (s *Store) Tick(ctx context.Context, name string, now time.Time, a room.AdmitParams) (room.View, error) {
	_, _, v, err := s.run(ctx, "tick", name, args{now: now, admit: a})
	return v, err
}

// Claim implements room.Shared.
func (s *Store) Claim(ctx context.Context, name string, pos uint64, now time.Time, passTTL time.Duration, a room.AdmitParams) (time.Time, bool, room.View, error) {
	ok, expires, v, err := s.run(ctx, "claim", name, args{now: now, pos: pos, admit: a, passTTL: passTTL})
	switch {
	case err != nil || ok == 0:
		return time.Time{}, false, v, err
	case ok == 2:
		return time.Time{}, false, v, room.ErrClaimWait
	}
	return time.UnixMilli(expires), true, v, nil
}

// Active implements room.Shared.
func (s *Store) Active(ctx context.Context, name string, pos uint64, now time.Time) (bool, error) {
	ok, _, _, err := s.run(ctx, "active", name, args{now: now, pos: pos})
	return ok != 0, err
}

// Leave implements room.Shared.
func (s *Store) Leave(ctx context.Context, name string, pos uint64, now time.Time, a room.AdmitParams) (bool, room.View, error) {
	ok, _, v, err := s.run(ctx, "leave", name, args{now: now, pos: pos, admit: a})
	return ok != 0, v, err
}

// SetControls implements room.Shared.
func (s *Store) SetControls(ctx context.Context, name string, c room.Controls) (room.View, error) {
	_, _, v, err := s.run(ctx, "setcontrols", name, args{controls: c})
	return v, err
}

// Uncertain implements room.Shared.
func (s *Store) Uncertain(ctx context.Context, name string, r room.SeqRange, now time.Time, a room.AdmitParams) (room.View, error) {
	_, _, v, err := s.run(ctx, "uncertain", name, args{now: now, admit: a, phase: r.Phase, seqs: r})
	return v, err
}

// Lease implements room.Shared.
func (s *Store) Lease(ctx context.Context, name string, node, n uint64, now time.Time, a room.AdmitParams) (room.SeqRange, room.View, error) {
	n = max(n, 1)
	phase, from, v, err := s.run(ctx, "lease", name, args{now: now, pos: n, admit: a, node: node})
	if err != nil {
		return room.SeqRange{}, room.View{}, err
	}
	if phase == 4 {
		return room.SeqRange{}, v, room.ErrRestoring
	}
	return room.SeqRange{Phase: room.Phase(phase), From: uint64(from), To: uint64(from) + n}, v, nil
}
