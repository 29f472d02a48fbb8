"""Why a grid stays out of bounds: each reason on units made by hand, at its bound and past it.

Units lie in a row, each touching the next (``row`` of test_report_cases); the grids and figures
below are chosen so that the expected reason can be read off them.
"""

from __future__ import annotations

import numpy as np
import pytest

from gridmap.partition.engine import Bounds, report_cases
from gridmap.partition.reasons import explained, out_of_bounds_reason
from tests.gridmap.partition.test_report_cases import row

RULES = Bounds(min_households=300, target_households=400, max_households=500, max_residents=1000)


def why(households, residents, community, labels, grid, kept=()):
    units = row(households, residents, community)
    return out_of_bounds_reason(units, np.array(labels), grid, RULES, kept=kept)


@pytest.mark.parametrize(
    ("households", "expected"),
    [([501], ("unit_too_big", {"largest": 501})), ([500, 1], (None, {})), ([251, 250], (None, {}))],
)
def test_a_unit_above_the_maximum_alone_is_named(households, expected) -> None:
    n = len(households)
    found = why(households, [100] * n, [0] * n, [0] * n, 0)
    assert (found.key, found.detail) == expected


@pytest.mark.parametrize(
    ("residents", "expected"),
    [([1001], ("unit_too_crowded", {"largest": 1001})), ([1000, 1], (None, {}))],
)
def test_a_unit_above_the_residents_cap_alone_is_named(residents, expected) -> None:
    n = len(residents)
    found = why([200] * n, residents, [0] * n, [0] * n, 0)
    assert (found.key, found.detail) == expected


def test_a_community_below_the_minimum_in_all_is_named() -> None:
    found = why([299], [500], [0], [0], 0)
    assert (found.key, found.detail) == ("community_too_small", {"community_households": 299})
    assert found.words == "its whole community holds 299 households"
    # two grids of 150 in a community of exactly 300: the community could make one grid
    assert why([150, 150], [300, 300], [0, 0], [0, 1], 0).key is None


def test_a_grid_below_the_minimum_with_no_neighbour_in_its_community_is_named() -> None:
    # units: A (community 0), X (community 1), B (community 0): A touches only X
    apart = why([250, 400, 250], [500, 800, 500], [0, 1, 0], [0, 1, 2], 0)
    assert apart.key == "no_neighbour"
    # A next to B, both of community 0: B's grid borders A's
    beside = why([250, 250, 400], [500, 500, 800], [0, 0, 1], [0, 1, 2], 0)
    assert beside.key is None
    # ... unless B's grid is kept as it is: it takes no units
    assert why([250, 250, 400], [500, 500, 800], [0, 0, 1], [0, 1, 2], 0, kept={1}).key == (
        "no_neighbour"
    )


def test_a_kept_grid_is_named_unless_a_unit_explains_it() -> None:
    assert why([300, 300], [600, 600], [0, 0], [0, 0], 0, kept={0}).key == "kept"
    assert why([300, 300], [600, 600], [0, 0], [0, 0], 0).key is None
    assert why([501], [600], [0], [0], 0, kept={0}).key == "unit_too_big"  # unlocking won't help


def test_the_reasons_are_added_to_the_cases_words() -> None:
    # grid 0: one unit of 501 households; grid 1: two units of 400, within the bounds
    units = row([501, 200, 200], [600, 400, 400], [0, 0, 0])
    labels = np.array([0, 1, 1])
    cases = explained(units, labels, report_cases(units, labels, RULES), RULES)
    assert [(c.kind, c.grid, c.reason, c.detail) for c in cases] == [
        ("out_of_bounds", 0, "unit_too_big", {"largest": 501})
    ]
    suffix = "; one of its units alone holds 501 households"
    assert cases[0].message == "grid 0: 501 households, 600 residents, outside the bounds" + suffix
    assert cases[0].template.endswith("outside the bounds" + suffix)
