// Editing a draft plan: pick a target grid, click or lasso units into it; figures, balance bars
// and warnings update at once; undo and redo; a stale edit (412) reloads the fresh plan.

import { ApiError, get, request } from './api.js';
import { clearPlan, draft, drawUnits, loadPlan, reloadGrids } from './draft.js';
import { inRing } from './geo.js';
import { language, number, onLanguage, t } from './i18n.js';
import { refreshGrid, showGrid } from './panel.js';

const $ = (id) => document.getElementById(id);
const select = $('plan-select');
const message = $('edit-message');
const warningsList = $('edit-warnings');
const balance = $('balance');

export const editor = {
  active: false,
  tool: 'pick',
  target: null,
  undo: [], // each: [{unit, from, to}]
  redo: [],
  touched: [],
  busy: Promise.resolve(),
  config: null,
  map: null,
};

function say(text, kind = 'info') {
  message.textContent = text;
  message.className = `message ${kind}`;
  message.hidden = !text;
}

function setTool(tool) {
  editor.tool = tool;
  for (const b of document.querySelectorAll('#edit-tools button')) {
    b.classList.toggle('active', b.dataset.tool === tool);
  }
  editor.map.getCanvas().style.cursor = tool === 'pick' ? 'crosshair' : tool === 'lasso' ? 'cell' : 'pointer';
}

function setTarget(code) {
  const { map } = editor;
  if (editor.target) {
    map.setFeatureState({ source: 'draft-grids', id: editor.target }, { target: false });
  }
  editor.target = code;
  if (code) map.setFeatureState({ source: 'draft-grids', id: code }, { target: true });
  drawTarget();
}

function drawTarget() {
  const grid = editor.target && draft.grids.get(editor.target);
  $('edit-target').textContent = grid
    ? t('edit.target', { code: grid.code, households: number(grid.households) })
    : t('edit.target_none');
  $('edit-revision').textContent = draft.revision ? t('edit.revision', { revision: draft.revision }) : '';
  $('undo').disabled = !editor.undo.length;
  $('redo').disabled = !editor.redo.length;
}

function boundsOf(kind) {
  return editor.config.bounds[kind] || null;
}

/** Balance bars of the grids the last edit touched: households against their bounds. */
function drawBalance() {
  balance.replaceChildren(...editor.touched.filter((code) => draft.grids.has(code)).map((code) => {
    const g = draft.grids.get(code);
    const b = boundsOf(g.kind);
    const top = Math.max(b ? b.max_households * 1.4 : g.households, g.households, 1);
    const state = !b ? 'within' : g.households < b.min_households ? 'under'
      : g.households > b.max_households ? 'over' : 'within';
    const row = document.createElement('div');
    row.className = 'balance-row';
    row.dataset.grid = code;
    const label = document.createElement('div');
    label.className = 'balance-label';
    const name = document.createElement('b');
    name.textContent = code.slice(9);
    name.title = code;
    const figures = document.createElement('span');
    figures.className = 'balance-figures';
    figures.dataset.households = g.households;
    figures.textContent = `${number(g.households)} ${t('units.households')} · ${number(g.residents)} ${t('units.people')}`;
    label.append(name, ' ', figures);
    const bar = document.createElement('div');
    bar.className = 'bar';
    const fill = document.createElement('div');
    fill.className = `fill ${state}`;
    fill.style.width = `${(100 * g.households) / top}%`;
    bar.append(fill);
    if (b) {
      for (const mark of [b.min_households, b.max_households]) {
        const tick = document.createElement('div');
        tick.className = 'tick';
        tick.style.left = `${(100 * mark) / top}%`;
        tick.title = String(mark);
        bar.append(tick);
      }
    }
    row.append(label, bar);
    return row;
  }));
}

/** Warnings of an edit, in the page's language, from the figures the server returned. */
function drawWarnings(grids, touched) {
  const items = [];
  const returned = new Set(grids.map((g) => g.code));
  for (const code of touched) if (!returned.has(code)) items.push(t('warn.removed', { code }));
  for (const g of grids) {
    if ((g.pieces || 1) > 1) items.push(t('warn.pieces', { code: g.code, pieces: g.pieces }));
    const b = boundsOf(g.kind);
    if (b && (g.households < b.min_households || g.households > b.max_households)) {
      items.push(t('warn.bounds', { code: g.code, households: g.households, min: b.min_households, max: b.max_households }));
    }
  }
  warningsList.replaceChildren(...items.map((text) => {
    const li = document.createElement('li');
    li.textContent = text;
    return li;
  }));
}

