"""The demo city's one recipe: its steps, in order."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridmap.demo import DEMO_STEPS, build_demo_city, draw_sample_tickets
from gridmap.errors import InvalidInput


def test_the_recipe_names_its_steps_and_refuses_another() -> None:
    assert DEMO_STEPS[0] == "osm" and DEMO_STEPS[-1] == "tickets"
    with pytest.raises(InvalidInput, match="until: one of osm, units"):
        build_demo_city(None, until="tiles")  # type: ignore[arg-type]  # refused before any work


def _town(households: list[int]) -> gpd.GeoDataFrame:
    """Hand-made units: unit squares of 0.001° in a row, with the households given."""
    return gpd.GeoDataFrame(
        {
            "code": [f"990101001001000{i}" for i in range(len(households))],
            "households": households,
        },
        geometry=[
            shapely.box(i * 0.001, 0, (i + 1) * 0.001, 0.001) for i in range(len(households))
        ],
        crs=4326,
    )


def test_the_example_tickets_tell_their_story_in_a_hotline_export() -> None:
    units = _town([400, 300, 0, 250, 500, 350, 200, 450])
    drawn = draw_sample_tickets(units, date(2026, 12, 4), seed=3)
    frame = drawn.frame
    assert list(frame.columns) == [
        "工单编号",
        "诉求类型",
        "受理时间",
        "工单状态",
        "诉求地址",
        "经度",
        "纬度",
    ]
    assert frame["工单编号"].is_unique
    # the twelve months before December 2026, in local time as the hotline writes it
    months = frame["受理时间"].str[:7]
    assert months.min() == "2025-12" and months.max() == "2026-11"
    assert drawn.branch_day == date(2026, 6, 1)
    # each placed ticket lies inside the unit its address names; none in the empty unit
    placed = frame.dropna(subset=["经度"])
    assert 0 < len(frame) - len(placed) < 0.06 * len(frame)
    assert frame["经度"].isna().equals(frame["纬度"].isna())
    named = placed["诉求地址"].str.extract(r"示例小区(\d+)")[0]
    squares = units.set_index("code").geometry
    inside = shapely.contains_xy(
        np.asarray(squares.loc[named].values, dtype=object), placed["经度"], placed["纬度"]
    )
    assert inside.all()
    assert units.loc[units["households"] == 0, "code"].iloc[0] not in set(named)
    # the compound with a new party branch: over 100 tickets in the half-year before, far
    # fewer after; the hot units above every everyday one in tickets per household
    branch = frame["诉求地址"].str.contains(drawn.branch_unit)
    before = (branch & (frame["受理时间"] < "2026-06")).sum()
    after = (branch & (frame["受理时间"] >= "2026-06")).sum()
    assert before > 100 and after < 0.5 * before
    per_household = named.value_counts() / units.set_index("code")["households"]
    everyday = per_household.drop([*drawn.hot_units, drawn.branch_unit]).dropna()
    assert per_household.loc[list(drawn.hot_units)].min() > everyday.max()


def test_the_example_tickets_need_units_with_households() -> None:
    with pytest.raises(InvalidInput, match="units: the demo's tickets need 4 with households"):
        draw_sample_tickets(_town([10, 0, 0, 20, 30]), date(2026, 12, 4))
