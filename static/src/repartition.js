// Automatic re-partition of a draft (the one being edited, or a new copy of the current plan),
// honouring its locked grids: parameters → a job with progress → a preview: moved units marked,
// the current plan's boundaries dashed over the new, figures before and after, the grids kept,
// new, retired, split and merged, the cases the run could not solve → accept or discard.

import { codeList, confirmAccept } from './accept.js';
import { ApiError, allFeatures, get, request } from './api.js';
import { clearPlan, draft, loadPlan } from './draft.js';
import { language, number, t } from './i18n.js';

const $ = (id) => document.getElementById(id);
const form = $('partition-form');
const jobBox = $('job');
const progress = $('job-progress');
const stepText = $('job-step');
const preview = $('preview');
const message = $('repartition-message');
const CODE_RUNS = /\d{12,16}/g; // community (12 digits), grid (15) and unit (16) codes

export const repartition = {
  map: null, config: null, job: null, plan: null, revision: null, onAccepted: null, lastDraft: null, result: null,
  onState: null, // (plan or null) → void: the plan previewed changed (the address keeps it)
};

function say(text, kind = 'info') {
  message.textContent = text;
  message.className = `message ${kind}`;
  message.hidden = !text;
}

function fail(error) {
  say(error instanceof ApiError ? t('error.generic', { detail: error.detail }) : String(error), 'error');
}

/** A job's step in the page's language. */
export function stepWords(text) {
  if (!text) return text;
  const key = `jobstep.${text}`;
  const word = t(key);
  return word === key ? text : word;
}

/** A case of the engine in the page's language: its template filled with the codes it names. */
export function caseText(c) {
  const codes = {};
  for (const code of c.message.match(CODE_RUNS) || []) {
    const role = code.length === 16 ? 'unit' : code.length === 15 ? 'grid' : code.length === 12 ? 'community' : null;
    if (role && !(role in codes)) codes[role] = code;
  }
  for (const key of [c.reason && `case.${c.kind}.${c.reason}`, `case.${c.kind}`]) {
    if (!key) continue; // with a reason, the words that say why; else the kind's
    const word = t(key, { ...codes, ...(c.detail || {}) });
    if (word !== key && !/\{\w+\}/.test(word)) return word;
  }
  return c.message;
}

/** Summary figures of a plan's grids: count, within bounds, s.d. of households, compactness. */
function summary(grids, config) {
  const households = grids.map((g) => g.households);
  const mean = households.reduce((a, b) => a + b, 0) / Math.max(households.length, 1);
  const sd = Math.sqrt(households.reduce((a, h) => a + (h - mean) ** 2, 0) / Math.max(households.length, 1));
  const within = grids.filter((g) => {
    const b = config.bounds[g.kind];
    return !b || (g.households >= b.min_households && g.households <= b.max_households);
  }).length;
  const pp = grids.reduce((a, g) => a + (g.polsby_popper || 0), 0) / Math.max(grids.length, 1);
  return {
    grids: number(grids.length),
    in_bounds: `${number(within)} / ${number(grids.length)}`,
    sd: number(sd, 1),
    pp: number(pp, 3),
    radius: number(Math.max(0, ...grids.map((g) => g.radius_m || 0))),
  };
}

