"""The walking network as arrays: a compressed sparse graph, edge geometries, and snapping.

Pure: nodes and edges in a metric CRS in, numpy and scipy out. Points (stations, buildings) are
snapped to the nearest point on an edge, not just the nearest node; a snapped point knows its
edge, its offset along it (in the edge's walking metres) and its snap distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from gridmap.parallel import chunks_in_threads

MIN_EDGE_M = 1e-6
"""Shortest edge kept: csgraph would drop an edge of zero weight."""


@dataclass(frozen=True)
class Incidence:
    """The edges at every node.

    Node ``i`` touches ``edge[indptr[i]:indptr[i + 1]]``, as their target where ``at_target``
    holds (else as their source).
    """

    indptr: NDArray[np.int64]
    edge: NDArray[np.int64]
    at_target: NDArray[np.bool_]


@dataclass(frozen=True)
class WalkNetwork:
    """An undirected walking network; node and edge positions index every array."""

    node_ids: NDArray[np.int64]  # the database ids of the nodes
    node_xy: NDArray[np.float64]  # (n, 2) metres
    source: NDArray[np.int64]  # edge endpoints, as node positions
    target: NDArray[np.int64]
    length_m: NDArray[np.float64]
    lines: NDArray[np.object_]  # edge LineStrings in metres, from source to target
    graph: csr_matrix  # (n, n), both directions, the shortest edge of each pair

    def incidence(self) -> Incidence:
        """Return, for every node, the edges that touch it and at which end."""
        node = np.r_[self.source, self.target]
        edge = np.r_[np.arange(len(self.source)), np.arange(len(self.target))]
        at_target = np.r_[np.zeros(len(self.source), bool), np.ones(len(self.target), bool)]
        order = np.argsort(node, kind="stable")
        indptr = np.r_[0, np.cumsum(np.bincount(node, minlength=self.n_nodes))]
        return Incidence(indptr, edge[order], at_target[order])

    @cached_property
    def edge_tree(self) -> shapely.STRtree:
        """The edges' spatial index, built once (a network is never changed)."""
        return shapely.STRtree(self.lines)

    @property
    def n_nodes(self) -> int:
        """How many nodes the network has."""
        return len(self.node_ids)

    @classmethod
    def from_arrays(
        cls,
        node_ids: NDArray[np.int64],
        node_xy: NDArray[np.float64],
        edge_source_ids: NDArray[np.int64],
        edge_target_ids: NDArray[np.int64],
        length_m: NDArray[np.float64],
        lines: NDArray[np.object_],
    ) -> WalkNetwork:
        """Build the network from node ids and edges given by node ids (metric geometries)."""
        node_ids = np.asarray(node_ids, dtype=np.int64)
        order = np.argsort(node_ids)
        position = order[np.searchsorted(node_ids[order], edge_source_ids)]
        target = order[np.searchsorted(node_ids[order], edge_target_ids)]
        length = np.maximum(np.asarray(length_m, dtype=np.float64), MIN_EDGE_M)
        graph = symmetric_graph(position, target, length, len(node_ids))
        return cls(
            node_ids,
            np.asarray(node_xy, dtype=np.float64),
            position,
            target,
            length,
            np.asarray(lines, dtype=object),
            graph,
        )


def symmetric_graph(
    source: NDArray[np.int64], target: NDArray[np.int64], weight: NDArray[np.float64], n: int
) -> csr_matrix:
    """Return an (n, n) CSR graph with both directions of each edge, keeping the lightest."""
    return lightest_graph(np.r_[source, target], np.r_[target, source], np.r_[weight, weight], n)


