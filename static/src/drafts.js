// A draft's whole life in edit mode: new (a copy of the current plan or of another plan),
// rename, delete, export (GeoJSON, GPKG, CSV), its report, and accept through the confirmation.

import { confirmAccept } from './accept.js';
import { ApiError, get, request } from './api.js';
import { draft } from './draft.js';
import { language, t } from './i18n.js';
import { fetchReport, hand } from './reports.js';

const $ = (id) => document.getElementById(id);
const form = $('new-draft');

export const drafts = { hooks: null, plans: [] };

function stamp() {
  return new Date().toLocaleString(language() === 'zh' ? 'zh-CN' : 'en', { hour12: false });
}

function fail(error) {
  drafts.hooks.say(error instanceof ApiError ? t('error.generic', { detail: error.detail }) : String(error), 'error');
}

function option(value, text) {
  const o = document.createElement('option');
  o.value = value;
  o.textContent = text;
  return o;
}

async function openForm() {
  const plans = await get('/plans');
  drafts.plans = plans;
  $('new-draft-source').replaceChildren(
    option('current', t('draft.from_current')),
    ...plans.filter((p) => p.status !== 'current').map((p) => option(p.id, `#${p.id} ${p.name}（${t(`status.${p.status}`)}）`)),
    option('', t('draft.empty')),
  );
  $('new-draft-name').value = `${t('edit.draft_name')} ${stamp()}`;
  form.hidden = false;
  $('new-draft-name').focus();
}

async function create(event) {
  event.preventDefault();
  const chosen = $('new-draft-source').value;
  const source = chosen === 'current' ? 'current' : chosen === '' ? null : Number(chosen);
  try {
    const made = await request('/plans', { method: 'POST', json: { name: $('new-draft-name').value.trim(), source } });
    form.hidden = true;
    await drafts.hooks.opened(made.body.id);
    drafts.hooks.say(t('draft.created', { plan: made.body.id }), 'ok');
  } catch (error) {
    fail(error);
  }
}

async function rename() {
  if (!draft.plan) return;
  const current = drafts.hooks.planName();
  const name = prompt(t('draft.rename_prompt'), current);
  if (name === null || !name.trim() || name.trim() === current) return;
  try {
    const answer = await request(`/plans/${draft.plan}`, { method: 'PATCH', ifMatch: draft.revision, json: { name: name.trim() } });
    draft.revision = answer.body.revision;
    await drafts.hooks.listed(draft.plan);
    drafts.hooks.say(t('draft.renamed', { name: name.trim() }), 'ok');
  } catch (error) {
    await drafts.hooks.stale(error) || fail(error);
  }
}

async function remove() {
  if (!draft.plan) return;
  const plan = draft.plan;
  if (!confirm(t('draft.delete_confirm', { plan, name: drafts.hooks.planName() }))) return;
  try {
    await request(`/plans/${plan}`, { method: 'DELETE', ifMatch: draft.revision });
    await drafts.hooks.opened(null);
    drafts.hooks.say(t('draft.deleted', { plan }), 'ok');
  } catch (error) {
    await drafts.hooks.stale(error) || fail(error);
  }
}

async function download(path, format) {
  if (!draft.plan) return;
  drafts.hooks.say(t('reports.making'));
  try {
    const { blob, name } = await fetchReport(path);
    hand(blob, name, format);
    drafts.hooks.say(t('reports.saved', { name }), 'ok');
  } catch (error) {
    drafts.hooks.say(t('error.generic', { detail: error.message }), 'error');
  }
}

async function accept() {
  if (!draft.plan) return;
  const plan = draft.plan;
  try {
    if (!(await confirmAccept(plan, draft.revision))) return;
    await drafts.hooks.accepted(plan);
  } catch (error) {
    await drafts.hooks.stale(error) || fail(error);
  }
}

/** Enable what the shown plan and the key allow. */
export function drawDraftActions(config) {
  const writable = ['planner', 'admin'].includes(config.role) && Boolean(draft.plan);
  $('plan-rename').disabled = !writable;
  $('plan-delete').disabled = !writable;
  $('plan-accept-open').disabled = !(draft.plan && config.role === 'admin');
  $('plan-accept-open').title = config.role === 'admin' ? '' : t('repartition.need_admin');
  for (const b of document.querySelectorAll('#draft-files button')) b.disabled = !draft.plan;
}

/**
 * Wire the draft actions. `hooks`: say(text, kind), opened(plan) (a plan made or deleted: list
 * and open it), listed(plan) (list again, keep it), planName(), accepted(plan), stale(error)
 * (true when it handled a 412 by loading the fresh plan).
 */
export function setUpDrafts(hooks) {
  drafts.hooks = hooks;
  $('plan-new').addEventListener('click', () => openForm().catch(fail));
  $('new-draft-cancel').addEventListener('click', () => { form.hidden = true; });
  form.addEventListener('submit', create);
  $('plan-rename').addEventListener('click', rename);
  $('plan-delete').addEventListener('click', remove);
  $('plan-accept-open').addEventListener('click', accept);
  for (const b of document.querySelectorAll('#draft-files [data-export]')) {
    b.addEventListener('click', () => download(`/plans/${draft.plan}/export?format=${b.dataset.export}`, b.dataset.export));
  }
  for (const b of document.querySelectorAll('#draft-files [data-draft-report]')) {
    const format = b.dataset.draftReport;
    b.addEventListener('click', () => download(`/reports/plan?plan=${draft.plan}&format=${format}&lang=${language()}`, format));
  }
}
