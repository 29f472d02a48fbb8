"""What each station (or candidate site) reaches on its own: nodes within the budget.

A station's reach is the walking distance from it to every node within the budget, counting its
snap and its offset along its edge. Reaches are what circles are drawn from, what a what-if
change recomputes one station at a time, and what siting scores candidates with. They are kept
as one ragged array (``indptr``, ``node``, ``walk_m``), computed by bounded Dijkstra from both
ends of each station's edge, a chunk of stations at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse.csgraph import dijkstra

from gridmap.network import Snapped, WalkNetwork

CHUNK = 128
"""Stations per Dijkstra call: bounds the dense rows scipy returns (2 × CHUNK × nodes)."""


@dataclass(frozen=True)
class StationReach:
    """The nodes each station reaches within the budget, as one ragged array.

    Station ``i`` owns ``node[indptr[i]:indptr[i + 1]]`` at ``walk_m[...]``.
    """

    indptr: NDArray[np.int64]
    node: NDArray[np.int64]
    walk_m: NDArray[np.float64]

    def of(self, i: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return the nodes station ``i`` reaches and its walks to them."""
        span = slice(self.indptr[i], self.indptr[i + 1])
        return self.node[span], self.walk_m[span]

    def station_of_entry(self) -> NDArray[np.int64]:
        """Return the station of every entry."""
        return np.repeat(np.arange(len(self.indptr) - 1), np.diff(self.indptr))


def station_reach(network: WalkNetwork, sites: Snapped, *, budget_m: float) -> StationReach:
    """Compute every site's reach; an unreachable site reaches nothing."""
    parts_node, parts_walk, counts = [], [], np.zeros(len(sites), dtype=np.int64)
    for start in range(0, len(sites), CHUNK):
        chunk = np.arange(start, min(start + CHUNK, len(sites)))
        chunk = chunk[sites.reachable[chunk]]
        if not len(chunk):
            continue
        edge = sites.edge[chunk]
        ends, inverse = np.unique(
            np.r_[network.source[edge], network.target[edge]], return_inverse=True
        )
        dist = dijkstra(network.graph, directed=False, indices=ends, limit=budget_m)
        ahead = sites.snap_m[chunk] + sites.offset_m[chunk]
        behind = sites.snap_m[chunk] + network.length_m[edge] - sites.offset_m[chunk]
        k = len(chunk)
        walk = np.minimum(dist[inverse[:k]] + ahead[:, None], dist[inverse[k:]] + behind[:, None])
        row, node = np.nonzero(walk <= budget_m)
        parts_node.append(node)
        parts_walk.append(walk[row, node])
        counts[chunk] = np.bincount(row, minlength=k)
    order_node = np.concatenate(parts_node) if parts_node else np.empty(0, dtype=np.int64)
    order_walk = np.concatenate(parts_walk) if parts_walk else np.empty(0)
    return StationReach(np.r_[0, np.cumsum(counts)], order_node, order_walk)
