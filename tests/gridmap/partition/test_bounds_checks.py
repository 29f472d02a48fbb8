"""The bounds checks the engines steer by, tried exactly at each bound and one beyond it.

`_fits` says which cuts of a piece leave both sides a total their grids can share; `_out_of_bounds`
counts a community's grids outside the bounds. Expected values are read off the figures given.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_matrix

from gridmap.errors import InvalidInput
from gridmap.partition.adjust import _out_of_bounds
from gridmap.partition.engine import Bounds, Units, _fits, _pieces, grid_radius

RULES = Bounds(min_households=300, target_households=400, max_households=500, max_residents=1000)


def fits(below: list[float], total: float, k_one: int, k_two: int, comfort: float) -> list[bool]:
    return _fits(np.array(below, dtype=float), total, k_one, k_two, RULES, comfort).tolist()


def test_one_grid_and_two_with_room_to_spare() -> None:
    # one grid: 300..500; two grids keeping 10% of the width (20) at each end: 620..980
    assert fits([299, 300, 500, 501], 1280, 1, 2, 0.1) == [False, True, True, False]
    assert fits([300], 1290, 1, 2, 0.1) == [False]  # 990 is over 980: no room left
    # the sides the other way round: the two grids below, the one grid above
    assert fits([619, 620, 820, 821], 1120, 1, 2, 0.1) == [False, True, True, False]


def test_without_comfort_the_bounds_themselves() -> None:
    assert fits([300, 299], 1300, 1, 2, 0.0) == [True, False]  # 1,000 = 2 × 500; 1,001 is over
    assert fits([300, 500, 501], 800, 1, 1, 0.0) == [True, True, False]


def row(households: list[int], residents: list[int], community: list[int]) -> Units:
    n = len(households)
    a, b = np.arange(n - 1), np.arange(1, n)
    return Units(
        csr_matrix((np.ones(2 * (n - 1)), (np.r_[a, b], np.r_[b, a])), shape=(n, n)),
        np.asarray(households, dtype=np.int64),
        np.asarray(residents, dtype=np.int64),
        np.c_[np.arange(n) * 100.0, np.zeros(n)],
        np.asarray(community, dtype=np.int64),
    )


def test_grids_out_of_bounds_are_counted_per_community() -> None:
    # community 0: grid 0 of 299 households (out), 1 of 300 and 2 of 500 (in), in two units each;
    # community 1: grid 3 of 501 (out), 4 with 1,001 residents (out), 5 with 1,000 (in);
    # community 2: one grid of 400 (in)
    households = [150, 149, 150, 150, 250, 250, 251, 250, 200, 200, 200, 200, 400]
    residents = [100, 100, 100, 100, 100, 100, 100, 100, 500, 501, 500, 500, 100]
    community = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2]
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6])
    units = row(households, residents, community)
    assert _out_of_bounds(units, labels, RULES).tolist() == [1, 2, 0]
    free = Bounds(min_households=300, target_households=400, max_households=500, max_residents=None)
    assert _out_of_bounds(units, labels, free).tolist() == [1, 1, 0]


def isolated(households: list[int], links: list[tuple[int, int]]) -> Units:
    """Units of community 5 linked only as ``links`` say."""
    n = len(households)
    pairs = np.array(links, dtype=int).reshape(-1, 2)
    a, b = pairs[:, 0], pairs[:, 1]
    return Units(
        csr_matrix((np.ones(2 * len(links)), (np.r_[a, b], np.r_[b, a])), shape=(n, n)),
        np.asarray(households, dtype=np.int64),
        np.asarray(households, dtype=np.int64) * 2,
        np.c_[np.arange(n) * 100.0, np.zeros(n)],
        np.full(n, 5, dtype=np.int64),
    )


def pieces_of(units: Units) -> tuple[list[list[int]], list[tuple[str, tuple[int, ...], str]]]:
    cases: list = []
    found = _pieces(units, np.arange(len(units)), RULES, 5, cases)
    return [sorted(p.tolist()) for p in found], [(c.kind, c.units, c.message) for c in cases]


def test_a_unit_over_the_maximum_is_set_apart_and_one_at_it_is_not() -> None:
    # 0 (500, at the maximum) - 1 (501, over it) - 2 - 3: without unit 1, unit 0 is a piece of
    # its own, but linked (to unit 1): no island
    pieces, cases = pieces_of(isolated([500, 501, 100, 100], [(0, 1), (1, 2), (2, 3)]))
    assert pieces == [[1], [0], [2, 3]]
    assert cases == [
        (
            "oversize_unit",
            (1,),
            "unit 1 alone holds 501 households, above the maximum 500: it is a grid of its own; "
            "split the unit to bring it within bounds",
        )
    ]


def test_a_unit_linked_to_nothing_is_an_island() -> None:
    pieces, cases = pieces_of(isolated([100, 100, 100, 100], [(0, 1), (1, 2)]))
    assert pieces == [[0, 1, 2], [3]]
    assert cases == [
        (
            "island",
            (3,),
            "unit 3 is linked to no other unit of its community: it is a grid of its own",
        )
    ]
    alone, none = pieces_of(isolated([400], []))  # a community of one unit: no island
    assert alone == [[0]] and none == []


def test_a_community_under_the_minimum_is_one_grid_and_one_at_it_is_cut() -> None:
    pieces, cases = pieces_of(isolated([150, 149], [(0, 1)]))
    assert pieces == [[0, 1]]
    assert cases == [
        (
            "undersize_community",
            (0, 1),
            "community 5 holds 299 households in all, below the minimum 300: it is one grid; "
            "merge it with a neighbouring community or lower the minimum",
        )
    ]
    assert pieces_of(isolated([150, 150], [(0, 1)])) == ([[0, 1]], [])


@pytest.mark.parametrize(
    ("low", "target", "high", "radius"),
    [(1, 1, 1, None), (300, 300, 500, None), (300, 500, 500, None), (300, 400, 500, 0.5)],
)
def test_bounds_at_their_limits_are_taken(low: int, target: int, high: int, radius) -> None:
    Bounds(min_households=low, target_households=target, max_households=high, radius_m=radius)


@pytest.mark.parametrize(
    ("low", "target", "high", "radius", "named"),
    [
        (0, 1, 1, None, "0 < min <= target <= max"),
        (301, 300, 500, None, "0 < min <= target <= max"),
        (300, 501, 500, None, "0 < min <= target <= max"),
        (300, 400, 500, 0.0, "radius must be above 0 m"),
    ],
)
def test_bounds_beyond_their_limits_are_refused(
    low: int, target: int, high: int, radius, named: str
) -> None:
    with pytest.raises(InvalidInput, match=named):
        Bounds(min_households=low, target_households=target, max_households=high, radius_m=radius)


def test_a_grid_s_radius_is_its_farthest_unit_from_its_households_centre() -> None:
    # grid 0: 200 and 200 households 100 m apart: centre midway, 50 m; grid 1: 300 at 200 m and
    # 100 at 300 m: centre at 225 m, 75 m; grid 2: one unit of no households, 0 m
    units = row([200, 200, 300, 100, 0], [1] * 5, [0] * 5)
    radius = grid_radius(units, np.array([0, 0, 1, 1, 2]))
    assert radius == pytest.approx([50.0, 75.0, 0.0], rel=1e-9, abs=1e-9)
