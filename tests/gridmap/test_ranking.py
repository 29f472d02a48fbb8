"""The ranking's scores, worked out by hand on seven parts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gridmap.reports.ranking import lower_is_better, scored, within_bounds


def parts(n: int = 7) -> pd.DataFrame:
    codes = list("abcdefg")[:n]
    return pd.DataFrame(
        {
            "code": codes,
            "name": [f"社区{c}" for c in codes],
            "households": [1000] * n,
            "residents": [2000] * n,
            "workers": [4] * (n - 1) + [0],  # the last has residents and nobody
            "coverage": [1.0, 0.9, 0.8, 0.7, 0.6, 0.5, math.nan][:n],
            "tickets": [0, 10, 20, 30, 40, 50, 60][:n],
            "within": [1.0] * (n - 1) + [0.0],
        }
    )


def test_lower_is_better_scores_by_min_and_max() -> None:
    got = lower_is_better(pd.Series([0.0, 10.0, 5.0, math.nan, math.inf]))
    assert got.tolist() == [100.0, 0.0, 50.0, 0.0, 0.0]
    assert lower_is_better(pd.Series([3.0, 3.0])).tolist() == [100.0, 100.0]
    assert lower_is_better(pd.Series([math.nan])).tolist() == [0.0]


def test_seven_parts_scored_ranked_and_the_bottom_five_marked() -> None:
    out = scored(parts())
    # a: 40 + 30 + 15 + 15; b: 0.4 × 90 + 0.3 × (100 × 50 / 60) + 15 + 15 = 36 + 25 + 30; ...
    expected = {"a": 100.0, "b": 91.0, "c": 82.0, "d": 73.0, "e": 64.0, "f": 55.0, "g": 0.0}
    assert dict(zip(out["code"], np.round(out["score"], 6), strict=True)) == expected
    assert out["rank"].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert out.loc[out["bottom"], "code"].tolist() == ["c", "d", "e", "f", "g"]
    g = out.set_index("code").loc["g"]
    assert (g["score_staffing"], g["score_coverage"], g["score_bounds"]) == (0.0, 0.0, 0.0)
    assert math.isnan(g["per_worker"])  # printed as no figure, scored as the worst
    assert out.set_index("code").loc["b", "per_1000"] == pytest.approx(10.0)


def test_five_parts_or_fewer_name_no_bottom_five() -> None:
    assert not scored(parts(5))["bottom"].any()
    assert scored(parts(6))["bottom"].sum() == 5


def test_a_grid_exactly_at_a_bound_is_within() -> None:
    grids = pd.DataFrame(
        {
            "kind": ["urban", "urban", "urban", "urban", "rural", "rural", "dedicated"],
            "households": [299, 300, 500, 501, 200, 401, 9999],
        }
    )
    assert within_bounds(grids).tolist() == [0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0]
