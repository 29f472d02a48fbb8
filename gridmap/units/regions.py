"""Regions derived from units when a source has none, and their codes (docs/architecture.md, Codes).

Communities grow from units, streets from communities, by contiguous region growing on the
adjacency graph: each region starts at the north-westernmost free unit and takes the free
neighbour nearest its seed until it reaches the target weight; regions left under the minimum
join their lightest neighbour. Pure functions on arrays.
"""

from __future__ import annotations

import heapq

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import coo_matrix, csr_matrix
from scipy.spatial import cKDTree
from shapely import STRtree

from gridmap.geometry import STREET_GAP_M, hang_together

SHARED_EDGE_MIN_M = 1.0
"""Units touching along less than this (a corner) are not neighbours."""


def adjacency(
    polygons: NDArray[np.object_],
    *,
    min_shared_m: float = SHARED_EDGE_MIN_M,
    gap_m: float = STREET_GAP_M,
) -> csr_matrix:
    """Return the symmetric adjacency of polygons that share a boundary, or face each other.

    Polygons are linked when they share ``min_shared_m`` of boundary, or face each other across
    a gap narrower than ``gap_m`` (units drawn as blocks without the street between them), as
    :func:`gridmap.geometry.pieces` joins a grid's polygons: the engine's links and the check's
    pieces agree. Each entry holds the length of the shared boundary, or of the frontage across
    the gap (so a perimeter can be told from it). A corner-only touch is no link.
    """
    tree = STRtree(polygons)
    left, right = tree.query(polygons, predicate="dwithin", distance=gap_m)
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.length(
        shapely.intersection(shapely.boundary(polygons[left]), shapely.boundary(polygons[right]))
    )
    apart = (shared < min_shared_m) & ~shapely.intersects(polygons[left], polygons[right])
    if apart.any() and gap_m > 0:  # not touching at all: do they face each other?
        facing, frontage = hang_together(polygons, left[apart], right[apart], gap_m=gap_m)
        shared[np.flatnonzero(apart)[facing]] = frontage[facing]
    keep = shared >= min_shared_m
    left, right, shared = left[keep], right[keep], shared[keep]
    n = len(polygons)
    data = np.r_[shared, shared]
    return coo_matrix((data, (np.r_[left, right], np.r_[right, left])), shape=(n, n)).tocsr()


def reading_order(xy: NDArray[np.float64], *, band: float) -> NDArray[np.int64]:
    """Return the serial order of points: west to east in bands, the bands north to south.

    >>> reading_order(np.array([[10.0, 0.0], [0.0, 0.0], [5.0, 100.0]]), band=50).tolist()
    [2, 1, 0]
    """
    rows = np.floor((xy[:, 1].max() - xy[:, 1]) / max(band, 1e-9)).astype(np.int64)
    order = np.lexsort((xy[:, 0], rows))
    ranks = np.empty(len(xy), dtype=np.int64)
    ranks[order] = np.arange(len(xy))
    return ranks


def grow_regions(
    graph: csr_matrix,
    weights: NDArray[np.float64],
    xy: NDArray[np.float64],
    *,
    target: float,
    minimum: float,
    maximum: float = np.inf,
) -> NDArray[np.int64]:
    """Group nodes into contiguous regions of about ``target`` weight.

    A region takes no node that would lift it above ``maximum``; regions left under
    ``minimum`` join their lightest neighbour where they have one.

    Returns a label per node, 0..k-1, numbered in the order the regions were grown.
    """
    n = graph.shape[0]
    labels = np.full(n, -1, dtype=np.int64)
    seeds = np.argsort(reading_order(xy, band=_band(xy, n)))
    region = 0
    for seed in seeds:
        if labels[seed] >= 0:
            continue
        labels[seed] = region
        total = weights[seed]
        frontier: list[tuple[float, int]] = []
        _push_neighbours(frontier, graph, labels, seed, xy[seed], xy)
        while frontier and total < target:
            _, node = heapq.heappop(frontier)
            if labels[node] >= 0 or total + weights[node] > maximum:
                continue
            labels[node] = region
            total += weights[node]
            _push_neighbours(frontier, graph, labels, node, xy[seed], xy)
        region += 1
    return _absorb_light(graph, weights, labels, minimum, maximum, xy)


