// Archive and replay: search GET /v1/events; start, follow and cancel a
// replay (/v1/replays).
import { api, get, enc } from './api.js';
import { h, table, pre, errorBox, toast, canWrite, fmtTime, progress } from './ui.js';

// local datetime input value <-> RFC 3339
const toInput = (d) => new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
const fromInput = (v) => (v ? new Date(v).toISOString() : '');

export async function render(m, _parts, signal) {
  const now = new Date();
  const field = (id, label, attrs) => [h('label', { for: id }, label), h('input', { id, ...attrs })];
  const [lFrom, from] = field('ar-from', 'From', { type: 'datetime-local', value: toInput(new Date(now - 3600e3)) });
  const [lTo, to] = field('ar-to', 'To', { type: 'datetime-local' });
  const [lSrc, src] = field('ar-source', 'Source (CloudEvents source)', { type: 'text' });
  const [lTyp, typ] = field('ar-type', 'Type', { type: 'text' });
  const [lSn, sn] = field('ar-source-name', 'Source resource', { type: 'text' });
  const results = h('div', { id: 'ar-results', 'aria-live': 'polite' });
  const detail = h('section', { class: 'detail', 'aria-label': 'Archived event' });
  const search = async (e) => {
    e?.preventDefault();
    const q = ['order=desc', 'limit=100'];
    if (from.value) q.push('from=' + enc(fromInput(from.value)));
    if (to.value) q.push('to=' + enc(fromInput(to.value)));
    if (src.value.trim()) q.push('source=' + enc(src.value.trim()));
    if (typ.value.trim()) q.push('type=' + enc(typ.value.trim()));
    if (sn.value.trim()) q.push('source_name=' + enc(sn.value.trim()));
    try {
      const list = await get('/v1/events?' + q.join('&'), { signal });
      results.replaceChildren(table(list.items, [
        ['Seq', (a) => h('button', { type: 'button', class: 'link', onclick: () => detail.replaceChildren(h('h2', {}, 'Event ' + a.seq), pre(a)) }, String(a.seq))],
        ['Stored', (a) => fmtTime(a.stored)], ['Source resource', (a) => a.source_name],
        ['Source', (a) => a.event.source], ['Type', (a) => a.event.type], ['ID', (a) => a.event.id]],
      { empty: 'No events match.', caption: `Newest first, at most 100${list.next_page_token ? ' (more match)' : ''}` }));
    } catch (err) { if (!signal.aborted) results.replaceChildren(errorBox(err)); }
  };
  m.append(h('h1', {}, 'Archive and replay'),
    h('section', { 'aria-labelledby': 'ar-search' }, h('h2', { id: 'ar-search' }, 'Search the archive'),
      h('form', { class: 'filters', onsubmit: search }, lFrom, from, lTo, to, lSrc, src, lTyp, typ, lSn, sn, h('button', { type: 'submit' }, 'Search')),
      results, detail));
  await search();

  const replays = h('div', { id: 'replays' });
  const refreshReplays = async () => {
    const items = (await get('/v1/replays', { signal })).items || [];
    items.sort((a, b) => String(b.started).localeCompare(String(a.started)));
    replays.replaceChildren(table(items, [
      ['ID', (o) => o.id], ['Rule', (o) => o.params?.rule || ''], ['State', (o) => o.state],
      ['Progress', (o) => { const b = progress('Replay ' + o.id); b.set(o.progress.delivered + o.progress.dead_lettered || 0, o.progress.matched || 0, Object.entries(o.progress).map(([k, v]) => `${k} ${v}`).join(', ')); return b.el; }],
      ['', (o) => (canWrite() && o.state === 'running') ? h('button', { type: 'button', onclick: async () => {
        try { await api('DELETE', '/v1/replays/' + enc(o.id)); toast('Replay cancelled.'); refreshReplays(); } catch (e) { toast(e.message, true); }
      } }, 'Cancel') : ''],
    ], { empty: 'No replays.' }));
    return items;
  };
  const sec = h('section', { 'aria-labelledby': 'ar-replay' }, h('h2', { id: 'ar-replay' }, 'Replays'));
  if (canWrite()) {
    const rules = (await get('/v1/rules?limit=1000', { signal })).items;
    const rule = h('select', { id: 'rp-rule', required: true }, rules.map((r) => h('option', { value: r.name }, r.name)));
    const rfrom = h('input', { id: 'rp-from', type: 'datetime-local', required: true, value: toInput(new Date(now - 3600e3)) });
    const rto = h('input', { id: 'rp-to', type: 'datetime-local' });
    const out = h('div', { 'aria-live': 'polite' });
    sec.append(h('form', { class: 'filters', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const body = { rule: rule.value, from: fromInput(rfrom.value) };
        if (rto.value) body.to = fromInput(rto.value);
        await api('POST', '/v1/replays', body);
        toast('Replay started.');
        out.replaceChildren();
        refreshReplays();
      } catch (err) { out.replaceChildren(errorBox(err)); }
    } }, h('label', { for: 'rp-rule' }, 'Rule'), rule, h('label', { for: 'rp-from' }, 'From'), rfrom, h('label', { for: 'rp-to' }, 'To (default: now)'), rto,
    h('button', { type: 'submit', id: 'rp-submit' }, 'Start replay')), out);
  }
  sec.append(replays);
  m.append(sec);
  await refreshReplays();
  const timer = setInterval(() => { refreshReplays().catch(() => {}); }, 1000);
  signal.addEventListener('abort', () => clearInterval(timer));
}
