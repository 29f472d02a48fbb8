"""Files as agencies ship them: one encoding per file, codes as text, shapefiles whole, no Z.

Each case is a small hand-made file; expected values are what the file says, written out here.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
import shapely
from sqlalchemy.orm import Session

from gridmap.io.problems import Problems
from gridmap.io.read import read_features, read_rows
from gridmap.io.text import GB18030, UTF8, dbf_encoding, detect_encoding
from tests.factories import ORIGIN
from tests.gridmap.io.test_file_import import cell, count, regions_frame, run, write
from tests.gridmap.io.test_import_validation import refused

X, Y = ORIGIN


@pytest.fixture
def city(db: Session, tmp_path: Path) -> Session:
    run(db, "regions", write(regions_frame(), tmp_path / "regions.geojson"))
    return db


def events_csv(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"kind,occurred_at,lon,lat\n" + b"\n".join(lines) + b"\n")
    return path


def event_line(kind: str, encoding: str) -> bytes:
    return f"{kind},2026-03-01 10:00,{X + 0.0005},{Y + 0.0005}".encode(encoding)


# --- one encoding per file -------------------------------------------------------------------


def test_a_gb18030_csv_is_read_as_gb18030_and_says_so(city: Session, tmp_path: Path) -> None:
    path = events_csv(tmp_path / "e.csv", [event_line("噪音", "gb18030")] * 3)

    result = run(city, "events", path)

    assert "text read as GB18030" in result.notes
    kinds = city.connection().exec_driver_sql("SELECT DISTINCT kind FROM event").scalars().all()
    assert kinds == ["噪音"]


def test_utf8_with_a_bom_is_utf8(city: Session, tmp_path: Path) -> None:
    path = events_csv(tmp_path / "e.csv", [event_line("噪音", "utf-8")])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    result = run(city, "events", path)

    assert "text read as UTF-8" in result.notes
    assert count(city, "SELECT count(*) FROM event WHERE kind = '噪音'") == 1


def test_a_file_half_utf8_half_gb18030_is_refused_naming_the_first_other_line(
    city: Session, tmp_path: Path
) -> None:
    lines = [event_line("噪音", "utf-8")] * 2 + [event_line("噪音", "gb18030")] * 2
    path = events_csv(tmp_path / "mixed.csv", lines)

    message = refused(city, "events", path, "event")

    assert "line 2 is UTF-8 but line 4 is not" in message
    assert "one encoding" in message


@pytest.mark.parametrize("layer", ["regions", "stations", "overlays", "events"])
def test_every_layer_refuses_a_mixed_file_alike(city: Session, tmp_path: Path, layer: str) -> None:
    header = b"code,name,net,kind,occurred_at,lon,lat\n"
    utf8 = f"9901,站一,党建,噪音,2026-03-01,{X},{Y}\n".encode()
    gb = f"9902,站二,党建,噪音,2026-03-01,{X},{Y}\n".encode("gb18030")
    path = tmp_path / f"{layer}.csv"
    path.write_bytes(header + utf8 + gb)

    with pytest.raises(Exception, match="line 2 is UTF-8 but line 3 is not"):
        run(city, layer, path)


def test_a_file_in_neither_encoding_names_the_line() -> None:
    data = b"a,b\n1,2\n3,\xff\xff\n"
    with pytest.raises(Exception, match=r"t.csv: line 3 is not GB18030"):
        detect_encoding(data, "t.csv")


def test_encoding_given_by_the_user_wins(city: Session, tmp_path: Path) -> None:
    path = events_csv(tmp_path / "e.csv", [event_line("噪音", "gb18030")])

    message = refused(city, "events", path, "event", encoding="utf-8")

    assert "line 2 is not utf-8" in message


# --- shapefiles: the .cpg, the language byte, the text itself ---------------------------------


def gbk_shapefile(folder: Path, *, cpg: bool) -> Path:
    """Regions with Chinese headers and names, in a .dbf written as GBK."""
    folder.mkdir()
    frame = regions_frame().rename(columns={"code": "编码", "name": "名称"})
    frame.to_file(folder / "regions.shp", encoding="gbk")
    if not cpg:
        (folder / "regions.cpg").unlink()
    return folder / "regions.shp"


def test_a_gbk_shapefile_without_cpg_reads_its_chinese_headers_and_names(
    db: Session, tmp_path: Path
) -> None:
    path = gbk_shapefile(tmp_path / "shp", cpg=False)

    result = run(db, "regions", path)

    assert result.rows == 4
    assert "text read as GB18030 (its .dbf's text is not UTF-8 and there is no .cpg)" in (
        result.notes
    )
    names = db.connection().exec_driver_sql("SELECT name FROM region ORDER BY code").scalars()
    assert list(names) == ["武侯区", "玉林街道", "玉林东路社区", "玉林北路社区"]


def test_the_cpg_and_the_language_byte_name_the_encoding() -> None:
    dbf = bytearray(64)
    dbf[8:10] = (33).to_bytes(2, "little")
    assert dbf_encoding(bytes(dbf), b"GBK\n") == (GB18030, "its .cpg says GBK")
    assert dbf_encoding(bytes(dbf), b"UTF-8") == (UTF8, "its .cpg says UTF-8")
    dbf[29] = 0x4D
    assert dbf_encoding(bytes(dbf), None)[0] == GB18030
    dbf[29] = 0x00
    assert dbf_encoding(bytes(dbf), None) == (UTF8, "its .dbf's text is UTF-8")
    assert dbf_encoding(bytes(dbf) + "社区".encode("gbk"), None)[0] == GB18030


def test_a_shapefile_without_its_dbf_is_refused_naming_it(db: Session, tmp_path: Path) -> None:
    folder = tmp_path / "z"
    folder.mkdir()
    regions_frame().to_file(folder / "layer.shp")
    archive_path = tmp_path / "units.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for part in folder.iterdir():
            if part.suffix != ".dbf":
                archive.write(part, part.name)

    message = refused(db, "regions", archive_path, "region")

    assert "the shapefile has no layer.dbf" in message


def test_a_shapefile_without_its_prj_needs_crs(db: Session, tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    regions_frame().to_file(folder / "r.shp")
    (folder / "r.prj").unlink()

    message = refused(db, "regions", folder / "r.shp", "region")
    assert "has no r.prj" in message and "--crs" in message

    assert run(db, "regions", folder / "r.shp", crs="4326").rows == 4


# --- spreadsheets: codes as text, merged cells, formulas --------------------------------------


def stations_xlsx(path: Path, codes: list[object], fmt: str | None = None) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["编码", "名称", "经度", "纬度"])
    for k, code in enumerate(codes):
        sheet.append([code, f"站{k}", X + 0.0005 * (k + 1), Y + 0.0005])
        if fmt:
            sheet.cell(row=k + 2, column=1).number_format = fmt
    book.save(path)
    return path


def test_a_16_digit_code_stored_as_a_number_is_refused_naming_the_cell(
    city: Session, tmp_path: Path
) -> None:
    path = stations_xlsx(tmp_path / "s.xlsx", ["9901010010010002", 9901010010010001])

    message = refused(city, "stations", path, "station")

    assert "row 3 (cell A3): code 9901010010010000 is stored as a number" in message
    assert "keeps only 15 digits" in message
    assert "row 2" not in message


def test_codes_stored_as_numbers_that_lost_leading_zeros_are_refused(
    city: Session, tmp_path: Path
) -> None:
    path = stations_xlsx(tmp_path / "s.xlsx", [99, 100])

    message = refused(city, "stations", path, "station")

    assert "row 2 (cell A2): code 99 is stored as a number with fewer digits" in message
    assert "row 3" not in message


def test_a_number_formatted_with_zeros_keeps_them(city: Session, tmp_path: Path) -> None:
    path = stations_xlsx(tmp_path / "s.xlsx", [99, 100], fmt="0000")

    run(city, "stations", path)

    codes = city.connection().exec_driver_sql("SELECT code FROM station ORDER BY code").scalars()
    assert list(codes) == ["0099", "0100"]


def test_merged_cells_and_formulas_without_values_are_refused_naming_the_cell(
    city: Session, tmp_path: Path
) -> None:
    path = stations_xlsx(tmp_path / "s.xlsx", ["S1", "S2", "S3"])
    book = openpyxl.load_workbook(path)
    sheet = book.active
    sheet.merge_cells("B2:B3")
    sheet["D4"] = "=D3+0"
    book.save(path)

    message = refused(city, "stations", path, "station")

    assert "cells B2:B3: are merged" in message
    assert "cell D4: holds the formula =D3+0 but no computed value" in message


def test_blank_rows_keep_every_row_its_own_number(city: Session, tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text(f"code,name,lon,lat\nS1,a,{X},{Y}\n,,,\nS2,b,{X},abc\n", encoding="utf-8")

    message = refused(city, "stations", path, "station")

    assert "row 4: lon/lat are not numbers" in message


def test_a_roster_names_its_rows_as_the_spreadsheet_does(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    pd.DataFrame({"姓名": ["张三", None, "李四"], "电话": ["138", None, "139"]}).to_excel(
        path, index=False
    )
    frame = read_rows(path, problems=Problems("r.xlsx"))
    assert frame["label"].tolist() == ["row 2", "row 4"]
    assert frame["name"].tolist() == ["张三", "李四"]


# --- geometry: Z dropped, empty said, invalid never crashes -----------------------------------


def test_heights_are_dropped_with_a_note(city: Session, tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"code": ["S1"], "name": ["a"]},
        geometry=[shapely.Point(X + 0.0005, Y + 0.0005, 512.0)],
        crs=4326,
    )
    result = run(city, "stations", write(frame, tmp_path / "s.geojson"))

    assert "heights (Z) dropped from 1 features" in result.notes
    z = city.connection().exec_driver_sql("SELECT ST_NDims(geom) FROM station").scalar_one()
    assert z == 2


def test_an_empty_geometry_says_so(city: Session, tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("code,name,wkt\nS1,a,POINT EMPTY\n", encoding="utf-8")

    message = refused(city, "stations", path, "station")

    assert "row 2: has an empty geometry" in message
    assert "area of None" not in message


@pytest.mark.parametrize("layer", ["units", "grids"])
def test_a_self_intersecting_unit_or_grid_is_a_problem_not_a_crash(
    city: Session, tmp_path: Path, layer: str
) -> None:
    run(
        city,
        "units",
        write(
            gpd.GeoDataFrame(geometry=[cell(0, 0), cell(1, 0)], crs=4326), tmp_path / "u.geojson"
        ),
    )
    bowtie = shapely.Polygon(
        [(X, Y), (X + 0.002, Y + 0.001), (X + 0.002, Y), (X, Y + 0.001), (X, Y)]
    )
    frame = gpd.GeoDataFrame(geometry=[bowtie], crs=4326)

    message = refused(city, layer, write(frame, tmp_path / "bad.geojson"), "unit")

    assert "feature 1: invalid geometry: Self-intersection[" in message


def test_a_gis_file_copied_keeps_working(tmp_path: Path) -> None:
    path = write(regions_frame(), tmp_path / "r.gpkg")
    shutil.copy(path, tmp_path / "copy.gpkg")
    frame = read_features(tmp_path / "copy.gpkg", problems=Problems("copy.gpkg"))
    assert frame["label"].tolist() == ["feature 1", "feature 2", "feature 3", "feature 4"]
