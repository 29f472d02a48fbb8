"""Multi-net alignment on a hand-made map with exact answers."""

from __future__ import annotations

import geopandas as gpd
from shapely import Point, box

from gridmap.alignment import align

CRS = "EPSG:32650"


def test_a_zone_cutting_grids_snaps_to_the_grids_it_mostly_covers() -> None:
    # four 100 m grids in a row; each has two units (west and east half) of 10 households
    grids = gpd.GeoDataFrame(
        {"code": ["g1", "g2", "g3", "g4"]},
        geometry=[box(i * 100, 0, i * 100 + 100, 100) for i in range(4)],
        crs=CRS,
    )
    units = gpd.GeoDataFrame(
        {"grid": [g for g in ["g1", "g2", "g3", "g4"] for _ in (0, 1)], "households": [10] * 8},
        geometry=[Point(i * 100 + dx, 50) for i in range(4) for dx in (25, 75)],
        crs=CRS,
    )
    # zone A covers g1, 80% of g2 (x 100–180); zone B covers the rest: 20% of g2, g3, g4
    zones = gpd.GeoDataFrame(
        {"net": ["治安", "治安"], "code": ["A", "B"], "name": ["甲", "乙"]},
        geometry=[box(0, 0, 180, 100), box(180, 0, 400, 100)],
        crs=CRS,
    )

    result = align(zones, grids, units).zones.set_index("code")

    assert result.loc["A", "grids_cut"] == 1 and result.loc["B", "grids_cut"] == 1
    assert result.loc["A", "cut_area_m2"] == 8000 and result.loc["B", "cut_area_m2"] == 2000
    assert result.loc["A", "snapped"] == ["g1", "g2"] and result.loc["B", "snapped"] == ["g3", "g4"]
    assert result.loc["A", "adds"] == ["g2"] and result.loc["B", "drops"] == ["g2"]
    # both units of g2 lie in A (x = 125 and 175), so snapping moves nobody
    assert result.loc["A", "households_affected"] == 0 == result.loc["B", "households_affected"]


def test_households_affected_are_the_units_that_change_zone() -> None:
    grids = gpd.GeoDataFrame({"code": ["g1"]}, geometry=[box(0, 0, 100, 100)], crs=CRS)
    units = gpd.GeoDataFrame(
        {"grid": ["g1", "g1"], "households": [30, 12]},
        geometry=[Point(25, 50), Point(75, 50)],
        crs=CRS,
    )
    # A covers 60% of the grid and holds the west unit; B covers 40% and holds the east one
    zones = gpd.GeoDataFrame(
        {"net": ["n", "n"], "code": ["A", "B"], "name": ["", ""]},
        geometry=[box(0, 0, 60, 100), box(60, 0, 100, 100)],
        crs=CRS,
    )

    result = align(zones, grids, units).zones.set_index("code")

    assert result.loc["A", "snapped"] == ["g1"] and result.loc["B", "snapped"] == []
    # the east unit (12 households) leaves B for A: it counts for both zones
    assert result.loc["A", "households_affected"] == 12 == result.loc["B", "households_affected"]
    assert result.loc["B", "drops"] == ["g1"]
