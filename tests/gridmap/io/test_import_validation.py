"""Bad input is refused with one clear message naming each feature, and nothing is written."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.errors import InvalidInput
from tests.factories import ORIGIN
from tests.gridmap.io.test_file_import import D, cell, count, regions_frame, run, units_frame, write


def refused(db: Session, layer: str, path: Path, table: str, **options: object) -> str:
    """Import ``path``, expect a refusal, check nothing was written; return the message."""
    before = count(db, f"SELECT count(*) FROM {table}")
    with pytest.raises(InvalidInput) as caught:
        run(db, layer, path, **options)
    assert count(db, f"SELECT count(*) FROM {table}") == before
    return str(caught.value)


@pytest.fixture
def city(db: Session, tmp_path: Path) -> Session:
    run(db, "regions", write(regions_frame(), tmp_path / "regions.geojson"))
    return db


def test_invalid_geometry_names_the_feature_and_the_reason(db: Session, tmp_path: Path) -> None:
    x, y = ORIGIN
    frame = regions_frame()
    frame.loc[2, "geometry"] = shapely.Polygon([(x, y), (x + D, y + D), (x + D, y), (x, y + D)])

    message = refused(db, "regions", write(frame, tmp_path / "r.geojson"), "region")

    assert "r.geojson: 1 problem, nothing was imported" in message
    assert "feature 3: invalid geometry: Self-intersection[" in message
    assert "--fix" in message


def test_coordinates_out_of_range(db: Session, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"code": ["S1", "S2"], "name": ["a", "b"], "lon": [104.05, 204.05], "lat": [30.64, 30.64]}
    )

    message = refused(db, "stations", write(frame, tmp_path / "s.csv"), "station")

    assert "row 3: coordinates out of range (204.05, 30.64)" in message
    assert "row 2" not in message


def test_swapped_latitude_and_longitude_are_found_against_the_city(
    city: Session, tmp_path: Path
) -> None:
    # both orders are in range; only the city's extent (Chengdu) tells which is right
    lon, lat = ORIGIN
    frame = pd.DataFrame(
        {"code": ["S1", "S2"], "name": ["a", "b"], "lon": [lon, lat], "lat": [lat, lon]}
    )

    message = refused(city, "stations", write(frame, tmp_path / "s.csv"), "station")

    assert "row 3: latitude and longitude look swapped" in message
    assert "row 2" not in message


def test_the_wrong_geometry_type(db: Session, tmp_path: Path) -> None:
    frame = regions_frame()
    frame.loc[1, "geometry"] = shapely.LineString([ORIGIN, (ORIGIN[0] + D, ORIGIN[1])])

    message = refused(db, "regions", write(frame, tmp_path / "r.geojson"), "region")

    assert "feature 2: is a LineString; regions must be polygons" in message


def test_missing_and_duplicate_codes(db: Session, tmp_path: Path) -> None:
    frame = regions_frame()
    frame.loc[2, "code"] = None
    frame.loc[3, "code"] = "510107001"
    frame.loc[0, "code"] = "5101"

    message = refused(db, "regions", write(frame, tmp_path / "r.gpkg"), "region")

    assert "feature 3: code is missing" in message
    assert "feature 4: duplicate code '510107001' (first at feature 2)" in message
    assert "feature 1: code '5101' is not a 6 or 9 or 12-digit region code" in message


def test_non_numeric_and_negative_counts(city: Session, tmp_path: Path) -> None:
    frame = units_frame().astype({"households": object})
    frame.loc[1, "households"] = "about 300"
    frame.loc[2, "households"] = -5
    frame["residents"] = "1"

    message = refused(city, "units", write(frame, tmp_path / "u.geojson"), "unit")

    assert "feature 2: households 'about 300' is not a number" in message
    assert "feature 3: households is negative (-5)" in message


def test_empty_files(db: Session, tmp_path: Path) -> None:
    (tmp_path / "empty.geojson").write_text("")
    (tmp_path / "none.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": []})
    )
    (tmp_path / "header.csv").write_text("code,name,lon,lat\n")

    assert "the file is empty" in refused(db, "regions", tmp_path / "empty.geojson", "region")
    assert "the file has no features" in refused(db, "regions", tmp_path / "none.geojson", "region")
    assert "the file has no features" in refused(db, "stations", tmp_path / "header.csv", "station")


def test_a_file_that_is_not_what_its_name_says(db: Session, tmp_path: Path) -> None:
    (tmp_path / "regions.geojson").write_text("code,name\n510107,武侯区\n")
    (tmp_path / "regions.gpkg").write_text('{"type": "FeatureCollection"}')
    (tmp_path / "regions.zip").write_bytes(b"PK-not-really")
    (tmp_path / "regions.txt").write_text("hello")

    assert "is not a GeoJSON file" in refused(db, "regions", tmp_path / "regions.geojson", "region")
    assert "is not a GeoPackage file" in refused(db, "regions", tmp_path / "regions.gpkg", "region")
    assert "is not a zipped Shapefile" in refused(db, "regions", tmp_path / "regions.zip", "region")
    assert "unknown kind of file" in refused(db, "regions", tmp_path / "regions.txt", "region")


def test_many_problems_list_the_first_twenty(db: Session, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"code": ["S"] * 30, "name": ["a"] * 30, "lon": [ORIGIN[0]] * 30, "lat": [ORIGIN[1]] * 30}
    )

    message = refused(db, "stations", write(frame, tmp_path / "s.csv"), "station")

    assert "29 problems" in message
    assert message.count("duplicate code 'S' (first at row 2)") == 20
    assert message.endswith("... and 9 more")


def test_problems_of_every_kind_come_together(db: Session, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "code": ["S1", None, "S3"],
            "name": ["a", "b", "c"],
            "lon": ["104.05", "x", "104.06"],
            "lat": ["30.64", "30.64", "30.64"],
            "capacity_residents": ["100", "200", "-1"],
        }
    )

    message = refused(db, "stations", write(frame, tmp_path / "s.csv"), "station")

    assert "3 problems" in message
    for part in (
        "row 3: lon/lat are not numbers",
        "row 3: code is missing",
        "row 4: capacity_residents is negative (-1)",
    ):
        assert part in message


def test_a_map_to_a_missing_column_lists_the_columns(db: Session, tmp_path: Path) -> None:
    path = write(regions_frame(), tmp_path / "r.geojson")

    message = refused(db, "regions", path, "region", field_map={"name": "mc"})

    assert "--map: the file has no column 'mc' (it has: code, name)" in message


def test_orphan_regions_and_units_outside_every_community(city: Session, tmp_path: Path) -> None:
    orphans = gpd.GeoDataFrame(
        {"code": ["510107002001"], "name": ["x"]}, geometry=[cell(0, 0)], crs=4326
    )
    units = gpd.GeoDataFrame({"households": [5]}, geometry=[cell(6, 0)], crs=4326)

    assert "its parent 510107002 is in neither the file nor the database" in refused(
        city, "regions", write(orphans, tmp_path / "o.geojson"), "region"
    )
    assert "feature 1: lies in no community" in refused(
        city, "units", write(units, tmp_path / "u.geojson"), "unit"
    )


def test_grids_that_span_communities_or_leave_units_out(city: Session, tmp_path: Path) -> None:
    run(city, "units", write(units_frame(), tmp_path / "units.gpkg"))
    grids = gpd.GeoDataFrame(
        {"name": ["一", "二"]}, geometry=[cell(0, 0, 3, 2), cell(3, 0, 1, 1)], crs=4326
    )

    message = refused(city, "grids", write(grids, tmp_path / "g.geojson"), "grid")

    assert "feature 1: spans communities 510107001001, 510107001002" in message
    assert "unit 5101070010020002: lies in no grid of the file" in message


def test_the_command_line_reports_without_a_traceback(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    frame = pd.DataFrame(
        {"code": ["S1", "S1"], "name": ["a", "b"], "lon": [104.05, 104.06], "lat": [30.64, 30.64]}
    )

    result = CliRunner().invoke(app, ["import", "stations", str(write(frame, tmp_path / "s.csv"))])

    assert result.exit_code == 1
    assert "row 3: duplicate code 'S1' (first at row 2)" in result.output
    assert "Traceback" not in result.output
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM station")).scalar_one() == 0


def test_bad_unit_codes_are_reported_not_crashed_on(city: Session, tmp_path: Path) -> None:
    frame = units_frame()
    frame["code"] = ["12AB", None, "5101070010019999", None, None, None, None, None]

    message = refused(city, "units", write(frame, tmp_path / "u.geojson"), "unit")

    assert "feature 1: code '12AB' is not a 16-digit unit code" in message
    assert "feature 3: code 5101070010019999 does not start with its community's code " in message
    assert "510107001001: no free 4-digit serials left for 3 more codes" in message


@pytest.mark.parametrize(
    ("layer", "table", "columns", "missing"),
    [
        ("stations", "station", {"code": ["S1"]}, "name"),
        ("events", "event", {"kind": ["hotline"]}, "occurred_at"),
        ("regions", "region", {"name": ["x"]}, "code"),
    ],
)
def test_a_required_column_that_is_missing(
    db: Session, tmp_path: Path, layer: str, table: str, columns: dict, missing: str
) -> None:
    frame = pd.DataFrame(
        {**columns, "wkt": [cell(0, 0).wkt if layer == "regions" else shapely.Point(*ORIGIN).wkt]}
    )

    message = refused(db, layer, write(frame, tmp_path / "f.csv"), table)

    assert f"file: no {missing!r} column" in message
