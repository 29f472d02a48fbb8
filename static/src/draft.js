// A plan's units and grids on the map as GeoJSON, coloured by grid, with moved units marked.
// The editor changes it as units move; the re-partition preview shows a job's result with it.

import { allFeatures, request } from './api.js';
import { innerPoint } from './geo.js';
import { COLOURS } from './layers.js';

const PALETTE = ['#8dd3c7', '#ffffb3', '#bebada', '#fb8072', '#80b1d3', '#fdb462', '#b3de69',
  '#fccde5', '#bc80bd', '#ccebc5', '#ffed6f', '#a6cee3'];
const EMPTY = { type: 'FeatureCollection', features: [] };

/** The draft being shown: its units by code, its grids' figures, its revision. */
export const draft = {
  plan: null,
  revision: null,
  status: null,
  units: new Map(), // code → GeoJSON feature (properties: code, grid, community, households, …)
  points: new Map(), // code → [lon, lat] inside the unit
  grids: new Map(), // code → {code, kind, community, households, residents, …}
  gridFeatures: EMPTY,
  moved: [],
  override: null, // unit code → colour drawn instead of its grid's
};

/** Add the sources and layers the draft is drawn with (empty until a plan is loaded). */
export function addDraftLayers(map) {
  map.addSource('draft-units', { type: 'geojson', data: EMPTY, promoteId: 'code' });
  map.addSource('draft-grids', { type: 'geojson', data: EMPTY, promoteId: 'code' });
  map.addSource('lasso', { type: 'geojson', data: EMPTY });
  const before = map.getLayer('buildings-coverage') ? 'buildings-coverage' : undefined;
  map.addLayer({
    id: 'draft-units-fill', type: 'fill', source: 'draft-units',
    paint: {
      'fill-color': ['coalesce', ['get', 'colour'], COLOURS.none],
      'fill-opacity': ['case', ['boolean', ['feature-state', 'target'], false], 0.8, 0.5],
    },
  }, before);
  map.addLayer({
    id: 'draft-units-line', type: 'line', source: 'draft-units',
    paint: { 'line-color': '#737373', 'line-width': 0.6 },
  });
  map.addLayer({
    id: 'draft-units-moved', type: 'line', source: 'draft-units',
    filter: ['in', ['get', 'code'], ['literal', []]],
    paint: { 'line-color': COLOURS.moved, 'line-width': 3 },
  });
  map.addLayer({
    id: 'draft-grids-line', type: 'line', source: 'draft-grids',
    paint: {
      'line-color': ['case', ['boolean', ['feature-state', 'target'], false], '#e31a1c', '#08306b'],
      'line-width': ['case', ['boolean', ['feature-state', 'target'], false], 4, 2],
    },
  });
  map.addLayer({
    id: 'draft-grid-labels', type: 'symbol', source: 'draft-grids',
    layout: {
      'text-field': ['concat', ['slice', ['get', 'code'], 9], '\n', ['to-string', ['get', 'households']]],
      'text-font': ['sans-serif'], 'text-size': 12,
    },
    paint: { 'text-color': '#08306b', 'text-halo-color': '#ffffff', 'text-halo-width': 1.5 },
  });
  map.addLayer({
    id: 'lasso-line', type: 'line', source: 'lasso',
    paint: { 'line-color': '#e31a1c', 'line-width': 2, 'line-dasharray': [2, 1] },
  });
}

/** A colour for each grid code, by the codes' order (the map, the table and the legend agree). */
export function colourOf(codes) {
  const sorted = [...codes].sort();
  return new Map(sorted.map((code, i) => [code, PALETTE[i % PALETTE.length]]));
}

// What the draft-units source was last given: unit code → "grid colour". A redraw sends the
// source only the units whose grid or colour changed (updateData), not the whole plan again:
// on a city of 37,000 units setData cost the main thread seconds an edit.
let drawnUnits = new Map();
const WHOLE = 5000; // more changed units than this: the whole data set again

