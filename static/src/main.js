// The planners' web map: starts the map on the city's own tiles and wires the four modes.

import { Map as MapLibre, NavigationControl, ScaleControl } from 'maplibre-gl';
import { ApiError, allFeatures, apiKey, get, setApiKey, transformRequest } from './api.js';
import { checks } from './checks.js';
import { coverage, setCoverage, setUpCoverage } from './coverage.js';
import { addDraftLayers, draft } from './draft.js';
import { editor, setEditing, setUpEditor, showDraft } from './editor.js';
import { bbox } from './geo.js';
import { gridTable, selectRow, showGrids } from './gridtable.js';
import { language, number, onLanguage, setLanguage, t, translatePage } from './i18n.js';
import {
  COLOURS, addLabels, addTicketLayer, coverageStops, drawLegend, gridColour, layerSwitcher, ticketFilter,
} from './layers.js';
import { hideGrid, panelHooks, refreshGrid, showGrid } from './panel.js';
import { repartition, setRepartitioning, setUpRepartition, showPlanPreview } from './repartition.js';
import { setUpReports } from './reports.js';
import { setUpSearch } from './search.js';
import { setTileUrls } from './tilesource.js';
import { readHexagons, windowStart } from './tickets.js';
import { readState, writeState } from './urlstate.js';

const $ = (id) => document.getElementById(id);
const CURRENT_PLAN_LAYERS = ['grids-fill', 'grids-line', 'units-line', 'grid-labels'];
const COVERAGE_GROUPS = ['buildings', 'circles', 'gaps'];
// coverage mode draws the stations as draggable markers, over faint grids
const STATION_LAYERS = ['stations', 'station-labels'];
const GRID_OPACITY = { normal: 0.35, coverage: 0.05 };
const MODES = ['browse', 'edit', 'repartition', 'coverage'];
const TABLE_MODES = new Set(['browse', 'edit']); // the grid table shows the plan being looked at
const state = {
  mode: 'browse', colour: 'households', maxLoad: 1, stops: null, config: null, map: null, switcher: null,
  grids: [], // the current plan's grid features
  restoring: false, // applying an address: no new history steps
  ticketMonths: 12, // the tickets drawn and measured: the last months (0: all), of one kind ('': all)
  ticketKind: '',
};

