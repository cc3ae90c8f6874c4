// Incidents: filtered by severity, state, category and workflow (by the API), live.
import { rpc, h, table, severityBadge, stateBadge, ago, errorBox, currentSession, confirmAction } from '/assets/api.js';

const SEVERITIES = ['', 'P0', 'P1', 'P2', 'P3', 'WARNING'];
const STATES = ['', 'OPEN', 'ACKNOWLEDGED', 'RESOLVED'];
const CATEGORIES = ['SEED_MISMATCH', 'VOLATILE_LEAK', 'EXTERNAL_CALL', 'UNSEEDED_RNG', 'DETERMINISM_VIOLATION',
  'MISSING_REPLICA', 'REPLICA_CONFLICT', 'LOG_MISMATCH'];

/** Ack or resolve with a note, behind a confirmation that says what it does. */
export function incidentAction(inc, resolve, onDone) {
  return confirmAction({
    title: (resolve ? 'Resolve ' : 'Acknowledge ') + inc.id,
    body: [h('div', { class: 'consequence' }, resolve
      ? 'Marks ' + inc.id + ' (' + inc.title + ') RESOLVED. Its evidence becomes subject to retention; the same signature opens a new incident next time. Stop orders are not touched: resume them on the Stop page.'
      : 'Marks ' + inc.id + ' (' + inc.title + ') ACKNOWLEDGED: you are on it. Nothing else changes.'),
      h('label', null, 'Note (required): what you found or did', h('textarea', { name: 'note', required: true, maxlength: '4000' }))],
    okLabel: resolve ? 'Resolve ' + inc.id : 'Acknowledge ' + inc.id,
    danger: false,
    run: async (form) => {
      const updated = await rpc(resolve ? 'ResolveIncident' : 'AckIncident', { id: inc.id, note: form.elements.note.value });
      if (onDone) onDone(updated);
    },
  });
}

export function actionButtons(inc, onDone) {
  if (!currentSession().may_act || inc.state === 'RESOLVED') return null;
  return h('div', { class: 'row-actions' },
    inc.state === 'OPEN' ? h('button', { type: 'button', 'data-action': 'ack', onclick: () => incidentAction(inc, false, onDone) }, 'Ack…') : null,
    h('button', { type: 'button', 'data-action': 'resolve', onclick: () => incidentAction(inc, true, onDone) }, 'Resolve…'));
}

function select(name, label, values, chosen) {
  return h('label', null, label, h('select', { name }, values.map((v) => h('option', { value: v, selected: v === chosen }, v || 'any'))));
}

export async function render(main, route) {
  const q = route.query;
  const filter = {
    severity: q.get('severity') || '', state: q.get('state') || '', category: q.get('category') || '', workflow: q.get('workflow') || '',
  };
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter incidents' },
    select('severity', 'Severity', SEVERITIES, filter.severity),
    select('state', 'State', STATES, filter.state),
    h('label', null, 'Category', h('input', { name: 'category', list: 'categories', value: filter.category, 'data-search': true, size: '22' })),
    h('datalist', { id: 'categories' }, CATEGORIES.map((c) => h('option', { value: c }))),
    h('label', null, 'Workflow', h('input', { name: 'workflow', value: filter.workflow, size: '18' })),
    h('button', { type: 'submit', class: 'primary' }, 'Filter'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    for (const k of ['severity', 'state', 'category', 'workflow']) if (form.elements[k].value) p.set(k, form.elements[k].value.trim());
    location.hash = '#/incidents' + (p.toString() ? '?' + p : '');
  });
  const body = h('div');
  main.replaceChildren(h('h1', null, 'Incidents'), form, body);
  const request = { page_size: 500 };
  if (filter.severity) request.severity = filter.severity;
  if (filter.state) request.state = filter.state;
  if (filter.category) request.category = filter.category;
  if (filter.workflow) request.workflow = filter.workflow;
  const rows = new Map();
  let tbody = null;

  const row = (inc) => h('tr', { dataset: { incident: inc.id, severity: inc.severity, state: inc.state } },
    h('td', null, h('a', { href: '#/incident/' + encodeURIComponent(inc.id) }, inc.id)),
    h('td', null, severityBadge(inc.severity)),
    h('td', null, stateBadge(inc.state)),
    h('td', null, inc.title, inc.explanation ? h('div', { class: 'muted' }, inc.explanation) : null),
    h('td', null, inc.category || h('span', { class: 'muted' }, inc.kind)),
    h('td', null, inc.workflow || '—'),
    h('td', null, inc.count),
    h('td', { title: inc.last_seen }, ago(inc.last_seen)),
    h('td', null, actionButtons(inc, upsert)));

  function matches(inc) {
    return (!filter.severity || inc.severity === filter.severity) && (!filter.state || inc.state === filter.state)
      && (!filter.category || inc.category === filter.category) && (!filter.workflow || inc.workflow === filter.workflow);
  }

  function upsert(inc, flash) {
    if (!tbody) return;
    const old = rows.get(inc.id);
    if (!matches(inc)) {
      if (old) { old.remove(); rows.delete(inc.id); }
      return;
    }
    const tr = row(inc);
    if (flash) tr.classList.add('flash');
    if (old) old.replaceWith(tr); else tbody.prepend(tr);
    rows.set(inc.id, tr);
    body.querySelector('.empty')?.remove();
  }

  try {
    const list = await rpc('ListIncidents', request);
    const trs = list.incidents.map((inc) => { const tr = row(inc); rows.set(inc.id, tr); return tr; });
    const t = table(['ID', 'Severity', 'State', 'What', 'Category', 'Workflow', 'Count', 'Last seen', ''], trs, { id: 'incidents' });
    tbody = t.querySelector('tbody');
    body.replaceChildren(t, trs.length ? null : h('p', { class: 'empty' }, 'No incident matches.'));
  } catch (e) {
    body.replaceChildren(errorBox(e));
  }
  return {
    onEvent: (ev) => { if (ev.incident) upsert(ev.incident, true); },
  };
}
