// Sluice waiting page: live updates without reloading.
//
// The page works without this script (meta refresh, ticket in a cookie).
// With it: the status is polled on the server's poll_after_ms; the ticket is
// also kept in local storage, so a browser that lost its cookie gets its old
// place back; network errors are retried with backoff while the last numbers
// stay on screen; when admitted the page moves on by itself (the server sets
// the pass cookie and redirects). Times shown follow the server's clock,
// never the device's.
(function () {
  'use strict';
  var root = document.getElementById('wait');
  if (!root || !window.fetch || !window.JSON) return;
  var d = root.dataset;
  var room = d.room, ret = d.return || '', state = d.state;
  var txt = {};
  try { txt = JSON.parse(document.getElementById('wait-text').textContent); } catch (e) {}
  var key = 'sluice_ticket_' + room;
  var ticket = d.ticket || '';
  var first = Number(d.first) || 0;
  var poll = Number(d.poll) || 2000;
  var t0 = performance.now(), server0 = Number(d.now) || Date.now();
  var failures = 0, timer = 0, tick = 0, opensAt = 0;
  var waitURL = '/wait/' + encodeURIComponent(room) + (ret ? '?return=' + encodeURIComponent(ret) : '');
  var api = '/api/v1/rooms/' + encodeURIComponent(room);

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
  // Same rounding as Lang.PerMinute.
  function perMinute(ahead, eta) {
    if (!(eta > 0)) return txt.rateStopped;
    var m = (ahead + 1) / eta * 60;
    if (m < 1) return txt.rateSlow;
    m = m >= 100 ? Math.round(m / 10) * 10 : Math.round(m);
    return fill(txt.rate, { n: num(m) });
  }
  function clock() {
    // Korea time (UTC+9, no daylight saving) of the server's clock.
    return new Date(serverNow() + 9 * 3600e3).toISOString().substr(11, 8);
  }

  function load() { try { return JSON.parse(localStorage.getItem(key) || 'null'); } catch (e) { return null; } }
  function store() { try { if (ticket) localStorage.setItem(key, JSON.stringify({ t: ticket, f: first })); } catch (e) {} }
  function forget() { try { localStorage.removeItem(key); } catch (e) {} }
  function cookie(name, value) {
    document.cookie = name + '=' + value + '; path=/; max-age=86400; samesite=lax' + (location.protocol === 'https:' ? '; secure' : '');
  }
  function go(url) { clearTimeout(timer); location.replace(url); }

  if (state === 'left' || state === 'turn_over') { forget(); return; }
  // Not open yet, too busy, a server error: the page says it tries again
  // by itself, and does, after the server's interval.
  if ((state === 'not_open' || state === 'busy' || state === 'error') && Number(d.refresh) > 0) {
    timer = setTimeout(function () { location.reload(); }, Number(d.refresh) * 1000);
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

  function schedule(ms) {
    clearTimeout(timer);
    timer = setTimeout(check, Math.max(250, ms));
  }

  function failed(retryAfter) {
    failures++;
    conn(txt.reconnecting, true);
    // Exponential backoff with jitter, from the advised interval up to 30 s.
    var delay = Math.min(30000, Math.max(1000, poll) * Math.pow(2, failures - 1));
    delay = delay / 2 + Math.random() * delay / 2;
    schedule(Math.max(delay, retryAfter * 1000));
  }

  function handle(res) {
    if (res.status === 200 || res.status === 201) {
      failures = 0;
      conn(txt.live);
      if (!apply(res.body)) return;
      poll = Number(res.body.poll_after_ms) || poll;
      schedule(poll);
      return;
    }
    if (res.status === 429 || res.status >= 500) { failed(res.retry); return; }
    // Turn over (410), room closed (410), not open (403), ticket not valid
    // (401): the page says what happened and what to do.
    if (res.status === 401) forget();
    go(waitURL);
  }

  function check() {
    request('GET', api + '/status', ticket).then(handle, function () { failed(0); });
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
  var saved = load();
  if (d.joined === '1' && saved && saved.t && saved.t !== ticket) {
    request('POST', api + '/tickets', saved.t).then(function (res) {
      if (res.status === 200 && res.body && res.body.ticket === saved.t) {
        ticket = saved.t;
        first = Number(saved.f) || 0;
        cookie('sluice_ticket_' + room, ticket);
        if (first) cookie('sluice_first_' + room, first);
        conn(txt.recovered);
        if (!apply(res.body)) return;
        poll = Number(res.body.poll_after_ms) || poll;
        schedule(poll);
        return;
      }
      if (res.status === 401 || res.status === 410) forget();
      store();
      schedule(poll);
    }, function () { schedule(poll); });
    return;
  }
  store();
  schedule(poll);
})();
