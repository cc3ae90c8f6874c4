// One incident: what, why, where it first diverged, who is blamed, the golden documents side by
// side (drawn by the collector's golden library; this page only renders the rows it is given),
// the evidence with sizes and SHA-256, and one-click export.
import { rpc, h, badge, table, severityBadge, stateBadge, time, bytes, errorBox, currentSession } from '/assets/api.js';
import { actionButtons } from '/assets/incidents.js';

function stepText(step) {
  return step ? 'step ' + step.index + (step.name ? ' · ' + step.name : '') : '';
}

/** The side-by-side rows as a table; returns {table, real (row elements of real differences), first}. */
function diffTable(view) {
  const t = document.createElement('table');
  t.className = 'diff';
  t.id = 'diff-table';
  const cols = document.createElement('colgroup');
  cols.append(h('col', { class: 'gutter' }), h('col'), h('col'));
  t.append(cols, h('thead', null, h('tr', null, h('th', { scope: 'col' }, ''), h('th', { scope: 'col', title: view.source_a }, 'A · ' + view.source_a),
    h('th', { scope: 'col', title: view.source_b }, 'B · ' + view.source_b))));
  const body = document.createElement('tbody');
  const real = [];
  let first = null;
  const frag = document.createDocumentFragment();
  view.rows.forEach((r, i) => {
    const tr = document.createElement('tr');
    let cls = r.type;
    if (r.type === 'differ' || r.type === 'note') cls += r.volatile ? ' noise' : ' real';
    else if (r.volatile) cls += ' noise';
    tr.className = cls;
    tr.dataset.row = i;
    tr.dataset.path = r.path;
    if (r.kind) tr.dataset.kind = r.kind;
    const gutter = document.createElement('td');
    gutter.className = 'gutter';
    gutter.title = r.path || '/';
    if (i === view.first_divergence_row) {
      tr.classList.add('first');
      tr.id = 'first-divergence';
      first = tr;
      gutter.textContent = '\u25b6 first divergence';
    } else if (r.step) {
      gutter.textContent = stepText(r.step);
    } else if (r.kind && !r.volatile) {
      gutter.textContent = r.kind.toLowerCase().replace('_', ' ');
    }
    if (r.step) tr.dataset.step = r.step.index;
    tr.append(gutter, side(r, r.a, 'a'), side(r, r.b, 'b'));
    if ((r.type === 'differ' || r.type === 'note') && !r.volatile) {
      tr.tabIndex = -1;
      real.push(tr);
    }
    frag.append(tr);
  });
  body.append(frag);
  t.append(body);
  return { table: t, real, first };
}

function side(r, text, which) {
  const td = document.createElement('td');
  td.className = 'side ' + which;
  td.style.setProperty('--d', r.depth);
  if (text === null || text === undefined) {
    td.classList.add('absent');
    td.setAttribute('aria-label', 'absent in ' + which.toUpperCase());
  } else if (r.type === 'differ' && !r.volatile) {
    const v = document.createElement('span');
    v.className = 'v';
    v.textContent = text;
    td.append(v);
  } else {
    td.textContent = text;
  }
  return td;
}

function reportSummary(report, resp) {
  return h('dl', { class: 'facts', id: 'diff-summary' },
    h('dt', null, 'Verdict'), h('dd', null, badge(report.verdict, report.verdict === 'MATCH' ? 'ok' : 'bad'), ' ', report.category || ''),
    h('dt', null, 'First divergent step'), h('dd', { id: 'first-step' }, report.first_divergent_step
      ? stepText(report.first_divergent_step) : 'none (the steps agree)'),
    h('dt', null, 'Why'), h('dd', null, report.explanation),
    (report.findings || []).length ? [h('dt', null, 'Also'), h('dd', null, report.findings.map((f) => h('div', null, f.category + ': ' + f.explanation)))] : null,
    h('dt', null, 'Differences'), h('dd', null, report.real_differences + ' real, ' + report.volatile_differences + ' volatile (noise)'),
    h('dt', null, 'Compared'), h('dd', { class: 'mono' }, report.source_a + '  ⟷  ' + report.source_b),
    resp.from_documents ? null : [h('dt', null, 'Documents'), h('dd', { class: 'muted' },
      'not captured yet: the report comes from the hashes the agents sent; the side-by-side view appears when the golden files arrive as evidence')]);
}

