"""The 5-minute service-circle engine: every building's walk to its nearest station.

Pure functions of arrays (see docs/architecture.md). Stations become virtual nodes joined to both
ends of the edge they are snapped to, the snap distance and the offset along the edge counted in the
walk; one multi-source Dijkstra pass bounded at the budget (scipy's csgraph, ``min_only``) gives
every node its distance to the nearest station and which station that is. A building's walk is its
snap distance plus the shorter way from its edge's two ends, or straight along the edge when a
station stands on the same edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from gridmap.errors import InvalidInput
from gridmap.network import Snapped, WalkNetwork
from gridmap.standards import WALK_MINUTES, WALK_SPEED_M_PER_MIN

MAX_SNAP_M = 200.0
"""Buildings farther than this from every walkable edge are reported unreachable."""
LIMITS = {"minutes": (0.0, 60.0), "speed_m_per_min": (10.0, 200.0), "max_snap_m": (0.0, 5000.0)}
"""Each walking parameter lies above the first number, at most the second (the API says so too)."""
_EPSILON_M = 1e-6


@dataclass(frozen=True)
class CoverageParameters:
    """The walking budget (minutes × speed) and the farthest snap.

    >>> CoverageParameters().budget_m
    300.0
    >>> CoverageParameters(minutes=-5)
    Traceback (most recent call last):
    ...
    gridmap.errors.InvalidInput: minutes must be above 0 and at most 60 (got -5)
    """

    minutes: float = WALK_MINUTES
    speed_m_per_min: float = WALK_SPEED_M_PER_MIN
    max_snap_m: float = MAX_SNAP_M

    def __post_init__(self) -> None:
        for name, (low, high) in LIMITS.items():
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and low < value <= high):
                raise InvalidInput(
                    f"{name} must be above {low:g} and at most {high:g} (got {value})"
                )

    @property
    def budget_m(self) -> float:
        """Walking metres in the budget."""
        return float(self.minutes * self.speed_m_per_min)


@dataclass(frozen=True)
class Reach:
    """Each building's walk to its nearest station within the budget."""

    walk_m: NDArray[np.float64]  # inf: no station within the budget, or unreachable
    station: NDArray[np.int64]  # position of the nearest station, -1 when none
    covered: NDArray[np.bool_]
    reachable: NDArray[np.bool_]  # within the maximum snap distance of the network


def station_graph(network: WalkNetwork, stations: Snapped) -> tuple[csr_matrix, NDArray[np.int64]]:
    """Return the network with one virtual node per reachable station, and those nodes.

    Virtual node ``n + i`` leads to both ends of station ``i``'s edge (directed: nothing
    leads back into it, so no walk passes through a station's snap). A station on a loop edge
    has two arcs to its one end, the lighter of which a shortest path takes. The rows are
    appended to the network's CSR arrays as they are: this runs on every what-if and coverage
    call, and scipy's COO conversion and ``vstack`` cost several times the walk on a small city.
    """
    n = network.n_nodes
    placed = np.flatnonzero(stations.reachable)
    edge = stations.edge[placed]
    ahead = stations.snap_m[placed] + stations.offset_m[placed]
    behind = stations.snap_m[placed] + network.length_m[edge] - stations.offset_m[placed]
    base = network.graph
    size = n + len(placed)
    index = base.indices.dtype
    indptr = np.concatenate(
        [base.indptr, base.indptr[-1] + 2 * np.arange(1, len(placed) + 1, dtype=index)]
    )
    ends = np.empty(2 * len(placed), dtype=index)
    ends[0::2], ends[1::2] = network.source[edge], network.target[edge]
    weights = np.empty(2 * len(placed))
    weights[0::2], weights[1::2] = ahead, behind
    graph = csr_matrix(
        (
            np.concatenate([base.data, np.maximum(weights, _EPSILON_M)]),
            np.concatenate([base.indices, ends]),
            indptr.astype(index, copy=False),
        ),
        shape=(size, size),
    )
    return graph, placed


