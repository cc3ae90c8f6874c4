// The console's shell: who is here, which page is shown (#/page/arg?query), the live Watch
// stream handed to the page, the theme and the keyboard.
import { loadSession, watch, h, ApiError } from '/assets/api.js';
import * as fleet from '/assets/fleet.js';
import * as incidents from '/assets/incidents.js';
import * as incident from '/assets/incident.js';
import * as runs from '/assets/runs.js';
import * as stop from '/assets/stop.js';
import * as audit from '/assets/audit.js';

const PAGES = { fleet, incidents, incident, runs, stop, audit };
const main = document.getElementById('main');
let current = null;
let lastEventAt = null;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, q] = raw.split('?');
  const [name, ...rest] = path.split('/');
  return { name: PAGES[name] ? name : 'fleet', arg: rest.map(decodeURIComponent).join('/'), query: new URLSearchParams(q || '') };
}

// Each visit renders into a container of its own: a page still loading when the route changes
// (a slow answer) finishes into a detached container and is disposed, never over the new page.
let visit = 0;
async function show() {
  const route = parseHash();
  const mine = ++visit;
  if (current && current.dispose) current.dispose();
  current = null;
  document.querySelectorAll('nav a').forEach((a) => {
    const here = a.dataset.page === route.name || (route.name === 'incident' && a.dataset.page === 'incidents');
    if (here) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  });
  const host = h('div', { class: 'page' }, h('p', { class: 'muted' }, 'Loading…'));
  main.replaceChildren(host);
  document.body.dataset.page = route.name;
  delete document.body.dataset.ready;
  let page = null;
  try {
    page = await PAGES[route.name].render(host, route);
  } catch (e) {
    host.replaceChildren(h('h1', null, 'Could not load this page'),
      h('p', { class: 'error', role: 'alert' }, e instanceof ApiError ? e.message : String(e)));
  }
  if (mine !== visit) {
    if (page && page.dispose) page.dispose();
    return;
  }
  current = page;
  document.body.dataset.ready = route.name;
}

function live(state, detail) {
  const el = document.getElementById('live');
  el.dataset.state = state;
  el.textContent = state === 'live' ? 'live' + (lastEventAt ? ' · ' + lastEventAt.toLocaleTimeString() : '')
    : state === 'down' ? 'watch ended' + (detail ? ': ' + detail : '') + ' · reconnecting' : 'reconnecting…';
}

// ---- theme ----------------------------------------------------------------------------------
const THEMES = ['auto', 'light', 'dark'];
function applyTheme(theme) {
  if (theme === 'auto') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  document.getElementById('theme').textContent = 'theme: ' + theme;
}
function nextTheme() {
  const now = localStorage.getItem('lockstep-theme') || 'auto';
  const next = THEMES[(THEMES.indexOf(now) + 1) % THEMES.length];
  localStorage.setItem('lockstep-theme', next);
  applyTheme(next);
}

// ---- keyboard -------------------------------------------------------------------------------
let pendingG = false;
function typing(target) {
  return target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));
}
function onKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || document.querySelector('dialog[open]')) return;
  if (pendingG) {
    pendingG = false;
    const to = { f: 'fleet', i: 'incidents', r: 'runs', s: 'stop', a: 'audit' }[e.key];
    if (to) { location.hash = '#/' + to; e.preventDefault(); }
    return;
  }
  if (e.key === 'g') { pendingG = true; setTimeout(() => { pendingG = false; }, 1500); return; }
  if (e.key === '?') { document.getElementById('shortcuts').showModal(); e.preventDefault(); return; }
  if (e.key === 't') { nextTheme(); return; }
  if (e.key === '/') {
    const search = main.querySelector('[data-search]');
    if (search) { search.focus(); e.preventDefault(); }
    return;
  }
  if (current && current.onKey && current.onKey(e)) e.preventDefault();
}

async function start() {
  applyTheme(localStorage.getItem('lockstep-theme') || 'auto');
  document.getElementById('theme').addEventListener('click', nextTheme);
  document.getElementById('help').addEventListener('click', () => document.getElementById('shortcuts').showModal());
  document.addEventListener('keydown', onKey);
  let me;
  try {
    me = await loadSession((why, attempt) => main.replaceChildren(h('h1', null, 'Connecting…'),
      h('p', { class: 'error', role: 'status', id: 'session-retry', dataset: { attempt: String(attempt) } },
        why + ' · retrying (attempt ' + attempt + ')')));
  } catch (e) {
    main.replaceChildren(h('h1', null, 'Not logged in'), h('p', { class: 'error', role: 'alert' }, e.message));
    // the page is done: a person (or a test waiting for a page) sees why at once
    document.body.dataset.ready = 'login';
    return;
  }
  document.getElementById('who').textContent = me.who + ' (' + me.role + ')' + (me.may_act ? '' : ' · read only');
  document.getElementById('who').title = me.mode === 'cli' ? 'lockstep console → collector ' + me.collector
    : 'collector ' + me.collector + ', your client certificate';
  document.body.dataset.mayAct = String(me.may_act);
  watch((event) => {
    lastEventAt = new Date();
    live('live');
    if (current && current.onEvent) current.onEvent(event);
  }, live);
  window.addEventListener('hashchange', show);
  await show();
}

start();
