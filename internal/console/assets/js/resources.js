// Sources, targets, rules (lists, details, pause/resume, YAML editor,
// delete), subscriptions and jobs.
import { api, get, enc, ApiError } from './api.js';
import { h, badge, table, pre, errorBox, toast, confirmDialog, canWrite, fmtTime, fmtNum, specYAML } from './ui.js';

const titles = { sources: 'Sources', targets: 'Targets', rules: 'Rules', subscriptions: 'Subscriptions', jobs: 'Jobs' };
const singular = { sources: 'source', targets: 'target', rules: 'rule', subscriptions: 'subscription' };

export async function render(m, parts, signal) {
  const [plural, name, action] = parts;
  if (name === '+new') return editor(m, plural, null, signal, action);
  if (plural === 'subscriptions' && name && action === 'edit') return editor(m, plural, name, signal);
  if (plural === 'subscriptions') return name ? subscription(m, name, signal) : subscriptions(m, signal);
  if (plural === 'jobs') return jobs(m, signal);
  if (name && action === 'edit') return editor(m, plural, name, signal);
  if (name) return detail(m, plural, name, signal);
  return list(m, plural, signal);
}

async function list(m, plural, signal) {
  const items = (await get(`/v1/${plural}?limit=1000`, { signal })).items;
  m.append(h('div', { class: 'titlebar' }, h('h1', {}, titles[plural]),
    canWrite() ? h('a', { class: 'button', href: `#/${plural}/+new` }, 'New ' + singular[plural]) : null));
  const cols = [
    ['Name', (r) => h('a', { href: `#/${plural}/${enc(r.name)}` }, r.name)],
    ['State', (r) => badge(r.paused ? 'paused' : r.status?.state)],
  ];
  if (plural !== 'rules') cols.push(['Type', (r) => r.spec?.type || '']);
  else cols.push(['Sources → targets', (r) => `${(r.spec.sources || ['any']).join(', ')} → ${(r.spec.targets || []).join(', ')}`]);
  cols.push(['Counters', (r) => Object.entries(r.status?.counters || {}).filter(([, v]) => v).map(([k, v]) => `${k} ${fmtNum(v)}`).join(', ')]);
  cols.push(['Origin', (r) => r.origin]);
  cols.push(['Last error', (r) => r.status?.error || '']);
  m.append(table(items, cols, { empty: `No ${plural}.` }));
}

async function detail(m, plural, name, signal) {
  const r = await get(`/v1/${plural}/${enc(name)}`, { signal });
  const st = r.status || {};
  const fromFile = r.origin === 'file';
  const actions = h('div', { class: 'actions' });
  if (canWrite()) {
    // A paused rule or target keeps its deliveries on disk; a paused
    // source takes no events.
    const what = { rules: 'its deliveries wait on disk', targets: 'its deliveries wait on disk', sources: 'it takes no events' }[plural];
    actions.append(h('button', { type: 'button', class: 'pause-toggle', title: r.paused ? '' : `While paused, ${what}.`, onclick: async () => {
      try {
        await api('POST', `/v1/${plural}/${enc(name)}:${r.paused ? 'resume' : 'pause'}`);
        toast(`${titles[plural].slice(0, -1)} ${name} ${r.paused ? 'resumed' : 'paused'}.`);
        rerender();
      } catch (e) { toast(e.message, true); }
    } }, r.paused ? 'Resume' : 'Pause'));
    if (plural === 'rules') {
      actions.append(h('a', { class: 'button', href: `#/deadletters/${enc(name)}` }, 'Dead letters'));
    }
    if (!fromFile) {
      actions.append(h('a', { class: 'button', href: `#/${plural}/${enc(name)}/edit` }, 'Edit YAML'));
      actions.append(h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!await confirmDialog(`Delete ${singular[plural]} ${name}? This cannot be undone.`)) return;
        try {
          await api('DELETE', `/v1/${plural}/${enc(name)}`);
          toast(`Deleted ${singular[plural]} ${name}.`);
          location.hash = `#/${plural}`;
        } catch (e) { toast(e.message, true); }
      } }, 'Delete'));
    }
  }
  m.append(h('h1', {}, `${titles[plural].slice(0, -1)} ${name}`), actions,
    h('dl', { class: 'facts' },
      h('dt', {}, 'State'), h('dd', {}, badge(r.paused ? 'paused' : st.state), st.since ? ' since ' + fmtTime(st.since) : ''),
      h('dt', {}, 'Origin'), h('dd', {}, r.origin + (r.file ? ' (' + r.file + ', read-only here)' : '')),
      h('dt', {}, 'Revision'), h('dd', {}, String(r.revision)),
      h('dt', {}, 'Updated'), h('dd', {}, fmtTime(r.updated)),
      h('dt', {}, 'Last error'), h('dd', {}, st.error || 'none')),
    h('h2', {}, 'Counters'),
    table(Object.entries(st.counters || {}), [['Counter', ([k]) => k], ['Value', ([, v]) => fmtNum(v)]], { empty: 'No counters.' }),
    h('h2', {}, 'Components'),
    table(Object.entries(st.components || {}), [['Component', ([k]) => k], ['State', ([, c]) => badge(c.state)], ['Last error', ([, c]) => c.last_error || '']], { empty: 'Nothing runs.' }),
    h('h2', {}, 'Spec'), pre(specYAML(r.spec)));
}

