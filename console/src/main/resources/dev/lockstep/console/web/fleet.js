// Fleet: the collector's counts at a glance, its store, and one row per agent.
import { rpc, h, badge, ackBadge, table, ago, bytes, debounce, errorBox } from '/assets/api.js';

const LEVEL = { OK: 'ok', WARN: 'warn', CRITICAL: 'bad' };

/**
 * The agent table's columns, in order: {title, cell(agent) → node}. A column is one entry here.
 */
export const AGENT_COLUMNS = [
  { title: 'Agent', cell: (a) => [h('strong', null, a.agent_id), a.hostname && a.hostname !== a.agent_id ? h('div', { class: 'muted' }, a.hostname) : null] },
  { title: 'Connection', cell: (a) => [badge(a.connection, a.connection === 'CONNECTED' ? 'ok' : a.connection === 'STALE' ? 'warn' : 'bad'),
    h('div', { class: 'muted' }, 'seen ' + ago(a.last_seen)), a.remote_address ? h('div', { class: 'muted mono' }, a.remote_address) : null] },
  { title: 'Health probes', cell: (a) => probes(a).length === 0 ? h('span', { class: 'muted' }, 'none reported')
    : h('div', { class: 'line' }, probes(a).map((p) => h('div', { title: p.summary },
      badge(p.probe.replace('LOG_STALENESS', 'LOG'), LEVEL[p.level] || ''), ' ', h('span', { class: 'muted' }, p.summary || p.target)))) },
  { title: 'Components', cell: components },
  { title: 'Stop', cell: (a) => a.stop && a.stop.agent_id ? [badge(a.stop.mode || 'RUNNING', a.stop.mode === 'STOPPED' ? 'bad' : 'ok'), ' ', ackBadge(a.stop.status)]
    : h('span', { class: 'muted' }, 'no desired state yet') },
  { title: 'Runs', cell: (a) => [a.runs_reported + ' reported', Number(a.runs_blamed) > 0 ? h('div', { class: 'error' }, a.runs_blamed + ' blamed') : null] },
  { title: 'Version', cell: (a) => [a.version || '—', Object.keys(a.labels || {}).length ? h('div', { class: 'muted' },
    Object.entries(a.labels).map(([k, v]) => k + '=' + v).join(' ')) : null] },
  { title: 'Acked seq', cell: (a) => h('span', { class: 'mono' }, a.acked_seq) },
];

/** The playbook's probes (process, disk, log staleness), without the agent's own components. */
function probes(a) {
  return (a.probes || []).filter((p) => p.probe !== 'COMPONENT');
}

/**
 * The agent's own components (issue 13, like the OpenTelemetry Collector's component status):
 * "N ok" when all run, else each one that does not, with its state and why.
 */
function components(a) {
  const all = (a.probes || []).filter((p) => p.probe === 'COMPONENT');
  if (all.length === 0) return h('span', { class: 'muted', dataset: { components: 'none' } }, 'not reported');
  const name = (p) => (p.component && p.component.name) || p.target;
  const bad = all.filter((p) => p.level !== 'OK');
  if (bad.length === 0) return h('div', { dataset: { components: 'ok' } }, badge(all.length + ' ok', 'ok'));
  return h('div', { class: 'line', dataset: { components: bad.map(name).join(',') } }, bad.map((p) => {
    const reason = (p.component && p.component.reason) || p.summary || '';
    return h('div', { title: reason }, badge(name(p) + ' ' + ((p.component && p.component.state) || p.level), LEVEL[p.level] || ''),
      ' ', h('span', { class: 'muted' }, reason));
  }));
}

function card(title, ...body) {
  return h('section', { class: 'card', 'aria-label': title }, h('h3', null, title), body);
}