/** Move units locally: each unit's grid and the two grids' figures (the server confirms). */
function applyLocally(moves, forward = true) {
  for (const m of moves) {
    const unit = draft.units.get(m.unit);
    const [from, to] = forward ? [m.from, m.to] : [m.to, m.from];
    unit.properties.grid = to;
    for (const [code, sign] of [[from, -1], [to, 1]]) {
      const g = draft.grids.get(code);
      if (!g) continue;
      g.households += sign * (unit.properties.households || 0);
      g.residents += sign * (unit.properties.residents || 0);
    }
  }
  editor.touched = [...new Set(moves.flatMap((m) => [m.from, m.to]))].sort();
  drawUnits(editor.map);
  drawBalance();
  drawTarget();
}

async function send(moves, history) {
  applyLocally(moves);
  try {
    const answer = await request(`/plans/${draft.plan}`, {
      method: 'PATCH', ifMatch: draft.revision,
      json: { moves: moves.map((m) => ({ unit: m.unit, grid: m.to })) },
    });
    draft.revision = answer.body.revision;
    for (const g of answer.body.grids) Object.assign(draft.grids.get(g.code) || {}, g);
    history(moves);
    drawBalance();
    drawWarnings(answer.body.grids, editor.touched);
    say(t('edit.saved', { n: moves.length }), 'ok');
    await reloadGrids(editor.map);
    drawBalance();
    if (editor.target) setTarget(draft.grids.has(editor.target) ? editor.target : null);
    await refreshGrid();
  } catch (error) {
    applyLocally(moves, false);
    if (error instanceof ApiError && error.status === 412) {
      await reload();
      say(t('edit.stale', { revision: draft.revision }), 'conflict');
    } else {
      say(error instanceof ApiError ? t('error.generic', { detail: error.detail }) : String(error), 'error');
    }
  }
  drawTarget();
}

function queue(job) {
  editor.busy = editor.busy.then(job, job);
  return editor.busy;
}

/** Move the units `codes` into the target grid (units already there, or elsewhere, are skipped). */
export function moveIntoTarget(codes) {
  const target = draft.grids.get(editor.target);
  if (!target) return Promise.resolve();
  const moves = [];
  for (const code of codes) {
    const unit = draft.units.get(code);
    if (!unit || unit.properties.grid === target.code) continue;
    if (unit.properties.community !== target.community) {
      say(t('edit.other_community', { unit: code }), 'error');
      continue;
    }
    moves.push({ unit: code, from: unit.properties.grid, to: target.code });
  }
  if (!moves.length) {
    if (codes.length && message.hidden) say(t('edit.already'), 'info');
    return Promise.resolve();
  }
  return queue(() => send(moves, (done) => {
    editor.undo.push(done);
    editor.redo = [];
  }));
}

function undo() {
  const last = editor.undo.pop();
  if (!last) return;
  const back = last.map((m) => ({ unit: m.unit, from: m.to, to: m.from }));
  queue(() => send(back, () => editor.redo.push(last)));
}

function redo() {
  const next = editor.redo.pop();
  if (!next) return;
  queue(() => send(next, (done) => editor.undo.push(done)));
}

async function reload() {
  const keep = editor.target;
  await loadPlan(editor.map, draft.plan);
  editor.undo = [];
  editor.redo = [];
  setTarget(keep && draft.grids.has(keep) ? keep : null);
  drawBalance();
  await refreshGrid();
}

async function fillPlans(selected = null) {
  const plans = (await get('/plans')).filter((p) => p.status === 'draft');
  select.replaceChildren(...plans.map((p) => {
    const option = document.createElement('option');
    option.value = p.id;
    option.textContent = `#${p.id} ${p.name}`;
    return option;
  }));
  if (!plans.length) {
    const option = document.createElement('option');
    option.value = '';
    option.textContent = t('edit.no_draft');
    select.append(option);
  }
  if (selected) select.value = String(selected);
  return plans;
}

