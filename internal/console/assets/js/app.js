// The console's shell: asks for a token when the API wants one, learns the
// token's scope (GET /v1/whoami), and shows the page named by the URL's
// hash (#/rules/orders).
import { get, setToken, token, ApiError } from './api.js';
import { h, session, errorBox } from './ui.js';
import * as overview from './overview.js';
import * as live from './live.js';
import * as resources from './resources.js';
import * as deadletters from './deadletters.js';
import * as archive from './archive.js';
import * as eventtypes from './eventtypes.js';
import * as playground from './playground.js';

const pages = {
  overview: overview.render,
  live: live.render,
  sources: resources.render,
  targets: resources.render,
  rules: resources.render,
  subscriptions: resources.render,
  jobs: resources.render,
  deadletters: deadletters.render,
  archive: archive.render,
  eventtypes: eventtypes.render,
  playground: playground.render,
};

let seq = 0; // the route being shown
let cleanup = null; // stops what the current page runs (streams, timers)

function main() { return document.getElementById('main'); }

// route shows the page of the URL; moved: the user went to another page
// (focus then moves to it, for screen readers), not the same one redrawn.
async function route(moved) {
  const hash = location.hash;
  if (!hash.startsWith('#/')) {
    if (hash === '' || hash === '#') { location.replace('#/overview'); }
    return;
  }
  const parts = hash.slice(2).split('/').map(decodeURIComponent);
  const render = pages[parts[0]];
  const mine = ++seq;
  if (cleanup) { cleanup(); cleanup = null; }
  const m = main();
  m.replaceChildren();
  m.dataset.page = parts[0];
  m.dataset.ready = 'false';
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === '#/' + parts[0]) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  closeMenu();
  if (!render) {
    m.append(h('h1', {}, 'Not found'), h('p', {}, 'No page ' + parts[0] + '.'));
    return;
  }
  const ctl = new AbortController();
  cleanup = () => ctl.abort();
  try {
    await render(m, parts, ctl.signal);
  } catch (err) {
    if (ctl.signal.aborted || mine !== seq) return;
    if (err instanceof ApiError && err.status === 401) { login('The API refused the token: ' + err.message); return; }
    m.append(errorBox(err));
  }
  if (mine !== seq) return;
  if (moved) m.focus({ preventScroll: true });
  m.dataset.ready = 'true'; // the page's first data is shown (tests wait for this)
  document.title = (m.querySelector('h1')?.textContent || 'eventbridge') + ' · eventbridge console';
}

function closeMenu() {
  document.getElementById('nav').classList.remove('open');
  document.getElementById('menu').setAttribute('aria-expanded', 'false');
}

// login asks for a token.
function login(why) {
  if (cleanup) { cleanup(); cleanup = null; }
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'off', required: true, 'aria-describedby': 'token-help' });
  const form = h('form', { class: 'login', onsubmit: (e) => { e.preventDefault(); setToken(input.value.trim()); start(); } },
    h('h1', {}, 'Sign in'),
    why ? h('p', { class: 'error', role: 'alert' }, why) : null,
    h('label', { for: 'token' }, 'API token'),
    input,
    h('p', { id: 'token-help', class: 'help' }, 'A token from the bridge\'s api.tokens. It is kept in this tab only (sessionStorage) and sent as a bearer header.'),
    h('button', { type: 'submit' }, 'Sign in'));
  main().replaceChildren(form);
  document.getElementById('who').replaceChildren();
  input.focus();
}

async function start() {
  try {
    const me = await get('/v1/whoami');
    session.name = me.name;
    session.scope = me.scope;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      login(token() ? 'The API refused the token: ' + err.message : '');
      return;
    }
    main().replaceChildren(errorBox(err));
    return;
  }
  document.body.dataset.scope = session.scope;
  document.getElementById('who').replaceChildren(
    h('span', {}, session.name + ' (' + session.scope + ')'),
    token() ? h('button', { type: 'button', class: 'link', onclick: () => { setToken(''); login(''); } }, 'Sign out') : '');
  route();
}

window.addEventListener('hashchange', () => { if (location.hash.startsWith('#/')) route(true); });
window.addEventListener('eb-rerender', () => route(false));
document.getElementById('menu').addEventListener('click', () => {
  const nav = document.getElementById('nav');
  const open = nav.classList.toggle('open');
  document.getElementById('menu').setAttribute('aria-expanded', String(open));
});
document.getElementById('skip').addEventListener('click', (e) => { e.preventDefault(); main().focus(); });
start();
