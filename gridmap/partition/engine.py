"""Re-partitioning units into grids: contiguous, balanced, compact, nested in communities.

Pure (see docs/architecture.md): a unit adjacency graph and weights in, an assignment and its
per-grid figures and infeasible cases out. Each community is partitioned on its own. Inside one, a
connected piece of ``H`` households gets ``k`` grids, the count nearest ``H / target`` that keeps
every grid within [min, max] (and under the residents cap); the piece is cut by recursive
spanning-tree bisection: a minimum spanning tree over the units' centroid distances (jittered by the
seed, so every cut follows short links and keeps grids compact) is cut at the edge whose subtree
holds the households share closest to ``k1 / k``, within the bounds both sides must meet. A cut of a
tree leaves both sides connected, so every grid is contiguous by construction.

What cannot be met is said per case and the rest is solved: a unit above the maximum is a grid
of its own (oversize), a community below the minimum is one grid (undersize), an island unit is
named, a grid wider than the service radius is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import (
    breadth_first_order,
    connected_components,
    minimum_spanning_tree,
)

from gridmap.errors import InvalidInput
from gridmap.partition.walking import Walks
from gridmap.standards import GRID_BOUNDS

ATTEMPTS = 8
LOAD_WEIGHT = 0.3
"""How much an uneven share of governance load counts against a cut, beside compactness."""
REFINE_ROUNDS = 10
"""Rounds of compactness moves after the cuts (each moves at most one unit per grid)."""
COMFORT = 0.25
"""Share of the bounds' width a side of several grids keeps to spare, when a cut allows."""
"""Spanning trees tried per cut before the best-balanced cut is taken as it is."""
RADIUS_MEASURES = ("straight", "walk")
SLACK = 0.1
"""Share of the bounds' width a grid count leaves, when it can, between the mean grid and each
bound."""


@dataclass(frozen=True)
class Bounds:
    """Size rules of the grids of one partition."""

    min_households: int = GRID_BOUNDS["urban"].min_households
    max_households: int = GRID_BOUNDS["urban"].max_households
    target_households: int = GRID_BOUNDS["urban"].target_households
    max_residents: int | None = GRID_BOUNDS["urban"].max_residents
    radius_m: float | None = None
    radius_by: str = "straight"  # or "walk": on the walking network (the caller gives walks)

    def __post_init__(self) -> None:
        if not 0 < self.min_households <= self.target_households <= self.max_households:
            raise InvalidInput(
                "bounds must satisfy 0 < min <= target <= max households "
                f"(got {self.min_households}, {self.target_households}, {self.max_households})"
            )
        if self.radius_m is not None and self.radius_m <= 0:
            raise InvalidInput(f"radius must be above 0 m (got {self.radius_m})")
        if self.radius_by not in RADIUS_MEASURES:
            raise InvalidInput(f"radius_by must be straight or walk (got {self.radius_by!r})")


@dataclass(frozen=True)
class Units:
    """The units to partition: adjacency, weights, centroids (metres), communities.

    With ``area`` and ``perimeter`` (m², m) and the shared boundary's length in each adjacency
    entry, the refinement aims at the grids' Polsby-Popper compactness itself; without them, at
    the spread of unit centroids about each grid's centre.
    """

    adjacency: csr_matrix  # symmetric; an entry means a shared boundary (no barrier between)
    households: NDArray[np.int64]
    residents: NDArray[np.int64]
    xy: NDArray[np.float64]
    community: NDArray[np.int64]
    load: NDArray[np.float64] | None = None
    area: NDArray[np.float64] | None = None
    perimeter: NDArray[np.float64] | None = None
    walks: Walks | None = None  # when given, the service radius is measured on foot

    def __len__(self) -> int:
        return len(self.households)

    def subset(self, members: NDArray[np.int64]) -> Units:
        """Return the units ``members``, renumbered from 0 in that order."""

        def pick(values: NDArray[Any] | None) -> NDArray[Any] | None:
            return None if values is None else values[members]

        return Units(
            self.adjacency[members][:, members],
            self.households[members],
            self.residents[members],
            self.xy[members],
            self.community[members],
            pick(self.load),
            pick(self.area),
            pick(self.perimeter),
            None if self.walks is None else self.walks.subset(members),
        )


