// Automatic re-partition: parameters → a job with progress → a preview of the diff (moved units
// marked, figures before and after) → accept (admin) or discard.

import { ApiError, get, request } from './api.js';
import { clearPlan, draft, loadPlan } from './draft.js';
import { language, number, t } from './i18n.js';

const $ = (id) => document.getElementById(id);
const form = $('partition-form');
const jobBox = $('job');
const progress = $('job-progress');
const stepText = $('job-step');
const preview = $('preview');
const message = $('repartition-message');

export const repartition = { map: null, config: null, job: null, plan: null, onAccepted: null };

function say(text, kind = 'info') {
  message.textContent = text;
  message.className = `message ${kind}`;
  message.hidden = !text;
}

function fail(error) {
  say(error instanceof ApiError ? t('error.generic', { detail: error.detail }) : String(error), 'error');
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

function drawPreview(diff) {
  const before = summary(diff.before, repartition.config);
  const after = summary(diff.after, repartition.config);
  const head = document.createElement('tr');
  for (const key of ['what', 'before', 'after']) {
    const th = document.createElement('th');
    th.textContent = t(`figure.${key}`);
    head.append(th);
  }
  const rows = Object.keys(before).map((key) => {
    const tr = document.createElement('tr');
    tr.dataset.figure = key;
    for (const text of [t(`figure.${key}`), before[key], after[key]]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.append(td);
    }
    return tr;
  });
  const moved = document.createElement('tr');
  moved.dataset.figure = 'moved';
  for (const text of [t('figure.moved'), '', number(diff.units_moved)]) {
    const td = document.createElement('td');
    td.textContent = text;
    moved.append(td);
  }
  $('preview-figures').replaceChildren(head, ...rows, moved);
  $('plan-accept').disabled = repartition.config.role !== 'admin';
  $('plan-accept').title = repartition.config.role === 'admin' ? '' : t('repartition.need_admin');
  preview.hidden = false;
}

async function showPreview(plan) {
  const diff = await get(`/plans/${plan}/diff`);
  await loadPlan(repartition.map, plan, diff.moved_units.map((m) => m.unit));
  drawPreview(diff);
}

async function follow(location) {
  for (;;) {
    const job = await get(location);
    repartition.job = job;
    progress.value = job.progress.fraction;
    stepText.textContent = job.progress.message || t(`step.${job.status}`);
    if (job.status === 'succeeded') return job;
    if (job.status === 'failed') throw new Error(t('repartition.failed', { error: job.error }));
    if (job.status === 'cancelled') throw new Error(t('repartition.cancelled'));
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
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
    if (!repartition.plan) {
      const stamp = new Date().toLocaleString(language() === 'zh' ? 'zh-CN' : 'en', { hour12: false });
      const made = await request('/plans', { method: 'POST', json: { name: `${t('repartition.name')} ${stamp}`, source: 'current' } });
      repartition.plan = made.body.id;
    }
    form.querySelector('button[type=submit]').disabled = true;
    jobBox.hidden = false;
    progress.value = 0;
    const started = await request('/jobs/partition', { method: 'POST', json: { plan: repartition.plan, ...body } });
    const done = await follow(`/jobs/${started.body.id}`);
    repartition.revision = done.result.revision; // the draft as previewed: accepted only as it is
    await showPreview(repartition.plan);
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
    await request(`/plans/${plan}/accept`, { method: 'POST', ifMatch: repartition.revision });
    repartition.plan = null;
    preview.hidden = true;
    clearPlan(repartition.map);
    say(t('repartition.accepted', { plan }), 'ok');
    if (repartition.onAccepted) await repartition.onAccepted(plan);
  } catch (error) {
    fail(error);
  }
}

async function discard() {
  try {
    await request(`/plans/${repartition.plan}`, { method: 'DELETE' });
    repartition.plan = null;
    preview.hidden = true;
    clearPlan(repartition.map);
    say(t('repartition.discarded'), 'ok');
  } catch (error) {
    fail(error);
  }
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
}

/** Enter or leave the re-partition mode (a shown preview stays until accepted or discarded). */
export async function setRepartitioning(active) {
  if (!active) {
    clearPlan(repartition.map);
    return;
  }
  if (repartition.plan && !preview.hidden) await showPreview(repartition.plan);
  else if (draft.plan) clearPlan(repartition.map);
}