function rerender() { window.dispatchEvent(new Event('eb-rerender')); }

// templates: a new resource's first YAML, by kind and (for sources made
// from the jobs page) type.
const templates = {
  rules: 'sources: []\nfilter:\n  filters:\n    - prefix: {type: com.example.}\ntargets: []\n',
  sources: 'type: http\npath: /events\n',
  'sources/cron': 'type: cron\ncron: "0 * * * *"\nevent:\n  type: com.example.hourly\n',
  'sources/poll': 'type: poll\nurl: "" # the API to fetch (an absolute URL)\nevery: 5m\nitems: ".[]"\nid: ".id"\nevent:\n  type: com.example.item\n',
  targets: 'type: log\n',
  subscriptions: 'protocol: HTTP\nsink: "" # where to deliver (an absolute URL)\ntypes:\n  - com.example.order.created\n',
};

// editor edits a spec as YAML; the server validates it and its errors are
// shown at their lines. A new subscription has no name: the bridge gives
// it an id (POST).
async function editor(m, plural, name, signal, kind) {
  let text = '', etag = null;
  if (name && plural === 'subscriptions') {
    // A subscription is its own spec; no revision (PUT checks the stored one).
    const { id, ...sub } = await get(`/v1/subscriptions/${enc(name)}`, { signal });
    text = specYAML(sub);
  } else if (name) {
    const r = await get(`/v1/${plural}/${enc(name)}`, { signal });
    text = specYAML(r.spec);
    etag = `"${r.revision}"`;
  } else {
    text = templates[plural + '/' + kind] || templates[plural];
  }
  const newSub = !name && plural === 'subscriptions';
  const nameInput = h('input', { id: 'res-name', type: 'text', required: true, pattern: '[a-z0-9]([a-z0-9\\-]*[a-z0-9])?', value: name || '', readOnly: !!name });
  const gutter = h('div', { class: 'gutter', 'aria-hidden': 'true' });
  const area = h('textarea', { id: 'res-yaml', class: 'code', spellcheck: 'false', rows: 20, 'aria-describedby': 'res-errors' });
  area.value = text;
  const errors = h('div', { id: 'res-errors', 'aria-live': 'polite' });
  const lines = () => {
    const n = area.value.split('\n').length;
    const bad = new Set(JSON.parse(area.dataset.errLines || '[]'));
    gutter.replaceChildren(...Array.from({ length: n }, (_, i) => h('div', { class: bad.has(i + 1) ? 'err' : '', 'data-line': i + 1 }, String(i + 1))));
    gutter.scrollTop = area.scrollTop;
  };
  area.addEventListener('input', lines);
  area.addEventListener('scroll', () => { gutter.scrollTop = area.scrollTop; });
  const save = async (e) => {
    e.preventDefault();
    const n = nameInput.value.trim();
    errors.replaceChildren();
    area.dataset.errLines = '[]';
    area.removeAttribute('aria-invalid');
    try {
      if (newSub) {
        const s = await api('POST', '/v1/subscriptions', area.value, { type: 'application/yaml' });
        toast(`Created subscription ${s.id}.`);
        location.hash = `#/subscriptions/${enc(s.id)}`;
        return;
      }
      const headers = etag ? { 'If-Match': etag } : plural === 'subscriptions' ? {} : { 'If-None-Match': '*' };
      await api('PUT', `/v1/${plural}/${enc(n)}`, area.value, { type: 'application/yaml', headers });
      toast(`Saved ${singular[plural]} ${n}.`);
      location.hash = `#/${plural}/${enc(n)}`;
    } catch (err) {
      errors.replaceChildren(errorBox(err));
      if (err instanceof ApiError) {
        const bad = (err.problem.errors || []).map((x) => x.line).filter(Boolean);
        area.dataset.errLines = JSON.stringify(bad);
        if (bad.length) {
          area.setAttribute('aria-invalid', 'true');
          goToLine(area, bad[0]);
        }
      }
      lines();
    }
  };
  m.append(h('h1', {}, name ? `Edit ${singular[plural]} ${name}` : `New ${kind && templates[plural + '/' + kind] ? kind + ' ' : ''}${singular[plural]}`),
    h('form', { class: 'editor', onsubmit: save },
      newSub ? h('p', { class: 'help' }, 'The bridge gives the subscription its id.') : [h('label', { for: 'res-name' }, 'Name'), nameInput],
      h('label', { for: 'res-yaml' }, newSub ? 'Subscription (YAML)' : 'Spec (YAML)'),
      h('div', { class: 'code-wrap' }, gutter, area),
      errors,
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save'),
        h('a', { class: 'button secondary', href: name ? `#/${plural}/${enc(name)}` : `#/${plural}` }, 'Cancel'))));
  lines();
}