@dataclass(frozen=True)
class Case:
    """Something a planner must know: what could not be met, where, and what would help."""

    kind: str  # oversize_unit, undersize_community, island, out_of_bounds, radius
    community: int
    units: tuple[int, ...]
    message: str
    template: str = ""  # the message with {unit}, {community} and {grid} for codes to fill
    grid: int | None = None
    reason: str | None = None  # why a grid stays out of bounds (gridmap.partition.reasons)
    detail: dict[str, int] = field(default_factory=dict)  # the figures the reason gives


def _sums(labels: NDArray[np.int64], weights: NDArray[Any], length: int = 0) -> NDArray[np.float64]:
    """Return the sum of ``weights`` per label (0 … ``length`` - 1 at least)."""
    return np.asarray(np.bincount(labels, weights=weights, minlength=length), dtype=np.float64)


def _case(
    kind: str, community: int, units: tuple[int, ...], template: str, grid: int | None = None
) -> Case:
    """Return a case whose message names positions; the service names codes instead."""
    text = template.format(unit=units[0] if units else "", community=community, grid=grid)
    return Case(kind, community, units, text, template, grid)


@dataclass(frozen=True)
class Partition:
    """Each unit's grid, and the cases that could not be met."""

    labels: NDArray[np.int64]
    cases: list[Case] = field(default_factory=list)

    @property
    def n_grids(self) -> int:
        """How many grids there are."""
        return int(self.labels.max(initial=-1)) + 1


def partition(units: Units, bounds: Bounds, *, seed: int = 0) -> Partition:
    """Partition every community's units into grids within ``bounds``."""
    rng = np.random.default_rng(seed)
    labels = np.full(len(units), -1, dtype=np.int64)
    cases: list[Case] = []
    next_label = 0
    for c in np.unique(units.community):
        members = np.flatnonzero(units.community == c)
        for part in _pieces(units, members, bounds, int(c), cases):
            for grid in _cut_within_radius(units, part, bounds, rng):
                labels[grid] = next_label
                next_label += 1
    labels = refine(units, repair(units, labels, bounds), bounds)
    cases += report_cases(units, labels, bounds)
    return Partition(labels, cases)


def _cut_within_radius(
    units: Units, piece: NDArray[np.int64], bounds: Bounds, rng: np.random.Generator
) -> list[NDArray[np.int64]]:
    """Cut a piece into grids, more of them while one reaches beyond the service radius.

    A finer cut is kept only while its grids all stay within the household bounds.
    """
    k = grid_count(units, piece, bounds)
    grids = split_piece(units, piece, k, bounds, rng)
    if len(piece) <= SMALL_PIECE_UNITS and not all(_in_bounds(units, g, bounds) for g in grids):
        k, grids = _fewest_out_of_bounds(units, piece, bounds, rng, k, grids)
    if bounds.radius_m is None:
        return grids
    most = int(units.households[piece].sum()) // bounds.min_households
    while k < min(most, len(piece)) and max(_radius(units, g) for g in grids) > bounds.radius_m:
        k += 1
        finer = split_piece(units, piece, k, bounds, rng)
        if not all(_in_bounds(units, g, bounds) for g in finer):
            break
        grids = finer
    return grids


SMALL_PIECE_UNITS = 12
"""Pieces of at most this many units try every grid count when the first leaves a grid out of
bounds (larger ones are mended by :func:`repair` and :func:`refine`)."""


def _fewest_out_of_bounds(
    units: Units,
    piece: NDArray[np.int64],
    bounds: Bounds,
    rng: np.random.Generator,
    k: int,
    grids: list[NDArray[np.int64]],
) -> tuple[int, list[NDArray[np.int64]]]:
    """Try other grid counts when ``k`` leaves grids out of bounds; keep the one leaving fewest.

    A community of six units of 304-416 households each gets six grids rather than the five its
    total suggests, one of which would have to hold two units (over 600). Ties keep ``k``.
    """
    counts = range(1, len(piece) + 1)

    def out(trial: list[NDArray[np.int64]]) -> int:
        return sum(not _in_bounds(units, g, bounds) for g in trial)

    best = (out(grids), k, grids)
    for c in counts:
        if c == k:
            continue
        trial = split_piece(units, piece, c, bounds, rng)
        if out(trial) < best[0]:
            best = (out(trial), c, trial)
    return best[1], best[2]


