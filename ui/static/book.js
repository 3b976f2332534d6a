// Sluice booking pages: small helps on top of forms that work without it.
//  - The registration number's two boxes: a number typed or pasted whole
//    into the first goes on into the second, which keeps digits only and
//    hides them (a button shows them on request).
//  - The time left on the booking pages counts down (by the server's clock),
//    with a warning in its last two minutes.
//  - Input mask: a mobile number as 010-0000-0000, whatever is typed or
//    pasted (full-width digits, spaces, other dashes). The server accepts
//    all of those anyway.
//  - The district list follows the chosen province at once (without the
//    script, pressing the search button shows the districts).
(function () {
  'use strict';

  function digits(s) {
    return s.replace(/[\uFF10-\uFF19]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); }).replace(/\D/g, '');
  }
  var formats = {
    phone: function (v) {
      if (/^\s*\+/.test(v)) return v; // international form: leave it to the server
      var d = digits(v).slice(0, 11);
      if (d.length < 4) return d;
      if (d.length < 8) return d.slice(0, 3) + '-' + d.slice(3);
      if (d.length === 10) return d.slice(0, 3) + '-' + d.slice(3, 6) + '-' + d.slice(6);
      return d.slice(0, 3) + '-' + d.slice(3, 7) + '-' + d.slice(7);
    }
  };
  Array.prototype.forEach.call(document.querySelectorAll('input[data-mask]'), function (el) {
    var f = formats[el.getAttribute('data-mask')];
    if (!f) return;
    function apply(force) {
      // Reformat while typing at the end; anywhere else, when leaving the
      // field, so the caret does not jump.
      var atEnd = el.selectionStart === el.value.length;
      if (!force && !atEnd) return;
      var v = f(el.value);
      if (v !== el.value) el.value = v;
    }
    el.addEventListener('input', function () { apply(false); });
    el.addEventListener('blur', function () { apply(true); });
  });

  var left = document.getElementById('session-left');
  if (left) {
    var until = Number(left.getAttribute('data-until')), t0 = performance.now(), now0 = Number(left.getAttribute('data-now'));
    var tick = function () {
      var ms = until - (now0 + performance.now() - t0);
      var text = left.getAttribute('data-text').replace('{left}', left.getAttribute('data-left').replace('{m}', String(Math.max(0, Math.floor(ms / 60000)))));
      if (ms <= 0) {
        text = left.getAttribute('data-over');
      } else if (ms <= 120000) {
        text += ' ' + left.getAttribute('data-soon');
      }
      left.className = ms <= 120000 ? 'session-left soon' : 'session-left';
      if (ms <= 120000) left.setAttribute('role', 'status');
      if (left.textContent !== text) left.textContent = text;
      if (ms > 0) setTimeout(tick, Math.min(15000, ms % 60000 || 60000));
    };
    tick();
  }

  var front = document.querySelector('input[data-rrn=front]');
  var back = document.querySelector('input[data-rrn=back]');
  if (front && back) {
    front.addEventListener('input', function () {
      var d = digits(front.value);
      if (d.length > 6) {
        front.value = d.slice(0, 6);
        back.value = d.slice(6, 13);
        back.focus();
      }
    });
    back.addEventListener('input', function () {
      var d = digits(back.value).slice(0, 7);
      if (d !== back.value) back.value = d;
    });
    // The stylesheet hides the digits where browsers can; elsewhere the box
    // becomes a password box.
    var masked = window.CSS && CSS.supports && (CSS.supports('-webkit-text-security', 'disc') || CSS.supports('text-security', 'disc'));
    if (!masked) back.type = 'password';
    var reveal = document.querySelector('button[data-reveal]');
    if (reveal) {
      reveal.hidden = false;
      reveal.addEventListener('click', function () {
        var shown = reveal.getAttribute('aria-pressed') !== 'true';
        reveal.setAttribute('aria-pressed', shown ? 'true' : 'false');
        if (masked) back.classList.toggle('shown', shown);
        else back.type = shown ? 'text' : 'password';
      });
    }
  }

  var region = document.getElementById('region');
  var district = region && document.getElementById(region.getAttribute('data-district'));
  if (!region || !district || !window.fetch) return;
  var all = region.getAttribute('data-all') || '';
  var en = region.getAttribute('data-lang') === 'en';
  var regions = null;
  function fillDistricts() {
    var list = [];
    (regions || []).forEach(function (r) { if (r.code === region.value) list = r.districts || []; });
    while (district.options.length) district.remove(0);
    district.add(new Option(all, ''));
    list.forEach(function (x) { district.add(new Option(en ? x.name_en : x.name, x.code)); });
  }
  region.addEventListener('change', function () {
    if (regions) { fillDistricts(); return; }
    fetch('/api/v1/regions', { headers: { 'Accept': 'application/json' } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (body) { if (body && body.regions) { regions = body.regions; fillDistricts(); } })
      .catch(function () {});
  });
})();
