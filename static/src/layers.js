// The map's own layers over the served style: colour modes, labels, the layer switcher, the legend.

import { t } from './i18n.js';

export const COLOURS = {
  under: '#9ecae1', within: '#74c476', over: '#fb6a4a', none: '#d9d9d9',
  covered: '#3182bd', uncovered: '#de2d26', circle: '#6baed6', gap: '#de2d26',
  station: '#d7301f', moved: '#ff7f00', target: '#e31a1c', loadLow: '#fff5eb', loadHigh: '#a63603',
  hot: '#c2410c', cold: '#fde8d7',
};
const COVERAGE_STOPS = [[0.5, '#d7191c'], [0.8, '#fdae61'], [0.9, '#ffffbf'], [1, '#1a9641']];
const RAMP = ['#d7191c', '#fdae61', '#ffffbf', '#a6d96a', '#1a9641'];

/**
 * Coverage stops that separate the grids of the city at hand: the rates at its 0th, 25th, 50th,
 * 75th and 100th percentiles, each with a colour from red to green (fixed stops when fewer than
 * five grids have a rate, or all share one).
 */
export function coverageStops(rates) {
  const known = rates.filter((r) => typeof r === 'number' && Number.isFinite(r)).sort((a, b) => a - b);
  if (known.length < 5 || known[0] === known[known.length - 1]) return COVERAGE_STOPS;
  const at = (q) => {
    const i = q * (known.length - 1);
    const low = Math.floor(i);
    return known[low] + (known[Math.min(low + 1, known.length - 1)] - known[low]) * (i - low);
  };
  const stops = [];
  for (const [i, q] of [0, 0.25, 0.5, 0.75, 1].entries()) {
    const value = at(q);
    if (!stops.length || value > stops[stops.length - 1][0] + 1e-9) stops.push([value, RAMP[i]]);
  }
  return stops.length >= 2 ? stops : COVERAGE_STOPS;
}

/** Switchable groups: each a word and the style's layer ids it shows or hides. */
export const GROUPS = [
  ['basemap', ['water', 'streets-minor', 'streets-major', 'buildings-base']],
  ['regions', ['regions-line']],
  ['grids', ['grids-fill', 'grids-line', 'draft-grids-fill', 'draft-grids-line']],
  ['units', ['units-line', 'draft-units-fill', 'draft-units-line', 'draft-units-moved']],
  ['buildings', ['buildings-coverage']],
  ['circles', ['circles-fill', 'circles-line']],
  ['gaps', ['gaps-fill']],
  ['stations', ['stations']],
  ['events', ['events-hexagons', 'events']],
  ['labels', ['grid-labels', 'region-labels', 'draft-grid-labels', 'station-labels']],
];
const HIDDEN_AT_START = new Set(['buildings', 'circles', 'gaps', 'events']);

/** The grid colour expression for `mode`: households against each kind's bounds, coverage, load. */
export function gridColour(mode, config, maxLoad = 1, stops = null, hot = []) {
  if (mode === 'tickets') { // the grids whose ticket rate stands out (GET /tickets/hotspots)
    return hot.length ? ['match', ['get', 'code'], hot, COLOURS.hot, COLOURS.cold] : COLOURS.cold;
  }
  if (mode === 'coverage') {
    return ['case', ['==', ['typeof', ['get', 'coverage']], 'number'],
      ['interpolate', ['linear'], ['get', 'coverage'], ...(stops || COVERAGE_STOPS).flat()], COLOURS.none];
  }
  if (mode === 'load') {
    return ['interpolate', ['linear'], ['to-number', ['get', 'governance_load'], 0],
      0, COLOURS.loadLow, Math.max(maxLoad, 1e-9), COLOURS.loadHigh];
  }
  const step = (b) => ['step', ['to-number', ['get', 'households'], 0], COLOURS.under,
    b.min_households, COLOURS.within, b.max_households + 1, COLOURS.over];
  const kinds = Object.entries(config.bounds).filter(([kind]) => kind !== 'urban');
  return ['match', ['get', 'kind'], ...kinds.flatMap(([kind, b]) => [kind, step(b)]),
    step(config.bounds.urban)];
}