function toast(text) {
  const el = $('toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 6000);
}

function drawWho() {
  const { config } = state;
  $('who').textContent = apiKey() ? `${config.name} · ${t(`role.${config.role}`)}` : t('key.public');
  $('lang').textContent = language() === 'zh' ? 'EN' : '中文';
}

function recolour() {
  const { map, config } = state;
  const hot = state.hotspots ? state.hotspots.hotspots.map((h) => h.code) : [];
  map.setPaintProperty('grids-fill', 'fill-color', gridColour(state.colour, config, state.maxLoad, state.stops, hot));
  drawLegend($('legend-items'), state.colour, config, state.stops, [
    ...(state.mode === 'coverage' ? ['coverage'] : []),
    ...(state.mode === 'repartition' ? ['moved'] : []),
    ...(state.mode === 'edit' ? ['edit'] : []),
    ...(state.switcher && state.switcher.isShown('events') ? ['tickets'] : []),
  ], state.hotspots);
}

/** The query of the tickets chosen in the browse panel: their window, and their kind. */
function ticketQuery(withKind) {
  const since = windowStart(state.ticketMonths);
  const kind = withKind && state.ticketKind ? `&kind=${encodeURIComponent(state.ticketKind)}` : '';
  return `${since ? `since=${since}` : ''}${kind}`;
}

/** The kinds of tickets in the window, for the kind list (keeping the one chosen). */
async function readTicketKinds() {
  const asked = ++readTicketKinds.latest; // a window chosen again meanwhile: its answer wins
  const kinds = await get(`/tickets/kinds?${ticketQuery(false)}`);
  if (asked !== readTicketKinds.latest) return;
  const select = $('ticket-kind');
  const all = select.options[0];
  select.replaceChildren(all, ...kinds.map((k) => Object.assign(document.createElement('option'), {
    value: k.kind, textContent: `${k.kind}（${number(k.tickets)}）`,
  })));
  if (!kinds.some((k) => k.kind === state.ticketKind)) state.ticketKind = '';
  select.value = state.ticketKind;
}

readTicketKinds.latest = 0;

/** The tickets counted in hexagons in view, when the tickets layer is shown (below zoom 15). */
async function refreshHexagons() {
  if (!state.switcher || !state.switcher.isShown('events')) return;
  await readHexagons(state.map, ticketQuery(true));
}

/** Apply the chosen window and kind to the tickets layer, its hexagons and the hotspots. */
async function applyTicketFilter() {
  state.map.setFilter('events', ticketFilter(windowStart(state.ticketMonths), state.ticketKind));
  refreshHexagons().catch((e) => toast(t('error.generic', { detail: e.detail || String(e) })));
  await readHotspots();
  recolour();
}

/** The grids whose tickets stand out over the last months, when the map is coloured by them. */
async function readHotspots() {
  if (state.colour !== 'tickets' || !state.config.current_plan) {
    readHotspots.latest += 1; // an answer still on its way is not shown
    $('hotspots').hidden = true;
    return;
  }
  const asked = ++readHotspots.latest;
  const found = await get(`/tickets/hotspots?${ticketQuery(true)}`);
  if (asked !== readHotspots.latest || state.colour !== 'tickets') return; // chosen again since
  state.hotspots = found;
  const names = new Map(state.grids.map((f) => [f.properties.code, f.properties.name]));
  $('hotspot-caption').textContent = t('hotspots.caption', {
    window: t(`tickets.months_${state.ticketMonths || 'all'}`), percentile: found.percentile, n: number(found.hotspots.length),
    reference: t(found.reference === 'city' ? 'hotspots.city' : 'hotspots.region'),
    threshold: found.threshold === null ? '—' : number(found.threshold, 1),
  });
  const list = $('hotspot-list');
  list.replaceChildren(...found.hotspots.map((h) => {
    const li = document.createElement('li');
    li.dataset.grid = h.code;
    li.dataset.tickets = String(h.tickets);
    li.textContent = t('hotspots.item', {
      name: names.get(h.code) || h.code, n: number(h.tickets), rate: number(h.per_1000_households, 1),
    });
    li.addEventListener('click', () => {
      zoomToGrid(h.code);
      showGrid(h.code).catch((error) => toast(error.detail || String(error)));
    });
    return li;
  }));
  if (!found.hotspots.length) list.replaceChildren(Object.assign(document.createElement('li'), { textContent: t('hotspots.none') }));
  $('hotspots').hidden = false;
}
readHotspots.latest = 0;

/** The current plan's grids: the load scale, the coverage ramp, the table in browse mode. */
async function readGrids() {
  if (!state.config.current_plan) return;
  const [grids, check] = await Promise.all([
    allFeatures('grids').catch(() => ({ features: [] })),
    state.config.scoped ? null : get(`/plans/${state.config.current_plan}/check`).catch(() => null),
  ]);
  state.grids = grids.features;
  if (check) { // pieces as the integrity check counts them (no street-wide contact between parts)
    const pieces = new Map(check.findings.filter((f) => f.kind === 'grid in pieces').map((f) => [f.grid, f.detail.pieces]));
    for (const f of state.grids) f.properties.pieces = pieces.get(f.properties.code) || 1;
  }
  const props = state.grids.map((f) => f.properties);
  state.maxLoad = Math.max(1e-9, ...props.map((g) => g.governance_load || 0));
  state.stops = coverageStops(props.map((g) => g.coverage));
  if (state.mode === 'browse') drawBrowseTable();
}

function drawBrowseTable() {
  const colours = new Map(state.grids.map((f) => [f.properties.code, householdColour(f.properties)]));
  showGrids(state.grids.map((f) => f.properties), state.config, { editable: false, colours });
}

function householdColour(g) {
  const b = state.config.bounds[g.kind] || state.config.bounds.urban;
  return g.households < b.min_households ? COLOURS.under : g.households > b.max_households ? COLOURS.over : COLOURS.within;
}

function zoomToGrid(code) {
  const f = state.grids.find((x) => x.properties.code === code);
  if (!f) return;
  const [w, s, e, n] = bbox(f.geometry);
  state.map.fitBounds([[w, s], [e, n]], { padding: 80, maxZoom: 17, duration: 600 });
}

/** After a plan became current: new tiles (their URLs carry the data version), figures, panel. */
async function showCurrent() {
  state.config = await get('/map/config.json');
  const before = state.map.getSource('gridmap').tiles.join();
  for (let attempt = 0; attempt < 6; attempt += 1) { // another process may hear of it a moment late
    const tilejson = await get('/tiles/gridmap.json');
    setTileUrls(state.map, 'gridmap', tilejson.tiles);
    if (tilejson.tiles.join() !== before) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  setTileUrls(state.map, 'basemap', (await get('/tiles/basemap.json')).tiles);
  await readGrids();
  await readHotspots().catch(() => {});
  recolour();
  await refreshGrid();
}

async function setMode(mode, { plan = null, grid = null } = {}) {
  const { map, switcher } = state;
  if (!MODES.includes(mode)) mode = 'browse';
  if (mode === state.mode) return;
  const leaving = state.mode;
  state.mode = mode;
  if (!state.restoring) {
    const shown = mode === 'edit' ? draft.plan : mode === 'repartition' ? repartition.plan : null;
    writeState({ mode, plan: shown, grid: null });
  }
  for (const tab of document.querySelectorAll('#modes button')) tab.classList.toggle('active', tab.dataset.mode === mode);
  for (const panel of document.querySelectorAll('.mode-panel')) panel.hidden = panel.dataset.panel !== mode;
  $('grid-table-box').hidden = !TABLE_MODES.has(mode);
  if (leaving === 'edit') await setEditing(false);
  if (leaving === 'repartition') await setRepartitioning(false);
  if (leaving === 'coverage') {
    await setCoverage(false);
    for (const group of COVERAGE_GROUPS) switcher.set(group, false);
    map.setPaintProperty('grids-fill', 'fill-opacity', GRID_OPACITY.normal);
  }
  switcher.apply();
  if (mode === 'edit' || mode === 'repartition') {
    hideGrid();
    for (const id of CURRENT_PLAN_LAYERS) map.setLayoutProperty(id, 'visibility', 'none');
  }
  if (mode === 'browse') drawBrowseTable();
  if (mode === 'edit') {
    if (plan) await showDraft(plan, grid);
    await setEditing(true);
  }
  if (mode === 'repartition') await setRepartitioning(true, repartition.lastDraft || draft.plan || editor.lastPlan);
  if (mode === 'coverage') {
    for (const group of COVERAGE_GROUPS) switcher.set(group, true);
    for (const id of STATION_LAYERS) map.setLayoutProperty(id, 'visibility', 'none');
    map.setPaintProperty('grids-fill', 'fill-opacity', GRID_OPACITY.coverage);
    await setCoverage(true);
  }
  recolour();
}

/** Bring the page to the state the address holds (a reload, Back, a shared link). */
async function restore() {
  const wanted = readState();
  state.restoring = true;
  try {
    if (wanted.mode !== state.mode) await setMode(wanted.mode, wanted);
    if (state.mode === 'edit' && wanted.plan) await showDraft(wanted.plan, wanted.grid);
    if (state.mode === 'repartition' && wanted.plan && wanted.plan !== repartition.plan) {
      await showPlanPreview(wanted.plan).catch(() => null);
    }
    if (state.mode === 'browse') {
      if (wanted.grid) {
        await showGrid(wanted.grid).catch(() => hideGrid());
        selectRow(wanted.grid);
      } else hideGrid();
    }
  } finally {
    state.restoring = false;
  }
}

/** A row of the grid table: the editor's target in edit mode, the grid's panel in browse mode. */
function wrapTablePick() {
  const editorPick = gridTable.onPick;
  gridTable.onPick = (code) => {
    if (state.mode === 'edit') return editorPick(code);
    zoomToGrid(code);
    return showGrid(code).catch((error) => toast(error.detail || String(error)));
  };
}

function wire(map) {
  state.switcher = layerSwitcher(map, $('layer-list'), (group, visible) => {
    if (group !== 'events') return;
    recolour(); // the legend says what the tickets layer draws
    if (visible) refreshHexagons().catch((e) => toast(t('error.generic', { detail: e.detail || String(e) })));
  });
  map.on('moveend', () => refreshHexagons().catch((e) => toast(t('error.generic', { detail: e.detail || String(e) }))));
  for (const radio of document.querySelectorAll('#colour-by input')) {
    radio.addEventListener('change', async () => {
      state.colour = radio.value;
      await readHotspots().catch((error) => toast(t('error.generic', { detail: error.detail || String(error) })));
      recolour();
    });
  }
  $('ticket-months').addEventListener('change', async () => {
    state.ticketMonths = Number($('ticket-months').value);
    await readTicketKinds().catch(() => {});
    await applyTicketFilter().catch((e) => toast(t('error.generic', { detail: e.detail || String(e) })));
  });
  $('ticket-kind').addEventListener('change', () => {
    state.ticketKind = $('ticket-kind').value;
    applyTicketFilter().catch((e) => toast(t('error.generic', { detail: e.detail || String(e) })));
  });
  for (const tab of document.querySelectorAll('#modes button')) {
    tab.addEventListener('click', () => setMode(tab.dataset.mode).catch((e) => toast(t('error.generic', { detail: e.detail || String(e) }))));
  }
  map.on('click', 'grids-fill', (e) => {
    if (state.mode !== 'browse') return; // coverage mode places stations: no grid panel there
    const code = e.features[0].properties.code;
    showGrid(code).catch((error) => toast(error.detail || String(error)));
  });
  panelHooks.onChange = (code) => {
    if (state.mode === 'browse') selectRow(code);
    if (!state.restoring && state.mode === 'browse') writeState({ grid: code });
  };
  editor.onState = ({ plan, grid }) => {
    editor.lastPlan = plan || editor.lastPlan;
    if (!state.restoring && state.mode === 'edit') writeState({ plan, grid });
  };
  editor.onAccepted = showCurrent;
  repartition.onState = (plan) => {
    if (!state.restoring && state.mode === 'repartition') writeState({ plan }, { replace: true });
  };
  window.addEventListener('popstate', () => restore().catch((error) => toast(error.detail || String(error))));
  $('side-toggle').addEventListener('click', () => {
    const closed = document.body.classList.toggle('side-closed');
    $('side-toggle').setAttribute('aria-expanded', String(!closed));
    setTimeout(() => map.resize(), 50);
  });
  for (const box of document.querySelectorAll('.map-box h3')) {
    box.addEventListener('click', () => box.parentElement.classList.toggle('open'));
  }
  map.on('mouseenter', 'grids-fill', () => { if (state.mode === 'browse') map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'grids-fill', () => { if (state.mode === 'browse') map.getCanvas().style.cursor = ''; });
  setUpEditor(map, state.config);
  wrapTablePick();
  setUpRepartition(map, state.config, showCurrent);
  setUpCoverage(map, state.config);
  setUpSearch(map, (code) => showGrid(code, state.mode === 'edit' ? draft.plan : null));
  setUpReports(state.config).catch((error) => toast(error.detail || String(error)));
  onLanguage(() => {
    drawWho();
    readHotspots().catch(() => {});
    recolour();
    state.switcher.redraw();
    refreshGrid();
  });
}

function signIn() {
  const key = prompt(t('key.prompt'), '');
  if (key === null) return;
  setApiKey(key.trim());
  location.reload();
}

async function start() {
  translatePage();
  $('sign-in').addEventListener('click', signIn);
  $('lang').addEventListener('click', () => setLanguage(language() === 'zh' ? 'en' : 'zh'));
  try {
    state.config = await get('/map/config.json');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      toast(apiKey() ? t('key.rejected') : t('key.prompt'));
      if (apiKey()) setApiKey('');
      return;
    }
    throw error;
  }
  drawWho();
  const { config } = state;
  const map = new MapLibre({
    container: 'map',
    style: config.style,
    transformRequest,
    bounds: config.extent || undefined,
    fitBoundsOptions: { padding: 40 },
    maxZoom: 19,
    hash: 'map', // the view in the address, beside mode, plan and grid
    attributionControl: { compact: true },
    localIdeographFontFamily: '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif',
  });
  state.map = map;
  window.gridmap = { map, state, draft, editor, repartition, coverage, showCurrent, gridTable, checks };
  map.addControl(new NavigationControl(), 'top-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-right');
  map.on('load', async () => {
    addDraftLayers(map);
    addLabels(map);
    addTicketLayer(map);
    wire(map);
    await readGrids();
    recolour();
    readTicketKinds().then(() => applyTicketFilter()).catch(() => {});
    await restore();
    window.gridmap.ready = true;
  });
}

start().catch((error) => toast(t('error.generic', { detail: error.detail || error.message || error })));
