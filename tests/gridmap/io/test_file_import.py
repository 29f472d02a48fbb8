"""File imports on a small Chengdu city: every layer, every format, the CRSs users bring."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely import box
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.crs import wgs84_to_gcj02
from gridmap.io.file_import import import_file
from gridmap.io.options import ImportOptions
from tests.factories import ORIGIN

D = 0.001  # about 100 m at Chengdu


def cell(i: float, j: float, w: float = 1, h: float = 1) -> shapely.Polygon:
    """Return the box of ``w`` × ``h`` cells from cell ``(i, j)`` of the test grid."""
    x, y = ORIGIN[0] + i * D, ORIGIN[1] + j * D
    return box(x, y, x + w * D, y + h * D)


def write(frame: gpd.GeoDataFrame | pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` in the format its suffix names."""
    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".xlsx":
        frame.to_excel(path, index=False)
    elif path.suffix == ".zip":
        folder = path.with_suffix("")
        folder.mkdir()
        frame.to_file(folder / "layer.shp")
        with zipfile.ZipFile(path, "w") as archive:
            for part in folder.iterdir():
                archive.write(part, part.name)
    else:
        frame.to_file(path)
    return path


def regions_frame() -> gpd.GeoDataFrame:
    """A district, one street and two communities of 2 × 2 cells, side by side."""
    return gpd.GeoDataFrame(
        {
            "code": ["510107", "510107001", "510107001001", "510107001002"],
            "name": ["武侯区", "玉林街道", "玉林东路社区", "玉林北路社区"],
        },
        geometry=[cell(0, 0, 4, 2), cell(0, 0, 4, 2), cell(0, 0, 2, 2), cell(2, 0, 2, 2)],
        crs=4326,
    )


def units_frame() -> gpd.GeoDataFrame:
    """Eight units of one cell each, no codes; households of 100..800."""
    cells = [(i, j) for j in range(2) for i in range(4)]
    return gpd.GeoDataFrame(
        {"households": [100 * (k + 1) for k in range(8)]},
        geometry=[cell(i, j) for i, j in cells],
        crs=4326,
    )


def run(db: Session, layer: str, path: Path, **options: object) -> object:
    return import_file(db.connection(), layer, path, ImportOptions(**options))


def count(db: Session, sql: str) -> object:
    return db.connection().execute(text(sql)).scalar_one()


@pytest.fixture
def city(db: Session, tmp_path: Path) -> Session:
    """The regions and units of the small city, imported from files."""
    run(db, "regions", write(regions_frame(), tmp_path / "regions.geojson"))
    run(db, "units", write(units_frame(), tmp_path / "units.gpkg"))
    return db


def test_regions_get_levels_parents_and_source(db: Session, tmp_path: Path) -> None:
    result = run(db, "regions", write(regions_frame(), tmp_path / "regions.geojson"))

    assert result.rows == 4
    rows = (
        db.connection()
        .execute(
            text(
                "SELECT r.code, r.level, p.code, r.source FROM region r "
                "LEFT JOIN region p ON p.id = r.parent_id ORDER BY r.code"
            )
        )
        .all()
    )
    assert rows == [
        ("510107", "district", None, "imported"),
        ("510107001", "street", "510107", "imported"),
        ("510107001001", "community", "510107001", "imported"),
        ("510107001002", "community", "510107001", "imported"),
    ]


def test_units_are_placed_in_communities_and_coded_in_reading_order(city: Session) -> None:
    rows = (
        city.connection()
        .execute(
            text(
                "SELECT u.code, r.code, u.households, u.residents FROM unit u "
                "JOIN region r ON r.id = u.community_id ORDER BY u.code"
            )
        )
        .all()
    )

    codes = [code for code, *_ in rows]
    assert codes == [f"5101070010010{s:03d}" for s in (1, 2, 3, 4)] + [
        f"5101070010020{s:03d}" for s in (1, 2, 3, 4)
    ]
    # west to east, then north to south: in community 1 the first unit is the north-west cell,
    # which holds 500 households (cell (0, 1)); the last is the south-east (1, 0) with 200.
    assert [h for _, _, h, _ in rows[:4]] == [500, 600, 100, 200]
    assert all(r == round(h * 2.62) for *_, h, r in rows)