function storeCard(store) {
  if (!store || !store.state) return card('Collector store', h('span', { class: 'muted' }, 'not reported'));
  const free = Number(store.free_bytes);
  const high = Number(store.high_watermark_bytes);
  const flood = Number(store.flood_watermark_bytes);
  const kind = store.state === 'OK' ? 'ok' : store.state === 'LOW' ? 'warn' : 'bad';
  // how far free space is above the flood stage, relative to twice the high watermark
  const scale = Math.max(1, 2 * high);
  const fill = Math.max(0, Math.min(100, Math.round(100 * (1 - Math.min(free, scale) / scale))));
  const meter = h('div', { class: 'meter ' + (kind === 'ok' ? '' : kind), role: 'meter', 'aria-label': 'store space used toward the watermarks',
    'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(fill) }, h('span'));
  meter.style.setProperty('--fill', fill);
  return card('Collector store', h('div', { class: 'big', dataset: { store: store.state } }, badge(store.state, kind), ' ', bytes(free), ' free'),
    meter,
    h('div', { class: 'muted' }, 'LOW below ' + bytes(high) + ', FLOOD below ' + bytes(flood)),
    Number(store.pending_writes) > 0 ? h('div', { class: 'error' }, store.pending_writes + ' writes held in memory') : null,
    store.detail ? h('div', { class: 'muted' }, store.detail) : null);
}

function cards(s) {
  const open = s.open_incidents || {};
  const sev = ['P0', 'P1', 'P2', 'P3', 'WARNING'].filter((k) => open[k]);
  const stop = s.stop || {};
  return h('div', { class: 'cards' },
    card('Agents', h('div', { class: 'big' }, s.agents_connected + ' connected'),
      h('div', { class: 'line' }, badge(s.agents_stale + ' stale', s.agents_stale > 0 ? 'warn' : ''),
        badge(s.agents_offline + ' offline', s.agents_offline > 0 ? 'bad' : ''),
        badge((s.unhealthy || []).length + ' unhealthy', (s.unhealthy || []).length ? 'warn' : ''))),
    card('Open incidents', h('div', { class: 'big' }, sev.length ? sev.reduce((n, k) => n + open[k], 0) : 0),
      h('div', { class: 'line' }, sev.length ? sev.map((k) => h('a', { href: '#/incidents?severity=' + k + '&state=OPEN' }, badge(k + ' ' + open[k], k === 'P0' || k === 'P1' ? 'bad' : 'warn')))
        : badge('none', 'ok'))),
    card('Emergency stop', h('div', { class: 'big' }, (stop.orders || []).length ? (stop.orders.length + ' order' + (stop.orders.length > 1 ? 's' : '') + ' active') : 'running'),
      h('div', { class: 'line' }, badge(stop.covered + ' covered', stop.covered ? 'bad' : ''), badge(stop.confirmed + ' confirmed', 'ok'),
        stop.pending ? badge(stop.pending + ' pending', 'warn') : null, stop.failed ? badge(stop.failed + ' failed', 'bad') : null,
        stop.offline ? badge(stop.offline + ' offline', '') : null)),
    card('Runs', h('div', { class: 'big' }, s.runs_correlated + ' correlated'),
      h('div', { class: 'line' }, badge(s.runs_mismatched + ' mismatched', Number(s.runs_mismatched) ? 'bad' : 'ok'), badge(s.events_ingested + ' events', ''), badge(s.cycles + ' cycles', ''))),
    storeCard(s.store));
}

export async function render(main) {
  const top = h('div');
  const agents = h('div');
  const problem = h('div');
  main.replaceChildren(h('h1', null, 'Fleet'), problem, top, h('h2', null, 'Agents'), agents);
  const load = async () => {
    try {
      const [status, list] = await Promise.all([rpc('GetStatus'), rpc('ListAgents')]);
      top.replaceChildren(cards(status));
      const rows = list.agents.map((a) => h('tr', { dataset: { agent: a.agent_id, connection: a.connection } },
        AGENT_COLUMNS.map((c) => h('td', null, c.cell(a)))));
      agents.replaceChildren(rows.length ? table(AGENT_COLUMNS.map((c) => c.title), rows, { id: 'agents' })
        : h('p', { class: 'empty' }, 'No agent has connected yet.'));
      problem.replaceChildren();
    } catch (e) {
      problem.replaceChildren(errorBox(e));
    }
  };
  await load();
  const later = debounce(load, 150);
  const timer = setInterval(load, 5000); // probes and the store are not on the watch stream
  return {
    onEvent: () => later(),
    dispose: () => clearInterval(timer),
  };
}
