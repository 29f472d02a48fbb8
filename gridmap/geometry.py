"""Geometry helpers shared by importers and engines (shapely 2, vectorised)."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


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


STREET_GAP_M = 12.0
"""Polygons of one grid or unit closer than this (a street between two blocks) hang together."""
MIN_FRONTAGE_M = 1.0
"""How much boundary, beyond what a corner touch gives, two polygons must run side by side."""


def hang_together(
    polygons: np.ndarray, left: np.ndarray, right: np.ndarray, *, gap_m: float = STREET_GAP_M
) -> tuple[np.ndarray, np.ndarray]:
    """Say which pairs of polygons run side by side within ``gap_m``, and along how much.

    The length of ``left``'s boundary within ``gap_m`` of ``right`` must exceed the ``2 * gap_m``
    that a corner-only touch gives by :data:`MIN_FRONTAGE_M`. Returns the verdict per pair and
    that excess length (the frontage the two face each other along). Use metric coordinates.
    """
    if not len(left):
        return np.zeros(0, dtype=bool), np.zeros(0)
    near = shapely.buffer(polygons[right], gap_m, quad_segs=4)
    frontage = shapely.length(shapely.intersection(shapely.boundary(polygons[left]), near))
    excess = frontage - 2 * gap_m
    return excess > MIN_FRONTAGE_M, np.maximum(excess, 0.0)


def pieces(polygons: np.ndarray, owner: np.ndarray, *, gap_m: float = STREET_GAP_M) -> np.ndarray:
    """Label the polygons of each owner (a grid, a unit) by the piece they belong to.

    Two polygons of one owner hang together when a stretch of their boundaries runs within
    ``gap_m`` of each other (:func:`hang_together`); a corner-only touch does not join them.
    Polygons that share an edge are one polygon already (a union). Use metric coordinates.

    Returns one label per polygon; polygons of one piece share it, and labels are unique
    across owners.

    >>> a, b = shapely.box(0, 0, 100, 100), shapely.box(110, 0, 210, 100)  # a 10 m street
    >>> corner = shapely.box(-100, 100, 0, 200)  # touches a at its corner only
    >>> pieces(np.array([a, b, corner]), np.array([0, 0, 0])).tolist()
    [0, 0, 1]
    """
    polygons, owner = np.asarray(polygons, dtype=object), np.asarray(owner)
    n = len(polygons)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    left, right = shapely.STRtree(polygons).query(polygons, predicate="dwithin", distance=gap_m)
    keep = (left < right) & (owner[left] == owner[right])
    left, right = left[keep], right[keep]
    joined, _ = hang_together(polygons, left, right, gap_m=gap_m)
    graph = coo_matrix((np.ones(int(joined.sum())), (left[joined], right[joined])), shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)