def test_buildings_with_counts_replace_estimates_and_units_sum_them(
    city: Session, tmp_path: Path
) -> None:
    frame = pd.DataFrame(
        {
            "wkt": [
                c.wkt
                for c in (
                    cell(0.2, 0.2, 0.3, 0.3),
                    cell(0.6, 0.6, 0.3, 0.3),
                    cell(2.2, 0.2, 0.5, 0.5),
                )
            ],
            "residents": ["30", "", ""],
            "households": ["", "7", ""],
            "levels": ["6", "", "4"],
            "building_type": ["apartments", "residential", "apartments"],
        }
    )

    result = run(city, "buildings", write(frame, tmp_path / "buildings.csv"))

    assert result.rows == 3
    rows = (
        city.connection()
        .execute(
            text(
                "SELECT b.residents, b.households, b.source, u.code, u.residents, u.households "
                "FROM building b JOIN unit u ON u.id = b.unit_id ORDER BY b.id"
            )
        )
        .all()
    )
    assert rows[0][:3] == (30, 11, "imported")  # 30 residents / 2.62 per household
    assert rows[1][:3] == (18, 7, "imported")  # 7 households × 2.62
    assert rows[2][2] == "estimated" and rows[2][0] > 0
    # the first two share a unit, which now carries their sums
    assert rows[0][3] == rows[1][3] and rows[0][4:] == (48, 18)
    assert rows[2][4:] == rows[2][:2]


def test_stations_from_xlsx_in_gcj02_come_back_to_wgs84(db: Session, tmp_path: Path) -> None:
    lon, lat = ORIGIN[0] + 0.0005, ORIGIN[1] + 0.0005
    gx, gy = wgs84_to_gcj02(lon, lat)
    frame = pd.DataFrame(
        {
            "编码": ["ST001"],
            "名称": ["玉林东路党群服务站"],
            "经度": [float(gx)],
            "纬度": [float(gy)],
            "services": ["图书阅览、血压测量"],
            "容量": [3000],
            "地址": [" 玉林东路12号 "],
            "开放时间": ["周一至周五 9:00-17:00"],
            "电话": [85551234],
        }
    )

    run(db, "stations", write(frame, tmp_path / "stations.xlsx"), crs="gcj02")

    row = (
        db.connection()
        .execute(
            text(
                "SELECT code, name, services, capacity_residents, address, opening_hours, phone, "
                "ST_Distance(geom::geography, ST_MakePoint(:x, :y)::geography) FROM station"
            ),
            {"x": lon, "y": lat},
        )
        .one()
    )
    assert row[:4] == ("ST001", "玉林东路党群服务站", ["图书阅览", "血压测量"], 3000)
    assert row[4:7] == ("玉林东路12号", "周一至周五 9:00-17:00", "85551234")  # a number cell: text
    assert row[7] < 0.5  # metres


def test_reimporting_stations_replaces_never_duplicates(db: Session, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "code": ["S1", "S2"],
            "name": ["a", "b"],
            "lon": [ORIGIN[0], ORIGIN[0] + D],
            "lat": [ORIGIN[1]] * 2,
        }
    )
    path = write(frame, tmp_path / "stations.csv")
    run(db, "stations", path)
    frame["name"] = ["A", "B"]
    run(db, "stations", write(frame, tmp_path / "stations2.csv"))

    assert count(db, "SELECT string_agg(name, ',' ORDER BY code) FROM station") == "A,B"


def test_grids_from_zipped_gauss_kruger_shapefile_become_a_plan(
    city: Session, tmp_path: Path
) -> None:
    # three grids: two in community 001 (its west and east column), one for all of 002;
    # drawn a little off the unit lines, as real files are
    grids = gpd.GeoDataFrame(
        {"code": ["510107001001001", None, None], "name": ["一网格", "二网格", "三网格"]},
        geometry=[cell(-0.1, -0.1, 1.2, 2.2), cell(1.1, -0.1, 0.95, 2.2), cell(2.05, 0, 2, 2)],
        crs=4326,
    ).to_crs(4544)  # CGCS2000 / 3-degree Gauss-Krüger CM 105E

    result = run(
        city, "grids", write(grids, tmp_path / "grids.zip"), plan_name="现状", make_current=True
    )

    assert result.rows == 3
    rows = (
        city.connection()
        .execute(
            text(
                "SELECT g.code, g.households, count(a.unit_id), p.status, p.name, "
                "round(g.area_m2 / 1e4) FROM grid g JOIN plan p ON p.id = g.plan_id "
                "JOIN assignment a ON a.grid_id = g.id GROUP BY g.id, p.id ORDER BY g.code"
            )
        )
        .all()
    )
    assert [r[:3] for r in rows] == [
        ("510107001001001", 100 + 500, 2),
        ("510107001001002", 200 + 600, 2),
        ("510107001002001", 300 + 400 + 700 + 800, 4),
    ]
    assert {r[3:5] for r in rows} == {("current", "现状")}
    assert count(city, "SELECT count(*) FROM audit WHERE action = 'import grids'") == 1