def _band(xy: NDArray[np.float64], n: int) -> float:
    span = np.ptp(xy, axis=0)
    return float(np.sqrt(max(span[0] * span[1], 1.0) / max(n, 1)))


def _push_neighbours(
    frontier: list[tuple[float, int]],
    graph: csr_matrix,
    labels: NDArray[np.int64],
    node: int,
    seed_xy: NDArray[np.float64],
    xy: NDArray[np.float64],
) -> None:
    neighbours = graph.indices[graph.indptr[node] : graph.indptr[node + 1]]
    neighbours = neighbours[labels[neighbours] < 0]
    distances = np.hypot(*(xy[neighbours] - seed_xy).T)
    for d, m in zip(distances, neighbours, strict=True):
        heapq.heappush(frontier, (float(d), int(m)))


def _absorb_light(
    graph: csr_matrix,
    weights: NDArray[np.float64],
    labels: NDArray[np.int64],
    minimum: float,
    maximum: float,
    xy: NDArray[np.float64] | None = None,
) -> NDArray[np.int64]:
    """Merge regions under ``minimum`` into a neighbour.

    The heaviest neighbour that stays within ``maximum`` takes it, else the lightest. A region
    with no neighbour (buildings off the built-up fabric, across a field) joins the region of
    the nearest node (by ``xy``) instead of standing alone.
    """
    while True:
        totals = np.bincount(labels, weights=weights)
        k = len(totals)
        coo = graph.tocoo()
        cross = labels[coo.row] != labels[coo.col]
        region_graph = coo_matrix(
            (np.ones(cross.sum()), (labels[coo.row][cross], labels[coo.col][cross])), shape=(k, k)
        ).tocsr()
        light = [r for r in np.argsort(totals) if totals[r] < minimum]
        merged = False
        for r in light:
            neighbours = region_graph.indices[region_graph.indptr[r] : region_graph.indptr[r + 1]]
            present = labels == r
            if neighbours.size == 0 and xy is not None and present.any() and not present.all():
                neighbours = np.array([_nearest_region(labels, xy, r)])
            if neighbours.size == 0:
                continue
            fits = neighbours[totals[neighbours] + totals[r] <= maximum]
            if fits.size:
                into = fits[np.argmax(totals[fits])]
            else:
                into = neighbours[np.argmin(totals[neighbours])]
            labels = np.where(labels == r, into, labels)
            merged = True
            break  # totals changed: recompute
        if not merged:
            _, labels = np.unique(labels, return_inverse=True)
            return labels


def _nearest_region(labels: NDArray[np.int64], xy: NDArray[np.float64], region: int) -> int:
    """Return the region of the node nearest to any node of ``region`` (outside it)."""
    inside = labels == region
    gaps, nearest = cKDTree(xy[~inside]).query(xy[inside])
    return int(labels[~inside][nearest[np.argmin(gaps)]])


def serial_codes(
    parent_code: str,
    xy: NDArray[np.float64],
    *,
    digits: int,
    start: int = 1,
    band: float | None = None,
) -> NDArray[np.str_]:
    """Code children of ``parent_code`` with serials in reading order.

    >>> serial_codes("510107", np.array([[1.0, 0.0], [0.0, 0.0]]), digits=3).tolist()
    ['510107002', '510107001']
    """
    ranks = reading_order(xy, band=band if band is not None else _band(xy, len(xy)))
    serials = ranks + start
    if serials.max(initial=0) >= 10**digits:
        raise ValueError(f"more than {10**digits - 1} children of {parent_code}")
    return np.array([f"{parent_code}{s:0{digits}d}" for s in serials])
