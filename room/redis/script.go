package redis

// script is the whole of room.Shared as one Lua script, so that every method
// is one atomic step on the room's two keys (KEYS[1] the state hash, KEYS[2]
// the slots hash). ARGV[1] names the operation; the other arguments have
// fixed places (filled in by Store.run):
//
//	ARGV[2]  now, Unix ms
//	ARGV[3]  pos (for reserve: how many numbers)
//	ARGV[4]  opens at, Unix ms ("" when not set)
//	ARGV[5]  closes at, Unix ms ("" when not set)
//	ARGV[6]  claim timeout (or, for claim, pass TTL), ms
//	ARGV[7]  lottery key
//	ARGV[8]  paused (0|1)
//	ARGV[9]  closed (0|1)
//	ARGV[10] capacity, decimal
//	ARGV[11] rate, Go float64 formatted with strconv 'g' -1
//	ARGV[12] phase for reserve (0 pre-queue, 1 open); ARGV[3] is the count
//	ARGV[13] the operator's message (controls)
//	ARGV[14] resume at, Unix ms ("" when not set; controls)
//
// The reply is {r1, r2, view...}: r1 and r2 are the operation's own results
// (0 when unused) and view is the room's View as of the end of the step.
//
// The arithmetic is the in-memory line's (room/line.go), step for step, in IEEE
// doubles: Lua 5.1 numbers are doubles, so tokens and rate compute exactly
// as Go's float64 does, and counters and Unix milliseconds are exact up to
// 2^53. Tokens are kept as strings with 17 significant digits, which
// round-trip every double; rate and capacity are kept as the strings Go
// sent and returned unchanged.
const script = `
local stateKey, slotsKey = KEYS[1], KEYS[2]
local op = ARGV[1]

-- time.Time{}.UnixMilli(): the last tick of a room nobody initialised.
local ZERO_TIME = -62135596800000
-- time.Duration's range in ms; beyond it Time.Sub saturates.
local MAX_DUR_MS = 9223372036854
local MAX_DUR_SEC = 9223372036 + 854775807 / 1e9

local function fint(x) return string.format('%.0f', x) end
local function fflt(x) return string.format('%.17g', x) end

-- Go's built-in max and min for float64: NaN wins, and +0 > -0.
local function gmax(a, b)
	if a ~= a or b ~= b then return 0 / 0 end
	if a > b then return a end
	if b > a then return b end
	if a == 0 then return a + b end
	return a
end
local function gmin(a, b)
	if a ~= a or b ~= b then return 0 / 0 end
	if a < b then return a end
	if b < a then return b end
	if a == 0 then return -(-a + -b) end
	return a
end

local function optnum(s)
	if s == nil or s == '' then return nil end
	return tonumber(s)
end

-- The room's state; a room with no state reads as Go's zero line.
local S = {init = 0, fr = 0, n = 0, pre = 0, post = 0, rp = 0, ro = 0, srv = 0,
	paused = 0, closed = 0, cap = '0', rate = '0', cs = 0, lk = '', joins = 0,
	adm = 0, lvs = 0, exp = 0, tok = 0, lt = ZERO_TIME, msg = '', ra = ''}
local h = redis.call('HGETALL', stateKey)
for i = 1, #h, 2 do
	local f, v = h[i], h[i + 1]
	if f == 'cap' or f == 'rate' or f == 'lk' or f == 'msg' or f == 'ra' then
		S[f] = v
	else
		S[f] = tonumber(v)
	end
end

local function save()
	redis.call('HSET', stateKey, 'init', fint(S.init),
		'fr', fint(S.fr), 'n', fint(S.n), 'pre', fint(S.pre), 'post', fint(S.post),
		'rp', fint(S.rp), 'ro', fint(S.ro),
		'srv', fint(S.srv), 'paused', fint(S.paused), 'closed', fint(S.closed),
		'cap', S.cap, 'rate', S.rate, 'cs', fint(S.cs), 'lk', S.lk,
		'joins', fint(S.joins), 'adm', fint(S.adm), 'lvs', fint(S.lvs), 'exp', fint(S.exp),
		'tok', fflt(S.tok), 'lt', fint(S.lt), 'msg', S.msg, 'ra', S.ra)
end

local function view(r1, r2)
	return {r1, r2, S.fr, S.n, S.pre, S.post, S.rp, S.ro, S.srv, redis.call('HLEN', slotsKey),
		S.paused, S.closed, S.cap, S.rate, S.cs, S.lk, S.joins, S.adm, S.lvs, S.exp, S.msg, S.ra}
end

local function setControls()
	S.paused, S.closed = tonumber(ARGV[8]), tonumber(ARGV[9])
	S.cap, S.rate = ARGV[10], ARGV[11]
	S.msg, S.ra = ARGV[13], ARGV[14]
	S.cs = S.cs + 1
end

-- slot parses a slots value "expiresMs:claimed".
local function slot(v)
	local e, c = string.match(v, '^(-?%d+):([01])$')
	return tonumber(e), c == '1'
end

local function freeze()
	if S.fr == 1 then return end
	if S.lk == '' then S.lk = ARGV[7] end
	S.fr, S.n, S.rp = 1, S.pre, S.pre
end

-- admit is line.admit (a line in Redis has no uncertain places).
local function admit(now)
	local dtms = now - S.lt
	local dt = 0
	if dtms > MAX_DUR_MS then
		dt = MAX_DUR_SEC
	elseif dtms > 0 then
		-- Duration.Seconds: float64(sec) + float64(nsec)/1e9
		local rem = dtms % 1000
		dt = (dtms - rem) / 1000 + (rem * 1e6) / 1e9
	end
	if now > S.lt then S.lt = now end
	local closesAt = optnum(ARGV[5])
	if S.fr ~= 1 or S.paused == 1 or S.closed == 1 or (closesAt ~= nil and now >= closesAt) then
		return
	end
	local rate = tonumber(S.rate)
	if dt > 0 then
		S.tok = gmin(gmax(1, rate / 10), S.tok + rate * dt)
	end
	local total = S.n + S.post
	local cap = tonumber(S.cap)
	local active = redis.call('HLEN', slotsKey)
	local expires = fint(now + tonumber(ARGV[6])) .. ':0'
	while S.srv < total and active < cap and S.tok >= 1 do
		S.srv = S.srv + 1
		redis.call('HSET', slotsKey, fint(S.srv), expires)
		active = active + 1
		S.tok = S.tok - 1
		S.adm = S.adm + 1
	end
end

local now = optnum(ARGV[2])

-- A room nobody initialised, or whose state was lost (Redis restarted
-- without persistence), must not start its line again from zero: tickets
-- in people's hands hold those places. Only Init creates; Active answers
-- "no session" either way.
if S.init ~= 1 and op ~= 'init' and op ~= 'active' then
	return redis.error_reply('sluice: no shared state for this room')
end

if op == 'init' then
	-- The first Init wins.
	if S.init ~= 1 then
		S.init = 1
		setControls()
		S.tok = gmax(1, tonumber(S.rate) / 10)
		S.lt = now
		save()
	end
	return view(0, 0)
elseif op == 'view' then
	return view(0, 0)
elseif op == 'reserve' then
	local n = tonumber(ARGV[3])
	if tonumber(ARGV[12]) == 0 then
		if S.fr ~= 1 and S.pre + n > S.rp then S.rp = S.pre + n end
	elseif S.post + n > S.ro then
		S.ro = S.post + n
	end
	save()
	return view(0, 0)
elseif op == 'join' then
	-- r1 is the phase, 2 + the phase when its reservation is used up.
	local opensAt = optnum(ARGV[4])
	if S.fr ~= 1 and opensAt ~= nil and now < opensAt then
		if S.pre >= S.rp then return view(2, 0) end
		S.joins = S.joins + 1
		S.pre = S.pre + 1
		save()
		return view(0, S.pre - 1)
	end
	freeze()
	if S.post >= S.ro then
		save()
		return view(3, 0)
	end
	S.joins = S.joins + 1
	S.post = S.post + 1
	local seq = S.post - 1
	admit(now)
	save()
	return view(1, seq)
elseif op == 'freeze' or op == 'tick' then
	local opensAt = optnum(ARGV[4])
	if opensAt == nil or now >= opensAt then freeze() end
	if op == 'freeze' then
		save()
		return view(0, 0)
	end
	local sl = redis.call('HGETALL', slotsKey)
	for i = 1, #sl, 2 do
		local e = slot(sl[i + 1])
		if now >= e then
			redis.call('HDEL', slotsKey, sl[i])
			S.exp = S.exp + 1
		end
	end
	admit(now)
	save()
	return view(0, 0)
elseif op == 'claim' then
	local pos = ARGV[3]
	local v = redis.call('HGET', slotsKey, pos)
	if not v then return view(0, 0) end
	local e, claimed = slot(v)
	if now >= e then
		redis.call('HDEL', slotsKey, pos)
		S.exp = S.exp + 1
		save()
		return view(0, 0)
	end
	if not claimed then
		e = now + tonumber(ARGV[6])
		redis.call('HSET', slotsKey, pos, fint(e) .. ':1')
	end
	return view(1, e)
elseif op == 'active' then
	local v = redis.call('HGET', slotsKey, ARGV[3])
	if not v then return view(0, 0) end
	local e, claimed = slot(v)
	if claimed and now < e then return view(1, 0) end
	return view(0, 0)
elseif op == 'leave' then
	if redis.call('HDEL', slotsKey, ARGV[3]) == 0 then return view(0, 0) end
	S.lvs = S.lvs + 1
	admit(now)
	save()
	return view(1, 0)
elseif op == 'setcontrols' then
	setControls()
	save()
	return view(0, 0)
end
return redis.error_reply('sluice: unknown operation ' .. tostring(op))
`
