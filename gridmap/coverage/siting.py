"""Siting new stations: which candidates cover the most uncovered residents (MCLP).

:func:`coverage_sets` finds, for every candidate site, the uncovered buildings within the
budget of it (and how far). :func:`greedy` picks sites one at a time with lazy evaluation (CELF:
a site's gain only shrinks, so a stale gain is an upper bound), optionally with a capacity per
station; :func:`exact` solves the same problem as an integer programme with HiGHS, so the greedy
answer's gap to the optimum can be reported. Both take ``k`` sites, or as few as reach a target.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import highspy
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from gridmap.coverage.reach import station_reach
from gridmap.errors import InvalidInput
from gridmap.network import Snapped, WalkNetwork

_EPSILON_M = 1e-6


@dataclass(frozen=True)
class CoverageSets:
    """Row ``j``: the buildings candidate ``j`` would bring within the budget, with walks."""

    matrix: csr_matrix  # candidates × buildings, data = walk in metres (+1 so zeros survive)
    residents: NDArray[np.int64]  # of each building, 0 where already covered

    def walks(self, j: int) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Return the buildings candidate ``j`` reaches and the walks, nearest first."""
        span = slice(self.matrix.indptr[j], self.matrix.indptr[j + 1])
        buildings, walks = self.matrix.indices[span], self.matrix.data[span] - 1.0
        order = np.argsort(walks, kind="stable")
        return buildings[order], walks[order]


@dataclass(frozen=True)
class Siting:
    """Chosen sites in the order chosen, what each adds, and the result."""

    method: str
    chosen: NDArray[np.int64]  # candidate positions
    gains: NDArray[np.int64]  # residents each adds (in order)
    covered_residents: int  # after the new sites, the existing stations included
    residents: int

    @property
    def rate(self) -> float:
        """Share of residents covered after the new sites."""
        return self.covered_residents / self.residents if self.residents else 0.0


def coverage_sets(
    network: WalkNetwork,
    candidates: Snapped,
    buildings: Snapped,
    residents: NDArray[np.int64],
    covered: NDArray[np.bool_],
    *,
    budget_m: float,
) -> CoverageSets:
    """Find the uncovered buildings each candidate would bring within the budget."""
    open_residents = np.where(covered | ~buildings.reachable, 0, residents)
    reach = station_reach(network, candidates, budget_m=budget_m)
    inc = network.incidence()
    cand = reach.station_of_entry()
    degree = np.diff(inc.indptr)[reach.node]
    entry = np.repeat(np.arange(len(reach.node)), degree)
    slot = (
        inc.indptr[reach.node[entry]]
        + np.arange(len(entry))
        - np.repeat(np.cumsum(degree) - degree, degree)
    )
    frame = pd.DataFrame(
        {
            "cand": cand[entry],
            "edge": inc.edge[slot],
            "at_target": inc.at_target[slot],
            "walk": reach.walk_m[entry],
        }
    )
    wanted = np.flatnonzero(open_residents > 0)
    homes = pd.DataFrame({"b": wanted, "edge": buildings.edge[wanted]})
    pairs = frame.merge(homes, on="edge")
    b = pairs["b"].to_numpy()
    along = np.where(
        pairs["at_target"],
        network.length_m[pairs["edge"]] - buildings.offset_m[b],
        buildings.offset_m[b],
    )
    walk = pairs["walk"].to_numpy() + along + buildings.snap_m[b]
    own = _own_edge(candidates, buildings, homes)
    rows = np.r_[pairs["cand"].to_numpy(), own[0]]
    cols = np.r_[b, own[1]]
    walks = np.r_[walk, own[2]]
    keep = walks <= budget_m + _EPSILON_M
    best = (
        pd.DataFrame({"r": rows[keep], "c": cols[keep], "w": walks[keep]})
        .groupby(["r", "c"], as_index=False)["w"]
        .min()
    )
    matrix = csr_matrix(
        (best["w"].to_numpy() + 1.0, (best["r"], best["c"])),
        shape=(len(candidates), len(residents)),
    )
    return CoverageSets(matrix, open_residents)


