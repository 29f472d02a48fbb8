// Editing a draft plan: pick a target grid, click, brush or lasso units into it; new grids,
// splits and merges; figures, balance bars, the grid table and the integrity check update after
// every change; undo and redo; a stale edit (412) reloads the fresh plan.

import { ApiError, get, request } from './api.js';
import { refreshChecks, checks } from './checks.js';
import { clearPlan, colourOf, draft, drawUnits, loadPlan, reloadGrids } from './draft.js';
import { drawDraftActions, setUpDrafts } from './drafts.js';
import { bbox, inRing } from './geo.js';
import { drawMergeChoices, gridOps, newGridFrom, resetGridOps, setUpGridOps } from './gridops.js';
import { gridTable, selectRow, showGrids } from './gridtable.js';
import { number, onLanguage, t } from './i18n.js';
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
  plans: [], // the drafts listed
  onState: null, // (state) → void: the plan or grid shown changed (the address keeps them)
  onAccepted: null, // (plan) → Promise: a draft became the current plan
};
const TOOLS = { p: 'pick', c: 'paint', b: 'brush', l: 'lasso' };
const PHONE = window.matchMedia('(max-width: 700px)');

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
  $('grid-new').classList.toggle('active', tool === 'seed');
  $('brush-options').hidden = tool !== 'brush';
  const cursors = { pick: 'crosshair', lasso: 'cell', brush: 'copy', seed: 'crosshair' };
  editor.map.getCanvas().style.cursor = cursors[tool] || 'pointer';
  if (tool === 'seed') say(t('ops.seed_hint'), 'info');
}

