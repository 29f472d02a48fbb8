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
        row, node, walk = _within(chunk, inverse, dist, sites, network, budget_m)
        parts_node.append(node)
        parts_walk.append(walk)
        counts[chunk] = np.bincount(row, minlength=len(chunk))
    order_node = np.concatenate(parts_node) if parts_node else np.empty(0, dtype=np.int64)
    order_walk = np.concatenate(parts_walk) if parts_walk else np.empty(0)
    return StationReach(np.r_[0, np.cumsum(counts)], order_node, order_walk)


def _within(
    chunk: NDArray[np.int64],
    inverse: NDArray[np.int64],
    dist: NDArray[np.float64],
    sites: Snapped,
    network: WalkNetwork,
    budget_m: float,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Return (site in chunk, node, walk) of every node a chunk's site reaches, by site and node.

    ``dist`` holds the walks from the ends of the sites' edges (rows; ``inverse`` gives the
    row of each site's source end, then of each one's target end). A site's walk to a node is
    the shorter of the ways through either end; only the few nodes an end reaches are read,
    not whole rows of the network.
    """
    k = len(chunk)
    edge = sites.edge[chunk]
    ahead = sites.snap_m[chunk] + sites.offset_m[chunk]  # to the edge's source
    behind = sites.snap_m[chunk] + network.length_m[edge] - sites.offset_m[chunk]
    end_row, end_node = np.nonzero(np.isfinite(dist))  # by row, then node
    end_walk = dist[end_row, end_node]
    first = np.searchsorted(end_row, np.arange(len(dist) + 1))  # each row's entries
    site, node, walk = [], [], []
    for row, extra in ((inverse[:k], ahead), (inverse[k:], behind)):
        reached = first[row + 1] - first[row]
        owner = np.repeat(np.arange(k), reached)
        within = np.arange(len(owner)) - np.repeat(np.cumsum(reached) - reached, reached)
        taken = first[row][owner] + within
        site.append(owner)
        node.append(end_node[taken])
        walk.append(end_walk[taken] + extra[owner])
    site_a, node_a, walk_a = np.concatenate(site), np.concatenate(node), np.concatenate(walk)
    keep = walk_a <= budget_m
    site_a, node_a, walk_a = site_a[keep], node_a[keep], walk_a[keep]
    order = np.lexsort((walk_a, node_a, site_a))  # by site, node, the shorter way first
    site_a, node_a, walk_a = site_a[order], node_a[order], walk_a[order]
    first_of_pair = np.ones(len(site_a), dtype=bool)  # none at all when no end is in budget
    first_of_pair[1:] = (site_a[1:] != site_a[:-1]) | (node_a[1:] != node_a[:-1])
    return site_a[first_of_pair], node_a[first_of_pair], walk_a[first_of_pair]