def lightest_graph(
    rows: NDArray[np.int64],
    cols: NDArray[np.int64],
    weights: NDArray[np.float64],
    n: int,
    *,
    n_cols: int | None = None,
) -> csr_matrix:
    """Return an (n, n_cols or n) directed CSR graph keeping the lightest of repeated arcs.

    (A plain COO → CSR conversion would add repeated arcs' weights up.)
    """
    shape = (n, n if n_cols is None else n_cols)
    if not len(rows):
        return csr_matrix(shape)
    order = np.lexsort((weights, cols, rows))  # per pair, the lightest first
    rows, cols, weights = rows[order], cols[order], weights[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])]
    return csr_matrix((weights[first], (rows[first], cols[first])), shape=shape)


@dataclass(frozen=True)
class Snapped:
    """Points snapped onto the network's edges."""

    edge: NDArray[np.int64]  # -1 where unreachable
    offset_m: NDArray[np.float64]  # walking metres from the edge's source to the snapped point
    snap_m: NDArray[np.float64]  # straight metres from the point to the edge
    reachable: NDArray[np.bool_]  # snap within the maximum snap distance

    def __len__(self) -> int:
        return len(self.edge)


def snap(network: WalkNetwork, points: NDArray[np.object_], *, max_snap_m: float) -> Snapped:
    """Snap ``points`` (metric) to the nearest point on the nearest edge.

    Points farther than ``max_snap_m`` from every edge are unreachable, never dropped.
    """
    points = np.asarray(points, dtype=object)
    n = len(points)
    edge = np.full(n, -1, dtype=np.int64)
    snap_m = np.full(n, np.inf)
    if n and len(network.lines):
        tree = network.edge_tree
        for first, ((point_idx, edge_idx), distance) in chunks_in_threads(
            lambda chunk: tree.query_nearest(chunk, return_distance=True, all_matches=False),
            points,
        ):
            edge[first + point_idx], snap_m[first + point_idx] = edge_idx, distance
    reachable = (edge >= 0) & (snap_m <= max_snap_m)
    offset = np.zeros(n)
    if reachable.any():
        lines = network.lines[edge[reachable]]
        along = shapely.line_locate_point(lines, points[reachable])
        geometric = np.maximum(shapely.length(lines), MIN_EDGE_M)
        offset[reachable] = along / geometric * network.length_m[edge[reachable]]
    edge = np.where(reachable, edge, -1)
    return Snapped(edge, offset, snap_m, reachable)


def segments(
    lines: NDArray[np.object_], start: NDArray[np.float64], end: NDArray[np.float64]
) -> NDArray[np.object_]:
    """Return the part of each line between distances ``start`` and ``end`` along it.

    Distances are in the lines' own units, clipped to each line; vectorised over all lines.

    >>> line = shapely.LineString([(0, 0), (10, 0), (10, 10)])
    >>> segments(np.array([line]), np.array([5.0]), np.array([15.0]))[0].wkt
    'LINESTRING (5 0, 10 0, 10 5)'
    """
    lines = np.asarray(lines, dtype=object)
    total = shapely.length(lines)
    start = np.clip(start, 0.0, total)
    end = np.clip(np.maximum(end, start), 0.0, total)
    coords, index = shapely.get_coordinates(lines, return_index=True)
    step = np.r_[0.0, np.hypot(*np.diff(coords, axis=0).T)]
    starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
    step[starts] = 0.0  # each line starts at 0
    cumulative = np.cumsum(step)
    base = np.zeros(len(lines))
    base[index[starts]] = cumulative[starts]
    cumulative -= base[index]
    inner = (cumulative > start[index]) & (cumulative < end[index])
    first = shapely.get_coordinates(shapely.line_interpolate_point(lines, start))
    last = shapely.get_coordinates(shapely.line_interpolate_point(lines, end))
    n = len(lines)
    all_xy = np.concatenate([first, coords[inner], last])
    all_line = np.concatenate([np.arange(n), index[inner], np.arange(n)])
    all_pos = np.concatenate([start, cumulative[inner], end])
    rank = np.concatenate([np.zeros(n), np.ones(int(inner.sum())), np.full(n, 2.0)])
    order = np.lexsort((rank, all_pos, all_line))
    return shapely.linestrings(all_xy[order], indices=all_line[order])
