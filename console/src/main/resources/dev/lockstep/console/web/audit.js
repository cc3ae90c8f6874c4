// Audit: who did what, from where, and what came of it.
import { rpc, h, badge, table, time, errorBox } from '/assets/api.js';

const SINCE = { '15m': 15 * 60, '1h': 3600, '24h': 86400, '7d': 7 * 86400, all: 0 };

export async function render(main, route) {
  const since = SINCE[route.query.get('since')] !== undefined ? route.query.get('since') : '24h';
  const text = route.query.get('q') || '';
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the audit log' },
    h('label', null, 'Since', h('select', { name: 'since' }, Object.keys(SINCE).map((k) => h('option', { value: k, selected: k === since }, k)))),
    h('label', null, 'Contains', h('input', { name: 'q', value: text, size: '28', 'data-search': true })),
    h('button', { type: 'submit', class: 'primary' }, 'Show'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams({ since: form.elements.since.value });
    if (form.elements.q.value.trim()) p.set('q', form.elements.q.value.trim());
    location.hash = '#/audit?' + p;
  });
  const body = h('div');
  main.replaceChildren(h('h1', null, 'Audit'), form, body);
  // newest first, a page at a time (ListAudit's next_page_token); "Show older" reads the next one
  const pageSize = Math.max(1, Math.min(10000, Number(route.query.get('page')) || 1000));
  let fetched = [];
  let token = '';
  const request = (pageToken) => {
    const r = { limit: pageSize };
    if (SINCE[since]) r.since = new Date(Date.now() - SINCE[since] * 1000).toISOString();
    if (pageToken) r.page_token = pageToken;
    return r;
  };
  const older = async () => {
    try {
      const list = await rpc('ListAudit', request(token));
      fetched = fetched.concat(list.entries);
      token = list.next_page_token || '';
      draw();
    } catch (e) {
      body.replaceChildren(errorBox(e));
    }
  };
  const draw = () => {
    const needle = text.toLowerCase();
    const entries = fetched.filter((e) => !needle || JSON.stringify(e).toLowerCase().includes(needle)).reverse();
    const rows = entries.map((e) => h('tr', { dataset: { action: e.action, result: e.result, who: e.who } },
      h('td', null, time(e.at)), h('td', null, h('strong', null, e.who), h('div', { class: 'muted' }, e.role)),
      h('td', null, e.action), h('td', { class: 'mono' }, e.target || '—'), h('td', { class: 'mono' }, e.remote_address),
      h('td', null, badge(e.result, e.result === 'OK' || e.result === 'SUCCEEDED' ? 'ok' : e.result === 'DENIED' || e.result === 'REFUSED' ? 'bad' : 'warn')),
      h('td', null, e.detail)));
    const more = token ? h('p', null, h('button', { type: 'button', id: 'audit-older', onclick: older },
      'Show older entries (' + fetched.length + ' shown)')) : null;
    body.replaceChildren(...[more, rows.length ? table(['When', 'Who', 'Action', 'Target', 'From', 'Result', 'Detail'], rows, { id: 'audit' })
      : h('p', { class: 'empty' }, 'Nothing audited in this window.')].filter((n) => n));
  };
  const load = async () => {
    fetched = [];
    token = '';
    await older();
  };
  await load();
  let timer = null;
  return {
    onEvent: (ev) => { if (ev.stop || ev.incident) { clearTimeout(timer); timer = setTimeout(load, 300); } },
    dispose: () => clearTimeout(timer),
  };
}