def _in_bounds(units: Units, grid: NDArray[np.int64], bounds: Bounds) -> bool:
    households = units.households[grid].sum()
    return bool(bounds.min_households <= households <= bounds.max_households)


def _radius(units: Units, grid: NDArray[np.int64]) -> float:
    if units.walks is not None:
        return float(units.walks.subset(grid).radius(np.zeros(len(grid), dtype=np.int64))[0])
    weight = units.households[grid].astype(float) + 1e-9
    centre = (units.xy[grid] * weight[:, None]).sum(axis=0) / weight.sum()
    return float(np.hypot(*(units.xy[grid] - centre).T).max())


def _pieces(
    units: Units, members: NDArray[np.int64], bounds: Bounds, community: int, cases: list[Case]
) -> list[NDArray[np.int64]]:
    """Split a community into connected pieces to partition, setting oversize units apart."""
    big = members[units.households[members] > bounds.max_households]
    for u in big:
        cases.append(
            _case(
                "oversize_unit",
                community,
                (int(u),),
                f"unit {{unit}} alone holds {units.households[u]} households, above the "
                f"maximum {bounds.max_households}: it is a grid of its own; split the "
                "unit to bring it within bounds",
            )
        )
    rest = np.setdiff1d(members, big)
    pieces = [np.array([u]) for u in big]
    if not len(rest):
        return pieces
    sub = units.adjacency[rest][:, rest]
    n_parts, part_of = connected_components(sub, directed=False)
    total = int(units.households[members].sum())
    if total < bounds.min_households:
        cases.append(
            _case(
                "undersize_community",
                community,
                tuple(int(u) for u in members),
                f"community {{community}} holds {total} households in all, below the "
                f"minimum {bounds.min_households}: it is one grid; merge it with a "
                "neighbouring community or lower the minimum",
            )
        )
        return [*pieces, rest]
    for p in range(n_parts):
        piece = rest[part_of == p]
        if n_parts > 1 and len(piece) == 1 and units.adjacency[piece[0]].count_nonzero() == 0:
            cases.append(
                _case(
                    "island",
                    community,
                    (int(piece[0]),),
                    "unit {unit} is linked to no other unit of its community: it is "
                    "a grid of its own",
                )
            )
        pieces.append(piece)
    return pieces


