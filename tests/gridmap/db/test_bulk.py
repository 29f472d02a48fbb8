"""Result rows as frames: the same frame pandas builds from the rows, without its probing."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import create_engine, text

from gridmap.db.bulk import rows_frame


def test_rows_become_the_frame_pandas_builds_from_them() -> None:
    engine = create_engine("sqlite://")  # rows of SQLAlchemy's own Row type, without a server
    query = text(
        "SELECT 'u1' AS code, 7 AS n, 2.5 AS x, NULL AS maybe "
        "UNION ALL SELECT 'u2', 8, NULL, 'b' ORDER BY 1"
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
        framed = rows_frame(connection.execute(query), ("code", "n", "x", "maybe"))
    expected = pd.DataFrame(rows, columns=["code", "n", "x", "maybe"])
    pd.testing.assert_frame_equal(framed, expected)
    assert framed["n"].tolist() == [7, 8] and framed["maybe"].isna().tolist() == [True, False]


def test_no_rows_give_an_empty_frame_with_the_columns() -> None:
    framed = rows_frame([], ["code", "grids"])
    assert framed.empty and list(framed.columns) == ["code", "grids"]
