"""Bulk writes with COPY: frames of rows (with a ``geom`` column) into a table, fast.

Geometries travel as hex EWKB with SRID 4326, which PostGIS reads directly.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from psycopg import sql
from sqlalchemy import BigInteger, Boolean, Connection, Double, Integer, Row, SmallInteger, text

from gridmap.db.binary_copy import binary_rows
from gridmap.db.models import SRID, Base


def _table(name: str) -> str:
    if name not in Base.metadata.tables:  # identifiers only from the schema, never from input
        raise ValueError(f"unknown table {name!r}")
    return name


def _ewkb_hex(geometries: np.ndarray) -> np.ndarray:
    with_srid = shapely.set_srid(geometries, SRID)
    return shapely.to_wkb(with_srid, hex=True, include_srid=True)


def copy_rows(
    connection: Connection, table: str, frame: pd.DataFrame, *, into: str | None = None
) -> int:
    """COPY the columns of ``frame`` into ``table`` (or into the temporary table ``into``).

    A ``geometry`` or ``geom`` column of shapely geometries is written as the ``geom`` column.
    Returns the number of rows written.
    """
    data = pd.DataFrame(frame).copy()
    if "geometry" in data:
        data = data.rename(columns={"geometry": "geom"})
    if "geom" in data:
        data["geom"] = _ewkb_hex(np.asarray(data["geom"].to_numpy(), dtype=object))
    buffer = io.StringIO()
    data.to_csv(buffer, index=False, header=False, na_rep="\\N")
    target = sql.Identifier(into) if into else sql.Identifier(_table(table))
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL '\\N')").format(
        target, sql.SQL(", ").join(sql.Identifier(c) for c in data.columns)
    )
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        copy.write(buffer.getvalue())
    return len(data)


def copy_numbers(connection: Connection, table: str, frame: pd.DataFrame) -> int:
    """COPY a frame of numbers and booleans into ``table`` in PostgreSQL's binary format.

    Each column is written as its column of the table is typed; NaN and missing values as NULL.
    Returns the number of rows written.

    Raises
    ------
    ValueError
        When a column of the table is not a number or a boolean, or a value does not fit it.
    """
    columns = Base.metadata.tables[_table(table)].c
    kinds = [_kind_of(columns[name].type, f"{table}.{name}") for name in frame.columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT binary)").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    )
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        copy.write(binary_rows(frame, kinds))
    return len(frame)


def _kind_of(column_type: object, name: str) -> str:
    """Return the binary COPY kind of a column's SQLAlchemy type."""
    for types, kind in (
        (BigInteger, "int8"),
        (SmallInteger, "int2"),
        (Integer, "int4"),  # after its two subclasses
        (Boolean, "bool"),
        (Double, "float8"),
    ):
        if isinstance(column_type, types):
            return kind
    raise ValueError(f"{name}: cannot be written as a number ({column_type})")


def rows_frame(rows: Iterable[Row[Any]], columns: Sequence[str]) -> pd.DataFrame:
    """Return SQLAlchemy result rows as a frame with ``columns``.

    Each row goes in as a plain tuple: given the rows themselves, pandas probes every one for
    a named tuple's attributes, and each miss raises inside SQLAlchemy (15 times slower: 0.4 s
    for the 37,000 units of the 1M city's plan check against 27 ms).
    """
    return pd.DataFrame([tuple(row) for row in rows], columns=list(columns))


def read_frame(
    connection: Connection, query: str, dtype: dict[str, str] | None = None
) -> pd.DataFrame:
    """Run ``query`` (no parameters) and return its rows, sent by COPY as CSV.

    For many rows of plain columns: PostgreSQL writes them as CSV and pandas' C reader parses
    them, instead of a Python tuple a row (floats keep every digit: PostgreSQL writes the
    shortest exact form). ``dtype`` names the types of columns that may hold NULLs.
    """
    statement = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(sql.SQL(query))
    buffer = io.BytesIO()
    raw = connection.connection.driver_connection
    with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for block in copy:
            buffer.write(block)
    buffer.seek(0)
    return pd.read_csv(buffer, dtype=dtype)


def read_geoframe(
    connection: Connection, query: str, params: dict[str, object] | None = None
) -> gpd.GeoDataFrame:
    """Run ``query`` and return its rows with the ``geom`` column as geometries (EPSG:4326).

    The rows come in PostgreSQL's binary format, so PostGIS sends geometries as EWKB bytes
    (five times faster to parse than the hex text of the text format), parsed in one
    vectorised call: many times faster than ``geopandas.read_postgis`` on a million rows.
    """
    compiled = text(query).compile(dialect=connection.dialect)
    given = params or {}
    raw = connection.connection.driver_connection
    with raw.cursor(binary=True) as cursor:  # type: ignore[union-attr]
        cursor.execute(str(compiled), {name: given[name] for name in compiled.params})
        keys = [column.name for column in cursor.description or ()]
        rows = cursor.fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(keys)
    frame = pd.DataFrame(
        {k: np.asarray(c, dtype=object) for k, c in zip(keys, columns, strict=True)}
    )
    frame = frame.infer_objects()
    geoms = shapely.from_wkb(frame.pop("geom").to_numpy(dtype=object)) if len(frame) else []
    return gpd.GeoDataFrame(frame, geometry=np.asarray(geoms, dtype=object), crs=SRID)
