"""Geometry helpers shared by importers and engines (shapely 2, vectorised)."""

from __future__ import annotations

import numpy as np
import shapely


def polygonal_parts(geometries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Repair ``geometries`` and return each one's polygonal part as a MultiPolygon.

    Returns the MultiPolygons and the positions (into ``geometries``) they came from; a
    geometry with no polygonal part (a line, a point, an empty) is left out.
    """
    valid = shapely.make_valid(geometries)
    parts, first = shapely.get_parts(valid, return_index=True)  # collections → members
    parts, second = shapely.get_parts(parts, return_index=True)  # multipolygons → polygons
    index = first[second]
    keep = (shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)
    parts, index = parts[keep], index[keep]
    if parts.size == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype=np.int64)
    positions, dense = np.unique(index, return_inverse=True)
    return shapely.multipolygons(parts, indices=dense), positions


MIN_OVERLAP_SHARE = 1e-6
"""Overlaps below this share of a polygon's area are rounding, not overlap."""


def largest_overlap(polygons: np.ndarray, zones: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return, for each polygon, the zone holding its largest part and that part's area share.

    Polygons that overlap no zone (touching is not overlapping) get zone ``-1`` and share 0.
    Use metric coordinates for true shares.

    >>> squares = shapely.box([0, 2], 0, [2, 4], 2)
    >>> zones = shapely.box([0, 1.5], -1, [1.5, 5], 3)
    >>> zone, share = largest_overlap(squares, zones)
    >>> zone.tolist(), share.round(2).tolist()
    ([0, 1], [0.75, 1.0])
    """
    polygons, zones = np.asarray(polygons, dtype=object), np.asarray(zones, dtype=object)
    zone = np.full(len(polygons), -1, dtype=np.int64)
    share = np.zeros(len(polygons))
    pairs = shapely.STRtree(zones).query(polygons, predicate="intersects")
    if pairs.size == 0:
        return zone, share
    areas = shapely.area(shapely.intersection(polygons[pairs[0]], zones[pairs[1]]))
    order = np.lexsort((-areas, pairs[0]))
    first = order[np.r_[True, pairs[0][order][1:] != pairs[0][order][:-1]]]
    whole = shapely.area(polygons[pairs[0][first]])
    shares = np.divide(areas[first], whole, out=np.zeros(len(first)), where=whole > 0)
    overlapping = shares > MIN_OVERLAP_SHARE  # touching along an edge is not overlapping
    zone[pairs[0][first][overlapping]] = pairs[1][first][overlapping]
    share[pairs[0][first][overlapping]] = shares[overlapping]
    return zone, share
