// Stop: the active orders, every agent's desired state and its confirmation (live), and the two
// actions — enable with a scope and a reason, resume with a reason — each behind a confirmation
// that names the agents and orders it touches.
import { rpc, h, badge, ackBadge, table, time, errorBox, currentSession, confirmAction, reasonField, scopeText } from '/assets/api.js';

export async function render(main) {
  const summary = h('div', { class: 'cards', id: 'stop-summary' });
  const orders = h('section', { id: 'orders', 'aria-label': 'Active stop orders' });
  const agentsBox = h('section', { id: 'stop-agents', 'aria-label': 'Agents' });
  const actions = h('section', { id: 'stop-actions', 'aria-label': 'Stop or resume' });
  const problem = h('div');
  main.replaceChildren(h('h1', null, 'Emergency stop'), problem, summary, actions, h('h2', null, 'Active orders'), orders,
    h('h2', null, 'Agents: desired state and confirmation'), agentsBox);
  let status = null;
  let agentInfo = [];
  const lastStatus = new Map();
  const mayAct = currentSession().may_act;

  let resumeAll = null;
  const show = (s) => {
    status = s;
    // nothing to resume: the button would only lead to a refusal
    if (resumeAll) resumeAll.disabled = s.orders.length === 0;
    const card = (title, value, kind) => h('section', { class: 'card' }, h('h3', null, title), h('div', { class: 'big' }, badge(String(value), kind)));
    summary.replaceChildren(card('Orders active', s.orders.length, s.orders.length ? 'bad' : 'ok'), card('Agents covered', s.covered, s.covered ? 'bad' : ''),
      card('Confirmed', s.confirmed, 'ok'), card('Pending', s.pending, s.pending ? 'warn' : ''), card('Failed', s.failed, s.failed ? 'bad' : ''),
      card('Offline', s.offline, ''));
    orders.replaceChildren(s.orders.length ? table(['Order', 'Scope', 'Reason', 'Incident', 'Issued by', 'Issued at', ''],
      s.orders.map((o) => h('tr', { dataset: { order: o.id } },
        h('td', { class: 'mono' }, o.id), h('td', null, scopeText(o.scope), o.adopted_from ? h('div', { class: 'muted' }, 'adopted from ' + o.adopted_from) : null),
        h('td', null, o.reason), h('td', null, o.incident_id ? h('a', { href: '#/incident/' + encodeURIComponent(o.incident_id) }, o.incident_id) : '—'),
        h('td', null, o.issued_by), h('td', null, time(o.issued_at)),
        h('td', null, mayAct ? h('button', { type: 'button', 'data-action': 'resume-order', onclick: () => resume([o.id]) }, 'Resume…') : null))),
      { id: 'orders-table' }) : h('p', { class: 'empty' }, 'No active order: every agent may run.'));
    const rows = s.agents.map((a) => {
      const tr = h('tr', { dataset: { agent: a.agent_id, status: a.status, mode: a.mode } },
        h('td', null, h('strong', null, a.agent_id)), h('td', null, badge(a.connected ? 'connected' : 'offline', a.connected ? 'ok' : '')),
        h('td', null, badge(a.mode, a.mode === 'STOPPED' ? 'bad' : 'ok'), h('div', { class: 'muted mono' }, 'gen ' + a.generation)),
        h('td', { class: 'mono' }, (a.order_ids || []).join(', ') || '—'),
        h('td', { class: 'ack' }, ackBadge(a.status)),
        h('td', null, Number(a.acked_generation) ? [a.acked_mode, h('div', { class: 'muted mono' }, 'gen ' + a.acked_generation)] : '—'),
        h('td', null, a.detail || '—'), h('td', null, time(a.acked_at)), h('td', null, time(a.changed_at)));
      if (lastStatus.has(a.agent_id) && lastStatus.get(a.agent_id) !== a.status + a.generation) tr.classList.add('flash');
      lastStatus.set(a.agent_id, a.status + a.generation);
      return tr;
    });
    agentsBox.replaceChildren(rows.length ? table(['Agent', 'Connection', 'Desired', 'Covering orders', 'Confirmation', 'Acked', 'Detail', 'Acked at', 'Changed at'], rows, { id: 'agents-stop' })
      : h('p', { class: 'empty' }, 'No agent known yet.'));
  };

  const covered = (scope) => {
    const all = status.agents.map((a) => a.agent_id);
    if (scope.agent_id) return all.filter((a) => a === scope.agent_id);
    if (scope.workflow) {
      return agentInfo.filter((a) => ((a.labels || {}).workflows || '').split(',').map((w) => w.trim()).includes(scope.workflow)).map((a) => a.agent_id);
    }
    return all;
  };

  const enable = async (scope, reason) => {
    const who = covered(scope);
    const list = who.length ? h('ul', null, who.map((a) => h('li', null, a))) : h('p', null, 'No agent known to run it yet.');
    const ran = await confirmAction({
      title: 'Stop ' + scopeText(scope) + '?',
      body: [h('div', { class: 'consequence' },
        h('strong', null, scope.workflow ? 'Every agent running workflow ' + scope.workflow + ' will STOP'
          : who.length === 1 ? 'This agent will STOP' : 'These ' + who.length + ' agents will STOP'),
        ': each writes its stop file, runs its on_stop hook (WORKFLOW_EMERGENCY_STOP=true) and its verify hook, and confirms. '
          + 'Workflows stay stopped until an operator resumes this order with a reason.',
        list, scope.workflow ? h('p', { class: 'muted' }, 'Listed: agents whose workflows label names it; agents that reported runs of it are covered too.') : null),
        h('p', null, 'Reason: ', h('em', null, reason))],
      okLabel: scope.workflow ? 'Stop workflow ' + scope.workflow : 'Stop ' + who.length + ' agent' + (who.length === 1 ? '' : 's'),
      run: async () => show(await rpc('EnableStop', { reason, scope })),
    });
    return ran;
  };

  const resume = async (orderIds) => {
    const all = orderIds === null;
    const removed = new Set(all ? status.orders.map((o) => o.id) : orderIds);
    const back = status.agents.filter((a) => a.mode === 'STOPPED' && (a.order_ids || []).every((o) => removed.has(o))).map((a) => a.agent_id);
    const still = status.agents.filter((a) => a.mode === 'STOPPED' && !back.includes(a.agent_id)).map((a) => a.agent_id);
    await confirmAction({
      title: all ? 'Resume every order?' : 'Resume ' + orderIds.join(', ') + '?',
      body: [h('div', { class: 'consequence' },
        h('strong', null, 'Removes ' + removed.size + ' order' + (removed.size === 1 ? '' : 's') + ': '), [...removed].join(', '), '. ',
        back.length ? [h('strong', null, back.length + ' agent' + (back.length === 1 ? '' : 's') + ' will RUN again'), ' (stop file removed, on_resume hook run):',
          h('ul', null, back.map((a) => h('li', null, a)))] : 'No agent runs again by this alone.',
        still.length ? h('p', null, still.length + ' stay stopped by other orders: ' + still.join(', ')) : null),
        reasonField('Reason (required): why it is safe to run again')],
      okLabel: back.length ? 'Resume ' + back.length + ' agent' + (back.length === 1 ? '' : 's') : 'Remove the order' + (removed.size === 1 ? '' : 's'),
      run: async (form) => {
        const request = { reason: form.elements.reason.value };
        // the orders this dialog named, always: "all" with them is refused, naming it, when an
        // order was issued after the dialog opened, instead of resuming it unseen
        request.order_ids = [...removed];
        if (all) request.all = true;
        show(await rpc('ResumeStop', request));
      },
    });
  };

  try {
    const [s, agents] = await Promise.all([rpc('GetStopStatus'), rpc('ListAgents')]);
    agentInfo = agents.agents;
    show(s);
  } catch (e) {
    problem.replaceChildren(errorBox(e));
    return {};
  }
  // the actions appear once there is a state to name in their confirmations
  if (mayAct) {
    const value = h('input', { name: 'value', size: '24', 'aria-label': 'Workflow or agent id', disabled: true, list: 'known-agents' });
    const scopeSel = h('select', { name: 'scope', 'aria-label': 'Scope', onchange: () => { value.disabled = scopeSel.value === 'fleet'; value.required = !value.disabled; } },
      h('option', { value: 'fleet' }, 'the whole fleet'), h('option', { value: 'workflow' }, 'one workflow'), h('option', { value: 'agent' }, 'one agent'));
    const reason = h('textarea', { name: 'reason', required: true, maxlength: '1000', 'aria-label': 'Reason', rows: '2' });
    const form = h('form', { id: 'enable-form', class: 'filters' },
      h('label', null, 'Stop', scopeSel), h('label', null, 'workflow / agent id', value),
      h('label', null, 'Reason (required)', reason),
      h('datalist', { id: 'known-agents' }, agentInfo.map((a) => h('option', { value: a.agent_id }))),
      h('button', { type: 'submit', class: 'danger', id: 'enable-stop' }, 'Stop…'),
      resumeAll = h('button', { type: 'button', id: 'resume-all', onclick: () => resume(null),
        disabled: status.orders.length === 0, title: 'Resume every active order, as listed' }, 'Resume all…'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      const scope = scopeSel.value === 'fleet' ? { fleet: true } : scopeSel.value === 'workflow' ? { workflow: value.value.trim() } : { agent_id: value.value.trim() };
      if (await enable(scope, reason.value.trim())) reason.value = '';
    });
    actions.replaceChildren(form);
  } else {
    actions.replaceChildren(h('p', { class: 'muted', id: 'read-only' }, 'Read only: your certificate\'s role (' + currentSession().role + ') may look but not stop or resume.'));
  }

  return {
    onEvent: (ev) => { if (ev.stop) show(ev.stop); },
  };
}