function setTarget(code) {
  const { map } = editor;
  if (editor.target) {
    map.setFeatureState({ source: 'draft-grids', id: editor.target }, { target: false });
  }
  if (editor.target !== code) resetGridOps();
  editor.target = code;
  if (code) map.setFeatureState({ source: 'draft-grids', id: code }, { target: true });
  drawTarget();
  selectRow(code);
  drawMergeChoices();
  if (editor.onState) editor.onState({ plan: draft.plan, grid: code });
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

/** Each grid in pieces by the integrity check (no street-wide contact between its parts). */
function piecesOf(answer) {
  const pieces = new Map();
  for (const f of (answer && answer.findings) || []) {
    if (f.kind === 'grid in pieces') pieces.set(f.grid, f.detail.pieces);
  }
  return pieces;
}

/**
 * Warnings of an edit, in the page's language: grids removed and out of bounds from the figures
 * the server returned; grids in pieces as the check counts them, before the edit and after.
 */
function drawWarnings(grids, touched, before = null, after = null) {
  const items = [];
  const returned = new Set(grids.map((g) => g.code));
  for (const code of touched) if (!returned.has(code)) items.push(t('warn.removed', { code }));
  for (const g of grids) {
    const pieces = after ? after.get(g.code) || 1 : g.pieces || 1;
    if (pieces > 1) {
      const was = before ? before.get(g.code) || 1 : g.pieces_before || 0;
      items.push(was > 1
        ? t('warn.pieces_already', { code: g.code, pieces, was })
        : t('warn.pieces_new', { code: g.code, pieces }));
    }
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

/** Send `moves`; `history(moves)` records them once saved, and `said` names what was done. */
async function send(moves, history, said = 'edit.saved') {
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
    const before = piecesOf(checks.answer);
    const returned = new Set(answer.body.grids.map((g) => g.code));
    const removed = editor.touched.filter((code) => !returned.has(code));
    if (removed.length) { // a grid emptied is gone: its moves cannot be replayed into it
      editor.undo = [];
      editor.redo = [];
    }
    say(t(removed.length ? 'edit.saved_removed' : said, { n: moves.length, codes: removed.join('、') }), 'ok');
    await reloadGrids(editor.map, editor.touched);
    drawBalance();
    if (editor.target) setTarget(draft.grids.has(editor.target) ? editor.target : null);
    await afterChange();
    drawWarnings(answer.body.grids, editor.touched, before, piecesOf(checks.answer));
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

/** After any change of the plan: the grid table, the checks, the panel and the buttons. */
async function afterChange() {
  drawMergeChoices();
  drawDraftActions(editor.config);
  drawTarget();
  const [answer] = await Promise.all([refreshChecks(draft.plan).catch(() => null), refreshGrid()]);
  const pieces = piecesOf(answer); // the table counts pieces as the check does
  const grids = [...draft.grids.values()].map((g) => ({ ...g, pieces: pieces.get(g.code) || 1 }));
  showGrids(grids, editor.config, { editable: writable(), colours: colourOf(draft.grids.keys()) });
  selectRow(editor.target);
  const table = $('grid-table'); // what the table and the checks show now: this plan at this revision
  table.dataset.plan = draft.plan || '';
  table.dataset.revision = draft.revision || '';
}

function writable() {
  return ['planner', 'admin'].includes(editor.config.role) && draft.status === 'draft';
}

/** Move the units `codes` into the target grid (units already there, or elsewhere, are skipped). */
export function moveIntoTarget(codes, into = null) {
  const target = draft.grids.get(into || editor.target);
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
  queue(() => send(back, () => editor.redo.push(last), 'edit.undone'));
}

function redo() {
  const next = editor.redo.pop();
  if (!next) return;
  queue(() => send(next, (done) => editor.undo.push(done), 'edit.redone'));
}

async function reload() {
  const keep = editor.target;
  await loadPlan(editor.map, draft.plan);
  editor.undo = [];
  editor.redo = [];
  setTarget(keep && draft.grids.has(keep) ? keep : null);
  drawBalance();
  await afterChange();
}

/** A 412 answer: load the fresh plan and say so (true); anything else is left to the caller. */
async function staleReload(error) {
  if (!(error instanceof ApiError && error.status === 412)) return false;
  await reload(); // callers run outside the queue, or are the queue's job themselves
  say(t('edit.stale', { revision: draft.revision }), 'conflict');
  return true;
}

async function fillPlans(selected = null) {
  const plans = (await get('/plans')).filter((p) => p.status === 'draft');
  editor.plans = plans;
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
  resetGridOps();
  if (!plan) {
    clearPlan(editor.map);
    setTarget(null);
    showGrids([], editor.config);
    await refreshChecks(null);
    drawDraftActions(editor.config);
    return;
  }
  await loadPlan(editor.map, Number(plan));
  setTarget(editor.wanted && draft.grids.has(editor.wanted) ? editor.wanted : null);
  editor.wanted = null;
  setTool(editor.target ? 'paint' : 'pick');
  await afterChange();
  if (editor.onState) editor.onState({ plan: draft.plan, grid: editor.target });
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

/**
 * The unit under a click, as the open draft holds it. The drawing says only which unit is there:
 * it lags the data a moment after a plan is opened (the draw runs in a worker), and the grid a
 * stale drawing names may belong to the plan shown before.
 */
function unitAt(e) {
  const hit = editor.map.queryRenderedFeatures(e.point, { layers: ['draft-units-fill'] })[0];
  const unit = hit && draft.units.get(hit.properties.code);
  return unit ? unit.properties : null;
}

function click(e) {
  if (!editor.active || !draft.plan || editor.tool === 'lasso' || editor.tool === 'brush') return;
  const unit = unitAt(e);
  if (!unit) return;
  if (editor.tool === 'seed') {
    newGridFrom(unit.code); // not queued: it queues its reload itself
  } else if (editor.tool === 'pick') {
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
  setUpDrafts({
    say,
    opened: async (plan) => { // a draft made, or (null) one deleted: show it, or the first left
      const plans = await fillPlans(plan);
      await open(plan || (plans.length ? plans[0].id : null));
    },
    listed: (plan) => fillPlans(plan),
    planName: () => (editor.plans.find((p) => p.id === draft.plan) || {}).name || '',
    accepted: async (plan) => {
      await fillPlans();
      await open(editor.plans.length ? editor.plans[0].id : null);
      if (editor.onAccepted) await editor.onAccepted(plan); // the map shows it first
      say(t('repartition.accepted', { plan }), 'ok');
    },
    stale: staleReload,
  });
  setUpGridOps({
    say,
    target: () => editor.target,
    changed: (answer, target) => queue(async () => {
      editor.wanted = target;
      editor.undo = [];
      editor.redo = [];
      await loadPlan(editor.map, draft.plan);
      setTarget(draft.grids.has(target) ? target : null);
      setTool('paint');
      const before = piecesOf(checks.answer);
      await afterChange();
      drawWarnings(answer.grids || [], [], before, piecesOf(checks.answer));
    }),
    stale: staleReload,
    colourUnits: (colours) => {
      draft.override = colours;
      drawUnits(map);
    },
    moveInto: (units, grid) => moveIntoTarget(units, grid),
    seed: () => setTool('seed'),
  });
  gridTable.onPick = (code) => {
    if (!editor.active) return;
    setTarget(code);
    zoomTo('grid', code);
    if (!PHONE.matches) showGrid(code, draft.plan).catch(() => {}); // on a phone it would hide the map
    if (editor.tool === 'pick') setTool('paint');
  };
  gridTable.onLock = (code, locked) => queue(() => lock(code, locked));
  checks.onZoom = (kind, code) => {
    if (!editor.active) return;
    zoomTo(kind, code);
    if (kind === 'grid' && draft.grids.has(code)) setTarget(code);
  };
  map.on('mousedown', brushDown);
  map.on('mousemove', brushMove);
  map.on('mouseup', brushUp);
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
    if (!editor.active || ['INPUT', 'SELECT', 'TEXTAREA'].includes(e.target.tagName)) return;
    const plain = !(e.ctrlKey || e.metaKey || e.altKey);
    if (plain && TOOLS[e.key]) setTool(TOOLS[e.key]);
    if (plain && e.key === 'n') setTool('seed');
    if (plain && e.key === 'Escape') setTool('pick');
    if (!(e.ctrlKey || e.metaKey)) return;
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
  const plans = await fillPlans(editor.wantedPlan);
  const wanted = plans.find((p) => p.id === editor.wantedPlan);
  editor.wantedPlan = null;
  await open(wanted ? wanted.id : plans.length ? plans[0].id : null);
}

/** Open plan `plan` with grid `grid` targeted (a restored address); edit mode must be on. */
export async function showDraft(plan, grid) {
  if (!editor.active) {
    editor.wantedPlan = plan;
    editor.wanted = grid;
    return;
  }
  if (draft.plan !== plan) {
    editor.wanted = grid;
    await fillPlans(plan);
    await open(plan);
  } else if (grid !== editor.target) {
    setTarget(grid && draft.grids.has(grid) ? grid : null);
  }
}

/** Fly to a grid or a unit of the draft. */
function zoomTo(kind, code) {
  const feature = kind === 'grid'
    ? draft.gridFeatures.features.find((f) => f.properties.code === code)
    : draft.units.get(code);
  if (!feature) return;
  const [w, s, e, n] = bbox(feature.geometry);
  editor.map.fitBounds([[w, s], [e, n]], { padding: 80, maxZoom: 17, duration: 600 });
}

async function lock(code, locked) {
  try {
    const answer = await request(`/plans/${draft.plan}/locks`, {
      method: 'POST', ifMatch: draft.revision, json: { grids: [code], locked },
    });
    draft.revision = answer.body.revision;
    await reloadGrids(editor.map, [code]);
    say(t(locked ? 'table.locked_done' : 'table.unlocked_done', { code }), 'ok');
    await afterChange();
  } catch (error) {
    if (!(await staleReload(error))) {
      say(t('error.generic', { detail: error.detail || error }), 'error');
      await afterChange();
    }
  }
}

// -- the brush: every unit it passes over while the mouse is down ---------------------------
let brush = null;
const METRES_PER_DEGREE = 111_320;

function unitsNear(lngLat, radius) {
  if (!radius) return [];
  const cos = Math.cos((lngLat.lat * Math.PI) / 180);
  const found = [];
  for (const [code, [x, y]] of draft.points) {
    const dx = (x - lngLat.lng) * cos * METRES_PER_DEGREE;
    const dy = (y - lngLat.lat) * METRES_PER_DEGREE;
    if (dx * dx + dy * dy <= radius * radius) found.push(code);
  }
  return found;
}

/** Units sharing a stretch of boundary (two corners or more) with each unit: its block. */
function neighboursOf() {
  if (editor.neighbours && editor.neighbours.plan === draft.plan && editor.neighbours.size === draft.units.size) {
    return editor.neighbours.map;
  }
  const byCorner = new Map();
  for (const [code, f] of draft.units) {
    const rings = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.coordinates;
    for (const ring of rings.flat()) {
      for (const [x, y] of ring) {
        const key = `${x.toFixed(7)},${y.toFixed(7)}`;
        if (!byCorner.has(key)) byCorner.set(key, new Set());
        byCorner.get(key).add(code);
      }
    }
  }
  const shared = new Map();
  for (const codes of byCorner.values()) {
    if (codes.size < 2) continue;
    for (const a of codes) for (const b of codes) {
      if (a === b) continue;
      const pair = `${a}|${b}`;
      shared.set(pair, (shared.get(pair) || 0) + 1);
    }
  }
  const map = new Map();
  for (const [pair, n] of shared) {
    if (n < 2) continue;
    const [a, b] = pair.split('|');
    if (!map.has(a)) map.set(a, new Set());
    map.get(a).add(b);
  }
  editor.neighbours = { plan: draft.plan, size: draft.units.size, map };
  return map;
}

function brushAt(e) {
  const size = $('brush-size').value;
  const radius = Number(size) || 0;
  const under = unitAt(e);
  const block = size === 'block' && under ? [...(neighboursOf().get(under.code) || [])] : [];
  for (const code of [...(under ? [under.code] : []), ...block, ...unitsNear(e.lngLat, radius)]) brush.add(code);
  draft.override = new Map([...brush].map((code) => [code, '#e31a1c']));
  drawUnits(editor.map);
}

function brushDown(e) {
  if (!editor.active || editor.tool !== 'brush' || !editor.target) return;
  e.preventDefault();
  editor.map.dragPan.disable();
  brush = new Set();
  brushAt(e);
}

function brushMove(e) {
  if (brush) brushAt(e);
}

function brushUp() {
  if (!brush) return;
  const target = draft.grids.get(editor.target);
  const codes = [...brush].filter((code) => { // a brush stays in the target's community
    const unit = draft.units.get(code);
    return unit && target && unit.properties.community === target.community;
  });
  brush = null;
  editor.map.dragPan.enable();
  draft.override = null;
  drawUnits(editor.map);
  moveIntoTarget(codes);
}
