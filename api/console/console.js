/* global window */
/**
 * The auditor console: sign in with a tenant and token, search the decision log with filters,
 * page through the results by cursor, open one decision's full record, and see allowed and
 * denied counts over time. Read-only: it only GETs the decision-log API, besides starting
 * and ending its own session (session.js).
 */
import { ApiError, decisionStats, getDecision, searchDecisions } from './api.js';
import { drawChart } from './chart.js';
import { byId, html, showMessage } from './dom.js';
import {
  autoBucket,
  bundleLabel,
  formatTime,
  outcomeOf,
  prettyJson,
  normalizeTime,
} from './format.js';
import { currentSession, signIn as startSession, signOut as endSession } from './session.js';

const state = {
  session: undefined,
  /** Parameters of the current search, without the cursor. */
  params: {},
  /** The cursor each page starts at; the first page has none. */
  cursors: [undefined],
  page: 0,
  /** Numbers each search so an answer arriving late for an old one is dropped. */
  ticket: 0,
};

function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}

/** A 401: the session ended, expired, or its key was revoked; only signing in again helps. */
function sessionGone(err) {
  return err instanceof ApiError && err.status === 401;
}

function showSignedIn(signedIn) {
  byId('sign-in').hidden = signedIn;
  byId('workspace').hidden = !signedIn;
  byId('who').hidden = !signedIn;
  byId('who-tenant').textContent = signedIn ? state.session.tenant : '';
}

function readFilters() {
  const form = byId('filters');
  const value = (name) => form.elements.namedItem(name).value.trim();
  return {
    from: normalizeTime(value('from')),
    to: normalizeTime(value('to')),
    path: value('path'),
    allowed: value('allowed'),
    bundle_version: value('bundle_version'),
    caller: value('caller'),
    input: value('input'),
    kind: value('kind'),
    limit: value('limit'),
  };
}

function recordButton(decision) {
  return html(
    'button',
    { type: 'button', class: 'link', 'aria-label': `Show decision ${decision.decision_id}` },
    decision.decision_id,
  );
}

function resultRow(decision) {
  const outcome = outcomeOf(decision.allowed);
  const row = html(
    'tr',
    { 'data-decision-id': decision.decision_id },
    html('td', { class: 'time' }, formatTime(decision.ts)),
    html('td', { class: 'path' }, decision.path),
    html('td', {}, html('span', { class: `badge ${outcome}` }, outcome)),
    html('td', {}, bundleLabel(decision)),
    html('td', {}, decision.caller ?? '—'),
    html('td', { class: 'id' }, recordButton(decision)),
  );
  // The button inside is the keyboard way in; its click reaches the row too.
  row.addEventListener('click', () => void openRecord(decision.decision_id));
  return row;
}

function renderPage(body) {
  const tbody = byId('results').tBodies[0];
  tbody.replaceChildren(...body.decisions.map(resultRow));
  const count = body.decisions.length;
  const first = state.page * Number(state.params.limit) + 1;
  byId('results-status').textContent =
    count === 0 && state.page === 0
      ? 'No decisions match these filters.'
      : `Showing ${first}–${first + count - 1}, newest first.`;
  byId('page-number').textContent = `Page ${state.page + 1}`;
  state.cursors[state.page + 1] = body.next ?? undefined;
  byId('next-page').disabled = body.next === null;
  byId('previous-page').disabled = state.page === 0;
}

/** Marks the results and chart as loading (`aria-busy`), or done. */
function setBusy(busy) {
  const workspace = byId('workspace');
  if (busy) workspace.setAttribute('aria-busy', 'true');
  else workspace.removeAttribute('aria-busy');
}

/** Loads the current page; the error when it could not. */
async function loadPage(ticket) {
  try {
    const body = await searchDecisions(state.session, {
      ...state.params,
      cursor: state.cursors[state.page],
    });
    if (ticket === state.ticket) renderPage(body);
    return undefined;
  } catch (err) {
    return err;
  }
}

/** Draws the chart for the current filters; the error when it could not. */
async function loadChart(ticket) {
  const { from, to, path, bundle_version, caller, input, kind, allowed } = state.params;
  const chosen = byId('filter-bucket').value;
  const bucket = chosen === 'auto' ? autoBucket(from, to) : chosen;
  try {
    const stats = await decisionStats(state.session, {
      from,
      to,
      path,
      bundle_version,
      caller,
      input,
      kind,
      bucket,
    });
    if (ticket !== state.ticket) return undefined;
    const { allowed: yes, denied: no, other } = stats.totals;
    byId('chart-caption').textContent =
      `${formatTime(stats.from)} to ${formatTime(stats.to)} by ${stats.bucket}: ` +
      `${yes} allowed, ${no} denied, ${other} other.` +
      (allowed === '' ? '' : ' The outcome filter does not narrow the chart.');
    byId('chart').replaceChildren(drawChart(stats, 'chart-caption'));
    return undefined;
  } catch (err) {
    return err;
  }
}

async function search() {
  const ticket = ++state.ticket;
  state.params = readFilters();
  state.cursors = [undefined];
  state.page = 0;
  setBusy(true);
  const results = await Promise.all([loadPage(ticket), loadChart(ticket)]);
  if (ticket !== state.ticket) return;
  const problems = results.filter((problem) => problem !== undefined);
  const gone = problems.find(sessionGone);
  if (gone !== undefined) {
    leave(messageOf(gone));
    return;
  }
  showMessage(byId('search-error'), [...new Set(problems.map(messageOf))].join(' '));
  setBusy(false);
}

