// Small DOM helpers shared by the pages. No markup is built from strings: text goes
// through textContent, so nothing the API returns can run as markup.

// h builds an element: h('a', {href: '#/x', class: 'c', onclick: fn}, 'text', child).
export function h(tag, attrs, ...children) {
  const svg = ['svg', 'rect', 'polyline', 'line', 'title', 'g', 'path'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && !svg && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

// The caller's identity (set by app.js from GET /v1/whoami).
export const session = { name: '', scope: 'read' };
const rank = { read: 1, write: 2, admin: 3 };
export const canWrite = () => rank[session.scope] >= 2;
export const canAdmin = () => rank[session.scope] >= 3;

export function toast(msg, bad) {
  const t = document.getElementById('toast');
  t.textContent = msg;
  t.className = 'toast show' + (bad ? ' bad' : '');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.className = 'toast'; }, 5000);
}

// confirmDialog asks a yes/no question in a modal dialog.
export function confirmDialog(question, yes = 'Delete') {
  return new Promise((resolve) => {
    const d = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-q' },
      h('p', { id: 'confirm-q' }, question),
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'danger', onclick: () => { d.close('yes'); } }, yes),
        h('button', { type: 'button', onclick: () => { d.close('no'); } }, 'Cancel')));
    d.addEventListener('close', () => { resolve(d.returnValue === 'yes'); d.remove(); });
    document.body.appendChild(d);
    d.showModal();
  });
}

export function errorBox(err) {
  const p = (err && err.problem) || {};
  return h('div', { class: 'error', role: 'alert' },
    h('strong', {}, p.title || 'Error'), ': ', err.message || String(err),
    p.errors && p.errors.length ? h('ul', {}, p.errors.map((e) =>
      h('li', {}, (e.line ? 'line ' + e.line + ': ' : ''), e.field ? e.field + ': ' : '', e.reason))) : null);
}

export function badge(state) {
  const s = String(state || 'unknown');
  return h('span', { class: 'badge state-' + s.replace(/[^a-z_-]/gi, '') }, s);
}

export function fmtTime(t) {
  if (!t) return '';
  const d = new Date(t);
  return isNaN(d) ? String(t) : d.toLocaleString();
}

export function fmtNum(n) {
  if (n === undefined || n === null) return '0';
  return Number(n).toLocaleString(undefined, { maximumFractionDigits: 1 });
}

export function fmtBytes(n) {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  n = Number(n) || 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return n.toFixed(i ? 1 : 0) + ' ' + u[i];
}

// sparkline draws a small bar chart of values (oldest first).
export function sparkline(values, label) {
  const w = 120, hh = 28, n = values.length || 1, max = Math.max(1, ...values);
  const bw = w / n;
  const svg = h('svg', { class: 'spark', viewBox: `0 0 ${w} ${hh}`, width: w, height: hh, role: 'img', 'aria-label': `${label}: ${values.join(', ')} per minute, oldest first` });
  values.forEach((v, i) => {
    const bh = v ? Math.max(1, (v / max) * (hh - 2)) : 0;
    svg.appendChild(h('rect', { x: (i * bw + 0.5).toFixed(1), y: (hh - bh).toFixed(1), width: Math.max(1, bw - 1).toFixed(1), height: bh.toFixed(1) }));
  });
  return svg;
}

// table builds a table: cols are [header, cell(row)].
export function table(rows, cols, opts = {}) {
  return h('div', { class: 'scroll' }, h('table', { class: opts.class || '' },
    opts.caption ? h('caption', {}, opts.caption) : null,
    h('thead', {}, h('tr', {}, cols.map(([head]) => h('th', { scope: 'col' }, head)))),
    h('tbody', {}, rows.length ? rows.map((r) => h('tr', opts.rowAttrs ? opts.rowAttrs(r) : {}, cols.map(([, cell]) => h('td', {}, cell(r)))))
      : h('tr', {}, h('td', { colspan: cols.length, class: 'empty' }, opts.empty || 'None.')))));
}

export function pre(v) {
  return h('pre', { class: 'json', tabindex: '0' }, typeof v === 'string' ? v : JSON.stringify(v, null, 2));
}

export function progress(label) {
  const bar = h('progress', { max: 1, value: 0, 'aria-label': label });
  const text = h('span', { class: 'progress-text' }, '');
  const el = h('div', { class: 'progress', role: 'group', 'aria-label': label }, bar, ' ', text);
  return { el, set(done, total, note) { bar.max = Math.max(1, total); bar.value = done; text.textContent = note || `${done} / ${total}`; } };
}

// toYAML writes a JSON value as YAML (block style, strings quoted when
// YAML would read them as something else).
export function toYAML(v, indent = '') {
  if (Array.isArray(v)) {
    if (!v.length) return '[]';
    return v.map((x) => {
      const s = toYAML(x, indent + '  ');
      return '\n' + indent + '- ' + (isBlock(x) ? s.replace(/^\n\s*/, '') : s);
    }).join('');
  }
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (!keys.length) return '{}';
    return keys.map((k) => {
      const x = v[k];
      const s = toYAML(x, indent + '  ');
      return '\n' + indent + scalarKey(k) + ':' + (isBlock(x) ? s : ' ' + s);
    }).join('');
  }
  return scalar(v);
}

function isBlock(x) { return x && typeof x === 'object' && Object.keys(x).length > 0; }

function scalarKey(k) { return /^[A-Za-z0-9_][A-Za-z0-9_.\/-]*$/.test(k) ? k : JSON.stringify(k); }

function scalar(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v !== 'string') return String(v);
  if (v === '' || /^[\s]|[\s]$|[:#\n"'{}\[\],&*!|>%@`]|^[-?]/.test(v) ||
      /^(true|false|yes|no|on|off|null|~|y|n)$/i.test(v) || !isNaN(Number(v))) return JSON.stringify(v);
  return v;
}

export function specYAML(spec) { return toYAML(spec).replace(/^\n/, '') + '\n'; }