function goToLine(area, line) {
  const ls = area.value.split('\n');
  let pos = 0;
  for (let i = 0; i < line - 1 && i < ls.length; i++) pos += ls[i].length + 1;
  area.focus();
  area.setSelectionRange(pos, pos + (ls[line - 1] || '').length);
}

async function subscriptions(m, signal) {
  const items = await get('/v1/subscriptions', { signal });
  m.append(h('div', { class: 'titlebar' }, h('h1', {}, 'Subscriptions'),
    canWrite() ? h('a', { class: 'button', href: '#/subscriptions/+new' }, 'New subscription') : null),
    h('p', { class: 'help' }, 'CloudEvents subscriptions (also made through the Subscriptions API); each runs as a rule and a target.'),
    table(items, [
      ['ID', (s) => h('a', { href: '#/subscriptions/' + enc(s.id) }, s.id)],
      ['Sink', (s) => s.sink], ['Protocol', (s) => s.protocol],
      ['Types', (s) => (s.types || []).join(', ')], ['Source', (s) => s.source || ''],
    ], { empty: 'No subscriptions.' }));
}

async function subscription(m, id, signal) {
  const s = await get('/v1/subscriptions/' + enc(id), { signal });
  m.append(h('h1', {}, 'Subscription ' + id),
    h('div', { class: 'actions' },
      h('a', { class: 'button', href: '#/deadletters/' + enc('subscription-' + id) }, 'Dead letters'),
      canWrite() ? h('a', { class: 'button', href: `#/subscriptions/${enc(id)}/edit` }, 'Edit YAML') : null,
      canWrite() ? h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!await confirmDialog(`Delete subscription ${id}?`)) return;
        try { await api('DELETE', '/v1/subscriptions/' + enc(id)); toast('Deleted.'); location.hash = '#/subscriptions'; } catch (e) { toast(e.message, true); }
      } }, 'Delete') : null),
    pre(s));
}

async function jobs(m, signal) {
  const box = h('div', { id: 'jobs' });
  const act = (j, a) => async () => {
    try {
      await api('POST', `/v1/jobs/${enc(j.name)}:${a}`);
      toast(`Job ${j.name}: ${a === 'run' ? 'run started' : a + 'd'}.`);
      await refresh();
    } catch (e) { toast(e.message, true); }
  };
  const refresh = async () => {
    const items = (await get('/v1/jobs', { signal })).items;
    box.replaceChildren(table(items, [
      ['Name', (j) => h('a', { href: '#/sources/' + enc(j.name) }, j.name)], ['Kind', (j) => j.kind], ['Schedule', (j) => j.schedule],
      ['State', (j) => badge(j.paused ? 'paused' : j.running ? 'running' : 'idle')],
      ['Next run', (j) => fmtTime(j.next_run)],
      ['Last run', (j) => j.last_run ? `${fmtTime(j.last_run.started)}: ${j.last_run.result}, ${j.last_run.items} events, ${j.last_run.duration_ms} ms${j.last_run.error ? ' (' + j.last_run.error + ')' : ''}` : ''],
      ['Failures', (j) => String(j.failures || 0)],
      ['Actions', (j) => canWrite() ? h('span', { class: 'actions' },
        h('button', { type: 'button', class: 'job-run', onclick: act(j, 'run') }, 'Run now'),
        h('button', { type: 'button', onclick: act(j, j.paused ? 'resume' : 'pause') }, j.paused ? 'Resume' : 'Pause')) : ''],
    ], { empty: 'No jobs: the bridge has no poll or cron sources.' }));
  };
  m.append(h('div', { class: 'titlebar' }, h('h1', {}, 'Jobs'),
    canWrite() ? h('span', { class: 'actions' },
      h('a', { class: 'button', href: '#/sources/+new/poll' }, 'New poll source'),
      h('a', { class: 'button', href: '#/sources/+new/cron' }, 'New cron source')) : null),
    h('p', { class: 'help' }, 'The poll and cron sources\' schedules (refreshed every 2 s).'), box);
  await refresh();
  const timer = setInterval(() => { refresh().catch(() => {}); }, 2000);
  signal.addEventListener('abort', () => clearInterval(timer));
}
