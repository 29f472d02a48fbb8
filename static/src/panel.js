// The grid panel: a grid's figures, staff, station and coverage, read from the features API.

import { get } from './api.js';
import { number, percent, t } from './i18n.js';
import { drawTickets } from './tickets.js';

const panel = document.getElementById('grid-panel');
const title = document.getElementById('grid-title');
const figures = document.getElementById('grid-figures');
const tickets = document.getElementById('grid-tickets');
let shown = null; // {code, plan}
export const panelHooks = { onChange: null }; // (code or null) → void: the grid shown changed

function area(m2) {
  if (m2 === null || m2 === undefined) return '—';
  return m2 >= 100000 ? `${number(m2 / 1e6, 2)} ${t('units.km2')}` : `${number(m2)} m²`;
}

function rows(p) {
  const staffed = p.workers > 0;
  return [
    ['code', p.code],
    ['kind', t(`kind.${p.kind}`)],
    ['community', p.community_name ? `${p.community_name}（${p.community}）` : p.community],
    ['households', number(p.households)],
    ['residents', number(p.residents)],
    ['load', number(p.governance_load, 1)],
    ['leader', p.leader || t('grid.none')],
    ['workers', staffed ? number(p.workers) : t('grid.none')],
    ['per_worker', staffed ? number(p.residents_per_worker) : '—'],
    ['area', area(p.area_m2)],
    ['radius', p.radius_m === null ? '—' : `${number(p.radius_m)} ${t('units.m')}`],
    ['compactness', number(p.polsby_popper, 3)],
    ['coverage', percent(p.coverage)],
    ['station', p.station ? `${p.station_name || ''}（${p.station}）` : '—'],
    ['plan', p.plan],
  ];
}

function draw(feature, current) {
  const p = feature.properties;
  title.textContent = p.name || p.code;
  const card = document.getElementById('grid-card');
  card.hidden = !current; // cards are the current plan's
  card.href = `/cards/${encodeURIComponent(p.code)}`;
  figures.replaceChildren(...rows(p).flatMap(([key, value]) => {
    const dt = document.createElement('dt');
    dt.textContent = t(`grid.${key}`);
    const dd = document.createElement('dd');
    dd.textContent = value ?? '—';
    dd.dataset.field = key;
    return [dt, dd];
  }));
  panel.hidden = false;
}

/** Show grid `code` of `plan` (null: the current plan). */
export async function showGrid(code, plan = null) {
  shown = { code, plan };
  if (panelHooks.onChange) panelHooks.onChange(code);
  const query = plan ? `?plan=${plan}` : '';
  const feature = await get(`/collections/grids/items/${encodeURIComponent(code)}${query}`);
  const isShown = () => shown && shown.code === code && shown.plan === plan;
  if (isShown()) draw(feature, plan === null);
  tickets.hidden = true; // the current plan's grids only: a draft's grid has no months yet
  if (isShown() && plan === null) drawTickets(tickets, code, isShown).catch(() => { tickets.hidden = true; });
  return feature;
}

/** Read the shown grid again (after an edit or an accepted plan). */
export async function refreshGrid() {
  if (!shown || panel.hidden) return;
  try {
    await showGrid(shown.code, shown.plan);
  } catch {
    hideGrid(); // the grid is gone (emptied, or another plan is current now)
  }
}

/** Close the panel. */
export function hideGrid() {
  const was = shown;
  shown = null;
  panel.hidden = true;
  if (was && panelHooks.onChange) panelHooks.onChange(null);
}

document.getElementById('grid-panel-close').addEventListener('click', hideGrid);
