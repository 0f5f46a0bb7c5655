// The work queue's panel: the reporter's progress and task table. The controller's /api/events sends the whole results
// document at once and after every change; /api/results fills the panel first (and again if the feed is slow to open).
Corral.panel(function (root, api) {
  'use strict';
  var el = api.el, stream = null, controllerId = null;
  var bar = el('div', { class: 'bar', role: 'progressbar', 'aria-label': 'Tasks final', 'aria-valuemin': 0, 'aria-valuemax': 0, 'aria-valuenow': 0 }, el('span'));
  var summary = el('p', { role: 'status', 'aria-live': 'polite', class: 'progress' }, 'waiting for the controller…');
  var body = el('tbody');
  function head(names) { return el('thead', null, el('tr', null, names.map(function (n) { return el('th', { scope: 'col' }, n); }))); }
  function td(label, text, cls) { return el('td', { 'data-label': label, class: cls || null }, text); }
  var table = el('table', { class: 'grid stack', 'aria-label': 'Tasks' },
    head(['Task', 'Spec', 'Project', 'Status', 'Result', 'Attempts', 'Worker', 'Duration']), body);
  root.append(summary, bar, el('h3', null, 'Tasks'), el('div', { class: 'scroll-x' }, table));

  function seconds(ms) { return ms == null ? '–' : Math.round(ms / 1000) + 's'; }

  function render(doc) {
    var p = doc.progress;
    bar.setAttribute('aria-valuemax', p.total);
    bar.setAttribute('aria-valuenow', p.done);
    bar.firstChild.style.width = (p.total ? Math.round(100 * p.done / p.total) : 0) + '%';
    bar.className = 'bar' + (p.failed + p.errors + p.timedOut > 0 ? ' crit' : '');
    summary.textContent = p.done + '/' + p.total + ' final · ' + p.passed + ' passed · ' + p.flaky + ' flaky · ' + p.failed + ' failed · ' +
      p.errors + ' error · ' + p.timedOut + ' timed out · ' + p.running + ' running · ' + p.waiting + ' waiting · elapsed ' + seconds(p.elapsedMs) +
      (p.finished ? (p.allPassed ? ' — finished: all passed' : ' — finished: not all passed')
        : p.estimatedRemainingMs != null ? ' · about ' + seconds(p.estimatedRemainingMs) + ' left' : '');
    summary.setAttribute('data-finished', p.finished);
    body.textContent = '';
    doc.tasks.forEach(function (t) {
      body.appendChild(el('tr', { 'data-key': t.key, 'data-status': t.status, 'data-result': t.result, class: 'task ' + t.result },
        td('Task', t.key), td('Spec', t.spec), td('Project', t.viewport + '-' + t.browser), td('Status', t.status),
        td('Result', t.result), td('Attempts', String(t.attempts), 'num'), td('Worker', t.worker || '–'), td('Duration', t.duration, 'num')));
    });
  }

  api.onNodes(function (nodes) {
    var controller = nodes.find(function (n) { return n.role === 'workqueue.controller' && n.state === 'ready'; });
    if (!controller || stream) return;
    controllerId = controller.nodeId;
    api.get(controllerId, '/api/results').then(render, function () { });
    stream = api.events(controllerId, '/api/events', ['message'], function (type, doc) { render(doc); });
  });
});