def _own_edge(
    candidates: Snapped, buildings: Snapped, homes: pd.DataFrame
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    placed = np.flatnonzero(candidates.reachable)
    sites = pd.DataFrame({"cand": placed, "edge": candidates.edge[placed]})
    pairs = sites.merge(homes, on="edge")
    c, b = pairs["cand"].to_numpy(), pairs["b"].to_numpy()
    walk = (
        candidates.snap_m[c]
        + np.abs(candidates.offset_m[c] - buildings.offset_m[b])
        + buildings.snap_m[b]
    )
    return c, b, walk


def _check(k: int | None, target_residents: float | None) -> None:
    if (k is None) == (target_residents is None):
        raise InvalidInput("give either k (how many new stations) or a target rate, not both")
    if k is not None and k < 1:
        raise InvalidInput(f"k must be at least 1 (got {k})")


def greedy(
    sets: CoverageSets,
    *,
    already_covered: int,
    total: int,
    k: int | None = None,
    target_residents: float | None = None,
    capacity: int | None = None,
) -> Siting:
    """Pick sites greedily (lazy evaluation) until ``k`` are chosen or the target is reached.

    With ``capacity``, a new station serves at most that many residents, nearest first; the
    rest stay open for the next site.
    """
    _check(k, target_residents)
    open_residents = sets.residents.copy()
    counted = already_covered

    def gain(j: int) -> tuple[int, NDArray[np.int64]]:
        reached, _ = sets.walks(j)
        reached = reached[open_residents[reached] > 0]
        if capacity is not None:
            within = np.cumsum(open_residents[reached]) <= capacity
            reached = reached[within]
        return int(open_residents[reached].sum()), reached

    heap = [(-gain(j)[0], j) for j in range(sets.matrix.shape[0])]
    heapq.heapify(heap)
    chosen: list[int] = []
    gains: list[int] = []
    goal = float("inf") if target_residents is None else target_residents
    while heap and (len(chosen) < k if k is not None else counted < goal):
        _, j = heapq.heappop(heap)
        value, served = gain(j)
        if heap and value < -heap[0][0]:  # a fresher look put it behind the next
            heapq.heappush(heap, (-value, j))
            continue
        if value <= 0:
            break
        chosen.append(j)
        gains.append(value)
        counted += value
        open_residents[served] = 0
    return Siting("greedy", np.array(chosen, np.int64), np.array(gains, np.int64), counted, total)


def exact(
    sets: CoverageSets,
    *,
    already_covered: int,
    total: int,
    k: int | None = None,
    target_residents: float | None = None,
    time_limit_s: float = 60.0,
) -> Siting:
    """Solve the maximal covering (or fewest sites to a target) problem exactly with HiGHS."""
    _check(k, target_residents)
    n_sites = sets.matrix.shape[0]
    demand, members = _demand_groups(sets)
    n_groups = len(demand)
    maximise = k is not None
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n_sites + n_groups, n_groups + 1
    lp.col_cost_ = (
        np.r_[np.zeros(n_sites), demand]
        if maximise
        else np.r_[np.ones(n_sites), np.zeros(n_groups)]
    )
    lp.col_lower_, lp.col_upper_ = np.zeros(lp.num_col_), np.ones(lp.num_col_)
    lp.sense_ = highspy.ObjSense.kMaximize if maximise else highspy.ObjSense.kMinimize
    lp.integrality_ = [highspy.HighsVarType.kInteger] * n_sites + [
        highspy.HighsVarType.kContinuous
    ] * n_groups
    # row g: z_g - sum of the sites that cover group g <= 0; last row: the count or the target
    starts, index, value = [0], [], []
    for g, sites in enumerate(members):
        index += [n_sites + g, *sites]
        value += [1.0] + [-1.0] * len(sites)
        starts.append(len(index))
    if k is not None:
        index += list(range(n_sites))
        value += [1.0] * n_sites
        last = (float(k), float(k))
    else:
        assert target_residents is not None  # _check: one of the two
        index += list(range(n_sites, n_sites + n_groups))
        value += demand.tolist()
        last = (float(target_residents) - already_covered, highspy.kHighsInf)
    starts.append(len(index))
    lp.row_lower_ = np.r_[np.full(n_groups, -highspy.kHighsInf), last[0]]
    lp.row_upper_ = np.r_[np.zeros(n_groups), last[1]]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = starts, index, value
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = lp.num_col_, lp.num_row_
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("time_limit", time_limit_s)
    solver.passModel(lp)
    solver.run()
    if solver.getModelStatus() not in (
        highspy.HighsModelStatus.kOptimal,
        highspy.HighsModelStatus.kTimeLimit,
    ):
        raise InvalidInput("no set of candidates reaches the target rate")
    chosen = np.flatnonzero(np.asarray(solver.getSolution().col_value[:n_sites]) > 0.5)
    served = np.zeros(n_groups, bool)
    gains = []
    for j in chosen:
        mine = np.array([j in sites for sites in members]) & ~served
        gains.append(int(demand[mine].sum()))
        served |= mine
    return Siting(
        "exact",
        chosen.astype(np.int64),
        np.array(gains, np.int64),
        already_covered + int(demand[served].sum()),
        total,
    )


def _demand_groups(sets: CoverageSets) -> tuple[NDArray[np.float64], list[list[int]]]:
    """Group open buildings by the set of sites that reach them: one row per group."""
    by_building = sets.matrix.tocsc()
    patterns: dict[tuple[int, ...], float] = {}
    for b in np.flatnonzero(np.diff(by_building.indptr) > 0):
        if sets.residents[b] <= 0:
            continue
        sites = tuple(by_building.indices[by_building.indptr[b] : by_building.indptr[b + 1]])
        patterns[sites] = patterns.get(sites, 0.0) + float(sets.residents[b])
    return np.array(list(patterns.values())), [list(p) for p in patterns]
