// The shootout's panel: the game server's /state, then its /events stream (shots, deaths, winners) through the dashboard.
Corral.panel(function (root, api) {
  'use strict';
  var el = api.el, game = null, feed = [], stream = null, serverId = null;
  var status = el('p', { role: 'status', 'aria-live': 'polite', class: 'round' }, 'waiting for the game server…');
  var cards = el('ul', { class: 'cards', 'aria-label': 'Cowboys' });
  var shots = el('ol', { class: 'feed', 'aria-label': 'Shot feed' });
  root.append(status, cards, el('h3', null, 'Shots'), shots);

  function render() {
    if (!game) return;
    var last = game.winners.length ? game.winners[game.winners.length - 1] : null;
    var winner = last && last.round === game.round ? last.winner : null;
    status.textContent = 'Round ' + game.round + ' of ' + game.rounds + ' — ' + game.status + (winner ? ' — winner: ' + winner : '');
    status.setAttribute('data-winner', winner || '');
    cards.textContent = '';
    game.cowboys.forEach(function (c) {
      var pct = c.maxHealth > 0 ? Math.round(100 * c.health / c.maxHealth) : 0;
      var fill = el('span');
      fill.style.width = pct + '%';
      var bar = el('div', { class: 'bar' + (pct <= 25 ? ' crit' : pct <= 50 ? ' low' : ''), role: 'meter', 'aria-label': c.name + ' health',
        'aria-valuemin': 0, 'aria-valuemax': c.maxHealth, 'aria-valuenow': c.health }, fill);
      cards.appendChild(el('li', { class: 'card' + (c.alive ? '' : ' dead') + (winner === c.name ? ' winner' : ''),
        'data-cowboy': c.name, 'data-health': c.health, 'data-alive': c.alive },
        el('strong', null, c.name), bar,
        el('div', null, c.health + ' / ' + c.maxHealth + ' · ' + (c.alive ? 'alive' : 'dead') + (winner === c.name ? ' · winner' : '')),
        el('div', { class: 'dim' }, 'damage ' + c.damage + ' · shots ' + c.shotsFired)));
    });
  }

  function note(text) {
    feed.unshift(text);
    feed.length = Math.min(feed.length, 50);
    shots.textContent = '';
    feed.forEach(function (t) { shots.appendChild(el('li', null, t)); });
  }

  function cowboy(name) { return game && game.cowboys.find(function (c) { return c.name === name; }); }

  function onEvent(type, e) {
    if (type === 'state') { game = e; render(); return; }
    if (!game) return;
    if (type === 'shot') {
      var target = cowboy(e.target), shooter = cowboy(e.shooter);
      if (target && e.healthAfter != null) target.health = e.healthAfter;
      if (shooter) shooter.shotsFired++;
      note(e.shooter + ' shot ' + e.target + ' (' + e.healthBefore + ' → ' + e.healthAfter + ')');
    } else if (type === 'death') {
      var dead = cowboy(e.cowboy);
      if (dead) { dead.alive = false; dead.health = 0; }
      note(e.cowboy + ' is dead');
    } else if (type === 'winner') {
      game.winners.push({ round: e.round, winner: e.cowboy });
      game.status = 'won';
      note(e.cowboy + ' wins round ' + e.round);
    } else {
      // A registration or a new round: take the whole state again.
      api.get(serverId, '/state').then(function (s) { game = s; render(); }, function () { });
      return;
    }
    render();
  }

  api.onNodes(function (nodes) {
    var server = nodes.find(function (n) { return n.role === 'shootout.server'; });
    if (!server || stream || server.state !== 'ready') return;
    serverId = server.nodeId;
    stream = api.events(serverId, '/events', ['state', 'registered', 'round-started', 'shot', 'death', 'winner'], onEvent);
  });
});
