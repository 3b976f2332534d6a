// Sluice waiting page: live updates without reloading.
//
// The page works without this script (meta refresh, ticket in a cookie).
// With it: the status is polled on the server's poll_after_ms (near the
// front, held open until the turn comes: ?wait=10); the ticket is
// also kept in local storage, so a browser that lost its cookie gets its old
// place back; when admitted the page moves on by itself (the server sets
// the pass cookie and redirects). Times shown follow the server's clock,
// never the device's.
//
// The ticket is forgotten only on answers that are final (docs/API.md,
// "Which answers are final"): a ticket that can never be valid (401
// ticket_invalid, ticket_wrong_room, ticket_wrong_kind). A turn over is
// said only after CONFIRM answers in a row, and even then the ticket is
// kept until the person joins again (which replaces it): a node that lost
// its state may say it of a valid ticket, and a reload then brings the
// place back. Anything else (503 with Retry-After, 429, other errors, a
// lost connection, a node that does not know the room or the ticket's
// key) keeps the ticket: the last numbers stay on screen, the page says
// what is happening and asks again with backoff.
(function () {
  'use strict';
  var root = document.getElementById('wait');
  if (!root || !window.fetch || !window.JSON) return;
  var d = root.dataset;
  var room = d.room, ret = d.return || '', state = d.state;
  // Sluice's own paths are under d.base in sluice proxy ("" otherwise).
  var base = d.base || '';
  var txt = {};
  try { txt = JSON.parse(document.getElementById('wait-text').textContent); } catch (e) {}
  var key = 'sluice_ticket_' + room;
  var ticket = d.ticket || '';
  var first = Number(d.first) || 0;
  var poll = Number(d.poll) || 2000;
  var t0 = performance.now(), server0 = Number(d.now) || Date.now();
  var failures = 0, overs = 0, timer = 0, tick = 0, opensAt = 0;
  var FINAL = { ticket_invalid: 1, ticket_wrong_room: 1, ticket_wrong_kind: 1 };
  var CONFIRM = 3; // turn_over answers since the last good one that make it sure
  var MAX_WAIT = 3600e3; // room.MaxPollAfter: no timer is set longer
  var MAX_ETA = 2592000; // room.MaxETA in seconds: the longest eta_seconds
  var waitURL = base + '/wait/' + encodeURIComponent(room) + (ret ? '?return=' + encodeURIComponent(ret) : '');
  var api = base + '/api/v1/rooms/' + encodeURIComponent(room);

  function serverNow() { return server0 + (performance.now() - t0); }
  function $(id) { return document.getElementById(id); }
  function setText(id, s) { var el = $(id); if (el && el.textContent !== s) el.textContent = s; }
  function fill(s, v) { return String(s || '').replace(/\{(\w)\}/g, function (_, k) { return v[k] === undefined ? '' : v[k]; }); }
  function num(n) { return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','); }
  function dur(sec, fine) {
    if (sec === null || sec === undefined || sec < 0) return txt.unknown;
    sec = Math.round(sec);
    var h = Math.floor(sec / 3600), m = Math.floor(sec % 3600 / 60), s = sec % 60, v = { h: h, m: m, s: s };
    if (h > 0) return fill(fine ? txt.hms : txt.hm, v);
    if (m >= 10 && !fine) return fill(txt.m, v);
    if (m > 0) return fill(txt.ms, v);
    return fill(txt.s, v);
  }
  // Same rounding as Lang.PerMinute; from an estimate at the cap
  // (MAX_ETA), only a ceiling.
  function perMinute(ahead, eta) {
    if (!(eta > 0)) return txt.rateStopped;
    var m = (ahead + 1) / eta * 60;
    if (m < 1) return txt.rateSlow;
    m = m >= 100 ? Math.round(m / 10) * 10 : Math.round(m);
    return fill(eta >= MAX_ETA ? txt.rateAtMost : txt.rate, { n: num(m) });
  }
  function clock() {
    // Korea time (UTC+9, no daylight saving) of the server's clock.
    return new Date(serverNow() + 9 * 3600e3).toISOString().substr(11, 8);
  }

  function load() { try { return JSON.parse(localStorage.getItem(key) || 'null'); } catch (e) { return null; } }
  function store() { try { if (ticket) localStorage.setItem(key, JSON.stringify({ t: ticket, f: first })); } catch (e) {} }
  function forget() { try { localStorage.removeItem(key); } catch (e) {} }
  function cookie(name, value, maxAge) {
    // The path the server gives these cookies (web.Server.setCookie).
    document.cookie = name + '=' + value + '; path=' + base + '/; max-age=' + (maxAge === undefined ? 86400 : maxAge) +
      '; samesite=lax' + (location.protocol === 'https:' ? '; secure' : '');
  }
  function go(url) { clearTimeout(timer); location.replace(url); }

  // What an answer means for the ticket: ok, final (forget it), over (the
  // turn has passed, if confirmed), page (the page says what happened:
  // closed, not open yet) or retry (may be transient: keep it, ask again).
  function kind(res) {
    var code = res.body && res.body.code;
    if (res.status === 200 || res.status === 201) return 'ok';
    if (res.status === 401 && FINAL[code]) return 'final';
    if (res.status === 410 && code === 'turn_over') return 'over';
    if ((res.status === 410 && code === 'room_closed') || (res.status === 403 && code === 'room_not_open')) return 'page';
    return 'retry';
  }
  // backoff is the wait before the n-th try in a row: exponential from the
  // advised interval up to 30 s, with jitter, and at least Retry-After.
  function backoff(n, retryAfter) {
    var delay = Math.min(30000, Math.max(1000, poll) * Math.pow(2, n - 1));
    return Math.max(delay / 2 + Math.random() * delay / 2, (retryAfter || 0) * 1000);
  }
  function schedule(ms, f) {
    clearTimeout(timer);
    timer = setTimeout(f || check, Math.min(MAX_WAIT, Math.max(250, ms)));
  }

  if (state === 'left') { forget(); return; }
  if (state === 'turn_over') { confirmOver(); return; }
  // Not open yet, too busy, a server error: the page says it tries again
  // by itself, and does, after the server's interval.
  if ((state === 'not_open' || state === 'busy' || state === 'error') && Number(d.refresh) > 0) {
    schedule(Number(d.refresh) * 1000, function () { location.reload(); });
    return;
  }
  if (state !== 'waiting' && state !== 'paused' && state !== 'prequeue') { store(); return; }

  function conn(msg, off) {
    var el = $('conn');
    if (!el) return;
    el.className = off ? 'conn off' : 'conn';
    if (el.textContent !== msg) el.textContent = msg;
  }

  function show(st) {
    $('panel-prequeue').hidden = st !== 'prequeue';
    $('panel-line').hidden = st === 'prequeue';
    $('panel-paused').hidden = st !== 'paused';
    state = st;
  }

  function countdown() {
    var left = (opensAt - serverNow()) / 1000;
    setText('countdown', left > 0 ? dur(left, true) : txt.soon);
  }

  function apply(b) {
    if (b.state === 'admitted') { conn(txt.admitted); go(waitURL); return false; }
    if (b.state === 'closed' || (b.state !== 'waiting' && b.state !== 'paused' && b.state !== 'prequeue')) { go(waitURL); return false; }
    show(b.state);
    if (b.state === 'prequeue') {
      if (b.eta_seconds !== null && b.eta_seconds !== undefined) opensAt = serverNow() + b.eta_seconds * 1000;
      if (!tick) tick = setInterval(countdown, 1000);
      countdown();
    } else {
      if (tick) { clearInterval(tick); tick = 0; }
      var pos = b.position || 0;
      if (pos && (!first || pos > first)) { first = pos; cookie('sluice_first_' + room, first); }
      setText('ahead', fill(txt.people, { n: num(b.ahead || 0) }));
      setText('eta', b.state === 'paused' ? (b.resume_at ? fill(txt.etaResume, { w: when(b.resume_at) }) : txt.etaPaused) : dur(b.eta_seconds));
      setText('rate', b.state === 'paused' ? txt.rateStopped : perMinute(b.ahead || 0, b.eta_seconds));
      var bar = $('progress');
      if (bar && first) {
        // One step per person admitted, not per percent: with thousands
        // ahead the bar still moves.
        var moved = Math.max(0, first - pos), p = Math.floor(100 * moved / first);
        bar.max = first;
        bar.value = moved;
        bar.textContent = p + '%';
        setText('moved', fill(txt.moved, { n: num(moved), f: num(first), p: p }));
        $('moved').hidden = moved === 0;
      }
    }
    notice(b);
    setText('updated', clock());
    store();
    return true;
  }

  // The operator's word to the line, as the last answer has it.
  function notice(b) {
    var box = $('notice');
    if (!box) return;
    box.hidden = !b.message;
    setText('notice-text', b.message || '');
    var r = $('notice-resume');
    r.hidden = !b.resume_at;
    setText('notice-resume', b.resume_at ? fill(txt.noticeResume, { w: when(b.resume_at) }) : '');
  }

  // when writes an instant in Korea time as Lang.When does.
  function when(iso) {
    var d = new Date(Date.parse(iso) + 9 * 3600e3);
    var two = function (n) { return (n < 10 ? '0' : '') + n; };
    return fill(txt.when, {
      M: d.getUTCMonth() + 1, D: d.getUTCDate(), W: (txt.weekdays || '').split(',')[d.getUTCDay()],
      N: (txt.months || '').split(',')[d.getUTCMonth()], t: two(d.getUTCHours()) + ':' + two(d.getUTCMinutes())
    });
  }

  function request(method, url, tok) {
    return fetch(url, {
      method: method, cache: 'no-store', credentials: 'same-origin',
      headers: { 'Authorization': 'Bearer ' + tok, 'Accept': 'application/json' }
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        return { status: res.status, body: body, retry: Number(res.headers.get('Retry-After')) || 0 };
      });
    });
  }

  // failed keeps the ticket and asks again later, saying why.
  function failed(retryAfter, msg) {
    failures++;
    conn(msg || txt.unsure, true);
    schedule(backoff(failures, retryAfter));
  }

  // accept shows a good answer and asks again when it says.
  function accept(body, msg) {
    failures = 0;
    overs = 0;
    conn(msg);
    if (!apply(body)) return;
    poll = Number(body.poll_after_ms) || poll;
    schedule(poll);
  }

  function handle(res) {
    switch (kind(res)) {
    case 'ok':
      accept(res.body, txt.live);
      return;
    case 'over':
      // Said once, it may be a node that lost its state: ask again, a
      // few times, before the page says so.
      if (++overs >= CONFIRM) { go(waitURL); return; }
      conn(txt.checking, true);
      schedule(backoff(overs, res.retry));
      return;
    case 'final':
      forget();
      go(waitURL);
      return;
    case 'page':
      go(waitURL);
      return;
    }
    failed(res.retry);
  }

  // confirmOver runs on the page that says the turn has passed: it asks
  // again until the answer is sure; if the ticket turns out to be in line
  // after all (the answer came from a node that was wrong), it goes back
  // to the line.
  function confirmOver() {
    if (!ticket) return;
    overs = 1; // the answer this page was made from
    function again() {
      request('GET', api + '/status', ticket).then(function (res) {
        switch (kind(res)) {
        case 'ok': go(waitURL); return;
        case 'final': forget(); conn(''); return;
        case 'over':
          failures = 0;
          if (++overs >= CONFIRM) { conn(''); return; }
          conn(txt.checking);
          schedule(backoff(overs, res.retry), again);
          return;
        }
        failures++;
        conn(txt.unsure, true);
        schedule(backoff(failures, res.retry), again);
      }, function () {
        failures++;
        conn(txt.reconnecting, true);
        schedule(backoff(failures, 0), again);
      });
    }
    conn(txt.checking);
    schedule(backoff(1, 0), again);
  }

  // The status request may be held open up to 10 s for a turn expected
  // by then (docs/API.md, "wait"): the page learns of the turn at once.
  function check() {
    request('GET', api + '/status?wait=10', ticket).then(handle, function () { failed(0, txt.reconnecting); });
  }

  window.addEventListener('online', function () { if (failures) check(); });
  document.addEventListener('visibilitychange', function () { if (!document.hidden && failures) check(); });

  conn(txt.live);
  if (state === 'prequeue') {
    opensAt = serverNow() + (Number(d.eta) || 0) * 1000;
    tick = setInterval(countdown, 1000);
  }

  // The server issued a new ticket because no cookie came back: if local
  // storage still has an older ticket of this room, take its place back.
  // Until the older ticket's fate is sure, it stays in local storage.
  var saved = load();
  if (d.joined === '1' && saved && saved.t && saved.t !== ticket) {
    var recover = function () {
      request('POST', api + '/tickets', saved.t).then(function (res) {
        var k = kind(res);
        if (k === 'ok' && res.body && res.body.ticket === saved.t) {
          ticket = saved.t;
          first = Number(saved.f) || 0;
          cookie('sluice_ticket_' + room, ticket);
          if (first) cookie('sluice_first_' + room, first);
          accept(res.body, txt.recovered);
          return;
        }
        if (k === 'final' || (k === 'over' && ++overs >= CONFIRM)) {
          // The older ticket is over for sure: the new one is the place.
          overs = 0;
          store();
          schedule(poll);
          return;
        }
        failures++;
        conn(k === 'over' ? txt.checking : txt.unsure, true);
        schedule(backoff(k === 'over' ? overs : failures, res.retry), recover);
      }, function () {
        failures++;
        conn(txt.reconnecting, true);
        schedule(backoff(failures, 0), recover);
      });
    };
    recover();
    return;
  }
  store();
  schedule(poll);
})();