export async function render(main, route) {
  const id = route.arg;
  const head = h('div');
  const facts = h('div');
  const diffBox = h('section', { id: 'diff', 'aria-label': 'Golden diff', dataset: { state: 'loading' } }, h('p', { class: 'muted' }, 'Loading the diff…'));
  const evidenceBox = h('section', { id: 'evidence', 'aria-label': 'Evidence' });
  main.replaceChildren(head, facts, h('h2', null, 'Golden diff, side by side'), diffBox, h('h2', null, 'Evidence'), evidenceBox);
  let incident = null;
  let nav = { real: [], first: null, at: -1 };
  let diffKey = null;

  const showIncident = (inc) => {
    incident = inc;
    head.replaceChildren(h('h1', null, h('span', { class: 'mono' }, inc.id), severityBadge(inc.severity), stateBadge(inc.state),
      h('span', null, inc.title), actionButtons(inc, showIncident)));
    const blamed = new Set(inc.blamed_agent_ids || []);
    facts.replaceChildren(h('dl', { class: 'facts', id: 'incident-facts' },
      h('dt', null, 'Category'), h('dd', null, inc.category || inc.kind),
      h('dt', null, 'Why'), h('dd', null, inc.explanation || '—'),
      h('dt', null, 'First divergent step'), h('dd', null, inc.first_step_index >= 0 ? 'step ' + inc.first_step_index + (inc.first_step_name ? ' · ' + inc.first_step_name : '') : '—'),
      h('dt', null, 'Workflow'), h('dd', null, inc.workflow || '—'),
      h('dt', null, 'Runs'), h('dd', null, (inc.run_ids || []).map((r) => h('a', { href: '#/runs?prefix=' + encodeURIComponent(r), class: 'mono' }, r, ' '))),
      h('dt', null, 'Hosts'), h('dd', { id: 'hosts' }, (inc.agent_ids || []).map((a) => h('span', null, a, blamed.has(a) ? [' ', badge('blamed', 'bad')] : null, ' '))),
      h('dt', null, 'Stop order'), h('dd', null, inc.stop_order_id ? h('a', { href: '#/stop' }, inc.stop_order_id) : 'none'),
      h('dt', null, 'Seen'), h('dd', null, inc.count + '× · first ' + time(inc.first_seen) + ' · last ' + time(inc.last_seen)),
      h('dt', null, 'Signature'), h('dd', { class: 'mono muted' }, inc.signature),
      (inc.notes || []).length ? [h('dt', null, 'Notes'), h('dd', null, inc.notes.map((n) => h('div', null, time(n.at) + ' ' + n.by + ' ' + n.action + ': ' + n.note)))] : null));
    showEvidence(inc);
  };

  const showEvidence = (inc) => {
    const rows = (inc.evidence || []).map((e) => h('tr', { dataset: { name: e.agent_id + '/' + e.name } },
      h('td', { class: 'mono' }, e.name), h('td', null, e.kind), h('td', null, e.agent_id),
      h('td', { title: e.size_bytes + ' bytes' }, bytes(e.size_bytes), e.truncated ? [' ', badge('truncated', 'warn')] : null),
      h('td', { class: 'sha' }, e.sha256)));
    evidenceBox.replaceChildren(
      h('div', { class: 'toolbar' }, h('a', { href: '/api/evidence?incident=' + encodeURIComponent(inc.id), download: 'incident-' + inc.id + '.tgz',
        id: 'export', class: 'button' }, 'Export evidence (.tgz) — e'),
        h('span', { class: 'muted' }, rows.length + ' file' + (rows.length === 1 ? '' : 's') + ', ' + bytes((inc.evidence || []).reduce((n, e) => n + Number(e.size_bytes), 0)) + '; each checked against its SHA-256 on export')),
      rows.length ? table(['Name', 'Kind', 'Agent', 'Size', 'SHA-256'], rows, { id: 'evidence-table' }) : h('p', { class: 'empty' }, 'No evidence stored yet.'));
  };

  const loadDiff = async () => {
    let resp;
    try {
      resp = await rpc('Diff', { incident_id: id, side_by_side: true });
    } catch (e) {
      diffBox.dataset.state = 'none';
      diffBox.replaceChildren(e.code === 'FAILED_PRECONDITION' ? h('p', { class: 'empty' }, e.message) : errorBox(e));
      return;
    }
    const report = JSON.parse(resp.report_json);
    const view = resp.side_by_side_json ? JSON.parse(resp.side_by_side_json) : null;
    const nodes = [reportSummary(report, resp)];
    if (view) {
      const drawn = diffTable(view);
      nav = { real: drawn.real, first: drawn.first, at: -1 };
      const counter = h('span', { class: 'muted', id: 'diff-position', 'aria-live': 'polite' }, drawn.real.length + ' real difference rows');
      const noise = h('input', { type: 'checkbox', id: 'show-noise', checked: true, onchange: (e) => drawn.table.classList.toggle('hide-noise', !e.target.checked) });
      nav.counter = counter;
      nav.noise = noise;
      nav.table = drawn.table;
      nodes.push(h('div', { class: 'toolbar' },
        h('button', { type: 'button', id: 'jump-first', class: 'primary', disabled: !drawn.first, onclick: () => jump(nav.real.indexOf(nav.first)) }, 'First divergence — f'),
        h('button', { type: 'button', id: 'prev-diff', onclick: () => move(-1) }, '◀ Previous — p'),
        h('button', { type: 'button', id: 'next-diff', onclick: () => move(1) }, 'Next — n ▶'),
        h('label', { class: 'inline' }, noise, 'Show volatile noise (dimmed) — v'),
        counter,
        view.truncated ? badge('view cut at ' + view.max_rows + ' rows', 'warn') : null),
      h('div', { class: 'diffwrap' }, drawn.table));
    }
    diffBox.replaceChildren(...nodes);
    diffBox.dataset.state = view ? 'ready' : 'report';
    diffKey = resp.from_documents + ':' + (view ? 'v' : '');
    window.lockstepIncidentInteractiveAt = performance.now();
  };

  const jump = (k) => {
    if (k < 0 || k >= nav.real.length) return;
    nav.at = k;
    const tr = nav.real[k];
    tr.scrollIntoView({ block: 'center' });
    tr.focus({ preventScroll: true });
    nav.counter.textContent = 'difference ' + (k + 1) + ' of ' + nav.real.length + ' · ' + tr.dataset.path;
  };
  const move = (d) => {
    if (!nav.real.length) return;
    jump(nav.at < 0 ? (d > 0 ? 0 : nav.real.length - 1) : Math.max(0, Math.min(nav.real.length - 1, nav.at + d)));
  };

  try {
    showIncident(await rpc('GetIncident', { id }));
  } catch (e) {
    main.replaceChildren(h('h1', null, id), errorBox(e));
    return {};
  }
  await loadDiff();
  return {
    onEvent: (ev) => {
      if (!ev.incident || ev.incident.id !== id) return;
      const before = incident;
      showIncident(ev.incident);
      const changed = before.evidence.length !== ev.incident.evidence.length || before.differences.length !== ev.incident.differences.length
        || before.category !== ev.incident.category;
      if (changed && diffKey !== 'true:v') loadDiff();
    },
    onKey: (e) => {
      if (e.key === 'f' && nav.first) { jump(nav.real.indexOf(nav.first)); return true; }
      if (e.key === 'n') { move(1); return true; }
      if (e.key === 'p') { move(-1); return true; }
      if (e.key === 'v' && nav.noise) { nav.noise.click(); return true; }
      if (e.key === 'e') { document.getElementById('export')?.click(); return true; }
      return false;
    },
  };
}
