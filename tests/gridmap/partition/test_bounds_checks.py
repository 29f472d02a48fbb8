"""The bounds checks the engines steer by, tried exactly at each bound and one beyond it.

`_fits` says which cuts of a piece leave both sides a total their grids can share; `_out_of_bounds`
counts a community's grids outside the bounds. Expected values are read off the figures given.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix

from gridmap.partition.adjust import _out_of_bounds
from gridmap.partition.engine import Bounds, Units, _fits

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