/** Show plan `plan` (after any edit or load under way: one thing at a time). */
function open(plan) {
  return queue(() => load(plan));
}

async function load(plan) {
  editor.undo = [];
  editor.redo = [];
  editor.touched = [];
  warningsList.replaceChildren();
  balance.replaceChildren();
  say('');
  if (!plan) {
    clearPlan(editor.map);
    setTarget(null);
    return;
  }
  await loadPlan(editor.map, Number(plan));
  setTarget(null);
  setTool('pick');
}

async function newDraft() {
  const stamp = new Date().toLocaleString(language() === 'zh' ? 'zh-CN' : 'en', { hour12: false });
  const made = await request('/plans', { method: 'POST', json: { name: `${t('edit.draft_name')} ${stamp}`, source: 'current' } });
  await fillPlans(made.body.id);
  await open(made.body.id);
  return made.body.id;
}

// -- the lasso: a polygon drawn while the mouse is down ------------------------------------
let lasso = null;

function lassoDown(e) {
  if (!editor.active || editor.tool !== 'lasso' || !editor.target) return;
  e.preventDefault();
  editor.map.dragPan.disable();
  lasso = [[e.lngLat.lng, e.lngLat.lat]];
}

function lassoMove(e) {
  if (!lasso) return;
  lasso.push([e.lngLat.lng, e.lngLat.lat]);
  editor.map.getSource('lasso').setData({ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: [...lasso, lasso[0]] } });
}

function lassoUp() {
  if (!lasso) return;
  const ring = [...lasso, lasso[0]];
  lasso = null;
  editor.map.dragPan.enable();
  editor.map.getSource('lasso').setData({ type: 'FeatureCollection', features: [] });
  if (ring.length < 4) return;
  const inside = [...draft.points].filter(([, point]) => inRing(point, ring)).map(([code]) => code);
  moveIntoTarget(inside);
}

function unitAt(e) {
  const hit = editor.map.queryRenderedFeatures(e.point, { layers: ['draft-units-fill'] })[0];
  return hit ? hit.properties : null;
}

function click(e) {
  if (!editor.active || !draft.plan || editor.tool === 'lasso') return;
  const unit = unitAt(e);
  if (!unit) return;
  if (editor.tool === 'pick') {
    setTarget(unit.grid);
    showGrid(unit.grid, draft.plan).catch(() => {});
    setTool('paint');
  } else if (editor.tool === 'paint') {
    if (!editor.target) setTarget(unit.grid);
    else moveIntoTarget([unit.code]);
  }
}

/** Wire the editor to the map and the panel. */
export function setUpEditor(map, config) {
  editor.map = map;
  editor.config = config;
  select.addEventListener('change', () => open(select.value));
  $('plan-new').addEventListener('click', () => newDraft().catch((error) => say(t('error.generic', { detail: error.detail || error }), 'error')));
  $('undo').addEventListener('click', undo);
  $('redo').addEventListener('click', redo);
  for (const b of document.querySelectorAll('#edit-tools button')) {
    b.addEventListener('click', () => setTool(b.dataset.tool));
  }
  map.on('click', click);
  map.on('mousedown', lassoDown);
  map.on('mousemove', lassoMove);
  map.on('mouseup', lassoUp);
  document.addEventListener('keydown', (e) => {
    if (!editor.active || !(e.ctrlKey || e.metaKey) || e.target.tagName === 'INPUT') return;
    if (e.key === 'z' && !e.shiftKey) { e.preventDefault(); undo(); }
    if (e.key === 'y' || (e.key === 'z' && e.shiftKey)) { e.preventDefault(); redo(); }
  });
  onLanguage(() => { drawTarget(); drawBalance(); });
}

/** Enter or leave edit mode. */
export async function setEditing(active) {
  editor.active = active;
  if (!active) {
    setTarget(null);
    clearPlan(editor.map);
    editor.map.getCanvas().style.cursor = '';
    return;
  }
  if (!['planner', 'admin'].includes(editor.config.role)) {
    say(t('edit.need_planner'), 'error');
  }
  const plans = await fillPlans();
  await open(plans.length ? plans[0].id : null);
}
