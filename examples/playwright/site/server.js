// The site under test: a small record-and-clothes shop with a search, a filtered catalogue, a cart and a store
// finder. Plain Node (http only, no packages), started by Playwright's webServer for each test run.
//
// Port: SITE_PORT when set; otherwise a free loopback port below 32768 (ports above are the kernel's ephemeral
// range, where a listener can collide with outgoing connections). Several Playwright runs start their own copy at
// the same time (one per Corral task), so the server picks a random port and tries another when it is taken, then
// prints the one it got; playwright.config.ts reads that line (webServer.wait) and exports it as SITE_PORT.
'use strict';
const http = require('http');
const { URL } = require('url');

const albums = [
  { title: 'Blue Train', artist: 'John Coltrane', label: 'Blue Note', year: 1958 },
  { title: 'Maiden Voyage', artist: 'Herbie Hancock', label: 'Blue Note', year: 1965 },
  { title: 'Somethin\' Else', artist: 'Cannonball Adderley', label: 'Blue Note', year: 1958 },
  { title: 'Kind of Blue', artist: 'Miles Davis', label: 'Columbia', year: 1959 },
  { title: 'Time Out', artist: 'Dave Brubeck Quartet', label: 'Columbia', year: 1959 },
  { title: 'A Love Supreme', artist: 'John Coltrane', label: 'Impulse!', year: 1965 },
  { title: 'Unknown Pleasures', artist: 'Joy Division', label: 'Factory', year: 1979 },
  { title: 'Power, Corruption & Lies', artist: 'New Order', label: 'Factory', year: 1983 },
];

const clothes = [
  { name: 'Rainbow raincoat', kind: 'coat', size: '4-5', colour: 'yellow', price: 32 },
  { name: 'Dino pyjamas', kind: 'pyjamas', size: '4-5', colour: 'green', price: 18 },
  { name: 'Star leggings', kind: 'leggings', size: '6-7', colour: 'blue', price: 12 },
  { name: 'Puffer jacket', kind: 'coat', size: '6-7', colour: 'blue', price: 45 },
  { name: 'Striped t-shirt', kind: 't-shirt', size: '4-5', colour: 'blue', price: 9 },
  { name: 'Wellington boots', kind: 'boots', size: '6-7', colour: 'yellow', price: 21 },
  { name: 'Fleece coat', kind: 'coat', size: '8-9', colour: 'green', price: 38 },
];

const stores = [
  { name: 'Harbour Street', city: 'Leith', postcode: 'EH6', hours: '9-18', x: 3, y: 9 },
  { name: 'Old Town', city: 'Edinburgh', postcode: 'EH1', hours: '9-20', x: 5, y: 5 },
  { name: 'West End', city: 'Glasgow', postcode: 'G3', hours: '10-18', x: -60, y: 2 },
  { name: 'Merchant City', city: 'Glasgow', postcode: 'G1', hours: '9-19', x: -58, y: 0 },
  { name: 'Castlegate', city: 'Aberdeen', postcode: 'AB10', hours: '9-17', x: 40, y: 120 },
];
const postcodes = { EH1: [5, 5], EH6: [3, 9], G1: [-58, 0], AB10: [40, 120] };

const carts = new Map(); // cart id (cookie) -> [{ name, price, quantity }]

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Corral Records &amp; Kids</title>
<style>body{font-family:sans-serif;margin:1rem}nav a{margin-right:1rem}li{margin:.3rem 0}.price{font-weight:bold}</style></head>
<body><nav><a href="/">Home</a><a href="/music">Music</a><a href="/kids">Kids</a><a href="/stores">Stores</a><a href="/cart">Cart (<span id="cart-count">{{count}}</span>)</a></nav>
<h1>${escape(title)}</h1>${body}</body></html>`;
}

function send(res, status, html, cart) {
  const count = cart ? cart.reduce((n, i) => n + i.quantity, 0) : 0;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html.replace('{{count}}', String(count)));
}

function cartOf(req, res) {
  const match = /(?:^|;\s*)cart=([a-z0-9]+)/.exec(req.headers.cookie || '');
  let id = match && match[1];
  if (!id || !carts.has(id)) {
    id = Math.random().toString(36).slice(2);
    carts.set(id, []);
    res.setHeader('set-cookie', `cart=${id}; Path=/; SameSite=Lax`);
  }
  return carts.get(id);
}

function music(url) {
  const q = (url.searchParams.get('q') || '').trim().toLowerCase();
  const label = url.searchParams.get('label') || '';
  const labels = [...new Set(albums.map((a) => a.label))];
  const found = albums.filter((a) => (!q || `${a.title} ${a.artist} ${a.label}`.toLowerCase().includes(q)) && (!label || a.label === label));
  const form = `<form role="search" action="/music"><label>Search records <input name="q" value="${escape(q)}"></label>
