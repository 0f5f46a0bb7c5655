// The counter's panel: the coordinator's recent tenants with their counts, items/s acknowledged, and which worker owns
// which partitions (/counter/tenants and /counter/owners), polled through the dashboard.
Corral.panel(function (root, api) {
  'use strict';
  var el = api.el, previous = null;
  var rate = el('p', { role: 'status', 'aria-live': 'polite', class: 'ingest' }, 'waiting for the coordinator…');
  var tenantsBody = el('tbody'), ownersBody = el('tbody');
  function head(names) { return el('thead', null, el('tr', null, names.map(function (n) { return el('th', { scope: 'col' }, n); }))); }
  function td(label, text, cls) { return el('td', { 'data-label': label, class: cls || null }, text); }
  var tenants = el('table', { class: 'grid stack', 'aria-label': 'Tenants' }, head(['Tenant', 'Count']), tenantsBody);
  var owners = el('table', { class: 'grid stack', 'aria-label': 'Partition owners' }, head(['Worker', 'Partitions', 'Owns']), ownersBody);
  var empty = el('p', { class: 'dim' }, 'No items written through this coordinator yet (POST /items).');
  root.append(rate, el('h3', null, 'Tenants'), empty, tenants, el('h3', null, 'Partition owners'), owners);

  function coordinator() {
    return api.nodes().find(function (n) { return n.role === 'counter.coordinator' && n.state === 'ready'; });
  }

  async function pollTenants(id) {
    var view = await api.get(id, '/counter/tenants'), now = Date.now(), perSecond = 0;
    if (previous && now > previous.at && view.ingested >= previous.ingested) perSecond = 1000 * (view.ingested - previous.ingested) / (now - previous.at);
    previous = { at: now, ingested: view.ingested };
    rate.textContent = view.ingested + ' items acknowledged · ' + perSecond.toFixed(1) + ' items/s';
    rate.setAttribute('data-ingested', view.ingested);
    empty.hidden = view.tenants.length > 0;
    tenantsBody.textContent = '';
    view.tenants.forEach(function (t) {
      var row = el('tr', { 'data-tenant': t.tenant, 'data-count': t.count == null ? '' : t.count },
        td('Tenant', t.tenant), td('Count', t.count == null ? 'unavailable' : String(t.count), 'num'));
      tenantsBody.appendChild(row);
    });
  }

  async function pollOwners(id) {
    var view = await api.get(id, '/counter/owners');
    ownersBody.textContent = '';
    Object.keys(view.workers).sort().forEach(function (worker) {
      var parts = view.workers[worker];
      ownersBody.appendChild(el('tr', { 'data-worker': worker, 'data-partitions': parts.length },
        td('Worker', worker), td('Partitions', String(parts.length), 'num'), td('Owns', parts.join(', ') || 'none')));
    });
  }

  api.every(500, async function () {
    var c = coordinator();
    if (!c) return;
    await Promise.all([pollTenants(c.nodeId), pollOwners(c.nodeId)]);
  });
});
