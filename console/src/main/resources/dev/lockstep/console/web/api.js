// The console's way to the Operator API, and the small DOM helpers every page uses.
// Every call is POST /api/rpc/<Method> with the request message as proto3 JSON; the server makes
// it as the person at this browser, so the API's roles and audit decide, not this page.

let session = null;

/**
 * Who is at this browser: {who, role, may_act, csrf, mode, collector}. A refusal (4xx) rejects
 * with an ApiError at once; a network failure or a 5xx (the server restarting, a proxy between)
 * is retried with backoff, each failure reported to onRetry(why, attempt) so the page says so.
 */
export async function loadSession(onRetry = () => {}) {
  for (let attempt = 1; ; attempt++) {
    let r = null;
    let why;
    try {
      r = await fetch('/api/session', { credentials: 'same-origin' });
    } catch (e) {
      why = 'the console server is not reachable (' + e.message + ')';
    }
    if (r && r.ok) {
      session = await r.json();
      return session;
    }
    if (r && r.status < 500) {
      throw new ApiError(r.status, 'UNAUTHENTICATED', r.status === 401
        ? 'session expired: open the one-time link again' : 'the console refused the session: HTTP ' + r.status);
    }
    onRetry(why || 'the console server answered HTTP ' + r.status, attempt);
    await new Promise((done) => setTimeout(done, Math.min(5000, 250 * 2 ** Math.min(attempt - 1, 5))));
  }
}

export function currentSession() { return session; }

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

/** Calls one Operator API method; resolves with the response message, rejects with an ApiError. */
export async function rpc(method, request = {}) {
  let r;
  try {
    r = await fetch('/api/rpc/' + method, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Lockstep-Csrf': session ? session.csrf : '' },
      body: JSON.stringify(request),
    });
  } catch (e) {
    throw new ApiError(0, 'UNAVAILABLE', 'the console server is not reachable (' + e.message + ')');
  }
  const text = await r.text();
  let body = null;
  try { body = text ? JSON.parse(text) : {}; } catch (e) { body = null; }
  if (!r.ok) {
    const message = body && body.error ? body.error : (r.status === 401 ? 'session expired: open the one-time link again' : 'HTTP ' + r.status);
    throw new ApiError(r.status, body && body.code ? body.code : 'HTTP_' + r.status, message);
  }
  return body;
}

/**
 * The Watch stream as server-sent events. onEvent gets each WatchEvent; onState 'live' once the
 * collector answered, 'connecting' while the browser reconnects, 'down' with the reason.
 */
export function watch(onEvent, onState) {
  const source = new EventSource('/api/watch');
  source.onmessage = (m) => { onState('live'); onEvent(JSON.parse(m.data)); };
  source.addEventListener('end', (m) => onState('down', JSON.parse(m.data)));
  source.onerror = () => onState(source.readyState === EventSource.CLOSED ? 'down' : 'connecting');
  return () => source.close();
}

// ---- DOM ----------------------------------------------------------------------------------

/** h('tr', {class: 'x', onclick: f}, child, 'text', [more]) — text is always text, never HTML. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'text') el.textContent = v;
      else el.setAttribute(k, v === true ? '' : v);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function badge(text, kind) { return h('span', { class: 'badge ' + (kind || '') }, text); }

export function severityBadge(s) {
  return badge(s, s === 'P0' ? 'bad' : s === 'P1' ? 'bad' : s === 'P2' ? 'warn' : s === 'WARNING' ? 'warn' : 'info');
}

export function stateBadge(s) {
  return badge(s, s === 'OPEN' ? 'bad' : s === 'ACKNOWLEDGED' ? 'warn' : 'ok');
}

export function ackBadge(s) {
  return badge(s, s === 'CONFIRMED' ? 'ok' : s === 'FAILED' ? 'bad' : s === 'PENDING' ? 'warn' : '');
}

/** A table with a header row; rows is an array of <tr>. */
export function table(headers, rows, attrs) {
  return h('table', attrs || null,
    h('thead', null, h('tr', null, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', null, rows));
}

export function time(ts) {
  if (!ts || ts.startsWith('1970-01-01')) return '—';
  const d = new Date(ts);
  return d.toLocaleString(undefined, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function ago(ts) {
  if (!ts || ts.startsWith('1970-01-01')) return '—';
  const s = Math.round((Date.now() - new Date(ts).getTime()) / 1000);
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  if (s < 86400) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' d ago';
}

export function bytes(n) {
  n = Number(n || 0);
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
  if (n < 1024 * 1024 * 1024) return (n / 1048576).toFixed(1) + ' MiB';
  return (n / 1073741824).toFixed(2) + ' GiB';
}

export function scopeText(scope) {
  if (!scope || scope.fleet) return 'fleet';
  if (scope.workflow) return 'workflow ' + scope.workflow;
  if (scope.agent_id) return 'agent ' + scope.agent_id;
  return 'fleet';
}

/** Shows an error where the page can see it. */
export function errorBox(e) {
  return h('p', { class: 'error', role: 'alert' }, e instanceof ApiError ? e.message : String(e));
}

/** Calls fn at most once per wait ms (the last call wins). */
export function debounce(fn, wait) {
  let timer = null;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), wait); };
}

/**
 * A confirmation that names what will happen. body: nodes (the consequences); fields: form
 * controls the action needs (e.g. a reason). run(form) performs it and may throw an ApiError,
 * shown in the dialog; resolves true when it ran.
 */
export function confirmAction({ title, body, okLabel, danger = true, run }) {
  const dialog = document.getElementById('dialog');
  const form = document.getElementById('dialog-form');
  const ok = document.getElementById('dialog-ok');
  const error = document.getElementById('dialog-error');
  document.getElementById('dialog-title').textContent = title;
  const content = document.getElementById('dialog-body');
  content.replaceChildren(...body);
  ok.textContent = okLabel;
  ok.className = danger ? 'danger' : 'primary';
  ok.disabled = false;
  error.hidden = true;
  return new Promise((resolve) => {
    const done = (value) => {
      form.removeEventListener('submit', submit);
      document.getElementById('dialog-cancel').removeEventListener('click', cancel);
      dialog.removeEventListener('cancel', cancel);
      if (dialog.open) dialog.close();
      resolve(value);
    };
    const cancel = (e) => { e.preventDefault(); done(false); };
    const submit = async (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      ok.disabled = true;
      error.hidden = true;
      try {
        await run(form);
        done(true);
      } catch (err) {
        error.textContent = err instanceof ApiError ? err.message : String(err);
        error.hidden = false;
        ok.disabled = false;
      }
    };
    form.addEventListener('submit', submit);
    document.getElementById('dialog-cancel').addEventListener('click', cancel);
    dialog.addEventListener('cancel', cancel);
    dialog.showModal();
    const first = content.querySelector('textarea, input, select');
    (first || ok).focus();
  });
}

/** A required reason field for a confirmation. */
export function reasonField(label, name = 'reason') {
  return h('label', null, label,
    h('textarea', { name, required: true, maxlength: '1000', 'aria-label': label }));
}
