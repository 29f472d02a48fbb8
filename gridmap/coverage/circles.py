"""Service circles: the ground a station's budget reaches on the network, or a plain disc.

A network circle is drawn from the edges a station reaches: whole edges where the budget runs
past both ends, the part up to where it runs out on partial edges, and the stretch of the
station's own edge around it; the pieces are buffered (about 25 m, the depth of the buildings
along a street) and unioned. The Euclidean disc is offered beside it for comparison.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gridmap.coverage.reach import StationReach
from gridmap.network import Snapped, WalkNetwork, segments
from gridmap.parallel import in_threads

CIRCLE_BUFFER_M = 25.0


def network_circles(
    network: WalkNetwork,
    sites: Snapped,
    reach: StationReach,
    *,
    budget_m: float,
    buffer_m: float = CIRCLE_BUFFER_M,
) -> NDArray[np.object_]:
    """Return each site's circle (a polygon in metres; empty for an unreachable site)."""
    site, edge, start, end = _reached_pieces(network, reach, budget_m)
    own = np.flatnonzero(sites.reachable)
    spare = budget_m - sites.snap_m[own]
    keep = spare > 0
    own, spare = own[keep], spare[keep]
    site = np.r_[site, own]
    edge = np.r_[edge, sites.edge[own]]
    start = np.r_[start, sites.offset_m[own] - spare]
    end = np.r_[end, sites.offset_m[own] + spare]
    circles = np.full(len(sites), shapely.Polygon(), dtype=object)
    if not len(edge):  # no site reaches anything (all beyond the snapping distance)
        return circles
    scale = shapely.length(network.lines[edge]) / network.length_m[edge]  # walk → geometry
    pieces = segments(network.lines[edge], start * scale, end * scale)
    if len(pieces):
        order = np.argsort(site, kind="stable")
        present = np.unique(site)
        grouped = np.searchsorted(present, site[order])
        lines = shapely.multilinestrings(pieces[order], indices=grouped)
        circles[present] = in_threads(shapely.buffer, lines, buffer_m, quad_segs=4)
    return circles


def _reached_pieces(
    network: WalkNetwork, reach: StationReach, budget_m: float
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Return (site, edge, start, end) walking-metre intervals of the edges each site reaches."""
    incidence = network.incidence()
    site = reach.station_of_entry()
    degree = np.diff(incidence.indptr)[reach.node]
    entry = np.repeat(np.arange(len(reach.node)), degree)
    position = np.arange(len(entry)) - np.repeat(np.cumsum(degree) - degree, degree)
    slot = incidence.indptr[reach.node[entry]] + position
    frame = pd.DataFrame(
        {
            "site": site[entry],
            "edge": incidence.edge[slot],
            "from_target": incidence.at_target[slot],
            "spare": budget_m - reach.walk_m[entry],
        }
    )
    table = frame.pivot_table(
        index=["site", "edge"], columns="from_target", values="spare", aggfunc="max"
    ).reindex(columns=[False, True])
    sites = table.index.get_level_values("site").to_numpy()
    edges = table.index.get_level_values("edge").to_numpy()
    from_source = np.nan_to_num(table[False].to_numpy(), nan=-np.inf)
    from_target = np.nan_to_num(table[True].to_numpy(), nan=-np.inf)
    length = network.length_m[edges]
    whole = from_source + from_target >= length
    head = ~whole & (from_source > 0)
    tail = ~whole & (from_target > 0)
    return (
        np.r_[sites[whole], sites[head], sites[tail]],
        np.r_[edges[whole], edges[head], edges[tail]],
        np.r_[np.zeros(whole.sum()), np.zeros(head.sum()), length[tail] - from_target[tail]],
        np.r_[length[whole], from_source[head], length[tail]],
    )


def euclidean_discs(points: NDArray[np.object_], *, budget_m: float) -> NDArray[np.object_]:
    """Return a disc of the budget's radius around each point (metres)."""
    return shapely.buffer(np.asarray(points, dtype=object), budget_m, quad_segs=16)
