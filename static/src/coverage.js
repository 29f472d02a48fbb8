// Coverage mode: stations with their 5-minute circles and the uncovered buildings; drag a station
// or add one and the rates update (what-if); siting suggestions, each added with a click.

import { Marker } from 'maplibre-gl';
import { ApiError, allFeatures, request } from './api.js';
import { number, onLanguage, percent, t } from './i18n.js';

const $ = (id) => document.getElementById(id);
const BUILDINGS_ZOOM = 14; // the tiles carry each building's coverage from this zoom on
const rates = $('rates');
const message = $('coverage-message');

export const coverage = {
  map: null,
  config: null,
  active: false,
  markers: [], // existing stations: {code, name, marker, home: [lon, lat]}
  moved: new Map(), // code → [lon, lat]
  added: [], // {marker}
  sites: [], // suggestions: {site, marker}
  adding: false,
  answer: null, // the last what-if answer
  asked: 0,
  names: new Map(), // region code → name
  baseFilters: [], // the stored circles' layers and their own filters
};

function say(text, kind = 'info') {
  message.textContent = text;
  message.className = `message ${kind}`;
  message.hidden = !text;
}

function element(kind, title) {
  const el = document.createElement('div');
  el.className = `station-marker ${kind}`;
  el.title = title;
  return el;
}

function drawRates() {
  const a = coverage.answer;
  if (!a) {
    rates.replaceChildren();
    return;
  }
  const row = (word, r, id) => {
    const div = document.createElement('div');
    div.className = 'rate';
    div.id = id;
    const value = document.createElement('b');
    value.textContent = percent(r.rate, 2);
    value.dataset.rate = r.rate;
    const detail = document.createElement('small');
    detail.textContent = t('coverage.residents', { covered: number(r.covered_residents), residents: number(r.residents) });
    div.append(`${word} `, value, ' ', detail);
    return div;
  };
  const heading = document.createElement('h3');
  heading.textContent = t('coverage.rate');
  const changed = coverage.moved.size || coverage.added.length;
  rates.replaceChildren(heading, row(t('coverage.now'), a.before, 'rate-before'),
    ...(changed ? [row(t('coverage.whatif'), a.after, 'rate-after')] : []));
}

const EMPTY = { type: 'FeatureCollection', features: [] };

/** The what-if's circles and changed buildings on the map, and the change per community. */
function drawChanges() {
  const { map } = coverage;
  const a = coverage.answer;
  if (!map.getSource('whatif-circles')) return;
  map.getSource('whatif-circles').setData(a ? a.circles : EMPTY);
  const moved = a ? [...coverage.moved.keys()] : []; // their stored circles give way to the new ones
  for (const [id, base] of coverage.baseFilters) {
    const away = ['!', ['in', ['get', 'station'], ['literal', moved]]];
    map.setFilter(id, moved.length ? (base ? ['all', base, away] : away) : base);
  }
  map.getSource('whatif-buildings').setData(a ? a.buildings : EMPTY);
  const list = $('whatif-communities');
  const changed = a ? a.communities.filter((c) => c.covered_after !== c.covered_before) : [];
  list.replaceChildren(...changed.sort((x, y) => Math.abs(y.covered_after - y.covered_before)
    - Math.abs(x.covered_after - x.covered_before)).map((c) => {
    const li = document.createElement('li');
    li.dataset.community = c.community;
    const delta = c.covered_after - c.covered_before;
    const rate = (v) => (c.residents ? percent(v / c.residents, 1) : '—');
    li.textContent = t('coverage.community_change', {
      community: coverage.names.get(c.community) || c.community,
      before: rate(c.covered_before), after: rate(c.covered_after),
      delta: `${delta > 0 ? '+' : ''}${number(delta)}`,
    });
    return li;
  }));
  $('whatif-buildings-count').textContent = a && (a.buildings_gained || a.buildings_lost)
    ? t('coverage.buildings_changed', { gained: number(a.buildings_gained), lost: number(a.buildings_lost) }) : '';
}

/** Add the layers a what-if draws: its circles and the buildings it wins (blue) or loses (red). */
function addChangeLayers(map) {
  map.addSource('whatif-circles', { type: 'geojson', data: EMPTY });
  map.addSource('whatif-buildings', { type: 'geojson', data: EMPTY });
  map.addLayer({
    id: 'whatif-circles-fill', type: 'fill', source: 'whatif-circles',
    paint: { 'fill-color': '#6a3d9a', 'fill-opacity': 0.18 },
  });
  map.addLayer({
    id: 'whatif-circles-line', type: 'line', source: 'whatif-circles',
    paint: { 'line-color': '#6a3d9a', 'line-width': 2, 'line-dasharray': [3, 1] },
  });
  map.addLayer({
    id: 'whatif-buildings', type: 'circle', source: 'whatif-buildings',
    paint: {
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 12, 2, 17, 6],
      'circle-color': ['case', ['get', 'covered'], '#3182bd', '#de2d26'],
      'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1,
    },
  });
}

