package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluicehq/sluice/room"
)

// SetControlsIf changes the controls as SetControls does if they are still
// at change number set (View.ControlsSet), in one step; ok is false when
// another node changed them first (the pacers of several nodes never undo
// each other's change or an operator's: room/pacer.go).
func (s *Store) SetControlsIf(ctx context.Context, name string, c room.Controls, set uint64) (room.View, bool, error) {
	ok, _, v, err := s.run(ctx, "setcontrolsif", name, args{controls: c, set: set})
	return v, ok != 0, err
}

// paceScript is PaceSignals as one step on the room's third key,
// <prefix>{<room>}:pace, a hash with one field per node, "n:<node>" =
// "<untilMs>|<summary JSON>", and "lead" = "<node>|<untilMs>". Redis 7.0
// has no expiry per field, so a field carries its own and every call
// drops the lapsed ones; the key itself expires paceKeep after the last
// call, once every node has stopped.
//
//	ARGV[1] the node, ARGV[2] now (Unix ms), ARGV[3] the TTL (ms),
//	ARGV[4] the node's summary (JSON), ARGV[5] paceKeep (ms)
//
// The reply is {lead (0|1), summary...}: the summaries still valid.
const paceScript = `
local key = KEYS[1]
local node, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local upto = string.format('%.0f', now + ttl)
redis.call('HSET', key, 'n:' .. node, upto .. '|' .. ARGV[4])
local out = {0}
local lead, leadUntil = '', 0
local h = redis.call('HGETALL', key)
for i = 1, #h, 2 do
	local f, v = h[i], h[i + 1]
	if f == 'lead' then
		local ln, lu = string.match(v, '^(.*)|(-?%d+)$')
		lead, leadUntil = ln, tonumber(lu)
	else
		local u, s = string.match(v, '^(-?%d+)|(.*)$')
		if tonumber(u) <= now then
			redis.call('HDEL', key, f)
		else
			out[#out + 1] = s
		end
	end
end
if lead == node or leadUntil <= now then
	redis.call('HSET', key, 'lead', node .. '|' .. upto)
	out[1] = 1
end
redis.call('PEXPIRE', key, ARGV[5])
return out
`

var paceLua = redis.NewScript(paceScript)

// paceKeep is how long a room's pace key outlives its last call.
const paceKeep = time.Minute

// PaceSignals implements room.PaceBoard (see paceScript).
func (s *Store) PaceSignals(ctx context.Context, name, node string, h room.HealthSummary, now time.Time, ttl time.Duration) ([]room.HealthSummary, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, room.SharedTimeout)
	defer cancel()
	sum, err := json.Marshal(h)
	if err != nil {
		return nil, false, err
	}
	res, err := paceLua.Run(ctx, s.client, []string{s.prefix + "{" + name + "}:pace"},
		node, strconv.FormatInt(now.UnixMilli(), 10), strconv.FormatInt(ttl.Milliseconds(), 10), sum,
		strconv.FormatInt(paceKeep.Milliseconds(), 10)).Slice()
	if err != nil {
		return nil, false, fmt.Errorf("redis pacesignals: %w", err)
	}
	if len(res) == 0 {
		return nil, false, errors.New("redis pacesignals: empty reply")
	}
	lead, _ := res[0].(int64)
	all := make([]room.HealthSummary, 0, len(res)-1)
	for _, x := range res[1:] {
		str, _ := x.(string)
		var hs room.HealthSummary
		if err := json.Unmarshal([]byte(str), &hs); err != nil {
			return nil, false, fmt.Errorf("redis pacesignals: bad summary: %w", err)
		}
		all = append(all, hs)
	}
	return all, lead == 1, nil
}
