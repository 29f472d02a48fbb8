"""The cases a finished partition reports: grids outside the bounds or the service radius.

Each grid below is made by hand, one at each bound and one just beyond it, so that every
comparison is tried on both sides; the expected cases are read off the figures given.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from scipy.sparse import csr_matrix

from gridmap.partition.engine import Bounds, Units, report_cases

RULES = Bounds(min_households=300, target_households=400, max_households=500, max_residents=1000)


def row(households: list[int], residents: list[int], community: list[int]) -> Units:
    """Units 100 m apart in a row, each touching the next."""
    n = len(households)
    a, b = np.arange(n - 1), np.arange(1, n)
    adjacency = csr_matrix((np.ones(2 * (n - 1)), (np.r_[a, b], np.r_[b, a])), shape=(n, n))
    return Units(
        adjacency,
        np.asarray(households, dtype=np.int64),
        np.asarray(residents, dtype=np.int64),
        np.c_[np.arange(n) * 100.0, np.zeros(n)],
        np.asarray(community, dtype=np.int64),
    )


def test_grids_at_the_bounds_pass_and_one_beyond_is_named() -> None:
    # grid: 0 at the minimum, 1 one under it, 2 at the maximum, 3 one over it,
    # 4 at the residents' maximum, 5 one resident over it (both within the households)
    households = [150, 150, 299, 250, 250, 501, 400, 400]
    residents = [300, 300, 700, 500, 500, 900, 1000, 1001]
    labels = np.array([0, 0, 1, 2, 2, 3, 4, 5])
    units = row(households, residents, [7, 7, 7, 8, 8, 8, 9, 9])
    cases = report_cases(units, labels, RULES)
    assert [(c.kind, c.grid, c.units, c.community) for c in cases] == [
        ("out_of_bounds", 1, (2,), 7),
        ("out_of_bounds", 3, (5,), 8),
        ("out_of_bounds", 5, (7,), 9),
    ]
    assert cases[0].message == "grid 1: 299 households, 700 residents, outside the bounds"
    assert cases[0].template == "grid {grid}: 299 households, 700 residents, outside the bounds"


def test_without_a_residents_bound_only_households_count() -> None:
    units = row([400, 400], [5000, 5000], [0, 0])
    free = Bounds(min_households=300, target_households=400, max_households=500, max_residents=None)
    assert report_cases(units, np.array([0, 1]), free) == []
    assert [c.grid for c in report_cases(units, np.array([0, 1]), RULES)] == [0, 1]


def test_a_grid_reaching_beyond_the_radius_is_named_with_its_reach() -> None:
    # grid 0: two units of equal households 100 m apart: its centre is midway, radius 50 m;
    # grid 1: units at 200 and 300 m, households 300 and 100: centre at 225 m, radius 75 m
    units = row([200, 200, 300, 100], [400, 400, 600, 200], [0, 0, 0, 0])
    labels = np.array([0, 0, 1, 1])
    at = replace(RULES, max_residents=None, radius_m=75.0)
    assert report_cases(units, labels, at) == []  # 75 m is within a 75 m radius
    under = replace(RULES, max_residents=None, radius_m=74.0)
    cases = report_cases(units, labels, under)
    assert [(c.kind, c.grid, c.units, c.community) for c in cases] == [("radius", 1, (2, 3), 0)]
    assert cases[0].message == (
        "grid 1 reaches 75 m in a straight line from its centre, beyond the 74 m service "
        "radius; more, smaller grids (a lower maximum) or a new path would bring it in"
    )
