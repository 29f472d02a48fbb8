// Accepting a draft: a confirmation that shows what changes for the whole city (grids kept,
// split, merged, new and retired, units and households moved, staff left without a grid), then
// the accept sent with the revision seen (If-Match).

import { get, request } from './api.js';
import { number, t } from './i18n.js';

const dialog = document.getElementById('accept-dialog');

/**
 * Add to `list` (a <dl>) the grids of one kind of change (kept, split, …): their count, and the
 * first `limit` codes (none when 0, only the count).
 */
export function codeList(list, key, codes, limit = 40) {
  const dt = document.createElement('dt');
  dt.textContent = `${t(`accept.${key}`)}（${number(codes.length)}）`;
  const dd = document.createElement('dd');
  dd.dataset.list = key;
  const shown = codes.slice(0, limit).join('、');
  const more = codes.length > limit && limit > 0 ? ` … +${codes.length - limit}` : '';
  dd.textContent = limit === 0 ? '' : codes.length ? shown + more : '—';
  list.append(dt, dd);
}

function fill(plan, diff) {
  document.getElementById('accept-lead').textContent = t('accept.lead', {
    plan, units: number(diff.units_moved), households: number(diff.households_moved),
  });
  const list = document.getElementById('accept-diff');
  list.replaceChildren();
  codeList(list, 'kept', diff.kept, 12);
  for (const key of ['split', 'merged', 'new', 'retired']) codeList(list, key, diff[key]);
  const staff = document.getElementById('accept-staff');
  const people = diff.staff_without_grid || [];
  staff.replaceChildren();
  if (people.length) {
    const head = document.createElement('h3');
    head.textContent = t('accept.staff', { n: number(people.length) });
    const ul = document.createElement('ul');
    ul.replaceChildren(...people.map((p) => {
      const li = document.createElement('li');
      li.dataset.grid = p.grid;
      const names = [p.leader && t('accept.leader', { name: p.leader }),
        p.workers.length && t('accept.workers', { names: p.workers.join('、') })].filter(Boolean);
      li.textContent = `${p.grid}：${names.join('；') || '—'}`;
      return li;
    }));
    staff.append(head, ul);
  }
}

/**
 * Show what accepting plan `plan` (at `revision`) changes and accept it when confirmed.
 * Returns true when accepted, false when cancelled; an error of the accept is thrown.
 */
export async function confirmAccept(plan, revision) {
  const diff = await get(`/plans/${plan}/diff`);
  fill(plan, diff);
  dialog.returnValue = '';
  dialog.showModal();
  const answer = await new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true });
  });
  if (answer !== 'confirm') return false;
  await request(`/plans/${plan}/accept`, { method: 'POST', ifMatch: revision });
  return true;
}
