package redis

// This file is over 700 lines on purpose: it is one Lua program (a Go
// string), loaded into Redis as a unit; its functions call one another and
// share the state they parse, so splitting the string would only scatter
// one flow across files. Its Go twin is room's line (line.go, lease.go,
// uncertain.go), checked against it by the differential tests.

// script is the whole of room.Shared as one Lua script, so that every method
// is one atomic step on the room's keys (KEYS[1] the state hash, KEYS[2]
// the slots hash, KEYS[3] the bitmap of places admitted in line order whose
// session was never collected, room/late.go). ARGV[1] names the operation;
// the other arguments have fixed places (filled in by Store.run):
//
//	ARGV[2]  now, Unix ms
//	ARGV[3]  pos (for reserve: how many numbers)
//	ARGV[4]  opens at, Unix ms ("" when not set)
//	ARGV[5]  closes at, Unix ms ("" when not set)
//	ARGV[6]  claim timeout, ms
//	ARGV[7]  lottery key
//	ARGV[8]  paused (0|1)
//	ARGV[9]  closed (0|1)
//	ARGV[10] capacity, decimal
//	ARGV[11] rate, Go float64 formatted with strconv 'g' -1
//	ARGV[12] phase for reserve and uncertain (0 pre-queue, 1 open); for
//	         reserve ARGV[3] is the count
//	ARGV[13] the operator's message (controls)
//	ARGV[14] resume at, Unix ms ("" when not set; controls)
//	ARGV[15] pass TTL, ms (claim)
//	ARGV[16] the places of the line's uncertain pre-queue numbers, drawn
//	         by the node: "N|key|numbers|places" (see draw below)
//	ARGV[17] uncertain: the numbers "from:to"
//	ARGV[18] restore: what the node saw (see the restore step)
//	ARGV[19] init and restore: the epoch
//	ARGV[20] restore: the lottery key the node saw
//	ARGV[21] restore: how long the line is held, ms
//	ARGV[22] tick and lease: the node's report on its block of join
//	         numbers "node:phase:from:used:final" ("" when none; final is
//	         0|1, absent from an older node's report; room/lease.go)
//	ARGV[23] lease: the node's id
//	ARGV[24] setcontrolsif: the change number (View.ControlsSet) the
//	         controls must still be at
//	ARGV[25] the pacing (controls): room.Pacing as JSON, "" when unset
//	ARGV[26] claim: until when the place may be claimed late, Unix ms
//	         ("" when it may not; AdmitParams.LateUntil)
//
// The blocks of join numbers leased by nodes (room/lease.go) are the list
// "le" in the state hash: "node:phase:from:to:used:seenMs:state;...", state
// room.LeaseState. An entry of an older script has no seenMs and state: it
// reads as a live block last seen at time 0, which admission cuts when it
// reaches it, as that script did. (An older script reading this list takes
// a cut block for a live one and cuts it again: its numbers are uncertain
// already and behind serving, so nothing changes but the entry.)
//
// Uncertain places (room/uncertain.go) are four lists in the state hash:
// "us" join numbers "phase:from:to;...", "up" places not reached
// "from:to;...", "po" places passed over "from:to:untilMs;...", "cl"
// claimants "place:untilMs;...". Lua cannot draw the lottery (64-bit
// integer arithmetic), so a step that must find the places of pre-queue
// numbers fails with "sluice: draw N key numbers" before changing
// anything; Store.run draws them with AdmitParams.Draw and runs the step
// again with the places in ARGV[16].
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
local stateKey, slotsKey, lateKey = KEYS[1], KEYS[2], KEYS[3]
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
local function zero()
	return {init = 0, ep = '', fr = 0, n = 0, pre = 0, post = 0, rp = 0, ro = 0, srv = 0,
		paused = 0, closed = 0, cap = '0', rate = '0', cs = 0, lk = '', joins = 0,
		adm = 0, lvs = 0, exp = 0, sk = 0, tok = 0, lt = ZERO_TIME, hold = 0, ls = 0, lu = 0,
		us = '', up = '', po = '', cl = '', msg = '', ra = '', le = '', pc = ''}
end
local S = zero()
local STRINGS = {ep = true, cap = true, rate = true, lk = true, us = true, up = true, po = true, cl = true,
	msg = true, ra = true, le = true, pc = true}
