// Sluice booking pages: small helps on top of forms that work without it.
//  - Input masks: the resident registration number as 000000-0000000 and a
//    mobile number as 010-0000-0000, whatever is typed or pasted (full-width
//    digits, spaces, other dashes). The server accepts all of those anyway.
//  - The district list follows the chosen province at once (without the
//    script, pressing the search button shows the districts).
(function () {
  'use strict';

  function digits(s) {
    return s.replace(/[\uFF10-\uFF19]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); }).replace(/\D/g, '');
  }
  var formats = {
    rrn: function (v) {
      var d = digits(v).slice(0, 13);
      return d.length > 6 ? d.slice(0, 6) + '-' + d.slice(6) : d;
    },
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
