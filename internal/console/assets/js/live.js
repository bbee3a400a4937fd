// Live events: GET /v1/events:stream, filtered by source and type (by the
// server) and by rule (POST /v1/rules:test on each batch), pausable.
import { stream, api, get, enc } from './api.js';
import { h, pre, errorBox, fmtTime } from './ui.js';

const MAX = 200;

export async function render(m, _parts, signal) {
  const rules = (await get('/v1/rules', { signal })).items.map((r) => r.name);
  const src = h('input', { id: 'live-source', type: 'text', placeholder: 'any' });
  const typ = h('input', { id: 'live-type', type: 'text', placeholder: 'any' });
  const rule = h('select', { id: 'live-rule' }, h('option', { value: '' }, 'any'), rules.map((r) => h('option', { value: r }, r)));
  const pause = h('button', { type: 'button', 'aria-pressed': 'false', id: 'live-pause' }, 'Pause');
  const status = h('p', { class: 'help', role: 'status', id: 'live-status' }, 'Connecting…');
  const tbody = h('tbody', { id: 'live-events' });
  const detail = h('section', { class: 'detail', 'aria-label': 'Event details', id: 'live-detail' }, h('p', { class: 'help' }, 'Select an event to see its attributes and data.'));
  const form = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); connect(); } },
    h('label', { for: 'live-source' }, 'Source (CloudEvents source)'), src,
    h('label', { for: 'live-type' }, 'Type'), typ,
    h('label', { for: 'live-rule' }, 'Rule'), rule,
    h('button', { type: 'submit' }, 'Apply'), pause);
  m.append(h('h1', {}, 'Live events'), form, status,
    h('div', { class: 'split' },
      h('div', { class: 'scroll' }, h('table', { class: 'events' },
        h('caption', { class: 'sr-only' }, 'Events as they arrive, newest first'),
        h('thead', {}, h('tr', {}, ['Time', 'Source', 'Type', 'ID'].map((c) => h('th', { scope: 'col' }, c)))), tbody)),
      detail));

  let paused = false, held = [], conn = null;
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) { held.forEach(show); held = []; }
    status.textContent = paused ? 'Paused: new events are held.' : 'Live.';
  });

  function show(ev) {
    const row = h('tr', { tabindex: '0', class: 'clickable', 'data-id': ev.id || '' },
      h('td', {}, fmtTime(ev.time) || new Date().toLocaleTimeString()), h('td', {}, ev.source || ''), h('td', {}, ev.type || ''), h('td', {}, ev.id || ''));
    const open = () => {
      for (const r of tbody.querySelectorAll('[aria-selected]')) r.removeAttribute('aria-selected');
      row.setAttribute('aria-selected', 'true');
      const { data, data_base64: b64, ...attrs } = ev;
      detail.replaceChildren(h('h2', {}, 'Event ' + (ev.id || '')), h('h3', {}, 'Attributes'), pre(attrs),
        h('h3', {}, 'Data'), pre(data !== undefined ? data : (b64 ? '(base64) ' + b64 : '(none)')));
    };
    row.addEventListener('click', open);
    row.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); open(); } });
    tbody.prepend(row);
    while (tbody.children.length > MAX) tbody.lastChild.remove();
  }

  // Events wait here while the rule filter tests them.
  let batch = [], testing = false;
  async function filterByRule() {
    if (testing || !batch.length) return;
    testing = true;
    const evs = batch; batch = [];
    try {
      const res = await api('POST', '/v1/rules:test', { rule: rule.value, events: evs }, { signal: conn.signal });
      res.results.forEach((r, i) => { if (r.matched) deliver(evs[i]); });
    } catch (e) {
      if (!signal.aborted) status.replaceChildren(errorBox(e));
    } finally {
      testing = false;
      if (batch.length) setTimeout(filterByRule, 0);
    }
  }
  function deliver(ev) { if (paused) held.push(ev); else show(ev); }

  function connect() {
    if (conn) conn.abort();
    conn = new AbortController();
    const c = conn;
    signal.addEventListener('abort', () => c.abort());
    const q = [];
    if (src.value.trim()) q.push('source=' + enc(src.value.trim()));
    if (typ.value.trim()) q.push('type=' + enc(typ.value.trim()));
    tbody.replaceChildren();
    status.textContent = 'Connecting…';
    status.dataset.live = 'false';
    const ruleName = rule.value;
    stream('/v1/events:stream' + (q.length ? '?' + q.join('&') : ''), (_id, ev) => {
      if (ruleName) { batch.push(ev); filterByRule(); } else deliver(ev);
    }, c.signal, () => { status.textContent = 'Live.'; status.dataset.live = 'true'; }).then(() => { if (!c.signal.aborted) status.textContent = 'The stream ended; Apply reconnects.'; })
      .catch((e) => { if (!c.signal.aborted) status.replaceChildren(errorBox(e)); });
  }
  connect();
}