async function turnPage(step) {
  const ticket = ++state.ticket;
  state.page += step;
  setBusy(true);
  const problem = await loadPage(ticket);
  if (ticket !== state.ticket) return;
  if (sessionGone(problem)) {
    leave(messageOf(problem));
    return;
  }
  // A page that could not be read is not the page shown.
  if (problem !== undefined) state.page -= step;
  showMessage(byId('search-error'), problem === undefined ? '' : messageOf(problem));
  setBusy(false);
}

const recordOrder = [
  ['decision_id', 'Decision id'],
  ['ts', 'Time (UTC)'],
  ['seq', 'Sequence'],
  ['path', 'Path'],
  ['allowed', 'Outcome'],
  ['bundle_name', 'Bundle'],
  ['bundle_version', 'Bundle version'],
  ['bundle_revision', 'Bundle revision'],
  ['caller', 'Caller'],
  ['cache', 'Cache'],
  ['duration_us', 'Duration (µs)'],
  ['kind', 'Kind'],
  ['rollout', 'Rollout'],
  ['trace_id', 'Trace id'],
  ['prev_hash', 'Previous hash'],
  ['hash', 'Hash'],
];

/** `rollout_id` as `Rollout id`. */
function labelOf(name) {
  const words = name.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** `shadow arm of rollout 6f1c…, beside decision 0b8f…, disagrees`. */
function rolloutText(rollout) {
  const parts = [`${rollout.arm} arm of rollout ${rollout.id}`];
  if (rollout.compared_with !== undefined) parts.push(`beside decision ${rollout.compared_with}`);
  if (rollout.agrees !== undefined) parts.push(rollout.agrees ? 'agrees' : 'disagrees');
  return parts.join(', ');
}

function fieldText(name, value) {
  if (name === 'ts') return formatTime(value);
  if (name === 'rollout' && value !== null && typeof value === 'object') return rolloutText(value);
  if (name === 'allowed') return outcomeOf(value);
  if (value === null || value === undefined) return '—';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function renderRecord(record) {
  const known = new Set(['input', 'result', ...recordOrder.map(([name]) => name)]);
  // Fields this page does not know yet are shown too, after the known ones.
  const extra = Object.keys(record)
    .filter((name) => !known.has(name))
    .map((name) => [name, labelOf(name)]);
  const fields = [...recordOrder, ...extra].filter(([name]) => name in record);
  byId('record-fields').replaceChildren(
    ...fields.flatMap(([name, label]) => [
      html('dt', {}, label),
      html('dd', { 'data-field': name }, fieldText(name, record[name])),
    ]),
  );
  byId('record-input').textContent = prettyJson(record.input);
  byId('record-result').textContent = prettyJson(record.result);
}

async function openRecord(decisionId) {
  const dialog = byId('record');
  byId('record-title').textContent = `Decision ${decisionId}`;
  byId('record-fields').replaceChildren();
  byId('record-input').textContent = '';
  byId('record-result').textContent = '';
  showMessage(byId('record-error'), '');
  if (!dialog.open) dialog.showModal();
  try {
    renderRecord(await getDecision(state.session, decisionId));
  } catch (err) {
    if (sessionGone(err)) {
      dialog.close();
      leave(messageOf(err));
      return;
    }
    showMessage(byId('record-error'), messageOf(err));
  }
}

async function signIn(event) {
  event.preventDefault();
  const error = byId('sign-in-error');
  const tenant = byId('sign-in-tenant').value.trim();
  const token = byId('sign-in-token').value.trim();
  if (tenant === '' || token === '') {
    showMessage(error, 'Enter the tenant and a token.');
    return;
  }
  const button = event.currentTarget.querySelector('button[type="submit"]');
  button.disabled = true;
  showMessage(error, '');
  try {
    state.session = await startSession(tenant, token);
  } catch (err) {
    showMessage(error, messageOf(err));
    return;
  } finally {
    button.disabled = false;
  }
  byId('sign-in-token').value = '';
  showSignedIn(true);
  await search();
}

async function signOut() {
  const button = byId('sign-out');
  button.disabled = true;
  try {
    await endSession(state.session);
  } catch (err) {
    // A session that already ended needs no ending; any other failure leaves it signed in.
    if (err.status !== 401) {
      showMessage(byId('search-error'), messageOf(err));
      return;
    }
  } finally {
    button.disabled = false;
  }
  leave('');
}

/** Back to the sign-in form, showing `message` there (why the session ended), if any. */
function leave(message) {
  state.session = undefined;
  state.ticket++;
  byId('results').tBodies[0].replaceChildren();
  byId('chart').replaceChildren();
  byId('chart-caption').textContent = '';
  byId('results-status').textContent = '';
  showMessage(byId('search-error'), '');
  setBusy(false);
  showSignedIn(false);
  showMessage(byId('sign-in-error'), message);
  byId('sign-in-tenant').focus();
}

function start() {
  byId('sign-in-form').addEventListener('submit', (event) => void signIn(event));
  byId('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    void search();
  });
  // The form clears its fields after this event, so search once it has.
  byId('filters').addEventListener('reset', () => window.setTimeout(() => void search(), 0));
  byId('next-page').addEventListener('click', () => void turnPage(1));
  byId('previous-page').addEventListener('click', () => void turnPage(-1));
  byId('sign-out').addEventListener('click', () => void signOut());
  void resume();
}

/** After a reload: the session the cookie still holds, if any. */
async function resume() {
  try {
    state.session = await currentSession();
  } catch (err) {
    showMessage(byId('sign-in-error'), messageOf(err));
  }
  showSignedIn(state.session !== undefined);
  if (state.session !== undefined) await search();
}

start();
