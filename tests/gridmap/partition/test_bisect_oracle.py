"""The cut of a piece in two, checked against every cut a chain of units allows.

On a chain (each unit linked to the next only) every spanning tree is the chain itself, so the
random trees the bisection draws hold the same cuts: a prefix and the rest. ``best_cut`` scores
each of them as ``_bisect``'s docstring states, from the sides themselves: a cut that leaves
each side room for its grids within the bounds (with COMFORT of the bounds' width to spare for a
side of several grids) wins by its k-means spread plus LOAD_WEIGHT times its uneven load per
grid; then cuts merely within the bounds; then the best balanced cut.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from gridmap.partition import engine
from gridmap.partition.engine import COMFORT, LOAD_WEIGHT, Bounds, Units, _bisect, _fits


def chain(seed: int, n: int, *, with_load: str | None) -> Units:
    rng = np.random.default_rng(seed)
    links = np.arange(n - 1)
    adjacency = csr_matrix(
        (np.ones(2 * (n - 1)), (np.r_[links, links + 1], np.r_[links + 1, links])), shape=(n, n)
    )
    households = rng.integers(1, 9, n).astype(np.int64) * 10  # sums reach the bounds exactly
    return Units(
        adjacency,
        households,
        households * 3,
        rng.uniform(0, 1000, (n, 2)),
        np.zeros(n, dtype=np.int64),
        None if with_load is None else LOADS[with_load](rng, n),
    )


LOADS = {
    "even": lambda rng, n: rng.uniform(0, 10, n),
    "one-heavy": lambda rng, n: np.where(np.arange(n) == rng.integers(n), 50.0, 0.5),
    "small": lambda rng, n: rng.uniform(0, 0.15, n),  # under 1 in all: still shared evenly
}


def sse(xy: np.ndarray) -> float:
    return float(((xy - xy.mean(axis=0)) ** 2).sum())


def room(k: int, bounds: Bounds, comfort: float) -> tuple[float, float]:
    spare = comfort * (bounds.max_households - bounds.min_households) if k > 1 else 0.0
    return k * bounds.min_households + spare, k * bounds.max_households - spare


def fits(a: float, b: float, k_one: int, k_two: int, bounds: Bounds, comfort: float) -> bool:
    def within(value: float, k: int) -> bool:
        low, high = room(k, bounds, comfort)
        return low <= value <= high

    return (within(a, k_one) and within(b, k_two)) or (within(a, k_two) and within(b, k_one))


def best_cuts(
    units: Units, order: np.ndarray, k_one: int, k_two: int, bounds: Bounds
) -> list[set[int]]:
    """The sides (as units) that get ``k_one`` grids in the best of the chain's cuts (several
    when they tie)."""
    w = units.households.astype(float)
    load = units.load if units.load is not None else np.zeros(len(w))
    total, whole = w[order].sum(), load[order].sum()
    goal = total * k_one / (k_one + k_two)
    scores, sides = [], []
    for i in range(1, len(order)):
        a, b = order[:i], order[i:]
        if abs(w[a].sum() - goal) > abs(w[b].sum() - goal):
            a, b = b, a  # a: the side nearer the goal, which gets k_one grids
        spread = (sse(units.xy[a]) + sse(units.xy[b])) / sse(units.xy[order])
        if whole > 0:
            per_grid = whole / (k_one + k_two)
            spread += LOAD_WEIGHT * abs(load[a].sum() / k_one - load[b].sum() / k_two) / per_grid
        if fits(w[a].sum(), w[b].sum(), k_one, k_two, bounds, COMFORT):
            score = spread
        elif fits(w[a].sum(), w[b].sum(), k_one, k_two, bounds, 0.0):
            score = 1.0 + spread
        else:
            score = 3.0 + min(abs(w[a].sum() - goal), abs(w[b].sum() - goal)) / total
        scores.append(score)
        sides.append({int(x) for x in a})
    best = min(scores)
    return [side for side, score in zip(sides, scores, strict=True) if score <= best + 1e-12]


CASES = [
    (1, 1, Bounds(200, 400, 300, max_residents=None)),
    (1, 2, Bounds(150, 260, 200, max_residents=None)),
    (2, 3, Bounds(100, 140, 120, max_residents=None)),
    (2, 2, Bounds(100, 300, 150, max_residents=None)),
    (1, 1, Bounds(20, 40, 30, max_residents=None)),  # no cut within the bounds
    (1, 2, Bounds(20, 40, 30, max_residents=None)),
]


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize(
    "case", CASES, ids=["halves", "one-two", "two-three", "wide", "none", "none-1-2"]
)
@pytest.mark.parametrize("with_load", [None, "even", "one-heavy"])
def test_the_cut_is_the_best_of_every_cut_by_the_stated_score(
    seed: int, case: tuple[int, int, Bounds], with_load: str | None
) -> None:
    k_one, k_two, bounds = case
    units = chain(seed, 10, with_load=with_load)
    piece = np.random.default_rng(seed + 50).permutation(10)  # the piece's units, shuffled

    side = _bisect(units, piece, k_one, k_two, bounds, np.random.default_rng(seed))

    assert side is not None
    got = {int(u) for u in piece[side]}
    expected = best_cuts(units, np.arange(10), k_one, k_two, bounds)
    if k_one == k_two:  # both sides get as many grids: either may be given as the side
        expected += [set(range(10)) - e for e in expected]
    assert got in expected


def placed_chain(households: list[int], x: list[float]) -> Units:
    n = len(households)
    links = np.arange(n - 1)
    adjacency = csr_matrix(
        (np.ones(2 * (n - 1)), (np.r_[links, links + 1], np.r_[links + 1, links])), shape=(n, n)
    )
    w = np.array(households, dtype=np.int64)
    xy = np.c_[np.array(x, dtype=float), np.zeros(n)]
    return Units(adjacency, w, w * 3, xy, np.zeros(n, dtype=np.int64))


@pytest.mark.parametrize(
    ("households", "x", "k_two", "natural"),
    [
        ([100, 10, 100, 10], [0, 1000, 1010, 1020], 1, {0}),  # 100 | 120: one grid at its minimum
        ([150, 50, 10, 130], [0, 10, 1000, 1010], 1, {0, 1}),  # 200 | 140: one at its maximum
        ([150, 25, 25, 200], [0, 10, 1000, 1010], 2, {0, 1}),  # 175 | 225 = 2 × 100 + 25 spare
        ([100, 25, 25, 350], [0, 10, 1000, 1010], 2, {0, 1}),  # 125 | 375 = 2 × 200 - 25 spare
    ],
)
def test_a_side_exactly_at_its_bound_fits(
    households: list[int], x: list[float], k_two: int, natural: set[int]
) -> None:
    units = placed_chain(households, x)
    bounds = Bounds(100, 200, 150, max_residents=None)
    piece = np.arange(len(households))
    for seed in range(8):  # roots on either side: the cut seen from both of its sides
        side = _bisect(units, piece, 1, k_two, bounds, np.random.default_rng(seed))
        assert side is not None
        got = set(np.flatnonzero(side).tolist())
        if k_two == 1:  # one grid each: either side may be given
            got = min(got, set(piece.tolist()) - got, key=lambda part: min(part))
        assert got == natural, seed


@pytest.mark.parametrize(("k_one", "k_two"), [(1, 1), (1, 2), (2, 3), (3, 1)])
@pytest.mark.parametrize("comfort", [0.0, COMFORT])
def test_which_cuts_fit_is_said_for_every_total_up_to_the_bounds_exactly(
    k_one: int, k_two: int, comfort: float
) -> None:
    bounds = Bounds(100, 200, 150, max_residents=None)
    for total in (300.0, 325.0, 400.0, 475.0, 500.0, 600.0, 800.0):
        below = np.arange(0.0, total + 1, 5.0)  # every cut, bounds and spares included
        expected = [fits(b, total - b, k_one, k_two, bounds, comfort) for b in below]
        assert _fits(below, total, k_one, k_two, bounds, comfort).tolist() == expected


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize(
    "case", CASES, ids=["halves", "one-two", "two-three", "wide", "none", "none-1-2"]
)
@pytest.mark.parametrize("with_load", [None, "one-heavy", "small"])
def test_with_one_attempt_each_cut_is_scored_from_the_side_the_root_leaves(
    seed: int, case: tuple[int, int, Bounds], with_load: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one tree, one root: a cut is seen from one side only, so its score must read both sides
    # (eight attempts from random roots see most cuts from either side and hide a one-sided rule)
    monkeypatch.setattr(engine, "ATTEMPTS", 1)
    k_one, k_two, bounds = case
    units = chain(seed, 10, with_load=with_load)
    piece = np.random.default_rng(seed + 50).permutation(10)

    side = _bisect(units, piece, k_one, k_two, bounds, np.random.default_rng(seed))

    assert side is not None
    expected = best_cuts(units, np.arange(10), k_one, k_two, bounds)
    if k_one == k_two:
        expected += [set(range(10)) - e for e in expected]
    assert {int(u) for u in piece[side]} in expected
