// The read-only map other portals embed: /embed?layers=grids,stations&region=CODE&key=KEY.
// Shows only the layers asked for, over the city's own basemap, fitted to the region (or to
// what the key may see); a click on a grid shows its figures. Nothing here writes.

import { Map as MapLibre, NavigationControl, Popup } from 'maplibre-gl';
import { ApiError, get, transformRequest, useKey } from './api.js';
import { number, percent, setLanguage, t } from './i18n.js';
import { GROUPS, addLabels, drawLegend, showGroup } from './layers.js';
import { bbox } from './geo.js';

const params = new URLSearchParams(location.search);
const DEFAULT_LAYERS = ['grids', 'stations'];
const wanted = new Set((params.get('layers') || DEFAULT_LAYERS.join(','))
  .split(',').map((name) => name.trim()).filter(Boolean));

function fail(text) {
  const box = document.getElementById('embed-error');
  box.textContent = text;
  box.hidden = false;
}

async function extent(config) {
  const region = params.get('region');
  if (!region) return config.extent;
  const feature = await get(`/collections/regions/items/${encodeURIComponent(region)}`);
  const [w, s, e, n] = bbox(feature.geometry);
  return [w, s, e, n];
}

function popup(map, feature, lngLat) {
  const p = feature.properties;
  const rows = [['grid.households', number(p.households)], ['grid.residents', number(p.residents)],
    ['grid.coverage', percent(p.coverage)]];
  const box = document.createElement('div');
  const title = document.createElement('b');
  title.textContent = p.name || p.code;
  const list = document.createElement('dl');
  for (const [key, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = t(key);
    const dd = document.createElement('dd');
    dd.textContent = value;
    list.append(dt, dd);
  }
  box.append(title, list);
  new Popup({ closeButton: true }).setLngLat(lngLat).setDOMContent(box).addTo(map);
}

async function start() {
  // an embed speaks as its own address says (lang=en), else Chinese: never as another page
  // (the planner's map, an earlier embed) left the browser's storage
  setLanguage(params.get('lang') === 'en' ? 'en' : 'zh', { remember: false });
  const credential = params.get('token') || params.get('key');  // a token is what an iframe should carry
  if (credential) useKey(credential);
  let config;
  try {
    config = await get('/map/config.json');
  } catch (error) {
    fail(error instanceof ApiError && error.status === 401 ? t('key.rejected') : String(error.detail || error));
    return;
  }
  const bounds = await extent(config);
  const map = new MapLibre({
    container: 'map',
    style: `${config.style}?lang=${params.get('lang') === 'en' ? 'en' : 'zh'}`,
    transformRequest,
    bounds: bounds || undefined,
    fitBoundsOptions: { padding: 20 },
    maxZoom: 19,
    attributionControl: { compact: true },
  });
  window.gridmap = { map, config, wanted: [...wanted] };
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  map.on('load', () => {
    addLabels(map);
    for (const [group] of GROUPS) {
      const shown = group === 'basemap' || wanted.has(group) || (group === 'labels' && wanted.has('grids'));
      showGroup(map, group, shown);
    }
    const coverage = ['circles', 'gaps', 'buildings'].some((g) => wanted.has(g));
    drawLegend(document.getElementById('embed-legend'), 'households', config, null, coverage ? ['coverage'] : []);
    map.on('click', 'grids-fill', (e) => popup(map, e.features[0], e.lngLat));
    window.gridmap.ready = true;
  });
}

start().catch((error) => fail(String(error.detail || error.message || error)));
