"""OSM admin boundaries become coded regions, nested by where each one's largest part lies."""

from __future__ import annotations

import geopandas as gpd

from gridmap.io.osm_regions import regions_from_boundaries
from tests.gridmap.io.test_file_import import cell


def _boundaries(*rows: tuple[str, int, object]) -> gpd.GeoDataFrame:
    names, levels, geoms = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"name": names, "admin_level": levels}, geometry=list(geoms), crs=4326)


def test_districts_streets_and_communities_are_coded_in_reading_order() -> None:
    boundaries = _boundaries(
        ("武侯区", 6, cell(0, 0, 4, 4)),
        ("南街道", 8, cell(0, 0, 4, 2)),
        ("北街道", 8, cell(0, 2, 4, 2)),
        ("西南社区", 10, cell(0, 0, 2, 2)),
        ("东南社区", 10, cell(2, 0, 2, 2)),
        ("西北社区", 10, cell(0, 2, 2, 2)),
        ("东北社区", 10, cell(2, 2, 2, 2)),
        ("某省", 4, cell(-10, -10, 30, 30)),  # a province: not a region level of gridmap
    )

    regions = regions_from_boundaries(boundaries, "510107").set_index("name")

    assert regions.loc["武侯区", ["code", "level", "parent_code"]].tolist() == [
        "510107",
        "district",
        "510100",
    ]
    assert regions.loc["北街道", "code"] == "510107001"  # north first
    assert regions.loc["南街道", "code"] == "510107002"
    assert regions.loc[["西北社区", "东北社区", "西南社区", "东南社区"], "code"].tolist() == [
        "510107001001",
        "510107001002",
        "510107002001",
        "510107002002",
    ]
    assert (regions.loc["东南社区", "parent_code"]) == "510107002"
    assert "某省" not in regions.index


def test_communities_without_streets_get_one_street_per_district() -> None:
    boundaries = _boundaries(("西社区", 10, cell(0, 0, 2, 2)), ("东社区", 10, cell(2, 0, 2, 2)))

    regions = regions_from_boundaries(boundaries, "510107")

    assert sorted(zip(regions["level"], regions["code"], strict=True)) == [
        ("community", "510107001001"),
        ("community", "510107001002"),
        ("district", "510107"),
        ("street", "510107001"),
    ]


def test_boundaries_without_communities_give_no_regions() -> None:
    assert regions_from_boundaries(_boundaries(("区", 6, cell(0, 0))), "510107").empty
