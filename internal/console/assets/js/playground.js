// Pattern playground: a rule (filter and transform, JSON) against an event
// typed in or picked from the archive, through POST /v1/rules:test (the
// same code as `eventbridge pattern test`).
import { api, get } from './api.js';
import { h, pre, errorBox } from './ui.js';

const sampleRule = {
  filter: { pattern: { type: ['com.example.order.created'], data: { total: [{ numeric: ['>', 10] }] } } },
  transform: { jq: '{total: .data.total}' },
};
const sampleEvent = { specversion: '1.0', id: '1', source: '/shop', type: 'com.example.order.created', datacontenttype: 'application/json', data: { total: 42 } };

export async function render(m, _parts, signal) {
  const rule = h('textarea', { id: 'pg-rule', class: 'code', rows: 12, spellcheck: 'false', 'aria-describedby': 'pg-rule-help' });
  rule.value = JSON.stringify(sampleRule, null, 2);
  const event = h('textarea', { id: 'pg-event', class: 'code', rows: 12, spellcheck: 'false' });
  event.value = JSON.stringify(sampleEvent, null, 2);
  const out = h('div', { id: 'pg-result', 'aria-live': 'polite' });
  const run = async (e) => {
    e?.preventDefault();
    let ruleVal, eventVal;
    try { ruleVal = JSON.parse(rule.value); } catch (err) { out.replaceChildren(errorBox(new Error('Rule: not JSON: ' + err.message))); return; }
    try { eventVal = JSON.parse(event.value); } catch (err) { out.replaceChildren(errorBox(new Error('Event: not JSON: ' + err.message))); return; }
    rule.value = JSON.stringify(ruleVal, null, 2);
    event.value = JSON.stringify(eventVal, null, 2);
    try {
      const res = await api('POST', '/v1/rules:test', { rule: ruleVal, events: [eventVal] }, { signal });
      const r = res.results[0];
      out.replaceChildren(h('div', {},
        h('p', { class: 'verdict ' + (r.matched ? 'match' : 'nomatch'), 'data-matched': String(r.matched) }, r.matched ? 'Match' : 'No match'),
        r.error ? h('p', { class: 'error', role: 'alert' }, r.error) : null,
        r.output ? [h('h3', {}, 'Output (the event after the transform)'), pre(r.output)] : null));
    } catch (err) { out.replaceChildren(errorBox(err)); }
  };
  const pick = async () => {
    try {
      const list = await get('/v1/events?order=desc&limit=1', { signal });
      if (list.items.length) event.value = JSON.stringify(list.items[0].event, null, 2);
      else out.replaceChildren(h('p', {}, 'The archive is empty.'));
    } catch (err) { out.replaceChildren(errorBox(err)); }
  };
  m.append(h('h1', {}, 'Pattern playground'),
    h('form', { class: 'playground', onsubmit: run },
      h('div', {},
        h('label', { for: 'pg-rule' }, 'Rule (JSON: filter with pattern, sql or filters; optional transform)'), rule,
        h('p', { id: 'pg-rule-help', class: 'help' }, 'A rule spec as in the config file, written as JSON; it needs no sources or targets here.')),
      h('div', {},
        h('label', { for: 'pg-event' }, 'Event (CloudEvent, JSON)'), event,
        h('button', { type: 'button', id: 'pg-pick', onclick: pick }, 'Use the newest archived event')),
      h('div', { class: 'actions' }, h('button', { type: 'submit', id: 'pg-run' }, 'Test'))),
    out);
}
