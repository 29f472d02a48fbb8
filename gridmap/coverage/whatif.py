"""What-if: add, move or remove a station and get the new rates at once.

:class:`WhatIf` keeps each station's reach (the nodes it reaches within the budget) and every
node's nearest station, so a change walks only from the station it touches and re-counts only
the buildings on the edges whose ends changed. The answer equals a full recomputation
(:func:`gridmap.coverage.engine.nearest_stations`); a test checks it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from numpy.typing import NDArray

from gridmap.coverage.reach import station_reach
from gridmap.errors import NotFound
from gridmap.network import Snapped, WalkNetwork, snap

_EPSILON_M = 1e-6


@dataclass(frozen=True)
class Rates:
    """Covered residents and households, in total and per group (e.g. per community)."""

    covered_residents: int
    residents: int
    covered_households: int
    households: int
    group_covered_residents: NDArray[np.int64]
    group_residents: NDArray[np.int64]
    group_covered_households: NDArray[np.int64] | None = None
    group_households: NDArray[np.int64] | None = None

    @property
    def rate(self) -> float:
        """Share of residents covered."""
        return self.covered_residents / self.residents if self.residents else 0.0


class WhatIf:
    """Coverage of fixed buildings under a set of stations that can change."""

    def __init__(
        self,
        network: WalkNetwork,
        buildings: Snapped,
        residents: NDArray[np.int64],
        households: NDArray[np.int64],
        *,
        budget_m: float,
        max_snap_m: float,
        groups: NDArray[np.int64] | None = None,
    ) -> None:
        self.network, self.buildings = network, buildings
        self.residents, self.households = np.asarray(residents), np.asarray(households)
        self.budget_m, self.max_snap_m = budget_m, max_snap_m
        self.groups = np.zeros(len(residents), np.int64) if groups is None else np.asarray(groups)
        self._sites: dict[int, tuple[int, float, float]] = {}  # key → edge, offset, snap
        self._reach: dict[int, tuple[NDArray[np.int64], NDArray[np.float64]]] = {}
        self._next_key = 0
        self.node_m = np.full(network.n_nodes, np.inf)
        self.node_key = np.full(network.n_nodes, -1, dtype=np.int64)
        self.walk_m = np.full(len(residents), np.inf)
        self.station_key = np.full(len(residents), -1, dtype=np.int64)
        edge_order = np.argsort(np.where(buildings.reachable, buildings.edge, -1), kind="stable")
        self._by_edge = edge_order[buildings.reachable[edge_order]]
        self._edge_start = np.searchsorted(
            buildings.edge[self._by_edge], np.arange(len(network.length_m) + 1)
        )
        self._incidence = network.incidence()

    def fork(self) -> WhatIf:
        """Return a what-if of its own from this one's stations: its changes stay its own.

        The network, the snapped buildings and their indexes are shared (never changed); the
        stations and the walks are copied.
        """
        other = copy.copy(self)
        other._sites, other._reach = dict(self._sites), dict(self._reach)
        other.node_m, other.node_key = self.node_m.copy(), self.node_key.copy()
        other.walk_m, other.station_key = self.walk_m.copy(), self.station_key.copy()
        return other

    # -- changes -------------------------------------------------------------------------
    def add_many(self, points: NDArray[np.object_]) -> list[int]:
        """Add stations at metric ``points`` in one batch; return their keys."""
        sites = snap(self.network, np.asarray(points, dtype=object), max_snap_m=self.max_snap_m)
        reach = station_reach(self.network, sites, budget_m=self.budget_m)
        keys = []
        for i in range(len(sites)):
            keys.append(self._add_site(sites, i, *reach.of(i))[0])
        self._recount(self._by_edge)  # every reachable building
        return keys

    def add(self, point: shapely.Point) -> int:
        """Add a station at a metric ``point``; return its key."""
        sites = snap(self.network, np.array([point], dtype=object), max_snap_m=self.max_snap_m)
        nodes, walks = station_reach(self.network, sites, budget_m=self.budget_m).of(0)
        key, improved = self._add_site(sites, 0, nodes, walks)
        own = {int(sites.edge[0])} if sites.reachable[0] else set()
        self._refresh(improved, own)
        return key

    def remove(self, key: int) -> None:
        """Remove station ``key``."""
        if key not in self._sites:
            raise NotFound(f"no station {key} in this what-if")
        edge = self._sites.pop(key)[0]
        self._reach.pop(key)
        lost = np.flatnonzero(self.node_key == key)
        self.node_m[lost], self.node_key[lost] = np.inf, -1
        for other, (nodes, walks) in self._reach.items():
            hit = np.isin(nodes, lost)
            nodes, walks = nodes[hit], walks[hit]
            better = walks < self.node_m[nodes] - _EPSILON_M
            self.node_m[nodes[better]], self.node_key[nodes[better]] = walks[better], other
        self._refresh(lost, {edge} if edge >= 0 else set())

    def move(self, key: int, point: shapely.Point) -> int:
        """Move station ``key`` to a metric ``point``; return its new key."""
        self.remove(key)
        return self.add(point)

    # -- answers -------------------------------------------------------------------------
    @property
    def covered(self) -> NDArray[np.bool_]:
        """Which buildings are within the budget of a station."""
        return self.walk_m <= self.budget_m + _EPSILON_M

    def rates(self) -> Rates:
        """Return the rates under the current stations."""
        covered = self.covered
        n = int(self.groups.max(initial=0)) + 1
        return Rates(
            int(self.residents[covered].sum()),
            int(self.residents.sum()),
            int(self.households[covered].sum()),
            int(self.households.sum()),
            np.bincount(
                self.groups, weights=np.where(covered, self.residents, 0), minlength=n
            ).astype(np.int64),
            np.bincount(self.groups, weights=self.residents, minlength=n).astype(np.int64),
            np.bincount(
                self.groups, weights=np.where(covered, self.households, 0), minlength=n
            ).astype(np.int64),
            np.bincount(self.groups, weights=self.households, minlength=n).astype(np.int64),
        )

    @property
    def keys(self) -> list[int]:
        """The keys of the current stations."""
        return list(self._sites)

    # -- internals -----------------------------------------------------------------------
    def _add_site(
        self, sites: Snapped, i: int, nodes: NDArray[np.int64], walks: NDArray[np.float64]
    ) -> tuple[int, NDArray[np.int64]]:
        """Record a snapped site and its reach; return its key and the nodes it now serves."""
        key = self._next_key
        self._next_key += 1
        edge = int(sites.edge[i]) if sites.reachable[i] else -1
        self._sites[key] = (edge, float(sites.offset_m[i]), float(sites.snap_m[i]))
        self._reach[key] = (nodes, walks)
        better = walks < self.node_m[nodes] - _EPSILON_M
        self.node_m[nodes[better]], self.node_key[nodes[better]] = walks[better], key
        return key, nodes[better]

    def _refresh(self, nodes: NDArray[np.int64], own_edges: set[int]) -> None:
        """Recount the buildings on the edges that touch ``nodes`` or hold a changed station."""
        inc = self._incidence
        counts = inc.indptr[nodes + 1] - inc.indptr[nodes]
        starts = np.repeat(inc.indptr[nodes], counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        edges = np.unique(np.r_[inc.edge[starts + offsets], list(own_edges)].astype(np.int64))
        spans = [self._by_edge[self._edge_start[e] : self._edge_start[e + 1]] for e in edges]
        self._recount(np.concatenate([np.empty(0, np.int64), *spans]))

    def _recount(self, b: NDArray[np.int64]) -> None:
        net, snapped = self.network, self.buildings
        edge, offset = snapped.edge[b], snapped.offset_m[b]
        via_source = self.node_m[net.source[edge]] + offset
        via_target = self.node_m[net.target[edge]] + net.length_m[edge] - offset
        walk = np.minimum(via_source, via_target) + snapped.snap_m[b]
        key = np.where(
            via_source <= via_target,
            self.node_key[net.source[edge]],
            self.node_key[net.target[edge]],
        )
        walk, key = self._along_own_edges(b, walk, key)
        within = walk <= self.budget_m + _EPSILON_M
        self.walk_m[b] = np.where(within, walk, np.inf)
        self.station_key[b] = np.where(within, key, -1)

    def _along_own_edges(
        self, b: NDArray[np.int64], walk: NDArray[np.float64], key: NDArray[np.int64]
    ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        """Shorten walks of buildings that share an edge with a station to the straight way."""
        if not self._sites:
            return walk, key
        site_keys = np.fromiter(self._sites, dtype=np.int64, count=len(self._sites))
        site = np.array(list(self._sites.values()))  # edge, offset, snap
        edge = self.buildings.edge[b]
        shared = np.isin(edge, site[:, 0].astype(np.int64))
        if not shared.any():
            return walk, key
        left = pd.DataFrame({"i": np.flatnonzero(shared), "edge": edge[shared]})
        right = pd.DataFrame({"s": np.arange(len(site)), "edge": site[:, 0].astype(np.int64)})
        pairs = left.merge(right, on="edge")
        i, s = pairs["i"].to_numpy(), pairs["s"].to_numpy()
        direct = (
            site[s, 2]
            + np.abs(site[s, 1] - self.buildings.offset_m[b[i]])
            + self.buildings.snap_m[b[i]]
        )
        best = pd.DataFrame({"i": i, "s": s, "m": direct}).sort_values("m").drop_duplicates("i")
        i, s, m = best["i"].to_numpy(), best["s"].to_numpy(), best["m"].to_numpy()
        shorter = m < walk[i]
        walk, key = walk.copy(), key.copy()
        walk[i[shorter]], key[i[shorter]] = m[shorter], site_keys[s[shorter]]
        return walk, key
