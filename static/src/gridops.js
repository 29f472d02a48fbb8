// Grids by hand in a draft: a new grid started from one unit (the next serial of its community),
// a split into k previewed on the map before it is applied, and a merge with a grid nearby.

import { ApiError, request } from './api.js';
import { draft } from './draft.js';
import { innerPoint } from './geo.js';
import { number, onLanguage, t } from './i18n.js';

const $ = (id) => document.getElementById(id);
const PART_COLOURS = ['#e41a1c', '#377eb8', '#4daf4a', '#984ea3', '#ff7f00', '#a65628', '#f781bf', '#999999'];

export const gridOps = { hooks: null, split: null };

function fail(error) {
  gridOps.hooks.say(error instanceof ApiError ? t('error.generic', { detail: error.detail }) : String(error), 'error');
}

/** Start a new grid from unit `unit`: the server gives it the next code of its community. */
export async function newGridFrom(unit) {
  try {
    const answer = await request(`/plans/${draft.plan}/grids`, { method: 'POST', ifMatch: draft.revision, json: { units: [unit] } });
    await gridOps.hooks.changed(answer.body, answer.body.code);
    gridOps.hooks.say(t('ops.new_done', { code: answer.body.code, unit }), 'ok');
  } catch (error) {
    await gridOps.hooks.stale(error) || fail(error);
  }
}

function drawParts(parts) {
  const colours = new Map(parts.flatMap((p, i) => p.units.map((u) => [u, PART_COLOURS[i % PART_COLOURS.length]])));
  gridOps.hooks.colourUnits(colours);
  $('split-parts').replaceChildren(...parts.map((p, i) => {
    const li = document.createElement('li');
    li.dataset.part = i;
    const chip = document.createElement('span');
    chip.className = 'chip';
    chip.style.background = PART_COLOURS[i % PART_COLOURS.length];
    li.append(chip, ` ${p.code || t('ops.new_code')} · ${number(p.households)} ${t('units.households')} · ${number(p.residents)} ${t('units.people')} · ${number(p.units.length)} ${t('ops.units')}`);
    return li;
  }));
  $('split-preview').hidden = false;
}

async function previewSplit() {
  const grid = gridOps.hooks.target();
  if (!grid) {
    gridOps.hooks.say(t('ops.pick_first'), 'info');
    return;
  }
  const k = Math.max(2, Math.min(8, Number($('split-k').value) || 2));
  try {
    const answer = await request(`/plans/${draft.plan}/grids/${encodeURIComponent(grid)}/split`, { method: 'POST', json: { k, seed: 0 } });
    gridOps.split = { grid, k, revision: answer.body.revision, parts: answer.body.parts };
    drawParts(answer.body.parts);
    gridOps.hooks.say(t('ops.split_previewed', { code: grid, k }), 'info');
  } catch (error) {
    fail(error);
  }
}

function cancelSplit() {
  gridOps.split = null;
  $('split-preview').hidden = true;
  gridOps.hooks.colourUnits(null);
}

async function applySplit() {
  const s = gridOps.split;
  if (!s) return;
  try {
    const answer = await request(`/plans/${draft.plan}/grids/${encodeURIComponent(s.grid)}/split`, {
      method: 'POST', ifMatch: s.revision, json: { k: s.k, seed: 0, apply: true },
    });
    cancelSplit();
    const made = answer.body.parts.slice(1).map((p) => p.code);
    await gridOps.hooks.changed(answer.body, s.grid);
    gridOps.hooks.say(t('ops.split_done', { code: s.grid, made: made.join('、') }), 'ok');
  } catch (error) {
    cancelSplit();
    await gridOps.hooks.stale(error) || fail(error);
  }
}

/** Fill the merge list: the other grids of the target's community, the nearest first. */
export function drawMergeChoices() {
  const select = $('merge-with');
  const grid = draft.grids.get(gridOps.hooks.target());
  const options = [];
  if (grid) {
    const here = gridCentre(grid.code);
    const others = [...draft.grids.values()].filter((g) => g.community === grid.community && g.code !== grid.code)
      .map((g) => ({ g, d: distance(here, gridCentre(g.code)) })).sort((a, b) => a.d - b.d);
    for (const { g } of others) {
      const o = document.createElement('option');
      o.value = g.code;
      o.textContent = t('ops.merge_with', { code: g.code.slice(9), households: number(g.households) });
      options.push(o);
    }
  }
  if (!options.length) {
    const o = document.createElement('option');
    o.value = '';
    o.textContent = t('ops.merge_none');
    options.push(o);
  }
  select.replaceChildren(...options);
  $('grid-merge').disabled = !grid || !select.value;
  $('grid-split').disabled = !grid;
}

function gridCentre(code) {
  const f = draft.gridFeatures.features.find((x) => x.properties.code === code);
  return f ? innerPoint(f.geometry) : [0, 0];
}

function distance([x1, y1], [x2, y2]) {
  return Math.hypot((x1 - x2) * Math.cos((y1 * Math.PI) / 180), y1 - y2);
}

function merge() {
  const into = gridOps.hooks.target();
  const other = $('merge-with').value;
  if (!into || !other) return;
  const units = [...draft.units.values()].filter((f) => f.properties.grid === other).map((f) => f.properties.code);
  gridOps.hooks.moveInto(units, into);
}

/**
 * Wire the grid operations. `hooks`: say(text, kind), target() (the target grid's code),
 * changed(answer, target) (an edit done: load the plan again, target a grid), stale(error),
 * colourUnits(map of unit → colour, or null), moveInto(units, grid) (moves with undo), seed() (start
 * "new grid": the next unit clicked starts it).
 */
export function setUpGridOps(hooks) {
  gridOps.hooks = hooks;
  $('grid-new').addEventListener('click', () => hooks.seed());
  $('grid-split').addEventListener('click', previewSplit);
  $('split-apply').addEventListener('click', applySplit);
  $('split-cancel').addEventListener('click', cancelSplit);
  $('grid-merge').addEventListener('click', merge);
  onLanguage(() => {
    if (gridOps.hooks.target()) drawMergeChoices();
  });
}

/** Forget a split previewed (another plan shown, or the target changed). */
export function resetGridOps() {
  if (gridOps.split) cancelSplit();
}
