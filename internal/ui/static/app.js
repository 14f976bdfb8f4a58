// svcat ui: the few things the server cannot do. No library, no build:
// live regions fed by Server-Sent Events, the marketplace filter, and
// checks of the provision form before it is sent (the server checks again
// with the controller's rules).
'use strict';

document.addEventListener('DOMContentLoaded', function () {
  // Live regions: the server sends the region's new HTML, rendered by the
  // same template as the page, whenever a watch reports a change.
  document.querySelectorAll('[data-live]').forEach(function (el) {
    var es = new EventSource(el.dataset.live);
    es.onmessage = function (e) {
      el.innerHTML = e.data;
      el.dataset.updated = String(Date.now());
      // Nothing is left to act on once the object is gone.
      var actions = document.getElementById('actions');
      if (actions) { actions.hidden = el.querySelector('#gone') !== null; }
    };
  });

  // Marketplace filter: hide classes whose text lacks a typed word.
  var filter = document.getElementById('filter');
  if (filter) {
    filter.addEventListener('input', function () {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      document.querySelectorAll('.class[data-search]').forEach(function (c) {
        var text = c.dataset.search;
        c.hidden = !words.every(function (w) { return text.indexOf(w) >= 0; });
      });
    });
  }

  // The form's own checks: required, min/max, pattern and lengths come
  // from the attributes (the form is novalidate, so the list of problems
  // is shown here rather than one bubble at a time); lists and JSON boxes
  // are checked by problem().
  var form = document.querySelector('form.schema-form');
  if (!form) { return; }
  var boxes = form.querySelectorAll('textarea[data-kind]');
  function check(t) {
    t.setCustomValidity(problem(t));
  }
  boxes.forEach(function (t) { t.addEventListener('input', function () { check(t); }); });
  var out = document.getElementById('client-errors');
  function problems() {
    boxes.forEach(check);
    var bad = [];
    form.querySelectorAll('input, select, textarea').forEach(function (el) {
      if (!el.checkValidity()) {
        var label = form.querySelector('label[for="' + CSS.escape(el.id) + '"]');
        var name = label ? label.firstChild.textContent.trim() : el.name;
        bad.push(name + ': ' + el.validationMessage);
      }
    });
    out.textContent = bad.join(' · ');
    out.hidden = bad.length === 0;
    return bad.length;
  }
  form.addEventListener('submit', function (e) {
    if (problems()) { e.preventDefault(); }
  });
  // Once shown, the list follows the user's corrections.
  form.addEventListener('input', function () {
    if (!out.hidden) { problems(); }
  });
});

function problem(t) {
  var v = t.value.trim();
  if (v === '') { return ''; }
  if (t.dataset.kind === 'json') {
    var x;
    try { x = JSON.parse(v); } catch (err) { return 'must be JSON'; }
    var want = t.dataset.jsonType;
    if (want === 'array' && !Array.isArray(x)) { return 'must be a JSON array'; }
    if (want === 'object' && (x === null || typeof x !== 'object' || Array.isArray(x))) { return 'must be a JSON object'; }
    return '';
  }
  if (t.dataset.kind === 'lines') {
    var item = t.dataset.item;
    var lines = t.value.split('\n');
    for (var i = 0; i < lines.length; i++) {
      var l = lines[i].trim();
      if (l === '' || item === 'string') { continue; }
      if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(l)) { return 'line ' + (i + 1) + ' must be a number'; }
      if (item === 'integer' && !/^-?\d+$/.test(l)) { return 'line ' + (i + 1) + ' must be an integer'; }
    }
  }
  return '';
}