/** Redraw the units (their grid colours and the moved ones) from `draft`. */
export function drawUnits(map) {
  const colours = colourOf(draft.grids.keys());
  const override = draft.override || new Map(); // a split's parts, while they are previewed
  const colourOfUnit = (f) => override.get(f.properties.code) || colours.get(f.properties.grid);
  const source = map.getSource('draft-units');
  const changed = [];
  let whole = drawnUnits.size !== draft.units.size;
  for (const [code, f] of draft.units) {
    if (whole || changed.length > WHOLE) break;
    const was = drawnUnits.get(code);
    const colour = colourOfUnit(f);
    if (was === undefined) whole = true;
    else if (was !== `${f.properties.grid} ${colour}`) changed.push({ code, grid: f.properties.grid, colour });
  }
  if (whole || changed.length > WHOLE) {
    const features = [...draft.units.values()].map((f) => ({
      ...f, properties: { ...f.properties, colour: colourOfUnit(f) },
    }));
    source.setData({ type: 'FeatureCollection', features });
    drawnUnits = new Map(features.map((f) => [f.properties.code, `${f.properties.grid} ${f.properties.colour}`]));
  } else if (changed.length) {
    source.updateData({
      update: changed.map(({ code, grid, colour }) => ({
        id: code, addOrUpdateProperties: [{ key: 'grid', value: grid }, { key: 'colour', value: colour }],
      })),
    });
    for (const { code, grid, colour } of changed) drawnUnits.set(code, `${grid} ${colour}`);
  }
  map.setFilter('draft-units-moved', ['in', ['get', 'code'], ['literal', draft.moved]]);
}

/** Redraw the grid outlines and labels from `draft`. */
export function drawGrids(map) {
  map.getSource('draft-grids').setData(draft.gridFeatures);
}

/** A CQL2 text filter for grids whose code is one of `codes`. */
export function codesFilter(codes) {
  return `code IN (${codes.map((c) => `'${String(c).replaceAll("'", "''")}'`).join(', ')})`;
}

/**
 * Read grid outlines and figures of the plan again (after the server recomputed them): all of
 * them, or only the grids `codes` (those an edit touched; one of them gone is dropped), so
 * that an edit on a plan of thousands of grids reads two, not the whole plan.
 */
export async function reloadGrids(map, codes = null) {
  if (codes === null) {
    const grids = await allFeatures('grids', { plan: draft.plan });
    draft.gridFeatures = grids;
    draft.grids = new Map(grids.features.map((f) => [f.properties.code, { ...f.properties }]));
  } else if (codes.length) {
    const fresh = await allFeatures('grids', {
      plan: draft.plan, filter: codesFilter(codes), 'filter-lang': 'cql2-text',
    });
    const asked = new Set(codes);
    const found = new Map(fresh.features.map((f) => [f.properties.code, f]));
    const kept = draft.gridFeatures.features
      .filter((f) => !asked.has(f.properties.code) || found.has(f.properties.code))
      .map((f) => found.get(f.properties.code) || f);
    const known = new Set(kept.map((f) => f.properties.code));
    kept.push(...fresh.features.filter((f) => !known.has(f.properties.code)));
    draft.gridFeatures = { type: 'FeatureCollection', features: kept };
    for (const code of asked) if (!found.has(code)) draft.grids.delete(code);
    for (const f of fresh.features) draft.grids.set(f.properties.code, { ...f.properties }); // in place
    map.getSource('draft-grids').updateData({ // only these grids, not the plan's thousands
      remove: codes.filter((code) => !found.has(code)), add: fresh.features,
    });
    drawUnits(map);
    return;
  }
  drawGrids(map);
  drawUnits(map);
}

/** Load plan `plan` into the draft layers; `moved` lists unit codes to mark. */
export async function loadPlan(map, plan, moved = []) {
  const [head, units] = await Promise.all([request(`/plans/${plan}`), allFeatures('units', { plan })]);
  draft.plan = plan;
  draft.revision = head.body.revision;
  draft.status = head.body.status;
  draft.units = new Map(units.features.map((f) => [f.properties.code, f]));
  draft.points = new Map(units.features.map((f) => [f.properties.code, innerPoint(f.geometry)]));
  draft.moved = moved;
  drawnUnits = new Map(); // another plan's units: drawn whole
  await reloadGrids(map);
}

/** Take the draft off the map. */
export function clearPlan(map) {
  drawnUnits = new Map();
  Object.assign(draft, {
    plan: null, revision: null, status: null, units: new Map(), points: new Map(), grids: new Map(),
    gridFeatures: EMPTY, moved: [], override: null,
  });
  map.getSource('draft-units').setData(EMPTY);
  map.getSource('draft-grids').setData(EMPTY);
  map.setFilter('draft-units-moved', ['in', ['get', 'code'], ['literal', []]]);
}
