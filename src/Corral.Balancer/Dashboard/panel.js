// The balancer's panel: worker statistics (every worker's row, read from any worker's /stats), each balancer's view of
// its workers (/lb/stats) and fault controls (PUT /faults on a worker's admin port), all through the dashboard.
Corral.panel(function (root, api) {
  'use strict';
  var el = api.el, previous = {}, shown = {}, forms = {};
  var workersBody = el('tbody'), lbBox = el('div'), formsBox = el('div', { class: 'fault-list' });
  var message = el('p', { class: 'message', role: 'status', 'aria-live': 'polite' });
  function head(names) { return el('thead', null, el('tr', null, names.map(function (n) { return el('th', { scope: 'col' }, n); }))); }
  function tr(cells) { var r = el('tr'); cells.forEach(function (c) { r.appendChild(c); }); return r; }
  function td(label, text, cls) { return el('td', { 'data-label': label, class: cls || null }, text); }
  var workersTable = el('table', { class: 'grid stack', 'aria-label': 'Workers' });
  workersTable.append(head(['Worker', 'Requests/s', 'Failure rate', 'Mean', 'p99', 'Requests']), workersBody);
  root.append(el('h3', null, 'Workers'), workersTable, el('h3', null, 'Balancers'), lbBox, el('h3', null, 'Fault controls'), message, formsBox);

  function ms(v) { return v == null ? '–' : v.toFixed(1) + ' ms'; }
  function ready(role) { return api.nodes().filter(function (n) { return n.role === role && n.state === 'ready'; }); }

  async function pollWorkers() {
    var workers = ready('balancer.worker');
    if (!workers.length) return;
    var stats = await api.get(workers[0].nodeId, '/stats'), now = Date.now();
    workersBody.textContent = '';
    stats.workers.forEach(function (w) {
      var before = previous[w.workerId], s = shown[w.workerId] || { rate: 0, failure: w.total ? 100 * w.failed / w.total : 0 };
      if (before) {
        var dt = (now - before.at) / 1000, dTotal = w.total - before.total;
        if (dt > 0) s.rate = dTotal / dt;
        if (dTotal > 0) s.failure = 100 * (w.failed - before.failed) / dTotal;
      }
      previous[w.workerId] = { at: now, total: w.total, failed: w.failed };
      shown[w.workerId] = s;
      var row = tr([td('Worker', w.workerId), td('Requests/s', s.rate.toFixed(1), 'num rate'),
        td('Failure rate', s.failure.toFixed(1) + '%', 'num failure'), td('Mean', ms(w.meanMs), 'num'), td('p99', ms(w.p99Ms), 'num'),
        td('Requests', String(w.total), 'num')]);
      row.setAttribute('data-worker', w.workerId);
      row.setAttribute('data-failure', s.failure.toFixed(1));
      workersBody.appendChild(row);
    });
  }

  async function pollBalancers() {
    var lbs = ready('balancer.lb'), views = await Promise.all(lbs.map(function (n) { return api.get(n.nodeId, '/lb/stats').catch(function () { return null; }); }));
    lbBox.textContent = '';
    views.forEach(function (v, i) {
      if (!v) return;
      var body = el('tbody');
      v.workers.forEach(function (w) {
        var row = tr([td('Worker', w.workerId), td('Health', w.health), td('Ejections', String(w.ejections), 'num'),
          td('Requests', String(w.requests), 'num'), td('Failures', String(w.failures), 'num'), td('In flight', String(w.inFlight), 'num')]);
        row.setAttribute('data-worker', w.workerId);
        body.appendChild(row);
      });
      var table = el('table', { class: 'grid stack', 'aria-label': lbs[i].nodeId + ': its workers' }, head(['Worker', 'Health', 'Ejections', 'Requests', 'Failures', 'In flight']), body);
      lbBox.append(el('h4', null, lbs[i].nodeId + ' (' + v.policy + ')'), table);
    });
  }

  function formFor(id) {
    if (forms[id]) return;
    var failure = el('input', { type: 'number', min: 0, max: 100, step: 1, id: 'failure-' + id });
    var delay = el('input', { type: 'text', id: 'delay-' + id, placeholder: '50ms' });
    var outage = el('select', { id: 'outage-' + id }, el('option', { value: 'none' }, 'none'), el('option', { value: 'refuse' }, 'refuse'), el('option', { value: 'drop' }, 'drop'));
    var apply = el('button', { type: 'submit' }, 'Apply');
    apply.setAttribute('aria-label', 'Apply faults to ' + id);
    var form = el('form', { class: 'faults', 'data-worker': id, 'aria-label': 'Faults of ' + id },
      el('strong', null, id), el('label', { for: 'failure-' + id }, 'failure %'), failure, el('label', { for: 'delay-' + id }, 'delay'), delay,
      el('label', { for: 'outage-' + id }, 'outage'), outage, apply);
    form.addEventListener('submit', async function (e) {
      e.preventDefault();
      var body = { outage: outage.value };
      if (failure.value !== '') body.failure = Number(failure.value);
      if (delay.value !== '') body.avgDelay = delay.value;
      var r = await api.send(id, 'PUT', '/faults', body);
      message.textContent = r.ok ? id + ': failure ' + r.body.failure + '%, delay ' + r.body.avgDelay + ', outage ' + r.body.outage
        : id + ': refused (' + r.status + '): ' + (r.body && r.body.detail || r.body);
    });
    forms[id] = form;
    formsBox.appendChild(form);
    api.get(id, '/faults').then(function (f) { failure.value = f.failure; delay.value = f.avgDelay; outage.value = f.outage; }, function () { delete forms[id]; form.remove(); });
  }

  api.onNodes(function (nodes) { nodes.filter(function (n) { return n.role === 'balancer.worker' && n.state === 'ready'; }).forEach(function (n) { formFor(n.nodeId); }); });
  api.every(1000, pollWorkers);
  api.every(1000, pollBalancers);
});
