// The planners' web map: starts the map on the city's own tiles and wires the four modes.

import { Map as MapLibre, NavigationControl, ScaleControl } from 'maplibre-gl';
import { ApiError, apiKey, get, setApiKey, transformRequest } from './api.js';
import { coverage, setCoverage, setUpCoverage } from './coverage.js';
import { addDraftLayers, draft } from './draft.js';
import { editor, setEditing, setUpEditor } from './editor.js';
import { language, onLanguage, setLanguage, t, translatePage } from './i18n.js';
import { addLabels, drawLegend, gridColour, layerSwitcher } from './layers.js';
import { refreshGrid, showGrid } from './panel.js';
import { repartition, setRepartitioning, setUpRepartition } from './repartition.js';
import { setUpReports } from './reports.js';
import { setUpSearch } from './search.js';

const $ = (id) => document.getElementById(id);
const CURRENT_PLAN_LAYERS = ['grids-fill', 'grids-line', 'units-line', 'grid-labels'];
const COVERAGE_GROUPS = ['buildings', 'circles', 'gaps'];
// coverage mode draws the stations as draggable markers, over faint grids
const STATION_LAYERS = ['stations', 'station-labels'];
const GRID_OPACITY = { normal: 0.35, coverage: 0.05 };
const state = { mode: 'browse', colour: 'households', maxLoad: 1, config: null, map: null, switcher: null };

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
  map.setPaintProperty('grids-fill', 'fill-color', gridColour(state.colour, config, state.maxLoad));
  drawLegend($('legend-items'), state.colour, config, [
    ...(state.mode === 'coverage' ? ['coverage'] : []),
    ...(state.mode === 'repartition' ? ['moved'] : []),
    ...(state.mode === 'edit' ? ['edit'] : []),
  ]);
}

async function readMaxLoad() {
  const plan = state.config.current_plan;
  if (!plan) return;
  const grids = await get(`/plans/${plan}/grids`).catch(() => []);
  state.maxLoad = Math.max(1e-9, ...grids.map((g) => g.governance_load || 0));
}

/** After a plan became current: new tiles (their URLs carry the data version), figures, panel. */
async function showCurrent() {
  state.config = await get('/map/config.json');
  for (const name of ['gridmap', 'basemap']) {
    const tilejson = await get(`/tiles/${name}.json`);
    state.map.getSource(name).setTiles(tilejson.tiles);
  }
  await readMaxLoad();
  recolour();
  await refreshGrid();
}

async function setMode(mode) {
  const { map, switcher } = state;
  if (mode === state.mode) return;
  const leaving = state.mode;
  state.mode = mode;
  for (const tab of document.querySelectorAll('#modes button')) tab.classList.toggle('active', tab.dataset.mode === mode);
  for (const panel of document.querySelectorAll('.mode-panel')) panel.hidden = panel.dataset.panel !== mode;
  if (leaving === 'edit') await setEditing(false);
  if (leaving === 'repartition') await setRepartitioning(false);
  if (leaving === 'coverage') {
    await setCoverage(false);
    for (const group of COVERAGE_GROUPS) switcher.set(group, false);
    map.setPaintProperty('grids-fill', 'fill-opacity', GRID_OPACITY.normal);
  }
  switcher.apply();
  if (mode === 'edit' || mode === 'repartition') {
    for (const id of CURRENT_PLAN_LAYERS) map.setLayoutProperty(id, 'visibility', 'none');
  }
  if (mode === 'edit') await setEditing(true);
  if (mode === 'repartition') await setRepartitioning(true);
  if (mode === 'coverage') {
    for (const group of COVERAGE_GROUPS) switcher.set(group, true);
    for (const id of STATION_LAYERS) map.setLayoutProperty(id, 'visibility', 'none');
    map.setPaintProperty('grids-fill', 'fill-opacity', GRID_OPACITY.coverage);
    await setCoverage(true);
  }
  recolour();
}

function wire(map) {
  state.switcher = layerSwitcher(map, $('layer-list'));
  for (const radio of document.querySelectorAll('#colour-by input')) {
    radio.addEventListener('change', () => {
      state.colour = radio.value;
      recolour();
    });
  }
  for (const tab of document.querySelectorAll('#modes button')) {
    tab.addEventListener('click', () => setMode(tab.dataset.mode).catch((e) => toast(e.detail || String(e))));
  }
  map.on('click', 'grids-fill', (e) => {
    if (state.mode !== 'browse' && state.mode !== 'coverage') return;
    const code = e.features[0].properties.code;
    showGrid(code).catch((error) => toast(error.detail || String(error)));
  });
  map.on('mouseenter', 'grids-fill', () => { if (state.mode === 'browse') map.getCanvas().style.cursor = 'pointer'; });
  map.on('mouseleave', 'grids-fill', () => { if (state.mode === 'browse') map.getCanvas().style.cursor = ''; });
  setUpEditor(map, state.config);
  setUpRepartition(map, state.config, showCurrent);
  setUpCoverage(map, state.config);
  setUpSearch(map, (code) => showGrid(code, state.mode === 'edit' ? draft.plan : null));
  setUpReports(state.config).catch((error) => toast(error.detail || String(error)));
  onLanguage(() => {
    drawWho();
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
    attributionControl: { compact: true },
    localIdeographFontFamily: '"Noto Sans CJK SC", "WenQuanYi Micro Hei", "Microsoft YaHei", sans-serif',
  });
  state.map = map;
  window.gridmap = { map, state, draft, editor, repartition, coverage };
  map.addControl(new NavigationControl(), 'top-right');
  map.addControl(new ScaleControl({ unit: 'metric' }), 'bottom-right');
  map.on('load', async () => {
    addDraftLayers(map);
    addLabels(map);
    wire(map);
    await readMaxLoad();
    recolour();
    window.gridmap.ready = true;
  });
}

start().catch((error) => toast(t('error.generic', { detail: error.detail || error.message || error })));