/** Ask what the rates are with the stations as they now stand on the map. */
async function ask() {
  const asked = ++coverage.asked;
  const body = {
    move: [...coverage.moved].map(([code, [lon, lat]]) => ({ code, lon, lat })),
    add: coverage.added.map(({ marker }) => ({ lon: marker.getLngLat().lng, lat: marker.getLngLat().lat })),
    minutes: coverage.config.coverage.minutes,
    speed_m_per_min: coverage.config.coverage.speed_m_per_min,
  };
  try {
    const answer = await request('/coverage/whatif', { method: 'POST', json: body });
    if (asked !== coverage.asked) return; // a later question is on its way
    coverage.answer = answer.body;
    say('');
    drawRates();
    drawChanges();
  } catch (error) {
    const forbidden = error instanceof ApiError && [401, 403].includes(error.status);
    say(forbidden ? t('coverage.need_planner') : t('error.generic', { detail: error.detail || error }), 'error');
  }
}

function addStation(lngLat) {
  const marker = new Marker({ element: element('new', t('coverage.new_station')), draggable: true })
    .setLngLat(lngLat).addTo(coverage.map);
  marker.on('dragend', ask);
  coverage.added.push({ marker });
  return ask();
}

async function loadStations() {
  const stations = await allFeatures('stations');
  for (const f of stations.features) {
    const { code, name } = f.properties;
    const marker = new Marker({ element: element('existing', `${name} (${code})`), draggable: true })
      .setLngLat(f.geometry.coordinates).addTo(coverage.map);
    marker.getElement().dataset.code = code;
    marker.on('dragend', () => {
      const { lng, lat } = marker.getLngLat();
      coverage.moved.set(code, [lng, lat]);
      ask();
    });
    coverage.markers.push({ code, name, marker, home: f.geometry.coordinates });
  }
}

function clearSites() {
  for (const { marker } of coverage.sites) marker.remove();
  coverage.sites = [];
  $('sites').replaceChildren();
}

function reset() {
  for (const m of coverage.markers) m.marker.setLngLat(m.home);
  for (const { marker } of coverage.added) marker.remove();
  coverage.moved.clear();
  coverage.added = [];
  return ask();
}

async function suggest() {
  clearSites();
  const k = Math.max(1, Math.min(20, Number($('siting-k').value) || 3));
  try {
    const answer = await request('/coverage/siting', {
      method: 'POST',
      json: { k, minutes: coverage.config.coverage.minutes, speed_m_per_min: coverage.config.coverage.speed_m_per_min },
    });
    for (const [i, site] of answer.body.sites.entries()) {
      const marker = new Marker({ element: element('site', site.name || site.label) })
        .setLngLat([site.lon, site.lat]).addTo(coverage.map);
      marker.getElement().textContent = String(i + 1);
      const li = document.createElement('li');
      li.dataset.label = site.label;
      const use = document.createElement('button');
      use.type = 'button';
      use.textContent = t('coverage.use');
      use.addEventListener('click', () => {
        marker.remove();
        li.remove();
        addStation([site.lon, site.lat]);
      });
      li.append(`${site.name || site.label} · ${t('coverage.gain', { gain: number(site.gain) })} `, use);
      $('sites').append(li);
      coverage.sites.push({ site, marker });
    }
  } catch (error) {
    const forbidden = error instanceof ApiError && [401, 403].includes(error.status);
    say(forbidden ? t('coverage.need_planner') : t('error.generic', { detail: error.detail || error }), 'error');
  }
}

/** Wire the coverage panel. */
export function setUpCoverage(map, config) {
  Object.assign(coverage, { map, config });
  addChangeLayers(map);
  coverage.baseFilters = ['circles-fill', 'circles-line'].filter((id) => map.getLayer(id))
    .map((id) => [id, map.getFilter(id) || null]);
  allFeatures('regions').then((regions) => {
    coverage.names = new Map(regions.features.map((f) => [f.properties.code, f.properties.name]));
  }).catch(() => {});
  $('station-add').addEventListener('click', () => {
    coverage.adding = true;
    map.getCanvas().style.cursor = 'copy';
    say(t('coverage.click_to_add'));
  });
  $('whatif-reset').addEventListener('click', reset);
  const zoomHint = () => { $('coverage-zoom').hidden = map.getZoom() >= BUILDINGS_ZOOM; };
  map.on('zoomend', zoomHint);
  zoomHint();
  $('siting-run').addEventListener('click', suggest);
  map.on('click', (e) => {
    if (!coverage.active || !coverage.adding) return;
    coverage.adding = false;
    map.getCanvas().style.cursor = '';
    say('');
    addStation(e.lngLat);
  });
  onLanguage(() => { drawRates(); drawChanges(); });
}

/** Enter or leave coverage mode. */
export async function setCoverage(active) {
  coverage.active = active;
  if (!active) {
    for (const m of coverage.markers) m.marker.remove();
    for (const { marker } of coverage.added) marker.remove();
    clearSites();
    Object.assign(coverage, { markers: [], added: [], answer: null, adding: false });
    coverage.moved.clear();
    drawRates();
    drawChanges();
    return;
  }
  await loadStations();
  await ask();
}
