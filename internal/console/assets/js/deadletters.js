// Dead letters per rule: inspect, redrive one, a selection or all (with
// progress), purge.
import { api, get, enc } from './api.js';
import { h, table, pre, errorBox, toast, confirmDialog, canWrite, canAdmin, fmtTime, progress } from './ui.js';

// finished is the progress bar of the last redrive, shown again (at its
// end) when the page reloads the letters.
let finished = null;

export async function render(m, parts, signal) {
  const rules = (await get('/v1/rules?limit=1000', { signal })).items;
  const rule = parts[1] || '';
  const pick = h('select', { id: 'dlq-rule', onchange: () => { location.hash = '#/deadletters/' + enc(pick.value); } },
    h('option', { value: '' }, '(choose a rule)'),
    rules.map((r) => h('option', { value: r.name, selected: r.name === rule }, `${r.name} (${r.status?.counters?.dead_letters || 0})`)));
  if (rule && !rules.some((r) => r.name === rule)) pick.append(h('option', { value: rule, selected: true }, rule));
  m.append(h('h1', {}, 'Dead letters'), h('div', { class: 'filters' }, h('label', { for: 'dlq-rule' }, 'Rule'), pick));
  if (!rule) {
    m.append(table(rules.filter((r) => r.status?.counters?.dead_letters), [
      ['Rule', (r) => h('a', { href: '#/deadletters/' + enc(r.name) }, r.name)],
      ['Dead letters', (r) => String(r.status.counters.dead_letters)]], { empty: 'No rule has dead letters.' }));
    return;
  }
  const base = `/v1/rules/${enc(rule)}/deadletters`;
  const list = await get(base + '?limit=1000', { signal });
  const items = list.items || [];
  const selected = new Set();
  const detail = h('section', { class: 'detail', 'aria-label': 'Dead letter', id: 'dlq-detail' });
  const status = h('div', { id: 'dlq-status', 'aria-live': 'polite' });
  if (finished && finished.rule === rule) status.append(finished.el);
  finished = null;

  async function redrive(body, label) {
    try {
      const op = await api('POST', body.ids && body.ids.length === 1 ? `${base}/${body.ids[0]}:redrive` : `${base}:redrive`, body.ids && body.ids.length === 1 ? undefined : body);
      const bar = progress(label);
      status.replaceChildren(bar.el);
      await follow(op, bar, signal);
      finished = { rule, el: bar.el };
      toast(`${label}: done.`);
      rerender();
    } catch (e) { if (!signal.aborted) status.replaceChildren(errorBox(e)); }
  }

  const actions = h('div', { class: 'actions' });
  if (canWrite() && items.length) {
    actions.append(
      h('button', { type: 'button', id: 'dlq-redrive-selected', onclick: () => selected.size && redrive({ ids: [...selected] }, `Redrive ${selected.size} selected`) }, 'Redrive selected'),
      h('button', { type: 'button', id: 'dlq-redrive-all', onclick: () => redrive({}, 'Redrive all') }, 'Redrive all'));
    if (canAdmin()) {
      actions.append(h('button', { type: 'button', class: 'danger', id: 'dlq-purge', onclick: async () => {
        if (!await confirmDialog(`Purge every dead letter of rule ${rule}? They are gone for good.`, 'Purge')) return;
        try {
          const r = await api('POST', `${base}:purge`, {});
          toast(`Purged ${r.purged} dead letters.`);
          rerender();
        } catch (e) { status.replaceChildren(errorBox(e)); }
      } }, 'Purge'));
    }
  }
  const cols = [];
  if (canWrite()) {
    cols.push([h('span', { class: 'sr-only' }, 'Select'), (l) => h('input', { type: 'checkbox', 'aria-label': 'Select dead letter ' + l.id,
      onchange: (e) => { if (e.target.checked) selected.add(l.id); else selected.delete(l.id); } })]);
  }
  cols.push(
    ['ID', (l) => h('button', { type: 'button', class: 'link', onclick: () => show(l) }, String(l.id))],
    ['Time', (l) => fmtTime(l.time)], ['Target', (l) => l.target], ['Reason', (l) => l.reason],
    ['Attempts', (l) => String(l.attempts)], ['Type', (l) => l.event?.type || ''], ['Error', (l) => l.error || '']);
  if (canWrite()) cols.push(['', (l) => h('button', { type: 'button', class: 'redrive-one', onclick: () => redrive({ ids: [l.id] }, `Redrive ${l.id}`) }, 'Redrive')]);

  function show(l) {
    detail.replaceChildren(h('h2', {}, 'Dead letter ' + l.id), pre(l));
  }
  m.append(actions, status, table(items, cols, { empty: 'No dead letters for this rule.', caption: `${items.length}${list.next_page_token ? '+' : ''} dead letters of rule ${rule}` }), detail);
}

// follow polls a redrive until it finishes.
async function follow(op, bar, signal) {
  for (;;) {
    const p = op.progress || {};
    bar.set(p.done || 0, p.matched || 0, `${p.done || 0} of ${p.matched || 0} redriven${p.failed ? ', ' + p.failed + ' failed' : ''} (${op.state})`);
    if (op.state !== 'running' && op.state !== 'pending') {
      if (op.error) throw new Error(op.error);
      return op;
    }
    await new Promise((r) => setTimeout(r, 300));
    if (signal.aborted) return op;
    op = await get('/v1/redrives/' + enc(op.id), { signal });
  }
}

function rerender() { window.dispatchEvent(new Event('eb-rerender')); }
