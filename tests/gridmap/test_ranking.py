"""The ranking's scores, worked out by hand on seven parts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gridmap.reports.ranking import covered_share, lower_is_better, scored, within_bounds


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


def test_lower_is_better_measures_from_the_least_not_from_zero() -> None:
    assert lower_is_better(pd.Series([10.0, 20.0, 30.0])).tolist() == [100.0, 50.0, 0.0]


def test_one_worker_is_a_worker_and_an_unknown_share_within_scores_nothing() -> None:
    frame = parts(3)
    frame["workers"] = [1, 2, 4]  # 2,000, 1,000 and 500 residents per worker
    frame["within"] = [1.0, math.nan, 0.5]
    out = scored(frame).set_index("code")
    assert out["per_worker"].tolist() == [2000.0, 1000.0, 500.0]
    # 2,000 the most, 500 the least: 1,000 scores 100 × (2,000 − 1,000) / 1,500
    assert out["score_staffing"].tolist() == [0.0, pytest.approx(200 / 3), 100.0]
    assert out["score_bounds"].tolist() == [100.0, 0.0, 50.0]


def test_equal_scores_rank_by_code_and_the_rows_are_numbered_afresh() -> None:
    frame = parts(3)
    frame["code"] = ["z", "m", "a"]
    frame["coverage"] = [0.5, 0.5, 0.5]
    frame["tickets"] = [10, 10, 10]
    frame["workers"] = [4, 4, 4]
    frame["within"] = [1.0, 1.0, 1.0]
    out = scored(frame)
    assert out["code"].tolist() == ["a", "m", "z"] and out["rank"].tolist() == [1, 2, 3]
    assert out.index.tolist() == [0, 1, 2] and "index" not in out.columns


def test_a_grid_of_a_kind_without_bounds_is_within_them_even_empty() -> None:
    grids = pd.DataFrame({"kind": ["special", "special"], "households": [0, 5000]})
    assert within_bounds(grids).tolist() == [1.0, 1.0]


def test_the_covered_share_of_one_resident_is_known_and_of_none_unknown() -> None:
    share = covered_share(
        pd.DataFrame({"covered_residents": [0, 0, 1, 2, 0], "run_residents": [0, 1, 1, 3, None]})
    )
    assert share.tolist()[1:4] == [0.0, 1.0, 2 / 3]
    assert math.isnan(share[0]) and math.isnan(share[4])