/** Add the layers the served style leaves to the web map: labels. */
export function addLabels(map) {
  const font = ['Noto Sans CJK SC', 'WenQuanYi Micro Hei', 'Microsoft YaHei', 'sans-serif'];
  map.addLayer({
    id: 'grid-labels', type: 'symbol', source: 'gridmap', 'source-layer': 'grid_labels', minzoom: 13,
    layout: {
      'text-field': ['coalesce', ['get', 'name'], ['slice', ['get', 'code'], 9]],
      'text-font': font, 'text-size': 12,
    },
    paint: { 'text-color': '#08306b', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
  });
  map.addLayer({
    id: 'region-labels', type: 'symbol', source: 'gridmap', 'source-layer': 'region_labels',
    filter: ['==', ['get', 'level'], 'community'], minzoom: 11, maxzoom: 16,
    layout: { 'text-field': ['get', 'name'], 'text-font': font, 'text-size': 14 },
    paint: { 'text-color': '#54278f', 'text-halo-color': '#ffffff', 'text-halo-width': 2 },
  });
  map.addLayer({
    id: 'station-labels', type: 'symbol', source: 'gridmap', 'source-layer': 'stations', minzoom: 14,
    layout: {
      'text-field': ['get', 'name'], 'text-font': font, 'text-size': 11,
      'text-offset': [0, 1.2], 'text-anchor': 'top',
    },
    paint: { 'text-color': '#67000d', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
  });
}

/** The zoom from which tickets are points; below it they are counted in hexagons. */
export const TICKET_POINTS_MINZOOM = 15;

/** Add the hotline tickets, hidden at first: points from zoom 15 (the tiles' events layer),
 * hexagons with their counts below (GET /tickets/hexagons, read as the map moves). */
export function addTicketLayer(map) {
  map.addSource('ticket-hexagons', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
  map.addLayer({
    id: 'events-hexagons', type: 'fill', source: 'ticket-hexagons', maxzoom: TICKET_POINTS_MINZOOM,
    layout: { visibility: 'none' },
    paint: { 'fill-color': hexagonColour(1), 'fill-opacity': 0.75, 'fill-outline-color': '#ffffff' },
  }, 'stations');
  map.addLayer({
    id: 'events', type: 'circle', source: 'gridmap', 'source-layer': 'events', minzoom: 15,
    layout: { visibility: 'none' },
    paint: {
      'circle-radius': 4, 'circle-color': COLOURS.hot, 'circle-opacity': 0.8,
      'circle-stroke-color': '#ffffff', 'circle-stroke-width': 1,
    },
  }, 'stations');
}

/** The hexagons' fill: light for one ticket, dark for the most in view (`most`). */
export function hexagonColour(most) {
  return ['interpolate', ['linear'], ['get', 'tickets'], 1, '#fee0d2', Math.max(2, most), '#a50f15'];
}

/** The filter of the tickets layer: from day `since` (YYYY-MM-DD or null), of `kind` ('' all). */
export function ticketFilter(since, kind) {
  const parts = ['all'];
  if (since) parts.push(['>=', ['get', 'day'], Number(since.replaceAll('-', ''))]);
  if (kind) parts.push(['==', ['get', 'kind'], kind]);
  return parts.length > 1 ? parts : null;
}

/** Show or hide a group of layers. */
export function showGroup(map, group, visible) {
  const ids = GROUPS.find(([name]) => name === group)[1];
  for (const id of ids) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
  }
}

/** The layer switcher: one checkbox per group; `onToggle(group, visible)` hears each change. */
export function layerSwitcher(map, element, onToggle = () => {}) {
  const shown = new Map(GROUPS.map(([name]) => [name, !HIDDEN_AT_START.has(name)]));
  const draw = () => {
    element.replaceChildren(...GROUPS.map(([name]) => {
      const label = document.createElement('label');
      const box = document.createElement('input');
      box.type = 'checkbox';
      box.checked = shown.get(name);
      box.dataset.group = name;
      box.addEventListener('change', () => {
        shown.set(name, box.checked);
        showGroup(map, name, box.checked);
        onToggle(name, box.checked);
      });
      label.append(box, ` ${t(`layer.${name}`)}`);
      return label;
    }));
  };
  for (const [name, visible] of shown) showGroup(map, name, visible);
  draw();
  return {
    redraw: draw,
    set(name, visible) {
      shown.set(name, visible);
      showGroup(map, name, visible);
      draw();
      onToggle(name, visible);
    },
    isShown(name) {
      return shown.get(name);
    },
    /** Re-apply the switcher to layers added since. */
    apply() {
      for (const [name, visible] of shown) showGroup(map, name, visible);
    },
  };
}

function swatch(colour, word, shape = 'box') {
  const row = document.createElement('div');
  row.className = 'legend-row';
  const mark = document.createElement('span');
  mark.className = `swatch ${shape}`;
  if (shape === 'outline') mark.style.border = `3px solid ${colour}`;
  else mark.style.background = colour;
  row.append(mark, word);
  return row;
}

/** The legend for the grid colour mode and what else is shown. */
export function drawLegend(element, mode, config, stops = null, extras = [], hotspots = null) {
  const rows = [];
  const b = config.bounds.urban;
  if (mode === 'tickets') {
    const rate = hotspots && hotspots.threshold !== null ? hotspots.threshold : null;
    rows.push(swatch(COLOURS.hot, t('legend.hot', { rate: rate === null ? '—' : rate.toFixed(1) })),
      swatch(COLOURS.cold, t('legend.cold')));
  } else if (mode === 'coverage') {
    const shown = stops || COVERAGE_STOPS;
    rows.push(...shown.map(([value, colour], i) => swatch(colour,
      `${i === 0 ? '≤ ' : i === shown.length - 1 ? '≥ ' : ''}${(value * 100).toFixed(1)}%`)),
    swatch(COLOURS.none, t('legend.none')));
  } else if (mode === 'load') {
    rows.push(swatch(COLOURS.loadLow, t('legend.load_low')), swatch(COLOURS.loadHigh, t('legend.load_high')));
  } else {
    rows.push(swatch(COLOURS.under, `${t('legend.under')} (< ${b.min_households})`),
      swatch(COLOURS.within, `${t('legend.within')} (${b.min_households}–${b.max_households})`),
      swatch(COLOURS.over, `${t('legend.over')} (> ${b.max_households})`));
  }
  rows.push(swatch(COLOURS.station, t('legend.station'), 'dot'));
  for (const extra of extras) {
    if (extra === 'coverage') {
      rows.push(swatch(COLOURS.covered, t('legend.covered')), swatch(COLOURS.uncovered, t('legend.uncovered')),
        swatch(COLOURS.circle, t('legend.circle')), swatch(COLOURS.gap, t('legend.gap')),
        swatch('#6a3d9a', t('legend.whatif_circle'), 'outline'),
        swatch(COLOURS.covered, t('legend.gained'), 'dot'), swatch(COLOURS.uncovered, t('legend.lost'), 'dot'));
    }
    if (extra === 'moved') rows.push(swatch(COLOURS.moved, t('legend.moved')));
    if (extra === 'tickets') {
      rows.push(swatch('linear-gradient(90deg, #fee0d2, #a50f15)', t('legend.ticket_hexagons')),
        swatch(COLOURS.hot, t('legend.ticket_points'), 'dot'));
    }
    if (extra === 'edit') {
      rows.push(swatch(COLOURS.target, t('legend.target'), 'outline'),
        swatch('linear-gradient(90deg, #8dd3c7, #fb8072, #80b1d3)', t('legend.by_grid')));
    }
  }
  element.replaceChildren(...rows);
}
