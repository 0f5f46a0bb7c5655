// Corral's dashboard: one EventSource (/api/events) keeps the node table, the logs and the outcome live;
// actions go to /api (the supervisor forwards them to its control API); an app's panel script registers
// itself with Corral.panel(fn) and reaches its nodes only through /api/nodes/{id}/proxy/... on this origin.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var state = { nodes: [], roles: [], skew: 0, rows: {}, logs: [], nodeListeners: [], panel: null, hello: null, panelStarted: false };
  var MAX_LOGS = 2000, LEVELS = { TRC: 0, DBG: 1, INF: 2, WRN: 3, ERR: 4, CRT: 5 };

  function el(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'class') e.className = attrs[k];
      else if (k.slice(0, 2) === 'on') e.addEventListener(k.slice(2), attrs[k]);
      else if (attrs[k] !== null && attrs[k] !== undefined && attrs[k] !== false) e.setAttribute(k, attrs[k]);
    }
    (function add(children) {
      for (var i = 0; i < children.length; i++) {
        var c = children[i];
        if (c === null || c === undefined) continue;
        if (Array.isArray(c)) add(c);
        else e.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
      }
    })(Array.prototype.slice.call(arguments, 2));
    return e;
  }

  function say(text, ok) { var m = $('action-message'); m.textContent = text; m.className = 'message' + (ok ? ' ok' : ''); }

  async function post(url, body) {
    var r = await fetch(url, { method: 'POST', headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    var text = await r.text(), detail = text;
    try { var p = JSON.parse(text); detail = p.detail || p.title || text; } catch (e) { /* not JSON */ }
    return { ok: r.ok, status: r.status, detail: detail };
  }

  async function act(what, url, body) {
    say(what + '…', true);
    var r = await post(url, body);
    say(r.ok ? what + ': accepted' : what + ' refused (' + r.status + '): ' + r.detail, r.ok);
  }

  function uptime(node) {
    if (!node.startedAt) return '–';
    var s = Math.max(0, Math.floor((Date.now() + state.skew - Date.parse(node.startedAt)) / 1000));
    return s < 60 ? s + 's' : s < 3600 ? Math.floor(s / 60) + 'm ' + (s % 60) + 's' : Math.floor(s / 3600) + 'h ' + Math.floor(s % 3600 / 60) + 'm';
  }

  function cell(label, cls) { return el('td', { 'data-label': label, class: cls || null }); }

  function rowOf(node) {
    var row = state.rows[node.nodeId];
    if (row) return row;
    var id = node.nodeId;
    var c = {
      name: cell('Node'), role: cell('Role'), state: cell('State'), pid: cell('PID'), port: cell('Port'),
      restarts: cell('Restarts'), uptime: cell('Uptime'), last: cell('Last log line', 'last'), actions: cell('Actions', 'actions')
    };
    c.name.appendChild(el('button', { class: 'link', type: 'button', 'aria-label': 'Show the log of ' + id, onclick: function () { showNode(id); } }, id));
    c.actions.appendChild(el('button', { type: 'button', 'aria-label': 'Restart ' + id, onclick: function () { act('restart ' + id, '/api/nodes/' + encodeURIComponent(id) + '/restart'); } }, 'Restart'));
    c.actions.appendChild(document.createTextNode(' '));
    c.actions.appendChild(el('button', { type: 'button', 'aria-label': 'Stop ' + id, onclick: function () { act('stop ' + id, '/api/nodes/' + encodeURIComponent(id) + '/stop'); } }, 'Stop'));
    var tr = el('tr', { 'data-node': id }, c.name, c.role, c.state, c.pid, c.port, c.restarts, c.uptime, c.last, c.actions);
    row = state.rows[id] = { tr: tr, c: c };
    return row;
  }

  function setText(e, text) { if (e.textContent !== text) e.textContent = text; }

  function renderNodes() {
    var body = document.querySelector('#nodes tbody'), seen = {};
    state.nodes.forEach(function (n, i) {
      var row = rowOf(n), c = row.c;
      seen[n.nodeId] = true;
      setText(c.role, n.role);
      setText(c.state, n.state);
      c.state.className = 'state-' + n.state;
      c.state.setAttribute('data-state', n.state);
      setText(c.pid, n.pid == null ? '–' : String(n.pid));
      setText(c.port, n.port == null ? '–' : String(n.port));
      setText(c.restarts, String(n.restarts));
      setText(c.uptime, uptime(n));
      setText(c.last, n.lastLine || '');
      if (body.children[i] !== row.tr) body.insertBefore(row.tr, body.children[i] || null);
    });
    Object.keys(state.rows).forEach(function (id) { if (!seen[id]) { state.rows[id].tr.remove(); delete state.rows[id]; } });
    renderNodeFilter();
  }

  function renderRoles() {
    var list = $('roles');
    list.textContent = '';
    state.roles.forEach(function (r) {
      list.appendChild(el('li', null, el('span', null, r.role + ': ' + r.count),
        el('button', { type: 'button', 'aria-label': 'Scale ' + r.role + ' down by one', onclick: function () { act('scale ' + r.role + ' down', '/api/roles/' + encodeURIComponent(r.role) + '/scale', { delta: -1 }); } }, '−'),
        el('button', { type: 'button', 'aria-label': 'Scale ' + r.role + ' up by one', onclick: function () { act('scale ' + r.role + ' up', '/api/roles/' + encodeURIComponent(r.role) + '/scale', { delta: 1 }); } }, '+')));
    });
  }

  function renderNodeFilter() {
    var select = $('log-node'), have = {}, names = ['corral'].concat(state.nodes.map(function (n) { return n.nodeId; }));
    for (var i = 1; i < select.options.length; i++) have[select.options[i].value] = true;
    names.forEach(function (n) { if (!have[n]) { select.appendChild(el('option', { value: n }, n)); have[n] = true; } });
  }

  function showNode(id) {
    $('log-node').value = id;
    Object.keys(state.rows).forEach(function (k) { state.rows[k].tr.classList.toggle('selected', k === id); });
    renderLogs();
    $('log').focus();
  }

  function visible(line) {
    var node = $('log-node').value, level = $('log-level').value;
    return (!node || line.node === node) && (!level || (LEVELS[line.level] || 2) >= LEVELS[level]);
  }

  function lineEl(line) {
    return el('div', { class: 'line lvl-' + line.level, 'data-node': line.node },
      el('span', { class: 'name c' + line.colour }, line.node + ' | '), el('span', { class: 'text' }, line.text));
  }

  function renderLogs() {
    var log = $('log'), shown = state.logs.filter(visible).slice(-1000), frag = document.createDocumentFragment();
    shown.forEach(function (l) { frag.appendChild(lineEl(l)); });
    log.textContent = '';
    log.appendChild(frag);
    if ($('log-follow').checked) log.scrollTop = log.scrollHeight;
  }

  function addLog(line) {
    state.logs.push(line);
    if (state.logs.length > MAX_LOGS) state.logs.splice(0, state.logs.length - MAX_LOGS);
    var row = state.rows[line.node];
    if (row) setText(row.c.last, line.text);
    if (!visible(line)) return;
    var log = $('log');
    log.appendChild(lineEl(line));
    while (log.childNodes.length > 1000) log.removeChild(log.firstChild);
    if ($('log-follow').checked) log.scrollTop = log.scrollHeight;
  }

  function showOutcome(run) {
    var box = $('outcome');
    box.hidden = false;
    var failed = run.passed === false || (run.end !== 'finished' && run.end !== 'allexited');
    box.classList.toggle('failed', failed);
    $('outcome-verdict').textContent = run.end === 'finished' ? 'The run finished: ' + (run.passed ? 'passed' : 'failed') : 'The run ended: ' + run.end;
    $('outcome-lines').textContent = (run.lines || []).join('\n');
  }

  function connect() {
    var source = new EventSource('/api/events');
    source.addEventListener('open', function () { $('connection').textContent = 'live'; });
    source.addEventListener('error', function () { $('connection').textContent = 'reconnecting…'; });
    source.addEventListener('hello', function (e) {
      var h = JSON.parse(e.data);
      state.hello = h;
      $('run-title').textContent = '— ' + h.app + ' run ' + h.runId;
      document.title = 'Corral: ' + h.app + ' ' + h.runId;
      startPanel();
    });
    source.addEventListener('nodes', function (e) {
      var v = JSON.parse(e.data);
      state.skew = Date.parse(v.now) - Date.now();
      state.nodes = v.nodes;
      var rolesChanged = JSON.stringify(v.roles) !== JSON.stringify(state.roles);
      state.roles = v.roles;
      renderNodes();
      if (rolesChanged) renderRoles();
      state.nodeListeners.forEach(function (fn) { try { fn(state.nodes); } catch (err) { console.error(err); } });
    });
    source.addEventListener('log', function (e) { addLog(JSON.parse(e.data)); });
    source.addEventListener('run', function (e) { showOutcome(JSON.parse(e.data)); });
  }

  // What an app panel may use: see IDashboardPanel in Corral.Hosting.
  var api = {
    el: el,
    nodes: function () { return state.nodes.slice(); },
    onNodes: function (fn) { state.nodeListeners.push(fn); if (state.nodes.length) fn(state.nodes); },
    url: function (nodeId, path) { return '/api/nodes/' + encodeURIComponent(nodeId) + '/proxy' + path; },
    get: async function (nodeId, path) {
      var r = await fetch(api.url(nodeId, path));
      if (!r.ok) throw new Error(nodeId + path + ': ' + r.status);
      return r.json();
    },
    send: async function (nodeId, method, path, body) {
      var r = await fetch(api.url(nodeId, path), { method: method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      var text = await r.text(), parsed = text;
      try { parsed = JSON.parse(text); } catch (e) { /* not JSON */ }
      return { ok: r.ok, status: r.status, body: parsed };
    },
    // Named server-sent events of a node, reconnecting (with the node's current port) when the stream breaks.
    events: function (nodeId, path, types, fn) {
      var source = null, closed = false;
      function open() {
        if (closed) return;
        source = new EventSource(api.url(nodeId, path));
        types.forEach(function (t) { source.addEventListener(t, function (e) { fn(t, JSON.parse(e.data)); }); });
        source.addEventListener('error', function () { if (source.readyState === 2) setTimeout(open, 1000); });
      }
      open();
      return { close: function () { closed = true; if (source) source.close(); } };
    },
    every: function (ms, fn) {
      var busy = false;
      async function tick() { if (busy) return; busy = true; try { await fn(); } catch (e) { /* the next tick retries */ } busy = false; }
      tick();
      return setInterval(tick, ms);
    }
  };

  function startPanel() {
    if (state.panelStarted || !state.panel || !state.hello || !state.hello.panelTitle) return;
    state.panelStarted = true;
    $('panel-section').hidden = false;
    $('panel-h').textContent = state.hello.panelTitle;
    state.panel($('panel'), api);
  }

  window.Corral = { panel: function (fn) { state.panel = fn; startPanel(); } };

  $('log-node').addEventListener('change', function () { showNode($('log-node').value); });
  $('log-level').addEventListener('change', renderLogs);
  setInterval(function () { state.nodes.forEach(function (n) { var r = state.rows[n.nodeId]; if (r) setText(r.c.uptime, uptime(n)); }); }, 1000);
  connect();
})();