function row(cells, figure) {
  const tr = document.createElement('tr');
  if (figure) tr.dataset.figure = figure;
  for (const text of cells) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

function drawFigures(diff) {
  const before = summary(diff.before, repartition.config);
  const after = summary(diff.after, repartition.config);
  const head = document.createElement('tr');
  for (const key of ['what', 'before', 'after']) {
    const th = document.createElement('th');
    th.textContent = t(`figure.${key}`);
    head.append(th);
  }
  const rows = Object.keys(before).map((key) => row([t(`figure.${key}`), before[key], after[key]], key));
  $('preview-figures').replaceChildren(head, ...rows, row([t('figure.moved'), '', number(diff.units_moved)], 'moved'));
}

function drawLists(diff) {
  const list = $('preview-lists');
  list.replaceChildren();
  const caption = document.createElement('dt');
  caption.className = 'caption';
  caption.textContent = t('repartition.lists');
  list.append(caption);
  for (const key of ['kept', 'new', 'retired', 'split', 'merged']) {
    codeList(list, key, diff[key], key === 'kept' ? 0 : Infinity); // kept: the count alone
  }
}

function drawCases(cases) {
  const box = $('preview-cases');
  box.replaceChildren();
  if (!cases || !cases.length) return;
  const head = document.createElement('h3');
  head.textContent = t('repartition.cases', { n: number(cases.length) });
  const ul = document.createElement('ul');
  ul.replaceChildren(...cases.map((c) => {
    const li = document.createElement('li');
    li.dataset.kind = c.kind;
    li.textContent = caseText(c);
    return li;
  }));
  box.append(head, ul);
}

async function explainNothingMoved(plan, cases) {
  const grids = (await allFeatures('grids', { plan })).features.map((f) => f.properties);
  const locked = grids.filter((g) => g.locked).length;
  const why = (locked ? t('repartition.why_locked', { locked: number(locked) }) : '')
    + (cases && cases.length ? t('repartition.why_cases', { n: number(cases.length) }) : t('repartition.why_fine'));
  say(t('repartition.nothing_moved', { why }), 'info');
}

/** The current plan's boundaries, dashed, over the draft's (the old beside the new). */
function showOldLines(on) {
  const { map } = repartition;
  if (!map.getLayer('grids-line')) return;
  map.setLayoutProperty('grids-line', 'visibility', on ? 'visible' : 'none');
  map.setPaintProperty('grids-line', 'line-dasharray', on ? [2, 2] : undefined);
}

async function showPreview(plan) {
  const diff = await get(`/plans/${plan}/diff`);
  await loadPlan(repartition.map, plan, diff.moved_units.map((m) => m.unit));
  drawFigures(diff);
  drawLists(diff);
  drawCases(repartition.result ? repartition.result.cases : []);
  showOldLines($('old-lines').checked);
  $('plan-accept').disabled = repartition.config.role !== 'admin';
  $('plan-accept').title = repartition.config.role === 'admin' ? '' : t('repartition.need_admin');
  preview.hidden = false;
  return diff;
}

async function follow(location) {
  for (;;) {
    const job = await get(location);
    repartition.job = job;
    progress.value = job.progress.fraction;
    stepText.textContent = stepWords(job.progress.message) || t(`step.${job.status}`);
    if (job.status === 'succeeded') return job;
    if (job.status === 'failed') throw new Error(t('repartition.failed', { error: job.error }));
    if (job.status === 'cancelled') throw new Error(t('repartition.cancelled'));
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function chosenPlan() {
  const chosen = $('partition-plan').value;
  if (chosen && chosen !== 'new') return Number(chosen);
  const stamp = new Date().toLocaleString(language() === 'zh' ? 'zh-CN' : 'en', { hour12: false });
  const made = await request('/plans', { method: 'POST', json: { name: `${t('repartition.name')} ${stamp}`, source: 'current' } });
  return made.body.id;
}

async function run(event) {
  event.preventDefault();
  say('');
  preview.hidden = true;
  const data = new FormData(form);
  const body = {
    mode: data.get('mode'), target: Number(data.get('target')), min: Number(data.get('min')),
    max: Number(data.get('max')), radius_by: data.get('radius_by'),
  };
  if (data.get('radius')) body.radius = Number(data.get('radius'));
  try {
    form.querySelector('button[type=submit]').disabled = true;
    repartition.plan = await chosenPlan();
    repartition.lastDraft = repartition.plan;
    jobBox.hidden = false;
    progress.value = 0;
    const started = await request('/jobs/partition', { method: 'POST', json: { plan: repartition.plan, ...body } });
    const done = await follow(`/jobs/${started.body.id}`);
    repartition.revision = done.result.revision; // the draft as previewed: accepted only as it is
    repartition.result = done.result;
    await showPreview(repartition.plan);
    if (repartition.onState) repartition.onState(repartition.plan);
    await fillPlans(repartition.plan);
    if (done.result.units_moved === 0) await explainNothingMoved(repartition.plan, done.result.cases);
  } catch (error) {
    if (error instanceof ApiError) fail(error);
    else say(error.message, 'error');
  } finally {
    form.querySelector('button[type=submit]').disabled = false;
    jobBox.hidden = true;
    repartition.job = null;
  }
}

async function cancel() {
  if (repartition.job) await request(`/jobs/${repartition.job.id}`, { method: 'DELETE' }).catch(fail);
}

async function accept() {
  const plan = repartition.plan;
  try {
    if (!(await confirmAccept(plan, repartition.revision))) return;
    repartition.plan = null;
    repartition.lastDraft = null;
    preview.hidden = true;
    showOldLines(false);
    clearPlan(repartition.map);
    if (repartition.onState) repartition.onState(null);
    await fillPlans();
    if (repartition.onAccepted) await repartition.onAccepted(plan); // the map shows it first
    say(t('repartition.accepted', { plan }), 'ok');
  } catch (error) {
    fail(error);
  }
}

async function discard() {
  try {
    await request(`/plans/${repartition.plan}`, { method: 'DELETE' });
    repartition.plan = null;
    repartition.lastDraft = null;
    preview.hidden = true;
    showOldLines(false);
    clearPlan(repartition.map);
    say(t('repartition.discarded'), 'ok');
    if (repartition.onState) repartition.onState(null);
    await fillPlans();
  } catch (error) {
    fail(error);
  }
}

/** List the drafts a run may work on (the one last edited first chosen) and a new copy. */
async function fillPlans(selected = null) {
  const drafts = (await get('/plans')).filter((p) => p.status === 'draft');
  const select = $('partition-plan');
  const options = drafts.map((p) => {
    const o = document.createElement('option');
    o.value = p.id;
    o.textContent = `#${p.id} ${p.name}`;
    return o;
  });
  const fresh = document.createElement('option');
  fresh.value = 'new';
  fresh.textContent = t('repartition.new_copy');
  select.replaceChildren(...options, fresh);
  const wanted = selected || repartition.lastDraft;
  select.value = drafts.some((p) => p.id === wanted) ? String(wanted) : 'new';
}

/** Wire the re-partition panel; `onAccepted(plan)` runs when a plan became current. */
export function setUpRepartition(map, config, onAccepted) {
  Object.assign(repartition, { map, config, onAccepted });
  const urban = config.bounds.urban;
  form.elements.target.value = urban.target_households;
  form.elements.min.value = urban.min_households;
  form.elements.max.value = urban.max_households;
  form.addEventListener('submit', run);
  $('job-cancel').addEventListener('click', cancel);
  $('plan-accept').addEventListener('click', accept);
  $('plan-discard').addEventListener('click', discard);
  $('old-lines').addEventListener('change', () => showOldLines($('old-lines').checked && !preview.hidden));
}

/**
 * Enter or leave the re-partition mode (a shown preview stays until accepted or discarded);
 * `edited` is the draft open in edit mode, offered first.
 */
export async function setRepartitioning(active, edited = null) {
  if (!active) {
    showOldLines(false);
    clearPlan(repartition.map);
    return;
  }
  if (edited) repartition.lastDraft = edited;
  await fillPlans(repartition.plan);
  if (repartition.plan && !preview.hidden) await showPreview(repartition.plan);
  else if (draft.plan) clearPlan(repartition.map);
}

/** Show the preview of draft `plan` again (a restored address): accepted only as it is now. */
export async function showPlanPreview(plan) {
  const head = await request(`/plans/${plan}`);
  if (head.body.status !== 'draft') return;
  repartition.plan = plan;
  repartition.lastDraft = plan;
  repartition.revision = head.body.revision;
  repartition.result = null;
  await fillPlans(plan);
  await showPreview(plan);
}
