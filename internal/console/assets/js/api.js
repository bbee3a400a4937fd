// The REST API client: a bearer token from sessionStorage, JSON in and
// out, problems (RFC 9457) thrown as ApiError.
const KEY = 'eventbridge.token';

export function token() { return sessionStorage.getItem(KEY) || ''; }
export function setToken(t) {
  if (t) sessionStorage.setItem(KEY, t); else sessionStorage.removeItem(KEY);
}

export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || ('HTTP ' + status));
    this.status = status;
    this.problem = problem || {};
  }
}

function headers(extra) {
  const h = { Accept: 'application/json', ...extra };
  const t = token();
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

// api calls the API. body: an object (sent as JSON) or a string sent with
// opts.type.
export async function api(method, path, body, opts = {}) {
  const init = { method, headers: headers(opts.headers), signal: opts.signal, credentials: 'omit' };
  if (body !== undefined) {
    if (typeof body === 'string') {
      init.headers['Content-Type'] = opts.type || 'application/json';
      init.body = body;
    } else {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
  }
  const res = await fetch(path, init);
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { detail: text }; }
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);

// stream reads Server-Sent Events from path with the bearer header
// (EventSource cannot send one) and calls onEvent(id, data) for each.
export async function stream(path, onEvent, signal, onOpen) {
  const res = await fetch(path, { headers: headers({ Accept: 'text/event-stream' }), signal, credentials: 'omit' });
  if (!res.ok) {
    let p = null;
    try { p = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, p);
  }
  if (onOpen) onOpen();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      let id = '', data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('data: ')) data += line.slice(6);
      }
      if (data) {
        try { onEvent(id, JSON.parse(data)); } catch { /* skip a bad line */ }
      }
    }
  }
}

export const enc = encodeURIComponent;
