"""Ticket rates, hotspots and before-and-after, against figures worked out by hand."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from gridmap.tickets.stats import before_after, hotspots, months_around, per_thousand


def test_a_rate_is_tickets_per_thousand_households_and_none_without_households() -> None:
    rates = per_thousand([3, 0, 5], [150, 0, 1000])
    assert rates[0] == 20.0 and math.isnan(rates[1]) and rates[2] == 5.0


def test_the_hot_areas_lie_above_the_citys_ninetieth_percentile() -> None:
    areas = pd.DataFrame(
        {
            "code": [f"a{i}" for i in range(10)] + ["empty"],
            "tickets": [*list(range(10)), 5],
            "households": [100] * 10 + [0],
        }
    )
    found = hotspots(areas)
    # rates 0, 10, …, 90 per 1,000: position 0.9 × 9 = 8.1 between 80 and 90 → 81
    assert found.threshold == pytest.approx(81.0)
    assert found.areas.loc[found.areas["hot"], "code"].tolist() == ["a9"]
    assert found.areas["code"].iloc[0] == "a9"  # the highest rate first
    assert not found.areas.set_index("code").loc["empty", "hot"]  # no households: no rate


def test_a_rate_at_the_threshold_does_not_stand_out() -> None:
    areas = pd.DataFrame(
        {"code": list("abcde"), "tickets": [1, 2, 3, 4, 5], "households": [100] * 5}
    )
    found = hotspots(areas, percentile=50)
    assert found.threshold == pytest.approx(30.0)
    assert sorted(found.areas.loc[found.areas["hot"], "code"]) == ["d", "e"]


def test_no_area_with_households_has_no_threshold() -> None:
    found = hotspots(pd.DataFrame({"code": ["a"], "tickets": [3], "households": [0]}))
    assert found.threshold is None and not found.areas["hot"].any()
    with pytest.raises(ValueError, match="percentile"):
        hotspots(pd.DataFrame({"code": ["a"], "tickets": [3], "households": [1]}), 101)


def test_the_months_around_a_change_leave_its_own_month_out_and_cross_years() -> None:
    assert months_around(date(2026, 3, 15), 2) == (
        ["2026-01", "2026-02"],
        "2026-03",
        ["2026-04", "2026-05"],
    )
    assert months_around(date(2026, 1, 31), 2) == (
        ["2025-11", "2025-12"],
        "2026-01",
        ["2026-02", "2026-03"],
    )
    with pytest.raises(ValueError, match="months"):
        months_around(date(2026, 1, 1), 0)


def test_before_and_after_beside_the_city() -> None:
    chosen = pd.Series({"2026-01": 4, "2026-02": 6, "2026-03": 100, "2026-04": 2, "2026-05": 3})
    city = pd.Series({"2026-01": 40, "2026-02": 60, "2026-03": 500, "2026-04": 70, "2026-05": 80})
    found = before_after(chosen, city, date(2026, 3, 9), 2)
    assert found.month == "2026-03"
    assert found.before.months == {"2026-01": 4, "2026-02": 6} and found.before.total == 10
    assert found.after.months == {"2026-04": 2, "2026-05": 3} and found.after.total == 5
    assert found.change == pytest.approx(-0.5)  # 10 → 5
    assert (found.city_before.total, found.city_after.total) == (100, 150)
    assert found.city_change == pytest.approx(0.5)
    assert found.against_city == pytest.approx(0.5 / 1.5 - 1)  # halved while the city grew


def test_before_and_after_without_tickets_before_has_no_change() -> None:
    found = before_after(pd.Series({"2026-04": 2}), pd.Series(dtype="int64"), date(2026, 3, 1), 1)
    assert found.before.total == 0 and found.after.total == 2
    assert found.change is None and found.city_change is None and found.against_city is None


def test_one_household_is_enough_for_a_rate() -> None:
    assert per_thousand([2], [1]).tolist() == [2000.0]


def test_the_percentile_may_be_0_or_100_not_beyond() -> None:
    areas = pd.DataFrame({"code": ["a", "b"], "tickets": [1, 3], "households": [1000, 1000]})
    assert hotspots(areas, 0).threshold == 1.0 and hotspots(areas, 100).threshold == 3.0
    assert hotspots(areas, 100).percentile == 100
    for wrong in (-0.01, 100.01):
        with pytest.raises(ValueError, match="percentile must lie within 0–100"):
            hotspots(areas, wrong)


def test_areas_of_one_rate_are_ranked_by_tickets_then_code() -> None:
    areas = pd.DataFrame(
        {
            "code": ["b", "a", "c", "d"],
            "tickets": [2, 2, 4, 0],
            "households": [1000, 1000, 2000, 1000],  # b, a and c: 2 per 1,000
        }
    )
    found = hotspots(areas, 50).areas
    assert found["code"].tolist() == ["c", "a", "b", "d"]
    assert found.index.tolist() == [0, 1, 2, 3]
    assert list(found.columns) == ["code", "tickets", "households", "rate", "hot"]


def test_no_tickets_before_means_no_change_even_when_the_city_moved() -> None:
    city = pd.Series({"2026-02": 10, "2026-04": 20})
    found = before_after(pd.Series({"2026-04": 2}), city, date(2026, 3, 1), 1)
    assert found.city_change == pytest.approx(1.0)
    assert found.change is None and found.against_city is None