local h = redis.call('HGETALL', stateKey)
for i = 1, #h, 2 do
	local f, v = h[i], h[i + 1]
	if STRINGS[f] then
		S[f] = v
	else
		S[f] = tonumber(v)
	end
end

-- list parses "a:b:c;a:b:c" into {{a, b, c}, ...}.
local function list(s)
	local out = {}
	for item in string.gmatch(s, '[^;]+') do
		local t = {}
		for x in string.gmatch(item, '[^:]+') do t[#t + 1] = tonumber(x) end
		out[#out + 1] = t
	end
	return out
end
local function unlist(l)
	local parts = {}
	for i, t in ipairs(l) do
		local f = {}
		for j, x in ipairs(t) do f[j] = string.format('%.0f', x) end
		parts[i] = table.concat(f, ':')
	end
	return table.concat(parts, ';')
end
-- The uncertain places' lists (see uncertain.go).
local U = {us = list(S.us), up = list(S.up), po = list(S.po), cl = list(S.cl)}
-- The nodes' blocks of join numbers, {node, phase, from, to, used,
-- seenMs, state}.
local L = list(S.le)
for _, b in ipairs(L) do
	b[6], b[7] = b[6] or 0, b[7] or 0
end
-- lateWindow and maxMarkedPlace (room/late.go): a line written before
-- lateKey existed has no marks, and nobody's place there is claimed late.
local LATE_WINDOW, MAX_MARKED = 16777216, 4294967296
local function unmark(p)
	if p < MAX_MARKED and redis.call('GETBIT', lateKey, p) == 1 then redis.call('SETBIT', lateKey, p, 0) end
end

-- room.LeaseState, and leaseGrace in ms.
local LIVE, REACHED, ONCE, DUE, CUT = 0, 1, 2, 3, 4
local LEASE_GRACE_MS = 250

local function save()
	redis.call('HSET', stateKey, 'init', fint(S.init),
		'fr', fint(S.fr), 'n', fint(S.n), 'pre', fint(S.pre), 'post', fint(S.post),
		'rp', fint(S.rp), 'ro', fint(S.ro),
		'srv', fint(S.srv), 'paused', fint(S.paused), 'closed', fint(S.closed),
		'cap', S.cap, 'rate', S.rate, 'cs', fint(S.cs), 'lk', S.lk,
		'joins', fint(S.joins), 'adm', fint(S.adm), 'lvs', fint(S.lvs), 'exp', fint(S.exp),
		'sk', fint(S.sk), 'tok', fflt(S.tok), 'lt', fint(S.lt), 'ep', S.ep, 'hold', fint(S.hold),
		'ls', fint(S.ls), 'lu', fint(S.lu), 'msg', S.msg, 'ra', S.ra, 'pc', S.pc,
		'us', unlist(U.us), 'up', unlist(U.up), 'po', unlist(U.po), 'cl', unlist(U.cl), 'le', unlist(L))
end

local function view(r1, r2)
	return {r1, r2, S.fr, S.n, S.pre, S.post, S.rp, S.ro, S.srv, redis.call('HLEN', slotsKey),
		S.paused, S.closed, S.cap, S.rate, S.cs, S.lk, S.joins, S.adm, S.lvs, S.exp, S.sk, S.ep, S.msg, S.ra, S.pc, #U.cl}
end

-- mergeSeq is mergeSeqs: adds numbers [from, to) of phase ph to the
-- sorted, disjoint ranges l.
local function mergeSeq(l, ph, from, to)
	if from >= to then return l end
	local out = {}
	for _, x in ipairs(l) do
		if x[1] ~= ph or x[3] < from or to < x[2] then
			out[#out + 1] = x
		else
			from, to = math.min(from, x[2]), math.max(to, x[3])
		end
	end
	local at = #out + 1
	for i, x in ipairs(out) do
		if x[1] > ph or (x[1] == ph and x[2] >= from) then at = i break end
	end
	table.insert(out, at, {ph, from, to})
	return out
end

-- mergePlace is mergePlaces.
local function mergePlace(l, from, to)
	if from >= to then return l end
	local out = {}
	for _, x in ipairs(l) do
		if x[2] < from or to < x[1] then
			out[#out + 1] = x
		else
			from, to = math.min(from, x[1]), math.max(to, x[2])
		end
	end
	local at = #out + 1
	for i, x in ipairs(out) do
		if x[1] >= from then at = i break end
	end
	table.insert(out, at, {from, to})
	return out
end

local function hasPrequeueSeqs()
	for _, r in ipairs(U.us) do
		if r[1] == 0 then return true end
	end
	return false
end

-- drawn is the places of the pre-queue numbers in "us" for a pre-queue of
-- n drawn with key, from ARGV[16], or nil when the node has not drawn them
-- for exactly these.
local function drawn(n, key)
	local dn, dk, dus, places = string.match(ARGV[16] or '', '^(%d+)|([^|]*)|([^|]*)|(.*)$')
	if dn == nil or tonumber(dn) ~= n or dk ~= key or dus ~= unlist(U.us) then return nil end
	return list(places)
end

-- settle is line.settle: once the pre-queue is drawn, the uncertain
-- numbers become places.
local function settle()
	if S.fr ~= 1 or #U.us == 0 then return end
	for _, r in ipairs(U.us) do
		if r[1] == 1 then U.up = mergePlace(U.up, S.n + r[2] + 1, S.n + r[3] + 1) end
	end
	if hasPrequeueSeqs() then
		local places = drawn(S.n, S.lk)
		if places == nil then error('sluice: the places of uncertain pre-queue numbers were not drawn') end
		for _, p in ipairs(places) do U.up = mergePlace(U.up, p[1], p[2]) end
	end
	U.us = {}
	while #U.up > 0 and U.up[1][2] <= S.srv + 1 do table.remove(U.up, 1) end
	if #U.up > 0 and U.up[1][1] <= S.srv then U.up[1][1] = S.srv + 1 end
end

local function setControls()
	S.paused, S.closed = tonumber(ARGV[8]), tonumber(ARGV[9])
	S.cap, S.rate = ARGV[10], ARGV[11]
	S.msg, S.ra, S.pc = ARGV[13], ARGV[14], ARGV[25] or ''
	S.cs = S.cs + 1
end

-- slot parses a slots value "expiresMs:claimed".
local function slot(v)
	local e, c = string.match(v, '^(-?%d+):([01])$')
	return tonumber(e), c == '1'
end

-- dropPassedOver is line.dropPassedOver.
local function dropPassedOver(from, to)
	local out = {}
	for _, x in ipairs(U.po) do
		if x[2] <= from or to <= x[1] then
			out[#out + 1] = x
		else
			if x[1] < from then out[#out + 1] = {x[1], from, x[3]} end
			if to < x[2] then out[#out + 1] = {to, x[2], x[3]} end
		end
	end
	U.po = out
end

-- report is line.report (ARGV[22]).
local function report(now)
	local r = list(ARGV[22] or '')[1]
	if r == nil then return end
	for i, b in ipairs(L) do
		if b[1] == r[1] and b[2] == r[2] and b[3] == r[3] then
			local used = math.min(r[4], b[4])
			if used > b[5] then
				S.joins = S.joins + (used - b[5])
				b[5] = used
				if b[7] ~= CUT then b[7] = LIVE end
			elseif b[7] == REACHED or b[7] == ONCE then
				b[7] = b[7] + 1
			end
			if b[7] ~= CUT then
				if now > b[6] then b[6] = now end
			elseif r[5] == 1 then
				dropPassedOver(S.n + b[5] + 1, S.n + b[4] + 1)
				table.remove(L, i)
			end
			return
		end
	end
end

-- cutLease is line.cutLease (settled by the caller).
local function cutLease(i)
	local b = table.remove(L, i)
	U.us = mergeSeq(U.us, b[2], b[5], b[4])
end

-- cutPrequeueLeases is line.cutPrequeueLeases.
local function cutPrequeueLeases()
	local i = 1
	while i <= #L do
		if L[i][2] == 0 then cutLease(i) else i = i + 1 end
	end
end

-- leaseAt is line.leaseAt.
local function leaseAt(p)
	if #L == 0 or p <= S.n then return 0 end
	local s = p - S.n - 1
	for i, b in ipairs(L) do
		if b[2] == 1 and b[7] ~= CUT and b[5] <= s and s < b[4] then return i end
	end
	return 0
end

-- waitLease is line.waitLease (settled by the caller).
local function waitLease(i, now)
	local b = L[i]
	if b[7] ~= DUE and now - b[6] < LEASE_GRACE_MS then
		if b[7] == LIVE then b[7] = REACHED end
		return true
	end
	b[7], b[6] = CUT, now
	U.us = mergeSeq(U.us, b[2], b[5], b[4])
	return false
end

-- sweepLeases is line.sweepLeases.
local function sweepLeases(now)
	local ct = tonumber(ARGV[6])
	local le = {}
	for _, b in ipairs(L) do
		if b[7] ~= CUT or now < b[6] + ct then le[#le + 1] = b end
	end
	L = le
end

local function freeze()
	if S.fr == 1 then return end
	cutPrequeueLeases()
	if S.lk == '' then S.lk = ARGV[7] end
	S.fr, S.n, S.rp = 1, S.pre, S.pre
	settle()
end

-- uncertainRun is line.uncertainRun.
local function uncertainRun(p)
	while #U.up > 0 and U.up[1][2] <= p do table.remove(U.up, 1) end
	if #U.up == 0 or U.up[1][1] > p then return 0 end
	return U.up[1][2]
end

-- passOver is line.passOver.
local function passOver(from, to, untilMs)
	S.srv = to - 1
	S.sk = S.sk + (to - from)
	local n = #U.po
	if n > 0 and U.po[n][2] == from and U.po[n][3] == untilMs then
		U.po[n][2] = to
	else
		U.po[n + 1] = {from, to, untilMs}
	end
end

-- admit is line.admit.
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
	settle()
	local cap = tonumber(S.cap)
	local active = redis.call('HLEN', slotsKey)
	local claimTimeout = tonumber(ARGV[6])
	local expires = fint(now + claimTimeout) .. ':0'
	while #U.cl > 0 and active < cap and S.tok >= 1 do
		local p = table.remove(U.cl, 1)[1]
		redis.call('HSET', slotsKey, fint(p), expires)
		active = active + 1
		S.tok = S.tok - 1
		S.adm = S.adm + 1
		S.ls = math.max(0, S.ls - 1)
	end
	if now >= S.lu then S.ls = 0 end
	local total = S.n + S.post
	while S.srv < total do
		local nxt = S.srv + 1
		local to = uncertainRun(nxt)
		if to > 0 then
			passOver(nxt, math.min(to, total + 1), now + claimTimeout)
		else
			if active + S.ls >= cap or S.tok < 1 then break end
			local li = leaseAt(nxt)
			if li > 0 then
				if waitLease(li, now) then break end
				settle()
			else
			S.srv = nxt
			redis.call('HSET', slotsKey, fint(S.srv), expires)
			if S.srv < MAX_MARKED then redis.call('SETBIT', lateKey, S.srv, 1) end
			active = active + 1
			S.tok = S.tok - 1
			S.adm = S.adm + 1
			end
		end
	end
end

-- claimLate is line.claimLate.
local function claimLate(pos, now)
	local ci, at = nil, #U.cl + 1
	for i, c in ipairs(U.cl) do
		if c[1] == pos then ci = i break end
		if c[1] > pos then at = i break end
	end
	if ci == nil then
		local j = nil
		for i, r in ipairs(U.po) do
			if pos >= r[1] and pos < r[2] then j = i break end
		end
		if j ~= nil and now < U.po[j][3] then
			local r = table.remove(U.po, j)
			if pos + 1 < r[2] then table.insert(U.po, j, {pos + 1, r[2], r[3]}) end
			if r[1] < pos then table.insert(U.po, j, {r[1], pos, r[3]}) end
		else
			-- line.lateClaimable: once, its mark goes with this claim.
			local lateUntil = optnum(ARGV[26])
			if lateUntil == nil or not (now < lateUntil) or pos > S.srv or pos + LATE_WINDOW <= S.srv
				or pos >= MAX_MARKED or redis.call('GETBIT', lateKey, pos) ~= 1 then
				return false
			end
			redis.call('SETBIT', lateKey, pos, 0)
		end
		table.insert(U.cl, at, {pos, 0})
		ci = at
	end
	U.cl[ci][2] = now + tonumber(ARGV[6])
	admit(now)
	return true
end

-- sweepUncertain is line.sweepUncertain.
local function sweepUncertain(now)
	local po, cl = {}, {}
	for _, r in ipairs(U.po) do
		if now < r[3] then po[#po + 1] = r end
	end
	for _, c in ipairs(U.cl) do
		if now < c[2] then cl[#cl + 1] = c end
	end
	U.po, U.cl = po, cl
end

local now = optnum(ARGV[2])

-- A room nobody initialised, or whose state was lost (Redis restarted
-- without persistence), must not start its line again from zero: tickets
-- in people's hands hold those places. Only Init creates; Active answers
-- "no session" either way.
if S.init ~= 1 and op ~= 'init' and op ~= 'active' and op ~= 'restore' then
	return redis.error_reply('sluice: no shared state for this room')
end

if op == 'uncertain' then
	local from, to = string.match(ARGV[17], '^(%d+):(%d+)$')
	from, to = tonumber(from), tonumber(to)
	if from < to then U.us = mergeSeq(U.us, tonumber(ARGV[12]), from, to) end
end

-- A step that finds the places of uncertain pre-queue numbers (the line
-- is drawn, or is drawn by this step) needs them drawn by the node first
-- (see the comment at the top).
-- A node's report on its block comes first; a step that freezes the
-- pre-queue cuts its blocks first, so that the places of their unreported
-- numbers are drawn below.
if op == 'tick' or (op == 'lease' and now >= S.hold) then report(now) end
local freezes = S.fr ~= 1 and (op == 'join' or op == 'freeze' or op == 'tick' or op == 'lease') and (optnum(ARGV[4]) == nil or now >= optnum(ARGV[4])) and now >= S.hold
if freezes then cutPrequeueLeases() end
if hasPrequeueSeqs() then
	local settles = op == 'join' or op == 'freeze' or op == 'tick' or op == 'claim' or op == 'leave' or op == 'uncertain' or op == 'restore' or op == 'lease'
	if settles and (S.fr == 1 or freezes) then
		local n, key = S.n, S.lk
		if freezes then
			n = S.pre
			if key == '' then key = ARGV[7] end
		end
		if drawn(n, key) == nil then
			return redis.error_reply('sluice: draw ' .. fint(n) .. ' ' .. key .. ' ' .. unlist(U.us))
		end
	end
end

if op == 'init' then
	-- The first Init wins.
	if S.init ~= 1 then
		S.init = 1
		S.ep = ARGV[19]
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
	-- r1 is the phase, 2 + the phase when its reservation is used up, 4
	-- while the line is held after a restore.
	if now < S.hold then return view(4, 0) end
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
elseif op == 'lease' then
	-- r1 is the phase of the block (4 while the line is held after a
	-- restore), r2 its first number.
	if now < S.hold then return view(4, 0) end
	local node, n = tonumber(ARGV[23]), math.max(tonumber(ARGV[3]), 1)
	local opensAt = optnum(ARGV[4])
	local ph = 1
	if S.fr ~= 1 and opensAt ~= nil and now < opensAt then ph = 0 else freeze() end
	local i = 1
	while i <= #L do
		if L[i][1] ~= node then
			i = i + 1
		elseif L[i][7] == CUT then
			table.remove(L, i)
		else
			cutLease(i)
		end
	end
	settle()
	local from
	if ph == 0 then
		from = S.pre
		S.pre = S.pre + n
		if S.pre > S.rp then S.rp = S.pre end
	else
		from = S.post
		S.post = S.post + n
		if S.post > S.ro then S.ro = S.post end
	end
	L[#L + 1] = {node, ph, from, from + n, from + 1, now, LIVE}
	S.joins = S.joins + 1
	if ph == 1 then admit(now) end
	save()
	return view(ph, from)
elseif op == 'freeze' or op == 'tick' then
	local opensAt = optnum(ARGV[4])
	if (opensAt == nil or now >= opensAt) and now >= S.hold then freeze() end
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
	sweepUncertain(now)
	sweepLeases(now)
	admit(now)
	save()
	return view(0, 0)
elseif op == 'claim' then
	-- r1: 1 claimed (r2 the session's end), 0 no session, 2 wait
	-- (ErrClaimWait).
	local pos = ARGV[3]
	local v = redis.call('HGET', slotsKey, pos)
	if not v then
		if not claimLate(tonumber(pos), now) then return view(0, 0) end
		save()
		v = redis.call('HGET', slotsKey, pos)
		if not v then return view(2, 0) end
	end
	local e, claimed = slot(v)
	if now >= e then
		redis.call('HDEL', slotsKey, pos)
		S.exp = S.exp + 1
		save()
		return view(0, 0)
	end
	if not claimed then
		e = now + tonumber(ARGV[15])
		redis.call('HSET', slotsKey, pos, fint(e) .. ':1')
		unmark(tonumber(pos))
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
elseif op == 'restore' then
	-- r1 is 1 when the line was created or replaced. ARGV[18] is what the
	-- node saw, "fr:n:pre:rp:post:ro:srv:cs:joins:adm:lvs:exp:sk:from",
	-- ARGV[19] its epoch, ARGV[20] its lottery key, ARGV[21] the hold in
	-- ms; its controls as for setcontrols.
	local f = list(ARGV[18])[1]
	local seen = {fr = f[1], n = f[2], pre = f[3], rp = f[4], post = f[5], ro = f[6], srv = f[7], cs = f[8],
		joins = f[9], adm = f[10], lvs = f[11], exp = f[12], sk = f[13]}
	local from, ep = f[14], ARGV[19]
	local created = 0
	if S.init == 1 and S.ep ~= ep then
		if S.joins ~= 0 then return redis.error_reply('sluice: line reset') end
		redis.call('DEL', slotsKey, lateKey)
		S = zero()
		U = {us = {}, up = {}, po = {}, cl = {}}
		L = {}
	end
	if S.init ~= 1 then
		S.init, S.ep = 1, ep
		setControls()
		S.cs = seen.cs
		S.tok = gmax(1, tonumber(S.rate) / 10)
		S.lt = now
		created = 1
	end
	-- line.restore
	local raised = false
	if seen.fr == 1 and S.fr ~= 1 then
		S.fr, S.n, S.pre, S.rp = 1, seen.n, seen.n, seen.n
		S.lk = ARGV[20]
		local us = {}
		for _, r in ipairs(U.us) do
			if r[1] ~= 0 then us[#us + 1] = r end
		end
		U.us = us
		local le = {}
		for _, b in ipairs(L) do
			if b[2] ~= 0 then le[#le + 1] = b end
		end
		L = le
		raised = true
	end
	if S.fr ~= 1 and (seen.pre > S.pre or seen.rp > S.rp) then
		local mark = math.max(S.rp, seen.rp, seen.pre)
		U.us = mergeSeq(U.us, 0, math.max(S.pre, seen.pre), mark)
		S.pre, S.rp = mark, mark
		raised = true
	end
	if seen.post > S.post or seen.ro > S.ro then
		local mark = math.max(S.ro, seen.ro, seen.post)
		U.us = mergeSeq(U.us, 1, math.max(S.post, seen.post), mark)
		S.post, S.ro = mark, mark
		raised = true
	end
	if seen.srv > S.srv then
		local lo = math.max(from, S.srv)
		if lo < seen.srv then U.po[#U.po + 1] = {lo + 1, seen.srv + 1, now + tonumber(ARGV[6])} end
		S.srv = seen.srv
		raised = true
	end
	if seen.cs > S.cs then
		setControls()
		S.cs = seen.cs
		raised = true
	end
	S.joins = math.max(S.joins, seen.joins)
	S.sk = math.max(S.sk, seen.sk)
	S.lvs = math.max(S.lvs, seen.lvs)
	S.exp = math.max(S.exp, seen.exp)
	local active = redis.call('HLEN', slotsKey)
	local sessions = seen.adm - math.min(seen.adm, seen.lvs + seen.exp)
	local lost = math.min(sessions, math.max(tonumber(S.cap), 0)) - active
	if lost > S.ls then S.ls, S.lu = lost, now + tonumber(ARGV[6]) end
	S.adm = math.max(S.adm, seen.adm, S.exp + S.lvs + active)
	S.exp = S.adm - S.lvs - active
	settle()
	local hold = now + tonumber(ARGV[21])
	if raised and hold > S.hold then S.hold = hold end
	save()
	return view(created, 0)
elseif op == 'uncertain' then
	-- The numbers were added to "us" above.
	settle()
	save()
	return view(0, 0)
elseif op == 'setcontrols' then
	setControls()
	save()
	return view(0, 0)
elseif op == 'setcontrolsif' then
	-- r1 is 1 when the controls were still at change ARGV[24] and changed.
	if S.cs ~= tonumber(ARGV[24]) then return view(0, 0) end
	setControls()
	save()
	return view(1, 0)
end
return redis.error_reply('sluice: unknown operation ' .. tostring(op))
`
