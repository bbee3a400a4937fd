// Event types: every type seen, with counts and the inferred JSON Schema.
import { get } from './api.js';
import { h, table, pre, fmtTime, fmtNum } from './ui.js';

export async function render(m, _parts, signal) {
  const list = await get('/v1/eventtypes', { signal });
  const detail = h('section', { class: 'detail', 'aria-label': 'Schema', id: 'et-detail' });
  m.append(h('h1', {}, 'Event types'),
    list.overflow ? h('p', { class: 'help' }, `${list.overflow} events had types the catalog had no room for.`) : '',
    table(list.items, [
      ['Type', (t) => h('button', { type: 'button', class: 'link', onclick: () => detail.replaceChildren(h('h2', {}, t.type + ' from ' + t.source), h('h3', {}, 'Inferred JSON Schema of data'), pre(t.schema || {})) }, t.type)],
      ['Source', (t) => t.source], ['Count', (t) => fmtNum(t.count)], ['Content type', (t) => t.datacontenttype || ''],
      ['First seen', (t) => fmtTime(t.first_seen)], ['Last seen', (t) => fmtTime(t.last_seen)]],
    { empty: 'No events seen yet.' }), detail);
}