def test_events_set_units_governance_load(city: Session, tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "external_id": ["12345-1", "12345-2", "12345-3"],
            "kind": ["hotline"] * 3,
            "occurred_at": ["2026-10-01 08:00", "2026-10-02T09:30:00+08:00", "2026/10/03"],
            "lon": [ORIGIN[0] + 0.0005] * 2 + [ORIGIN[0] + 0.0035],
            "lat": [ORIGIN[1] + 0.0005] * 3,
        }
    )

    run(city, "events", write(frame, tmp_path / "events.csv"))

    loads = (
        city.connection()
        .execute(
            text("SELECT code, governance_load FROM unit WHERE governance_load > 0 ORDER BY code")
        )
        .all()
    )
    assert loads == [("5101070010010003", 2.0), ("5101070010020004", 1.0)]


def test_overlays_with_mapped_fields(db: Session, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"NET_NAME": ["治安防控网"], "ZONE": ["ZA-01"]}, geometry=[cell(0, 0, 3, 1)], crs=4326
    )

    run(
        db,
        "overlays",
        write(frame, tmp_path / "zones.gpkg"),
        field_map={"net": "net_name", "code": "zone"},
    )

    assert count(db, "SELECT net || ' ' || code || ' ' || name FROM overlay") == (
        "治安防控网 ZA-01 ZA-01"
    )


def test_invalid_polygon_is_repaired_with_fix_and_reported(db: Session, tmp_path: Path) -> None:
    x, y = ORIGIN
    bowtie = shapely.Polygon([(x, y), (x + D, y + D), (x + D, y), (x, y + D)])
    frame = regions_frame()
    frame.loc[3, "geometry"] = bowtie

    result = run(db, "regions", write(frame, tmp_path / "regions.geojson"), fix=True)

    assert len(result.repairs) == 1
    assert result.repairs[0].startswith("feature 4: repaired Self-intersection")
    assert "2 polygon(s)" in result.repairs[0]
    assert count(db, "SELECT ST_NumGeometries(geom) FROM region WHERE code = '510107001002'") == 2


def test_imported_units_cover_the_district_wall_to_wall(city: Session) -> None:
    assert np.isclose(
        count(city, "SELECT sum(ST_Area(geom::geography)) FROM unit"),
        count(city, "SELECT ST_Area(geom::geography) FROM region WHERE code = '510107'"),
        rtol=1e-9,
    )


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".zip", ".csv", ".xlsx"])
def test_every_format_gives_the_same_stations(db: Session, tmp_path: Path, suffix: str) -> None:
    points = gpd.GeoDataFrame(
        {"code": ["S1", "S2"], "name": ["东站", "西站"], "capacity": [3000, 5000]},
        geometry=shapely.points([ORIGIN[0], ORIGIN[0] + D], [ORIGIN[1], ORIGIN[1]]),
        crs=4326,
    )
    if suffix in (".csv", ".xlsx"):
        frame = pd.DataFrame(points.drop(columns="geometry"))
        frame["经度"], frame["纬度"] = points.geometry.x, points.geometry.y
    else:
        frame = points

    run(
        db,
        "stations",
        write(frame, tmp_path / f"stations{suffix}"),
        field_map={"capacity_residents": "capacity"},
    )

    rows = (
        db.connection()
        .execute(
            text(
                "SELECT code, name, capacity_residents, round(ST_X(geom)::numeric, 6) FROM station "
                "ORDER BY code"
            )
        )
        .all()
    )
    assert [tuple(r[:3]) for r in rows] == [("S1", "东站", 3000), ("S2", "西站", 5000)]
    assert [float(r[3]) for r in rows] == [round(ORIGIN[0], 6), round(ORIGIN[0] + D, 6)]


def test_codes_stored_as_numbers_stay_codes(db: Session, tmp_path: Path) -> None:
    run(db, "regions", write(regions_frame(), tmp_path / "regions.geojson"))
    units = gpd.GeoDataFrame(
        {"code": [5101070010020007], "community": [510107001002], "households": [12]},
        geometry=[cell(2, 0)],
        crs=4326,
    )
    run(db, "units", write(units, tmp_path / "units.geojson"))
    grids = gpd.GeoDataFrame({"kind": ["城区型"]}, geometry=[cell(2, 0)], crs=4326)

    run(db, "grids", write(grids, tmp_path / "grids.geojson"))

    assert count(db, "SELECT code FROM unit") == "5101070010020007"
    assert count(db, "SELECT code || ' ' || kind FROM grid") == "510107001002001 urban"
