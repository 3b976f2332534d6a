// Sluice operator dashboard: asks for confirmation before a control is
// used, and refreshes the figures and charts from /admin/api/live every few
// seconds. No libraries; the page works without this file (the server then
// shows a confirmation page, and a reload refreshes the figures).
(function () {
  'use strict';

  // Confirmations. The question may name inputs of the form as {name}.
  document.querySelectorAll('form[data-confirm]').forEach(function (form) {
    form.addEventListener('submit', function (ev) {
      var q = form.getAttribute('data-confirm');
      form.querySelectorAll('input[name], textarea[name]').forEach(function (inp) {
        q = q.split('{' + inp.name + '}').join(inp.value);
      });
      if (!window.confirm(q)) {
        ev.preventDefault();
        return;
      }
      var c = form.querySelector('input[name="confirm"]');
      if (c) { c.value = 'yes'; }
    });
  });

  var main = document.querySelector('main.dash');
  if (!main) { return; }
  document.querySelectorAll('.js-only').forEach(function (el) { el.hidden = false; });

  var W = 360, H = 100;
  var pollMS = Math.max(2000, Math.min(5000, parseInt(main.getAttribute('data-poll-ms'), 10) || 3000));
  var status = document.getElementById('live-status');
  var base = main.getAttribute('data-base') || '';
  var liveURL = base + '/admin/api/live?lang=' + encodeURIComponent(main.getAttribute('data-lang') || 'ko');
  var timer = null;
  var stopped = false;

  function setText(key, text) {
    document.querySelectorAll('[data-v="' + key + '"]').forEach(function (el) {
      if (el.textContent !== text) { el.textContent = text; }
    });
  }

  // Same mapping as chartPoints in dashboard.go.
  function points(age, vals, windowS, top) {
    var i;
    if (top === undefined) {
      top = 0;
      for (i = 0; i < vals.length; i++) { top = Math.max(top, vals[i]); }
    }
    var scale = Math.max(top, 1), pts = [], firstX = -1, lastX = 0;
    for (i = 0; i < vals.length; i++) {
      var x = W * (1 - age[i] / windowS);
      if (x < 0) { continue; }
      var y = H - vals[i] / scale * (H - 4) - 2;
      if (firstX < 0) { firstX = x; }
      lastX = x;
      pts.push(x.toFixed(1) + ',' + y.toFixed(1));
    }
    var line = pts.join(' ');
    var area = line ? firstX.toFixed(1) + ',' + H + ' ' + line + ' ' + lastX.toFixed(1) + ',' + H : '';
    return { line: line, area: area };
  }

  function drawCharts(data) {
    var byRoom = {};
    data.rooms.forEach(function (r) { byRoom[r.room] = r; });
    document.querySelectorAll('svg[data-chart]').forEach(function (svg) {
      var r = byRoom[svg.getAttribute('data-room')];
      if (!r || !r.series) { return; }
      var vals = r.series[svg.getAttribute('data-key')] || [];
      var age = r.series.age_seconds || [], win = data.window_seconds || 3600;
      // Overlays marked shared (the pacing objective) share the chart's
      // scale; those of one data-scale (the chosen rate and the rate
      // sessions end) share theirs; any other has its own.
      function topOf(sel, start) {
        var t = 0;
        start.concat.apply(start, Array.prototype.map.call(svg.querySelectorAll(sel), function (o) {
          return r.series[o.getAttribute('data-key')] || [];
        })).forEach(function (v) { t = Math.max(t, v); });
        return t;
      }
      var top = topOf('polyline.overlay[data-shared]', vals);
      var p = points(age, vals, win, top);
      svg.querySelector('polyline.line').setAttribute('points', p.line);
      svg.querySelector('polygon.area').setAttribute('points', p.area);
      svg.querySelectorAll('polyline.overlay').forEach(function (o) {
        var ov = r.series[o.getAttribute('data-key')] || [];
        var scale = o.getAttribute('data-scale'), t;
        if (o.hasAttribute('data-shared')) {
          t = top;
        } else if (scale) {
          t = topOf('polyline.overlay[data-scale="' + scale + '"]', []);
        }
        o.setAttribute('points', points(age, ov, win, t).line);
      });
    });
  }

  function showState(data) {
    data.rooms.forEach(function (r) {
      document.querySelectorAll('[data-state-of="' + r.room + '"]').forEach(function (el) {
        el.setAttribute('data-state', r.state);
      });
      document.querySelectorAll('form[data-room="' + r.room + '"][data-show]').forEach(function (f) {
        var show = f.getAttribute('data-show');
        f.hidden = (show === 'running' && r.paused) || (show === 'paused' && !r.paused) ||
          (show === 'open' && r.closed) || (show === 'closed' && !r.closed);
      });
    });
  }

  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
  }

  function showNotices(list) {
    var tbody = document.getElementById('notices');
    if (!tbody) { return; }
    var key = JSON.stringify(list);
    if (tbody.getAttribute('data-key') === key) { return; }
    tbody.setAttribute('data-key', key);
    while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
    if (!list.length) {
      var tr0 = document.createElement('tr'), td = document.createElement('td');
      td.colSpan = 5;
      td.textContent = tbody.getAttribute('data-none');
      tr0.appendChild(td);
      tbody.appendChild(tr0);
      return;
    }
    list.forEach(function (n) {
      var tr = document.createElement('tr');
      cell(tr, n.time); cell(tr, n.kind_text); cell(tr, n.to); cell(tr, n.booking_number); cell(tr, n.body, 'body');
      tbody.appendChild(tr);
    });
  }

  function say(text, link) {
    while (status.firstChild) { status.removeChild(status.firstChild); }
    if (!text) { return; }
    status.appendChild(document.createTextNode(text + ' '));
    if (link) {
      var a = document.createElement('a');
      a.href = base + '/admin/login';
      a.textContent = status.getAttribute('data-login');
      status.appendChild(a);
    }
  }

  function update(data) {
    Object.keys(data.text || {}).forEach(function (k) { setText(k, data.text[k]); });
    showState(data);
    drawCharts(data);
    showNotices(data.notifications || []);
  }

  function schedule() {
    if (!stopped) { timer = window.setTimeout(poll, pollMS); }
  }

  function poll() {
    timer = null;
    if (document.hidden) { schedule(); return; }
    fetch(liveURL, { credentials: 'same-origin', cache: 'no-store', headers: { 'Accept': 'application/json' } })
      .then(function (res) {
        if (res.status === 401) {
          stopped = true;
          say(status.getAttribute('data-expired'), true);
          return null;
        }
        if (!res.ok) { throw new Error('HTTP ' + res.status); }
        return res.json();
      })
      .then(function (data) {
        if (data) { say(''); update(data); }
      })
      .catch(function () { say(status.getAttribute('data-stale')); })
      .then(schedule);
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && !stopped && timer !== null) {
      window.clearTimeout(timer);
      poll();
    }
  });
  schedule();
}());
