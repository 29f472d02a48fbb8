"""Imports that would stack units or buildings on the stored ones are refused, or replace them."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
from sqlalchemy.orm import Session

from tests.gridmap.io.test_file_import import cell, city, count, run, units_frame, write
from tests.gridmap.io.test_import_validation import refused

__all__ = ["city"]


def with_plan(db: Session, tmp_path: Path) -> None:
    grids = gpd.GeoDataFrame(geometry=[cell(0, 0, 2, 2), cell(2, 0, 2, 2)], crs=4326)
    run(db, "grids", write(grids, tmp_path / "grids.geojson"), make_current=True)


def test_a_units_file_without_codes_over_the_stored_units_is_refused(
    city: Session, tmp_path: Path
) -> None:
    message = refused(city, "units", write(units_frame(), tmp_path / "again.geojson"), "unit")

    assert "8 problems, nothing was imported" in message
    assert "feature 1: overlaps the stored unit 5101070010010003 by 10,6" in message
    assert "(100% of the smaller)" in message and "--replace" in message
    assert count(city, "SELECT count(*) FROM unit") == 8


def test_slivers_along_shared_edges_stay_under_the_tolerance(city: Session, tmp_path: Path) -> None:
    # a unit east of the city's units that reaches 3% of a cell into its western neighbour
    frame = gpd.GeoDataFrame(geometry=[cell(3.97, 0)], crs=4326)
    run(city, "units", write(frame, tmp_path / "sliver.geojson"))  # no error: under 5%
    assert count(city, "SELECT count(*) FROM unit") == 9


def test_replace_hands_the_grids_to_the_new_units_in_every_plan(
    city: Session, tmp_path: Path
) -> None:
    with_plan(city, tmp_path)
    before = (
        city.connection().exec_driver_sql("SELECT code, households FROM grid ORDER BY code").all()
    )
    # the two western cells of the first community, redrawn as one unit of 300 households
    frame = gpd.GeoDataFrame({"households": [300]}, geometry=[cell(0, 0, 1, 2)], crs=4326)

    result = run(city, "units", write(frame, tmp_path / "redrawn.geojson"), replace=True)

    assert "2 stored units replaced" in result.notes[-1]
    assert count(city, "SELECT count(*) FROM unit") == 7
    assert (
        count(
            city,
            "SELECT count(*) FROM unit u WHERE NOT EXISTS "
            "(SELECT 1 FROM assignment a WHERE a.unit_id = u.id)",
        )
        == 0
    )
    after = (
        city.connection().exec_driver_sql("SELECT code, households FROM grid ORDER BY code").all()
    )
    # the first grid held units of 100, 200, 500, 600 households; 100 and 500 became one of 300
    assert [c for c, _ in after] == [c for c, _ in before]
    assert [h for _, h in before] == [1400, 2200]
    assert [h for _, h in after] == [1400 - 600 + 300, 2200]
    audit = count(city, "SELECT count(*) FROM audit WHERE action = 'replace units'")
    assert audit == 1


def test_units_of_one_file_on_top_of_each_other_are_refused(city: Session, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(geometry=[cell(5, 0, 2, 1), cell(6, 0, 2, 1)], crs=4326)

    message = refused(city, "units", write(frame, tmp_path / "stacked.geojson"), "unit")

    assert "feature 2: overlaps feature 1 of the same file (50% of the smaller)" in message


def test_buildings_over_stored_ones_are_refused_or_replaced(city: Session, tmp_path: Path) -> None:
    first = gpd.GeoDataFrame(
        {"osm_id": [1, 2]}, geometry=[cell(0.1, 0.1, 0.3, 0.3), cell(0.6, 0.1, 0.3, 0.3)], crs=4326
    )
    run(city, "buildings", write(first, tmp_path / "b1.geojson"))
    redrawn = gpd.GeoDataFrame(geometry=[cell(0.1, 0.1, 0.35, 0.3)], crs=4326)

    message = refused(city, "buildings", write(redrawn, tmp_path / "b2.geojson"), "building")
    assert "feature 1: overlaps the stored building 1 by" in message

    same_ids = first.assign(geometry=[cell(0.1, 0.1, 0.35, 0.3), cell(0.6, 0.1, 0.3, 0.3)])
    run(city, "buildings", write(same_ids, tmp_path / "b3.geojson"))  # updates by osm_id
    assert count(city, "SELECT count(*) FROM building") == 2

    result = run(city, "buildings", write(redrawn, tmp_path / "b4.geojson"), replace=True)
    assert "1 stored buildings replaced" in result.notes
    assert count(city, "SELECT count(*) FROM building") == 2
    assert count(city, "SELECT count(*) FROM building WHERE osm_id = 1") == 0
