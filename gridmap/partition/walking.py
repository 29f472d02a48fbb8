"""Walking distances between units, for a service radius measured on foot.

Pure (see docs/architecture.md): the coverage engine's walking network and the units' inner points
in, a sparse matrix of walking metres between the units within a cutoff out. A unit's point snaps to
the nearest edge as a building does for coverage (its snap and its offset along the edge count in
the walk); one bounded Dijkstra per chunk of units gives every unit its walks to the nodes within
the cutoff, and a walk to another unit goes to either end of that unit's edge (or straight along it,
when both lie on the same edge).

A grid's walking radius is then the smallest, over its members, of the longest walk from that
member to every other: the walk from the best-placed unit, its centre on foot.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from gridmap.coverage.engine import MAX_SNAP_M
from gridmap.coverage.reach import station_reach
from gridmap.network import Snapped, WalkNetwork, lightest_graph, snap


@dataclass(frozen=True)
class Walks:
    """Walking metres between units within a cutoff, and which units are on the network."""

    metres: csr_matrix
    measurable: NDArray[np.bool_]
    cutoff_m: float

    def subset(self, members: NDArray[np.int64]) -> Walks:
        """Return the walks among ``members``, renumbered from 0 in that order."""
        return Walks(self.metres[members][:, members], self.measurable[members], self.cutoff_m)

    def radius(self, labels: NDArray[np.int64]) -> NDArray[np.float64]:
        """Return each grid's radius on foot (see :func:`walking_radius`)."""
        return walking_radius(self.metres, labels, self.measurable)


def unit_walks(
    network: WalkNetwork,
    points: NDArray[np.object_],
    *,
    cutoff_m: float,
    max_snap_m: float = MAX_SNAP_M,
) -> Walks:
    """Return the walks between units within ``cutoff_m``, and which units snapped.

    The matrix is symmetric up to rounding, its diagonal empty; a pair farther apart than the
    cutoff (or with a unit off the network) has no entry.
    """
    sites = snap(network, points, max_snap_m=max_snap_m)
    reach = station_reach(network, sites, budget_m=cutoff_m)
    source = reach.station_of_entry()
    on = np.flatnonzero(sites.reachable)
    edge = sites.edge[on]
    # every unit's way onto its edge from each end: (node, unit, metres)
    ends = pd.DataFrame(
        {
            "node": np.r_[network.source[edge], network.target[edge]],
            "unit": np.r_[on, on],
            "last_m": np.r_[sites.offset_m[on], network.length_m[edge] - sites.offset_m[on]]
            + np.r_[sites.snap_m[on], sites.snap_m[on]],
        }
    )
    walks = pd.DataFrame({"from": source, "node": reach.node, "walk_m": reach.walk_m})
    pairs = walks.merge(ends, on="node")
    along_a, along_b, along_m = _same_edge(sites, on)
    row = np.r_[pairs["from"].to_numpy(), along_a]
    col = np.r_[pairs["unit"].to_numpy(), along_b]
    walk = np.r_[(pairs["walk_m"] + pairs["last_m"]).to_numpy(), along_m]
    keep = (walk <= cutoff_m) & (row != col)
    graph = lightest_graph(row[keep], col[keep], walk[keep], len(points))
    return Walks(graph, sites.reachable, cutoff_m)


def _same_edge(
    sites: Snapped, on: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Return (row, col, metres) of the pairs of units on one edge: straight along it."""
    frame = pd.DataFrame({"unit": on, "edge": sites.edge[on]})
    pairs = frame.merge(frame, on="edge", suffixes=("_a", "_b"))
    a, b = pairs["unit_a"].to_numpy(), pairs["unit_b"].to_numpy()
    metres = sites.snap_m[a] + np.abs(sites.offset_m[a] - sites.offset_m[b]) + sites.snap_m[b]
    return a, b, metres


def walking_radius(
    walks: csr_matrix, labels: NDArray[np.int64], measurable: NDArray[np.bool_]
) -> NDArray[np.float64]:
    """Return each grid's radius on foot: from its best-placed member, the longest walk.

    Units off the network (not ``measurable``) are left out. A grid none of whose members
    reaches all the others within the walks' cutoff gets ``inf``; a grid with no measurable
    member gets 0.
    """
    n_grids = int(labels.max(initial=-1)) + 1
    pairs = walks.tocoo()
    same = (labels[pairs.row] == labels[pairs.col]) & measurable[pairs.col]
    row, metres = pairs.row[same], pairs.data[same]
    size = np.bincount(labels, weights=measurable, minlength=n_grids)
    reached = np.bincount(row, minlength=len(labels)) + 1  # itself
    farthest = np.zeros(len(labels))
    np.maximum.at(farthest, row, metres)
    centre = measurable & (reached == size[labels])
    radius = np.where(size > 0, np.inf, 0.0)
    np.minimum.at(radius, labels[centre], farthest[centre])
    return radius
