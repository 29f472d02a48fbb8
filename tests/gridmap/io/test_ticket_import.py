"""Hotline (12345) ticket exports as they come: Chinese headers, GCJ-02 or BD-09 coordinates,
Beijing times without an offset, and tickets without coordinates kept and listed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.crs import wgs84_to_bd09, wgs84_to_gcj02
from tests.factories import ORIGIN
from tests.gridmap.io.test_file_import import D, city, run, write  # noqa: F401
from tests.gridmap.io.test_import_validation import refused

INSIDE = (ORIGIN[0] + 1.5 * D, ORIGIN[1] + 0.5 * D)  # the middle of the unit of cell (1, 0)


def export(lon: list[object], lat: list[object], times: list[object]) -> pd.DataFrame:
    n = len(lon)
    return pd.DataFrame(
        {
            "工单编号": [f"GD2026{k:05d}" for k in range(n)],
            "诉求类型": ["噪音扰民"] * n,
            "受理时间": times,
            "地址": [f"玉林北路{k + 1}号" for k in range(n)],
            "经度": lon,
            "纬度": lat,
        }
    )


def tickets(db: Session) -> list[tuple[object, ...]]:
    return list(
        db.connection().execute(
            text(
                "SELECT e.external_id, e.occurred_at, e.address, u.code "
                "FROM event e LEFT JOIN unit u ON ST_Intersects(u.geom, e.geom) "
                "ORDER BY e.external_id"
            )
        )
    )


def unit_at(db: Session, lon: float, lat: float) -> str:
    return str(
        db.connection()
        .execute(
            text("SELECT code FROM unit WHERE ST_Intersects(geom, ST_Point(:x, :y, 4326))"),
            {"x": lon, "y": lat},
        )
        .scalar_one()
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_gcj02_export_lands_in_its_unit_at_beijing_time(
    city: Session,  # noqa: F811
    tmp_path: Path,
    suffix: str,
) -> None:
    x, y = (float(v[0]) for v in wgs84_to_gcj02([INSIDE[0]], [INSIDE[1]]))
    frame = export(
        [x, x, x, x, None],
        [y, y, y, y, " "],
        [
            "2026-03-01 08:30:00",  # no offset: Beijing
            "2026/03/02 23:59",
            "2026-03-03T10:00:00+08:00",
            "2026-03-04",
            "2026-03-05 09:00",
        ],
    )
    result = run(city, "events", write(frame, tmp_path / f"tickets{suffix}"), crs="gcj02")

    assert result.rows == 5
    unit = unit_at(city, *INSIDE)
    got = tickets(city)
    assert [(r[0], r[1].astimezone(UTC).replace(tzinfo=None), r[3]) for r in got] == [
        ("GD202600000", datetime(2026, 3, 1, 0, 30), unit),
        ("GD202600001", datetime(2026, 3, 2, 15, 59), unit),
        ("GD202600002", datetime(2026, 3, 3, 2, 0), unit),
        ("GD202600003", datetime(2026, 3, 3, 16, 0), unit),
        ("GD202600004", datetime(2026, 3, 5, 1, 0), None),  # no coordinates: kept, no unit
    ]
    assert got[4][2] == "玉林北路5号"
    assert any("1 without coordinates" in n and "row 6" in n for n in result.notes), result.notes
    load = city.connection().execute(
        text("SELECT governance_load FROM unit WHERE code = :c"), {"c": unit}
    )
    assert load.scalar_one() == 4


def test_a_bd09_export_and_an_excel_time_cell(city: Session, tmp_path: Path) -> None:  # noqa: F811
    x, y = (float(v[0]) for v in wgs84_to_bd09([INSIDE[0]], [INSIDE[1]]))
    frame = export([x], [y], [datetime(2026, 3, 1, 8, 30)])  # a date-time cell, no zone
    run(city, "events", write(frame, tmp_path / "tickets.xlsx"), crs="bd09")
    got = tickets(city)
    assert got[0][1].astimezone(UTC).replace(tzinfo=None) == datetime(2026, 3, 1, 0, 30)
    assert got[0][3] == unit_at(city, *INSIDE)
    frame["地址"] = ["玉林北路1号附2号"]  # the same ticket again, its address corrected
    run(city, "events", write(frame, tmp_path / "again.xlsx"), crs="bd09")
    assert [r[2] for r in tickets(city)] == ["玉林北路1号附2号"]


def test_a_ticket_with_half_its_coordinates_or_words_for_them_is_refused(
    city: Session,  # noqa: F811
    tmp_path: Path,
) -> None:
    x, y = INSIDE
    frame = export([x, None, "东经104"], [y, y, y], ["2026-03-01 08:30"] * 3)
    message = refused(city, "events", write(frame, tmp_path / "tickets.csv"), "event")
    assert (
        "row 3: 经度/纬度 are not numbers" in message or "row 3: lon/lat are not numbers" in message
    )
    assert "row 4" in message and "row 2" not in message
