// Runs: search by run_id (prefix), mismatches only, a workflow; each run's replicas and hashes.
import { rpc, h, badge, table, time, errorBox } from '/assets/api.js';

function verdictBadge(v) {
  return badge(v, v === 'MATCH' ? 'ok' : v === 'PENDING' ? 'info' : 'bad');
}

function replicas(run) {
  return table(['Role', 'Agent', 'Canonical hash', 'Engine hash', 'Seed', 'Steps', 'File'],
    run.replicas.map((r) => h('tr', null,
      h('td', null, r.role), h('td', null, r.agent_id),
      h('td', { class: 'sha' }, r.report.canonical_hash), h('td', { class: 'sha' }, r.report.engine_hash || '—'),
      h('td', { class: 'mono' }, r.report.has_seed ? r.report.seed : '—'), h('td', null, r.report.steps.length),
      h('td', { class: 'mono' }, r.report.path))), { class: 'replicas' });
}

export async function render(main, route) {
  const q = route.query;
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Search runs' },
    h('label', null, 'run_id starts with', h('input', { name: 'prefix', value: q.get('prefix') || '', size: '32', 'data-search': true })),
    h('label', null, 'Workflow', h('input', { name: 'workflow', value: q.get('workflow') || '', size: '18' })),
    h('label', { class: 'inline' }, h('input', { type: 'checkbox', name: 'mismatch', checked: q.get('mismatch') === '1' }), 'mismatches only'),
    h('button', { type: 'submit', class: 'primary' }, 'Search'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = new URLSearchParams();
    if (form.elements.prefix.value.trim()) p.set('prefix', form.elements.prefix.value.trim());
    if (form.elements.workflow.value.trim()) p.set('workflow', form.elements.workflow.value.trim());
    if (form.elements.mismatch.checked) p.set('mismatch', '1');
    location.hash = '#/runs' + (p.toString() ? '?' + p : '');
  });
  const body = h('div');
  const more = h('div', { class: 'toolbar' });
  main.replaceChildren(h('h1', null, 'Runs'), form, body, more);
  const request = { page_size: 100, run_id_prefix: q.get('prefix') || '', workflow: q.get('workflow') || '', mismatch_only: q.get('mismatch') === '1' };
  let tbody = null;

  const row = (run) => {
    const detail = h('tr', { class: 'detail', hidden: true }, h('td', { colspan: '8' }, replicas(run)));
    const toggle = h('button', { type: 'button', 'aria-expanded': 'false', onclick: () => {
      detail.hidden = !detail.hidden;
      toggle.setAttribute('aria-expanded', String(!detail.hidden));
      toggle.textContent = detail.hidden ? 'Replicas' : 'Hide';
    } }, 'Replicas');
    return [h('tr', { dataset: { run: run.run_id, verdict: run.verdict } },
      h('td', { class: 'mono' }, run.run_id), h('td', null, run.workflow || '—'), h('td', null, verdictBadge(run.verdict)),
      h('td', null, run.category || '—'), h('td', null, run.replicas.map((r) => r.role).join(', ')),
      h('td', null, run.incident_id ? h('a', { href: '#/incident/' + encodeURIComponent(run.incident_id) }, run.incident_id) : '—'),
      h('td', null, time(run.first_seen)), h('td', null, toggle)), detail];
  };

  const load = async (token) => {
    try {
      const list = await rpc('ListRuns', { ...request, page_token: token || '' });
      const trs = list.runs.flatMap(row);
      if (!tbody) {
        const t = table(['run_id', 'Workflow', 'Verdict', 'Category', 'Replicas', 'Incident', 'First seen', ''], trs, { id: 'runs' });
        tbody = t.querySelector('tbody');
        body.replaceChildren(t, trs.length ? null : h('p', { class: 'empty' }, 'No run matches.'));
      } else {
        tbody.append(...trs);
      }
      more.replaceChildren(list.next_page_token ? h('button', { type: 'button', onclick: () => load(list.next_page_token) }, 'More runs') : null);
    } catch (e) {
      body.replaceChildren(errorBox(e));
    }
  };
  await load('');
  return {};
}
