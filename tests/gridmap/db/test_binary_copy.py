"""Rows in PostgreSQL's binary COPY format: bytes checked by hand, then read back from PostGIS."""

from __future__ import annotations

import math
import struct

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import Engine, text

from gridmap.db.binary_copy import binary_rows
from gridmap.db.bulk import copy_numbers

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def test_two_rows_are_the_bytes_the_format_describes() -> None:
    frame = pd.DataFrame(
        {
            "a": pd.array([7, None], dtype="Int64"),
            "b": [True, False],
            "c": [1.5, float("nan")],
        }
    )
    expected = SIGNATURE + struct.pack(">ii", 0, 0)
    # row 1: three fields; an int4 7, a bool true, a float8 1.5
    expected += struct.pack(">hiiib", 3, 4, 7, 1, 1) + struct.pack(">id", 8, 1.5)
    # row 2: a NULL, a bool false, a NULL
    expected += struct.pack(">hiibi", 3, -1, 1, 0, -1)
    expected += struct.pack(">h", -1)
    # rows of one pattern of NULLs are written together; here each row has its own
    assert binary_rows(frame, ["int4", "bool", "float8"]) == expected


@pytest.mark.parametrize(
    ("values", "kind"),
    [([2**31], "int4"), ([-(2**31) - 1], "int4"), ([2**15], "int2"), ([1.5], "int4")],
)
def test_a_value_that_does_not_fit_its_column_is_refused(values: list[float], kind: str) -> None:
    with pytest.raises(ValueError, match="column n: a value is not an integer that fits"):
        binary_rows(pd.DataFrame({"n": values}), [kind])


def test_the_bounds_of_an_integer_column_are_written() -> None:
    frame = pd.DataFrame({"n": [2**31 - 1, -(2**31)]})
    written = binary_rows(frame, ["int4"])
    assert struct.unpack(">hii", written[19:29]) == (1, 4, 2**31 - 1)
    assert struct.unpack(">hii", written[29:39]) == (1, 4, -(2**31))


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot write 'text'"):
        binary_rows(pd.DataFrame({"n": ["x"]}), ["text"])


def test_rows_read_back_from_postgis_as_written(engine: Engine) -> None:
    rng = np.random.default_rng(7)
    n = 5_000
    covered = rng.random(n) < 0.4
    reachable = covered | (rng.random(n) < 0.8)
    frame = pd.DataFrame(
        {
            "building_id": np.arange(n) * 3 + 1,
            "reachable": reachable,
            "covered": covered,
            "snap_m": np.where(reachable, rng.random(n) * 200, np.nan),
            "walk_m": np.where(covered, rng.random(n) * 300, np.nan),
            "station_id": pd.array(np.where(covered, rng.integers(1, 2**31 - 1, n), 0)),
            "run_id": 2**31 - 1,
        }
    )
    frame["station_id"] = frame["station_id"].astype("Int64").mask(~covered)
    frame.loc[0, "walk_m"] = math.inf  # a float's infinity goes through as one
    with engine.connect() as connection:
        try:
            assert copy_numbers(connection, "building_coverage", frame) == n
            rows = connection.execute(
                text(
                    "SELECT building_id, reachable, covered, snap_m, walk_m, station_id, run_id "
                    "FROM building_coverage WHERE run_id = 2147483647 ORDER BY building_id"
                )
            ).all()
        finally:
            connection.rollback()
    assert len(rows) == n
    assert [r[0] for r in rows] == frame["building_id"].tolist()
    assert [r[1] for r in rows] == reachable.tolist()
    assert [r[2] for r in rows] == covered.tolist()
    assert [r[3] for r in rows] == [None if np.isnan(v) else v for v in frame["snap_m"]]
    walks = [r[4] for r in rows]
    assert walks[0] == math.inf
    assert walks[1:] == [None if np.isnan(v) else v for v in frame["walk_m"][1:]]
    assert [r[5] for r in rows] == [None if pd.isna(v) else int(v) for v in frame["station_id"]]
    assert {r[6] for r in rows} == {2**31 - 1}


def test_a_column_that_is_not_a_number_is_refused(engine: Engine) -> None:
    with engine.connect() as connection, pytest.raises(ValueError, match=r"station_circle\.method"):
        copy_numbers(connection, "station_circle", pd.DataFrame({"method": ["network"]}))
