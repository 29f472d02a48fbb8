// Small geometry helpers over GeoJSON coordinates (lon/lat), for what the browser decides itself.

function rings(geometry) {
  if (geometry.type === 'Polygon') return [geometry.coordinates];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

/** Every position of a geometry. */
function positions(geometry) {
  switch (geometry.type) {
    case 'Point': return [geometry.coordinates];
    case 'MultiPoint': case 'LineString': return geometry.coordinates;
    case 'MultiLineString': case 'Polygon': return geometry.coordinates.flat();
    case 'MultiPolygon': return geometry.coordinates.flat(2);
    default: return [];
  }
}

/** The bounding box [west, south, east, north] of a geometry. */
export function bbox(geometry) {
  let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of positions(geometry)) {
    w = Math.min(w, x); s = Math.min(s, y); e = Math.max(e, x); n = Math.max(n, y);
  }
  return [w, s, e, n];
}

/** Whether the point lies inside the ring (even-odd rule). */
export function inRing([x, y], ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Whether the point lies inside a Polygon or MultiPolygon (holes count as outside). */
export function inPolygon(point, geometry) {
  return rings(geometry).some((polygon) => inRing(point, polygon[0])
    && !polygon.slice(1).some((hole) => inRing(point, hole)));
}

function ringCentroid(ring) {
  let area = 0; let cx = 0; let cy = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const cross = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
    area += cross;
    cx += (ring[j][0] + ring[i][0]) * cross;
    cy += (ring[j][1] + ring[i][1]) * cross;
  }
  return area ? { point: [cx / (3 * area), cy / (3 * area)], area: Math.abs(area / 2) } : null;
}

/**
 * A point inside a polygon: the centroid of its largest part when that lies inside, otherwise
 * the middle of the widest inside stretch of the horizontal line through that centroid.
 */
export function innerPoint(geometry) {
  const parts = rings(geometry).map((polygon) => ({ polygon, c: ringCentroid(polygon[0]) }))
    .filter((p) => p.c).sort((a, b) => b.c.area - a.c.area);
  if (!parts.length) return positions(geometry)[0];
  const { polygon, c } = parts[0];
  const single = { type: 'Polygon', coordinates: polygon };
  if (inPolygon(c.point, single)) return c.point;
  const y = c.point[1];
  const xs = [];
  for (const ring of polygon) {
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i];
      const [xj, yj] = ring[j];
      if ((yi > y) !== (yj > y)) xs.push(((xj - xi) * (y - yi)) / (yj - yi) + xi);
    }
  }
  xs.sort((a, b) => a - b);
  let best = null;
  for (let i = 0; i + 1 < xs.length; i += 2) {
    if (!best || xs[i + 1] - xs[i] > best[1] - best[0]) best = [xs[i], xs[i + 1]];
  }
  return best ? [(best[0] + best[1]) / 2, y] : polygon[0][0];
}
