"""Blocks, wall to wall: streets, railways and water cut an area into units.

Pure functions on shapely geometries in a metric CRS (metres). The pipeline is
:func:`study_area` → :func:`cut_blocks` → :func:`merge_slivers` → :func:`split_oversized` →
:func:`whole_units`, and :func:`locate` puts every building in exactly one unit.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from shapely import STRtree

from gridmap.geometry import pieces
from gridmap.standards import SLIVER_AREA_M2

BLOCK_CUTTING = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "pedestrian",
    "rail",
)
"""Street kinds (OSM highway=*, or rail) that bound a block; paths and service roads do not."""

MINOR_PATHS = ("service", "footway", "path", "cycleway", "steps", "track")
"""Ways inside a block along which an oversized block is split first."""

Geoms = NDArray[np.object_]


def study_area(
    lines: Geoms, buildings: Geoms, *, water: Geoms | None = None, reach_m: float = 60.0
) -> shapely.Geometry:
    """Return the mapped area: within ``reach_m`` of a street or on a building, less water.

    Holes that no street reaches (a park, a courtyard) are filled: they belong to the blocks
    around them. Water is then cut out: it is no one's unit.
    """
    reach = shapely.union_all(
        np.concatenate([shapely.buffer(lines, reach_m, quad_segs=4), buildings])
    )
    filled = shapely.union_all(
        shapely.polygons(shapely.get_exterior_ring(shapely.get_parts(reach)))
    )
    if water is not None and len(water):
        filled = shapely.difference(filled, shapely.union_all(water))
    return shapely.make_valid(filled)


def cut_blocks(area: shapely.Geometry, barriers: Geoms) -> Geoms:
    """Cut ``area`` into the faces its barrier lines enclose; the faces cover it exactly."""
    clipped = shapely.intersection(barriers, area)
    linework = shapely.union_all(
        np.concatenate([clipped, [shapely.boundary(area)]])
    )  # union nodes the lines at every crossing
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
    inside = shapely.contains_properly(area, shapely.point_on_surface(faces))
    inside |= shapely.within(shapely.point_on_surface(faces), area)
    return faces[inside]


def _neighbours(
    polygons: Geoms, candidates: NDArray[np.int64], groups: NDArray[np.int64]
) -> tuple[NDArray, NDArray, NDArray]:
    """Return (candidate, neighbour, shared boundary length) for touching pairs of one group."""
    tree = STRtree(polygons)
    left, right = tree.query(polygons[candidates], predicate="intersects")
    left = candidates[left]
    keep = (left != right) & (groups[left] == groups[right])
    left, right = left[keep], right[keep]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(polygons[left]), shapely.boundary(polygons[right]))
    )
    return left, right, shared


def merge_slivers(
    blocks: Geoms,
    *,
    min_area_m2: float = SLIVER_AREA_M2,
    groups: NDArray[np.int64] | None = None,
) -> tuple[Geoms, NDArray[np.int64]]:
    """Merge every block under ``min_area_m2`` into the neighbour it shares most boundary with.

    Chains of slivers resolve over a few rounds; a sliver that touches no other block (cut off
    by water, say) joins the nearest block instead. With ``groups`` (a community per block),
    blocks merge only within their group. Returns the blocks and the group of each.
    """
    blocks = np.asarray(blocks, dtype=object)
    groups = np.zeros(len(blocks), np.int64) if groups is None else np.asarray(groups, np.int64)
    for _ in range(10):
        slivers = np.flatnonzero(shapely.area(blocks) < min_area_m2)
        if slivers.size == 0 or len(blocks) < 2:
            break
        left, right, shared = _neighbours(blocks, slivers, groups)
        order = np.lexsort((-shared, left))  # per sliver, the longest shared boundary first
        left, right, shared = left[order], right[order], shared[order]
        first = np.r_[True, left[1:] != left[:-1]] & (shared > 0)
        source, target = left[first], right[first]
        orphans = np.setdiff1d(slivers, source)
        if orphans.size:
            nearest = STRtree(blocks).query_nearest(
                blocks[orphans], exclusive=True, all_matches=False
            )
            same = groups[orphans[nearest[0]]] == groups[nearest[1]]
            source = np.r_[source, orphans[nearest[0]][same]]
            target = np.r_[target, nearest[1][same]]
        if source.size == 0:
            break
        graph = coo_matrix((np.ones(len(source)), (source, target)), shape=(len(blocks),) * 2)
        _, labels = connected_components(graph, directed=False)
        blocks = dissolve(blocks, labels)
        merged = np.zeros(labels.max() + 1, dtype=np.int64)
        merged[labels] = groups  # blocks merge within one group, so each label has one
        groups = merged
    return blocks, groups


def dissolve(polygons: Geoms, labels: NDArray[np.int64]) -> Geoms:
    """Union the polygons of each label; the result is ordered by label."""
    order = np.argsort(labels, kind="stable")
    _, starts = np.unique(labels[order], return_index=True)
    groups = np.split(polygons[order], starts[1:])
    return np.array([g[0] if len(g) == 1 else shapely.union_all(g) for g in groups], dtype=object)


def split_oversized(
    blocks: Geoms,
    points: Geoms,
    households: NDArray[np.int64],
    *,
    max_households: int,
    paths: Geoms | None = None,
) -> Geoms:
    """Split each block whose buildings hold more than ``max_households``, until none does.

    A block is first cut along the minor ``paths`` that cross it (service roads, footways),
    when that leaves buildings in every piece and lightens the heaviest; what is still above
    the maximum is cut by a straight line across its longer side, at the households' weighted
    median, so both halves stay whole pieces of the block and balanced. A single building
    above the maximum stays a unit of its own (a partition reports it as oversize).
    """
    blocks = np.asarray(blocks, dtype=object)
    households = np.asarray(households, dtype=np.int64)
    owner = locate(blocks, points)
    load = np.bincount(owner, weights=households, minlength=len(blocks))
    paths = np.empty(0, dtype=object) if paths is None else np.asarray(paths, dtype=object)
    tree = STRtree(paths)
    result: list[shapely.Geometry] = []
    for b in np.flatnonzero(load > max_households):  # only the oversized: a few per cent
        mine = owner == b
        pieces = _along_paths(
            blocks[b], paths[tree.query(blocks[b])], points[mine], households[mine]
        )
        place = locate(pieces, points[mine])
        for p, piece in enumerate(pieces):
            here = place == p
            result.extend(
                _bisect(piece, points[mine][here], households[mine][here], max_households)
            )
    return np.concatenate([blocks[load <= max_households], np.array(result, dtype=object)])


def _along_paths(
    block: shapely.Geometry, paths: Geoms, points: Geoms, households: NDArray[np.int64]
) -> Geoms:
    """Cut ``block`` along ``paths`` when every piece keeps buildings and the heaviest is lighter.

    Returns the pieces, or the block alone.
    """
    whole = np.array([block], dtype=object)
    if not len(paths):
        return whole
    pieces, _ = merge_slivers(cut_blocks(block, paths))
    if len(pieces) < 2:
        return whole
    load = np.bincount(locate(pieces, points), weights=households, minlength=len(pieces))
    if (np.bincount(locate(pieces, points), minlength=len(pieces)) == 0).any():
        return whole
    return pieces if load.max() < households.sum() else whole


def _bisect(
    block: shapely.Geometry, points: Geoms, households: NDArray[np.int64], max_households: int
) -> list[shapely.Geometry]:
    if households.sum() <= max_households or len(points) < 2:
        return [block]
    xy = shapely.get_coordinates(points)
    axis = int(np.ptp(xy[:, 0]) < np.ptp(xy[:, 1]))  # cut across the longer spread
    order = np.argsort(xy[:, axis], kind="stable")
    cumulative = np.cumsum(households[order])
    k = int(np.searchsorted(cumulative, cumulative[-1] / 2.0))
    k = min(max(k, 0), len(order) - 2)
    cut = (xy[order[k], axis] + xy[order[k + 1], axis]) / 2.0
    if xy[order[k + 1], axis] == xy[order[k], axis]:
        return [block]  # buildings stacked on one line: nothing to cut between them
    xmin, ymin, xmax, ymax = shapely.bounds(block)
    pad = 1.0
    if axis == 0:
        low, high = (
            shapely.box(xmin - pad, ymin - pad, cut, ymax + pad),
            shapely.box(cut, ymin - pad, xmax + pad, ymax + pad),
        )
    else:
        low, high = (
            shapely.box(xmin - pad, ymin - pad, xmax + pad, cut),
            shapely.box(xmin - pad, cut, xmax + pad, ymax + pad),
        )
    side = xy[:, axis] > cut
    pieces = []
    for half, members in ((low, ~side), (high, side)):
        piece = shapely.intersection(block, half)
        pieces.extend(_bisect(piece, points[members], households[members], max_households))
    return pieces


def locate(polygons: Geoms, points: Geoms) -> NDArray[np.int64]:
    """Return, for each point, the index of the polygon it lies in (the nearest if none)."""
    tree = STRtree(polygons)
    point_idx, polygon_idx = tree.query(points, predicate="intersects")
    owner = np.full(len(points), -1, dtype=np.int64)
    owner[point_idx[::-1]] = polygon_idx[::-1]  # on a shared edge, the first polygon wins
    lost = np.flatnonzero(owner < 0)
    if lost.size:
        owner[lost] = tree.nearest(points[lost])
    return owner


def whole_units(
    units: Geoms,
    *,
    min_area_m2: float = SLIVER_AREA_M2,
    groups: NDArray[np.int64] | None = None,
    points: Geoms | None = None,
) -> Geoms:
    """Make every unit one piece, as the map draws it (:func:`gridmap.geometry.pieces`).

    A unit's largest piece stays; each other piece joins the unit (of the same group) it shares
    the longest boundary with, else becomes a unit of its own when it is at least
    ``min_area_m2`` or holds one of ``points`` (buildings), else is dropped (a sliver cut off by
    water or a barrier, holding nothing). Returns the units, those of stray pieces last.
    """
    units = np.asarray(units, dtype=object)
    groups = np.zeros(len(units), np.int64) if groups is None else np.asarray(groups, np.int64)
    parts, owner = shapely.get_parts(units, return_index=True)
    label = pieces(parts, owner)
    piece_area = np.bincount(label, weights=shapely.area(parts))
    piece_owner = np.zeros(len(piece_area), dtype=np.int64)
    piece_owner[label] = owner
    order = np.lexsort((-piece_area, piece_owner))
    main = order[np.r_[True, piece_owner[order][1:] != piece_owner[order][:-1]]]
    stray = np.setdiff1d(np.arange(len(piece_area)), main)
    if stray.size == 0:
        return units
    target = piece_owner.copy()  # where each piece goes: its unit, another, a new one, or -1
    stray_geoms = dissolve(parts[np.isin(label, stray)], label[np.isin(label, stray)])
    tree = STRtree(units)
    extra = len(units)
    for piece, geom in zip(stray, stray_geoms, strict=True):
        near = tree.query(geom, predicate="intersects")
        near = near[(near != piece_owner[piece]) & (groups[near] == groups[piece_owner[piece]])]
        shared = shapely.length(
            shapely.intersection(shapely.boundary(geom), shapely.boundary(units[near]))
        )
        if near.size and shared.max() >= 1.0:
            target[piece] = near[np.argmax(shared)]
        elif piece_area[piece] >= min_area_m2 or _holds_any(geom, points):
            target[piece], extra = extra, extra + 1
        else:
            target[piece] = -1
    kept = target[label] >= 0
    return dissolve(parts[kept], target[label][kept])


def _holds_any(polygon: shapely.Geometry, points: Geoms | None) -> bool:
    return points is not None and bool(shapely.intersects(polygon, points).any())