<label>Label <select name="label"><option value="">Any label</option>${labels.map((l) => `<option${l === label ? ' selected' : ''}>${escape(l)}</option>`).join('')}</select></label>
<button>Search</button></form>`;
  const results = q || label
    ? `<p id="result-count">${found.length} record${found.length === 1 ? '' : 's'} found</p><ul id="results">${found.map((a) =>
      `<li class="album"><span class="title">${escape(a.title)}</span> · <span class="artist">${escape(a.artist)}</span> · <span class="label">${escape(a.label)}</span> (${a.year})</li>`).join('')}</ul>`
    : '';
  return page('Music', form + results);
}

function kids() {
  // Filtering runs in the page: checkboxes narrow the catalogue from /api/clothes without a reload.
  return page('Kids clothing', `<form id="filters"><fieldset><legend>Size</legend>
${['4-5', '6-7', '8-9'].map((s) => `<label><input type="checkbox" name="size" value="${s}"> ${s} years</label>`).join('')}</fieldset>
<fieldset><legend>Colour</legend>${['blue', 'green', 'yellow'].map((c) => `<label><input type="checkbox" name="colour" value="${c}"> ${c}</label>`).join('')}</fieldset>
<label>Search <input id="kids-search" name="q"></label></form>
<p id="kids-count">loading…</p><ul id="clothes"></ul>
<script>
const form = document.getElementById('filters');
async function refresh() {
  const data = new FormData(form);
  const params = new URLSearchParams();
  for (const [k, v] of data) if (v) params.append(k, v);
  params.set('latency', new URLSearchParams(location.search).get('latency') || '0');
  const items = await (await fetch('/api/clothes?' + params)).json();
  document.getElementById('kids-count').textContent = items.length + ' item' + (items.length === 1 ? '' : 's');
  document.getElementById('clothes').replaceChildren(...items.map((i) => {
    const li = document.createElement('li');
    li.className = 'item';
    li.innerHTML = '<span class="name"></span> <span class="price"></span> <form method="post" action="/cart/add"><input type="hidden" name="name"><button>Add to cart</button></form>';
    li.querySelector('.name').textContent = i.name + ' (' + i.size + ', ' + i.colour + ')';
    li.querySelector('.price').textContent = '£' + i.price;
    li.querySelector('input').value = i.name;
    return li;
  }));
}
form.addEventListener('input', refresh);
form.addEventListener('submit', (e) => e.preventDefault());
refresh();
</script>`);
}

function clothesApi(url, res) {
  const sizes = url.searchParams.getAll('size');
  const colours = url.searchParams.getAll('colour');
  const q = (url.searchParams.get('q') || '').toLowerCase();
  const found = clothes.filter((c) => (!sizes.length || sizes.includes(c.size)) && (!colours.length || colours.includes(c.colour))
    && (!q || c.name.toLowerCase().includes(q)));
  // latency simulates a slow backend (the example's flaky spec asks for it on a first attempt).
  const latency = Math.min(Number(url.searchParams.get('latency')) || 0, 10000);
  setTimeout(() => {
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(found));
  }, latency);
}

function storesPage(url, res) {
  const postcode = (url.searchParams.get('postcode') || '').trim().toUpperCase();
  const form = `<form role="search" action="/stores"><label>Postcode <input name="postcode" value="${escape(postcode)}"></label><button>Find a store</button></form>`;
  if (!postcode) return send(res, 200, page('Find a store', form));
  const at = postcodes[postcode];
  if (!at) return send(res, 200, page('Find a store', form + `<p id="no-stores" role="alert">We do not know the postcode ${escape(postcode)}</p>`));
  const near = stores.map((s) => ({ ...s, km: Math.round(Math.hypot(s.x - at[0], s.y - at[1])) })).sort((a, b) => a.km - b.km);
  // The store search is the slow part of the site: a real store finder asks a geocoder first.
  const delay = Math.min(Number(url.searchParams.get('geocoder-ms')) || 0, 10000);
  setTimeout(() => send(res, 200, page('Find a store', form + `<ol id="stores">${near.map((s) =>
    `<li class="store"><a href="/stores/${encodeURIComponent(s.name)}">${escape(s.name)}</a>, ${escape(s.city)} · <span class="distance">${s.km} km</span></li>`).join('')}</ol>`)), delay);
}

function storeDetail(name, res) {
  const store = stores.find((s) => s.name === name);
  if (!store) return send(res, 404, page('Not found', '<p>No such store</p>'));
  send(res, 200, page(store.name, `<p id="address">${escape(store.city)}, ${escape(store.postcode)}</p><p id="hours">Open ${escape(store.hours)}</p>`));
}

function readForm(req) {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk) => { body += chunk; if (body.length > 10000) req.destroy(); });
    req.on('end', () => resolve(new URLSearchParams(body)));
  });
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://site');
  const cart = cartOf(req, res);
  if (req.method === 'GET' && url.pathname === '/') return send(res, 200, page('Welcome', '<p>Records, kids clothes and stores near you.</p>'), cart);
  if (req.method === 'GET' && url.pathname === '/music') return send(res, 200, music(url), cart);
  if (req.method === 'GET' && url.pathname === '/kids') return send(res, 200, kids(), cart);
  if (req.method === 'GET' && url.pathname === '/api/clothes') return clothesApi(url, res);
  if (req.method === 'GET' && url.pathname === '/stores') return storesPage(url, res);
  if (req.method === 'GET' && url.pathname.startsWith('/stores/')) return storeDetail(decodeURIComponent(url.pathname.slice(8)), res);
  if (req.method === 'POST' && url.pathname === '/cart/add') {
    const name = (await readForm(req)).get('name');
    const item = clothes.find((c) => c.name === name) || albums.find((a) => a.title === name);
    if (item) {
      const line = cart.find((l) => l.name === name);
      if (line) line.quantity++; else cart.push({ name, price: item.price || 15, quantity: 1 });
    }
    res.writeHead(303, { location: '/cart' });
    return res.end();
  }
  if (req.method === 'POST' && url.pathname === '/cart/remove') {
    const name = (await readForm(req)).get('name');
    const at = cart.findIndex((l) => l.name === name);
    if (at >= 0) cart.splice(at, 1);
    res.writeHead(303, { location: '/cart' });
    return res.end();
  }
  if (req.method === 'GET' && url.pathname === '/cart') {
    const total = cart.reduce((sum, l) => sum + l.price * l.quantity, 0);
    return send(res, 200, page('Cart', cart.length === 0 ? '<p id="empty">Your cart is empty</p>'
      : `<table id="cart"><tr><th>Item</th><th>Quantity</th><th>Price</th><th></th></tr>${cart.map((l) => `<tr class="line"><td class="name">${escape(l.name)}</td><td class="quantity">${l.quantity}</td><td>£${l.price * l.quantity}</td><td><form method="post" action="/cart/remove"><input type="hidden" name="name" value="${escape(l.name)}"><button>Remove</button></form></td></tr>`).join('')}</table><p id="total">Total £${total}</p>`), cart);
  }
  send(res, 404, page('Not found', '<p>Nothing here</p>'), cart);
});

function listen(attempt) {
  const fixed = Number(process.env.SITE_PORT) || 0;
  const port = fixed || 20000 + Math.floor(Math.random() * 12000);
  server.once('error', (e) => {
    if (e.code === 'EADDRINUSE' && !fixed && attempt < 50) return listen(attempt + 1);
    console.error(`site: cannot listen on 127.0.0.1:${port}: ${e.message}`);
    process.exit(1);
  });
  server.listen(port, '127.0.0.1', () => console.log(`site listening on http://127.0.0.1:${port}`));
}

listen(1);
