// Overview: components' health (/readyz), the last 15 minutes of the main
// counters (/v1/activity) and the bus's size.
import { get } from './api.js';
import { h, badge, table, sparkline, fmtNum, fmtBytes, fmtTime, errorBox } from './ui.js';

const counters = [['in', 'Events in'], ['delivered', 'Delivered'], ['retried', 'Retried'], ['dead_lettered', 'Dead-lettered']];

export async function render(m, _parts, signal) {
  const body = h('div', {});
  m.append(h('h1', {}, 'Overview'), body);
  const refresh = async () => {
    const [ready, act] = await Promise.all([readyz(signal), get('/v1/activity', { signal })]);
    body.replaceChildren(...view(ready, act));
  };
  await refresh();
  const timer = setInterval(() => { refresh().catch((e) => { if (!signal.aborted) body.replaceChildren(errorBox(e)); }); }, 5000);
  signal.addEventListener('abort', () => clearInterval(timer));
}

// readyz answers 503 when not ready, with the same report.
async function readyz(signal) {
  const res = await fetch('/readyz', { signal, credentials: 'omit' });
  return res.json();
}

const sum = (a) => (a || []).reduce((x, y) => x + y, 0);

function view(ready, act) {
  const comps = Object.entries(ready.components || {}).map(([name, c]) => ({ name, ...c }));
  comps.sort((a, b) => a.name.localeCompare(b.name));
  const t = act.totals || {};
  const cards = h('ul', { class: 'cards', 'aria-label': 'Last 15 minutes' }, counters.map(([k, label]) => h('li', { class: 'card' },
    h('span', { class: 'card-label' }, label),
    h('span', { class: 'card-value', 'data-counter': k }, fmtNum(sum(t[k]))),
    sparkline(t[k] || new Array(15).fill(0), label))));
  const perName = (group, keys) => Object.entries(group || {}).sort(([a], [b]) => a.localeCompare(b))
    .map(([name, s]) => ({ name, s, keys }));
  const chartCols = (kind, keys) => [
    [kind, (r) => h('a', { href: `#/${kind.toLowerCase()}s/${encodeURIComponent(r.name)}` }, r.name)],
    ...keys.map(([k, label]) => [label, (r) => h('span', { class: 'spark-cell' }, sparkline(r.s[k] || [], `${r.name} ${label}`), ' ', fmtNum(sum(r.s[k])))]),
  ];
  const streams = Object.entries(act.streams || {}).sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) => ({ name, ...s }));
  return [
    h('section', { 'aria-labelledby': 'ov-health' },
      h('h2', { id: 'ov-health' }, 'Health ', badge(ready.ready ? (ready.degraded ? 'degraded' : 'ready') : 'not-ready')),
      table(comps, [['Component', (c) => c.name], ['State', (c) => badge(c.state)], ['Since', (c) => fmtTime(c.since)], ['Last error', (c) => c.last_error || '']])),
    h('section', { 'aria-labelledby': 'ov-act' },
      h('h2', { id: 'ov-act' }, 'Last 15 minutes'), cards,
      h('h3', {}, 'Rules'),
      table(perName(act.rules), chartCols('Rule', [['matched', 'Matched'], ['delivered', 'Delivered'], ['retried', 'Retried'], ['dead_lettered', 'Dead-lettered']]), { empty: 'No rule has seen an event.' }),
      h('h3', {}, 'Targets'),
      table(perName(act.targets), chartCols('Target', [['delivered', 'Delivered'], ['retried', 'Retried'], ['dead_lettered', 'Dead-lettered']]), { empty: 'No target has been sent an event.' })),
    h('section', { 'aria-labelledby': 'ov-bus' },
      h('h2', { id: 'ov-bus' }, 'Bus'),
      table(streams, [['Stream', (s) => s.name], ['Messages', (s) => fmtNum(s.messages)], ['Size', (s) => fmtBytes(s.bytes)]], { empty: 'Not measured yet (every 5 s).' })),
  ];
}
