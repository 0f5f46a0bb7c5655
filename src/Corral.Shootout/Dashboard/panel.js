// The shootout's panel: the game server's /state, then its /events stream (shots, deaths, winners) through the dashboard.
// In peer mode there is no server: any cowboy's /state is the agreed state in etcd (with the leader), polled, and the shot
// feed is what changed between two reads.
Corral.panel(function (root, api) {
  'use strict';
  var el = api.el, game = null, feed = [], stream = null, serverId = null, peer = null;
  var status = el('p', { role: 'status', 'aria-live': 'polite', class: 'round' }, 'waiting for the game server…');
  var cards = el('ul', { class: 'cards', 'aria-label': 'Cowboys' });
  var shots = el('ol', { class: 'feed', 'aria-label': 'Shot feed' });
  root.append(status, cards, el('h3', null, 'Shots'), shots);

  function render() {
    if (!game) return;
    var last = game.winners.length ? game.winners[game.winners.length - 1] : null;
    var winner = last && last.round === game.round ? last.winner : null;
    var leader = game.leader || null;
    status.textContent = 'Round ' + game.round + ' of ' + game.rounds + ' — ' + game.status + (winner ? ' — winner: ' + winner : '') +
      (peer ? ' — peer mode, leader: ' + (leader ? leader + leaderNode(leader) : 'none yet') : '');
    status.setAttribute('data-winner', winner || '');
    status.setAttribute('data-leader', leader || '');
    cards.textContent = '';
    game.cowboys.forEach(function (c) {
      var pct = c.maxHealth > 0 ? Math.round(100 * c.health / c.maxHealth) : 0;
      var fill = el('span');
      fill.style.width = pct + '%';
      var bar = el('div', { class: 'bar' + (pct <= 25 ? ' crit' : pct <= 50 ? ' low' : ''), role: 'meter', 'aria-label': c.name + ' health',
        'aria-valuemin': 0, 'aria-valuemax': c.maxHealth, 'aria-valuenow': c.health }, fill);
      var leads = leader === c.name;
      cards.appendChild(el('li', { class: 'card' + (c.alive ? '' : ' dead') + (winner === c.name ? ' winner' : '') + (leads ? ' leader' : ''),
        'data-cowboy': c.name, 'data-health': c.health, 'data-alive': c.alive, 'data-leader': leads },
        el('strong', null, c.name), leads ? el('span', { class: 'badge', title: 'keeps the beat of the peer game' }, el('span', { 'aria-hidden': 'true' }, ' ★'), ' leader') : null, bar,
        el('div', null, c.health + ' / ' + c.maxHealth + ' · ' + (c.alive ? 'alive' : 'dead') + (winner === c.name ? ' · winner' : '')),
        c.node ? el('div', { class: 'dim' }, c.node) : null,
        el('div', { class: 'dim' }, 'damage ' + c.damage + ' · shots ' + c.shotsFired)));
    });
  }

  function note(text) {
    feed.unshift(text);
    feed.length = Math.min(feed.length, 50);
    shots.textContent = '';
    feed.forEach(function (t) { shots.appendChild(el('li', null, t)); });
  }

  function leaderNode(name) { var c = cowboy(name); return c && c.node ? ' (' + c.node + ')' : ''; }

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

  // Peer mode: what changed since the last read becomes the feed (who fired, who was hit, who died, who won).
  function onPeerState(next) {
    if (game && next.round === game.round) {
      var fired = [], hit = [];
      next.cowboys.forEach(function (c) {
        var was = cowboy(c.name);
        if (!was) return;
        if (c.shotsFired > was.shotsFired) fired.push(c.name + (c.shotsFired - was.shotsFired > 1 ? ' ×' + (c.shotsFired - was.shotsFired) : ''));
        if (c.health < was.health) hit.push(c.name + ' ' + was.health + ' → ' + c.health);
        if (was.alive && !c.alive) note(c.name + ' is dead');
      });
      if (hit.length) note((fired.length ? fired.join(', ') + ' fired: ' : '') + hit.join(', '));
    }
    var known = game ? game.winners.length : 0;
    next.winners.slice(known).forEach(function (w) { note(w.winner + ' wins round ' + w.round); });
    if (game && game.leader !== next.leader && next.leader) note(next.leader + ' leads');
    game = next;
    render();
  }

  function startPeer() {
    peer = { next: 0 };
    api.every(300, async function () {
      var cowboys = api.nodes().filter(function (n) { return n.role === 'shootout.cowboy' && n.state === 'ready'; });
      if (!cowboys.length) return;
      // Any cowboy answers with the agreed state; take turns so one that is down does not stall the panel.
      var node = cowboys[peer.next++ % cowboys.length];
      onPeerState(await api.get(node.nodeId, '/state'));
    });
  }

  api.onNodes(function (nodes) {
    var server = nodes.find(function (n) { return n.role === 'shootout.server'; });
    // Every planned node is listed from the start, so a run without a server is a peer run.
    if (!server && !peer && nodes.length) startPeer();
    if (peer || !server || stream || server.state !== 'ready') return;
    serverId = server.nodeId;
    stream = api.events(serverId, '/events', ['state', 'registered', 'round-started', 'shot', 'death', 'winner'], onEvent);
  });
});