def grid_count(units: Units, piece: NDArray[np.int64], bounds: Bounds) -> int:
    """Return how many grids a connected piece gets."""
    households = int(units.households[piece].sum())
    fewest = max(1, -(-households // bounds.max_households))
    most = max(1, households // bounds.min_households)
    if bounds.max_residents:
        fewest = max(fewest, -(-int(units.residents[piece].sum()) // bounds.max_residents))
    k = max(1, round(households / bounds.target_households))
    if fewest > most:  # no count fits: the nearest to the target, and the case is reported
        return int(min(k, len(piece)))
    # with small units, prefer a count whose mean grid keeps some room from both bounds: a count
    # that needs every grid at 499.5 households of 500 can rarely be cut from whole units (with
    # chunky units, more grids would only leave more of them under the minimum)
    width = bounds.max_households - bounds.min_households
    room = SLACK * width
    fine = units.households[piece].max(initial=0) <= width / 2  # units small beside the bounds
    comfortable = [
        c
        for c in range(fewest, most + 1)
        if fine
        if bounds.min_households + room <= households / c <= bounds.max_households - room
    ]
    if comfortable:
        k = min(comfortable, key=lambda c: (abs(households / c - bounds.target_households), c))
    return int(min(max(k, fewest), most, len(piece)))


def split_piece(
    units: Units, piece: NDArray[np.int64], k: int, bounds: Bounds, rng: np.random.Generator
) -> list[NDArray[np.int64]]:
    """Cut a connected piece into ``k`` connected grids by recursive tree bisection."""
    if k <= 1 or len(piece) <= 1:
        return [piece]
    k_low = k // 2
    side = _bisect(units, piece, k_low, k - k_low, bounds, rng)
    if side is None:  # no cut at all (a piece of units without links): it stays whole
        return [piece]
    return split_piece(units, piece[side], k_low, bounds, rng) + split_piece(
        units, piece[~side], k - k_low, bounds, rng
    )


def _bisect(
    units: Units,
    piece: NDArray[np.int64],
    k_one: int,
    k_two: int,
    bounds: Bounds,
    rng: np.random.Generator,
) -> NDArray[np.bool_] | None:
    """Return the side of the best cut: within bounds for both sides when one exists.

    Among the cuts within bounds, the one leaving the most compact sides wins (the least
    spread of unit centroids about each side's centre, as k-means measures it); when no cut is
    within bounds, the best balanced one is taken.
    """
    weights = units.households[piece].astype(float)
    total = weights.sum()
    xy = units.xy[piece] - units.xy[piece].mean(axis=0)
    moments = np.column_stack([np.ones(len(piece)), xy, (xy**2).sum(axis=1)])
    spread_all = moments[:, 3].sum() - (moments[:, 1].sum() ** 2 + moments[:, 2].sum() ** 2) / len(
        piece
    )
    goal = total * k_one / (k_one + k_two)
    load = np.zeros(len(piece)) if units.load is None else units.load[piece].astype(float)
    sub = units.adjacency[piece][:, piece].tocoo()
    distance = np.hypot(*(units.xy[piece[sub.row]] - units.xy[piece[sub.col]]).T) + 1.0
    best_side, best_score = None, np.inf
    for _ in range(ATTEMPTS):
        jitter = distance * rng.uniform(1.0, 1.6, len(distance))
        tree = minimum_spanning_tree(
            csr_matrix((jitter, (sub.row, sub.col)), shape=(len(piece),) * 2)
        )
        root = int(rng.integers(len(piece)))
        order, parent = breadth_first_order(tree, root, directed=False)
        sums = _subtree_sums(order, parent, np.column_stack([weights, moments, load]))
        below = sums[:, 0]
        spread = _split_spread(sums[:, 1:5], moments) / max(spread_all, 1e-9)
        spread += LOAD_WEIGHT * _load_imbalance(
            sums[:, 5], load.sum(), below, total, goal, k_one, k_two
        )
        valid = _fits(below, total, k_one, k_two, bounds, 0.0)
        comfortable = _fits(below, total, k_one, k_two, bounds, COMFORT)
        balance = np.minimum(np.abs(below - goal), np.abs(total - below - goal)) / max(total, 1.0)
        score = np.select([comfortable, valid], [spread, 1.0 + spread], 3.0 + balance)
        score[parent < 0] = np.inf  # no cut above the root, nor above a node out of its reach
        v = int(np.argmin(score))
        if score[v] < best_score:
            best_score = score[v]
            inside = _subtree_members(tree, parent, v)
            keep_small = np.abs(below[v] - goal) <= np.abs(total - below[v] - goal)
            best_side = inside if keep_small else ~inside
    return best_side


def _load_imbalance(
    load_below: NDArray[np.float64],
    whole: float,
    below: NDArray[np.float64],
    total: float,
    goal: float,
    k_one: int,
    k_two: int,
) -> NDArray[np.float64]:
    """Return how unevenly each cut shares governance load per grid (0 when even, or no load)."""
    if whole <= 0:
        return np.zeros(len(below))
    inside_first = np.abs(below - goal) <= np.abs(total - below - goal)
    k_in = np.where(inside_first, k_one, k_two)
    k_out = np.where(inside_first, k_two, k_one)
    per_grid = whole / (k_one + k_two)
    return np.abs(load_below / k_in - (whole - load_below) / k_out) / per_grid


def _fits(
    below: NDArray[np.float64],
    total: float,
    k_one: int,
    k_two: int,
    bounds: Bounds,
    comfort: float,
) -> NDArray[np.bool_]:
    """Say which cuts leave each side a total its grids can share within the bounds.

    With ``comfort`` > 0, a side of several grids must keep that share of the bounds' width
    to spare at each end, so the cuts below it can still be found.
    """

    def room(k: int) -> tuple[float, float]:
        spare = comfort * (bounds.max_households - bounds.min_households) * (k > 1)
        return k * bounds.min_households + spare, k * bounds.max_households - spare

    (low_1, high_1), (low_2, high_2) = room(k_one), room(k_two)
    rest = total - below
    return ((below >= low_1) & (below <= high_1) & (rest >= low_2) & (rest <= high_2)) | (
        (below >= low_2) & (below <= high_2) & (rest >= low_1) & (rest <= high_1)
    )


def _split_spread(below: NDArray[np.float64], moments: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return, for the cut above each node, the summed spread of centroids of both sides.

    ``below`` holds the subtree sums of ``moments`` (count, x, y, x² + y²) under each node.
    """
    above = moments.sum(axis=0) - below

    def spread(side: NDArray[np.float64]) -> NDArray[np.float64]:
        n = np.maximum(side[:, 0], 1e-9)
        return side[:, 3] - (side[:, 1] ** 2 + side[:, 2] ** 2) / n

    return spread(below) + spread(above)


def _subtree_sums(
    order: NDArray[np.int32], parent: NDArray[np.int32], weights: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Return the total weight (one column or several) under each node of a BFS tree.

    Depths follow from the breadth-first order; sums then climb a depth level at a time.
    """
    depth = np.zeros(len(order), dtype=np.int64)
    for node in order[1:]:  # parents come first in a breadth-first order
        depth[node] = depth[parent[node]] + 1
    sums = weights.copy()
    by_depth = np.argsort(-depth, kind="stable")
    levels = np.split(by_depth, np.flatnonzero(np.diff(depth[by_depth])) + 1)
    for level in levels[:-1]:  # every level but the root's, deepest first
        np.add.at(sums, parent[level], sums[level])
    return sums


def _subtree_members(tree: csr_matrix, parent: NDArray[np.int32], top: int) -> NDArray[np.bool_]:
    """Return which nodes lie under ``top``: the side of the tree cut above it."""
    cut = tree.tolil()
    cut[top, parent[top]] = 0
    cut[parent[top], top] = 0
    cut = cut.tocsr()
    cut.eliminate_zeros()
    _, part = connected_components(cut, directed=False)
    return part == part[top]


def report_cases(units: Units, labels: NDArray[np.int64], bounds: Bounds) -> list[Case]:
    """Name the grids outside the bounds or the service radius."""
    cases = []
    n = int(labels.max(initial=-1)) + 1
    households = np.bincount(labels, weights=units.households, minlength=n)
    residents = np.bincount(labels, weights=units.residents, minlength=n)
    for g in np.flatnonzero(
        (households < bounds.min_households)
        | (households > bounds.max_households)
        | ((residents > bounds.max_residents) if bounds.max_residents else False)
    ):
        members = np.flatnonzero(labels == g)
        cases.append(
            _case(
                "out_of_bounds",
                int(units.community[members[0]]),
                tuple(int(u) for u in members),
                f"grid {{grid}}: {int(households[g])} households, {int(residents[g])} "
                "residents, outside the bounds",
                int(g),
            )
        )
    if bounds.radius_m is not None:
        how = "on foot" if units.walks is not None else "in a straight line"
        for grid, radius in enumerate(grid_radius(units, labels)):
            if radius > bounds.radius_m:
                members = np.flatnonzero(labels == grid)
                radius_m = f"{bounds.radius_m:.0f} m service radius"
                what = (
                    f"reaches {radius:.0f} m {how} from its centre, beyond the {radius_m}"
                    if np.isfinite(radius)
                    else f"has no unit from which every other is within the {radius_m} {how}"
                )
                cases.append(
                    _case(
                        "radius",
                        int(units.community[members[0]]),
                        tuple(int(u) for u in members),
                        f"grid {{grid}} {what}; more, smaller grids (a lower maximum) "
                        "or a new path would bring it in",
                        grid,
                    )
                )
    return cases


def grid_radius(units: Units, labels: NDArray[np.int64]) -> NDArray[np.float64]:
    """Return each grid's radius: its farthest unit centroid from its households' centre.

    With walks, the radius on foot from the grid's best-placed unit instead.
    """
    if units.walks is not None:
        return units.walks.radius(labels)
    n = int(labels.max(initial=-1)) + 1
    weight = units.households.astype(float) + 1e-9
    total = np.bincount(labels, weights=weight, minlength=n)
    centre = (
        np.column_stack(
            [np.bincount(labels, weights=units.xy[:, i] * weight, minlength=n) for i in (0, 1)]
        )
        / total[:, None]
    )
    distance = np.hypot(*(units.xy - centre[labels]).T)
    radius = np.zeros(n)
    np.maximum.at(radius, labels, distance)
    return radius


def repair(
    units: Units,
    labels: NDArray[np.int64],
    bounds: Bounds,
    *,
    frozen: NDArray[np.bool_] | None = None,
    rounds: int = 50,
) -> NDArray[np.int64]:
    """Move single boundary units between neighbouring grids to bring grids within bounds.

    A move is made only when it keeps both grids connected and in one community, brings the
    grid at fault nearer its bounds and does not push the other grid out of them. Units of
    ``frozen`` grids (locked ones) never move.
    """
    labels = labels.copy()
    frozen_grids = set() if frozen is None else set(np.flatnonzero(frozen).tolist())
    graph = units.adjacency
    for _ in range(rounds):
        households = _sums(labels, units.households)
        over = households > bounds.max_households
        under = households < bounds.min_households
        faulty = [g for g in np.flatnonzero(over | under) if g not in frozen_grids]
        moved = [
            _fix_one(units, graph, labels, households, bounds, int(g), frozen_grids) for g in faulty
        ]  # every faulty grid gets its move each round
        if not any(moved):
            break
    return labels


def _fix_one(
    units: Units,
    graph: csr_matrix,
    labels: NDArray[np.int64],
    households: NDArray[np.float64],
    bounds: Bounds,
    g: int,
    frozen: set[int],
) -> bool:
    members = np.flatnonzero(labels == g)
    heavy = households[g] > bounds.max_households
    # pairs (unit, other grid) across g's boundary
    rows, cols = graph[members].nonzero()
    inner, outer = members[rows], cols
    other = labels[outer]
    across = (other != g) & ~np.isin(other, list(frozen))
    inner, outer, other = inner[across], outer[across], other[across]
    if heavy:  # give one of g's units to a neighbour with room
        options = [
            (u, h)
            for u, h in zip(inner, other, strict=True)
            if households[h] + units.households[u] <= bounds.max_households
        ]
    else:  # take one unit from a neighbour with households to spare
        options = [
            (v, g)
            for v, h in zip(outer, other, strict=True)
            if households[h] - units.households[v] >= bounds.min_households
            and households[g] + units.households[v] <= bounds.max_households
        ]
    for u, target in sorted(options, key=lambda o: -units.households[o[0]]):
        source = labels[u]
        rest = np.flatnonzero(labels == source)
        rest = rest[rest != u]
        if len(rest) and connected_components(graph[rest][:, rest], directed=False)[0] != 1:
            continue
        labels[u] = target
        households[source] -= units.households[u]
        households[target] += units.households[u]
        return True
    return False


def refine(
    units: Units, labels: NDArray[np.int64], bounds: Bounds, *, rounds: int = REFINE_ROUNDS
) -> NDArray[np.int64]:
    """Make grids more compact by moving boundary units to the neighbour that suits them better.

    A move is made only when it keeps both grids within the household bounds (and the
    residents cap), keeps the donor connected, does not make the two grids' governance load
    more uneven, and makes the two grids more compact: their summed Polsby-Popper score when
    the units' shapes are known, else the unit's distance to its grid's centre (the k-means
    step). Each grid gives or takes at most one unit per round.
    """
    labels = labels.copy()
    graph = units.adjacency.tocoo()
    for _ in range(rounds):
        k = int(labels.max()) + 1
        u, v = graph.row, graph.col
        across = labels[u] != labels[v]
        u, g, h = u[across], labels[u[across]], labels[v[across]]
        gain = _compactness_gain(units, labels, k, u, g, h)
        order = np.argsort(-gain, kind="stable")
        order = order[gain[order] > 1e-12]
        households = np.bincount(labels, weights=units.households, minlength=k)
        residents = np.bincount(labels, weights=units.residents, minlength=k)
        load = np.zeros(len(units)) if units.load is None else units.load
        grid_load = np.bincount(labels, weights=load, minlength=k)
        by_grid = np.argsort(labels, kind="stable")  # members of every grid, for this round:
        starts = np.searchsorted(labels[by_grid], np.arange(k + 1))  # valid while untouched
        touched: set[int] = set()
        moved = 0
        for i in order:
            unit, source, target = int(u[i]), int(g[i]), int(h[i])
            if source in touched or target in touched or labels[unit] != source:
                continue
            w, r = units.households[unit], units.residents[unit]
            if (
                households[source] - w < bounds.min_households
                or households[target] + w > bounds.max_households
                or (bounds.max_residents and residents[target] + r > bounds.max_residents)
            ):
                continue
            gap = abs(grid_load[source] - grid_load[target])
            if abs(grid_load[source] - grid_load[target] - 2 * load[unit]) > gap:
                continue  # never at the cost of a more uneven load
            rest = by_grid[starts[source] : starts[source + 1]]
            rest = rest[rest != unit]
            sub = units.adjacency[rest][:, rest]
            if not len(rest) or connected_components(sub, directed=False)[0] != 1:
                continue
            labels[unit] = target
            households[source] -= w
            households[target] += w
            residents[source] -= r
            residents[target] += r
            grid_load[source] -= load[unit]
            grid_load[target] += load[unit]
            touched.update((source, target))
            moved += 1
        if not moved:
            break
    return labels


def _compactness_gain(
    units: Units,
    labels: NDArray[np.int64],
    k: int,
    u: NDArray[np.int64],
    g: NDArray[np.int64],
    h: NDArray[np.int64],
) -> NDArray[np.float64]:
    """Return how much moving each unit ``u`` from grid ``g`` to ``h`` makes them more compact."""
    if units.area is None or units.perimeter is None:
        count = np.bincount(labels, minlength=k).astype(float)
        centre = (
            np.column_stack(
                [np.bincount(labels, weights=units.xy[:, i], minlength=k) for i in (0, 1)]
            )
            / np.maximum(count, 1)[:, None]
        )
        return ((units.xy[u] - centre[g]) ** 2).sum(axis=1) - ((units.xy[u] - centre[h]) ** 2).sum(
            axis=1
        )
    graph = units.adjacency.tocoo()
    inside = labels[graph.row] == labels[graph.col]
    area = _sums(labels, units.area, k)
    perimeter = _sums(labels, units.perimeter, k) - np.bincount(
        labels[graph.row[inside]], weights=graph.data[inside], minlength=k
    )  # every inner boundary is listed twice: once from each side
    members = csr_matrix(
        (np.ones(len(labels)), (np.arange(len(labels)), labels)), shape=(len(labels), k)
    )
    shared = (units.adjacency @ members).tocsr()  # boundary each unit shares with each grid
    with_g = np.asarray(shared[u, g]).ravel()
    with_h = np.asarray(shared[u, h]).ravel()
    a, p = units.area[u], units.perimeter[u]

    def score(area: NDArray[np.float64], perimeter: NDArray[np.float64]) -> NDArray[np.float64]:
        return 4 * np.pi * area / np.maximum(perimeter, 1e-9) ** 2

    before = score(area[g], perimeter[g]) + score(area[h], perimeter[h])
    after = score(area[g] - a, perimeter[g] - p + 2 * with_g) + score(
        area[h] + a, perimeter[h] + p - 2 * with_h
    )
    return after - before