def nearest_stations(
    network: WalkNetwork, stations: Snapped, buildings: Snapped, *, budget_m: float
) -> Reach:
    """Give every building its walk to the nearest station and that station, in one pass."""
    n = network.n_nodes
    graph, placed = station_graph(network, stations)
    node_m = np.full(n, np.inf)
    node_station = np.full(n, -1, dtype=np.int64)
    if len(placed):
        dist, _, source = dijkstra(
            graph,
            directed=True,
            indices=n + np.arange(len(placed)),
            min_only=True,
            limit=budget_m + _EPSILON_M,
            return_predecessors=True,
        )
        node_m = dist[:n]
        reached = np.isfinite(node_m)
        node_station[reached] = placed[source[:n][reached] - n]
    return building_reach(network, node_m, node_station, stations, buildings, budget_m=budget_m)


def building_reach(
    network: WalkNetwork,
    node_m: NDArray[np.float64],
    node_station: NDArray[np.int64],
    stations: Snapped,
    buildings: Snapped,
    *,
    budget_m: float,
) -> Reach:
    """Turn nodes' distances to their nearest station into buildings' walks."""
    ok = buildings.reachable
    edge = np.where(ok, buildings.edge, 0)
    offset = buildings.offset_m
    via_source = node_m[network.source[edge]] + offset
    via_target = node_m[network.target[edge]] + network.length_m[edge] - offset
    walk = np.minimum(via_source, via_target) + buildings.snap_m
    station = np.where(
        via_source <= via_target,
        node_station[network.source[edge]],
        node_station[network.target[edge]],
    )
    walk, station = _along_own_edge(walk, station, stations, buildings)
    covered = ok & (walk <= budget_m + _EPSILON_M)
    return Reach(np.where(covered, walk, np.inf), np.where(covered, station, -1), covered, ok)


def _along_own_edge(
    walk: NDArray[np.float64],
    station: NDArray[np.int64],
    stations: Snapped,
    buildings: Snapped,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Shorten walks of buildings on a station's own edge to the straight way along it."""
    placed = np.flatnonzero(stations.reachable)
    on_station_edge = buildings.reachable & np.isin(buildings.edge, stations.edge[placed])
    if not on_station_edge.any():
        return walk, station
    # every (building, station) pair on one edge: the stations sorted by edge, each building
    # paired with the run of stations on its own edge
    order = placed[np.argsort(stations.edge[placed], kind="stable")]
    station_edges = stations.edge[order]
    candidates = np.flatnonzero(on_station_edge)
    edges = buildings.edge[candidates]
    first = np.searchsorted(station_edges, edges, side="left")
    count = np.searchsorted(station_edges, edges, side="right") - first
    b = np.repeat(candidates, count)
    s = order[np.repeat(first - np.cumsum(count) + count, count) + np.arange(count.sum())]
    direct = (
        stations.snap_m[s]
        + np.abs(stations.offset_m[s] - buildings.offset_m[b])
        + buildings.snap_m[b]
    )
    best = np.lexsort((s, direct, b))  # per building, the shortest (the lowest station on ties)
    b, s, direct = b[best], s[best], direct[best]
    keep = np.r_[True, b[1:] != b[:-1]]
    b, s, m = b[keep], s[keep], direct[keep]
    shorter = m < walk[b]
    walk, station = walk.copy(), station.copy()
    walk[b[shorter]], station[b[shorter]] = m[shorter], s[shorter]
    return walk, station


def euclidean_reach(
    station_points: NDArray[np.object_], building_points: NDArray[np.object_], *, budget_m: float
) -> Reach:
    """Return the straight-line reach the network replaces, for comparison."""
    n = len(building_points)
    walk = np.full(n, np.inf)
    station = np.full(n, -1, dtype=np.int64)
    if len(station_points) and n:
        tree = shapely.STRtree(np.asarray(station_points, dtype=object))
        (b, s), d = tree.query_nearest(
            np.asarray(building_points, dtype=object),
            max_distance=budget_m,
            return_distance=True,
            all_matches=False,
        )
        walk[b], station[b] = d, s
    covered = walk <= budget_m
    return Reach(walk, station, covered, np.ones(n, dtype=bool))


def station_load(
    reach: Reach, residents: NDArray[np.int64], households: NDArray[np.int64], n_stations: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Return the covered residents and households whose nearest station each station is."""
    who = reach.station[reach.covered]
    return (
        np.bincount(who, weights=residents[reach.covered], minlength=n_stations).astype(np.int64),
        np.bincount(who, weights=households[reach.covered], minlength=n_stations).astype(np.int64),
    )
