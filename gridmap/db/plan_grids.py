"""The SQL of grids made by hand in a draft: the next codes of a community, a new grid row.

Every function works in the caller's transaction.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

from gridmap.db.bulk import read_geoframe
from gridmap.db.plans import insert_grids

SERIAL_DIGITS = 3
"""A grid's code is its community's code and a serial of three digits (docs/architecture.md)."""


def community_code(connection: Connection, community_id: int) -> str:
    """Return the code of community ``community_id``."""
    return str(
        connection.execute(
            text("SELECT code FROM region WHERE id = :id"), {"id": community_id}
        ).scalar_one()
    )


def next_grid_codes(connection: Connection, community: str, n: int) -> list[str]:
    """Return ``n`` new grid codes of community ``community``: the serials after the largest.

    The largest serial is taken over every plan, archived ones included, so a code a retired
    grid held is never given to another grid.
    """
    largest = connection.execute(
        text("""
        SELECT coalesce(max(right(code, :digits)::int), 0) FROM grid
        WHERE starts_with(code, :community) AND length(code) = length(:community) + :digits
          AND right(code, :digits) ~ '^[0-9]+$'
    """),
        {"community": community, "digits": SERIAL_DIGITS},
    ).scalar_one()
    return [f"{community}{int(largest) + i:0{SERIAL_DIGITS}d}" for i in range(1, n + 1)]


def insert_new_grids(
    connection: Connection, plan_id: int, codes: list[str], kind: str, community_id: int
) -> list[int]:
    """Insert empty grids ``codes`` of one community into a plan; return their ids in order."""
    frame = pd.DataFrame({"code": codes, "name": None, "kind": kind, "community_id": community_id})
    return [int(i) for i in insert_grids(connection, plan_id, frame)]


def grid_kinds(connection: Connection, grid_ids: list[int]) -> list[str]:
    """Return the kind of each grid of ``grid_ids``, one per id given (repeats kept)."""
    if not grid_ids:
        return []
    return list(
        connection.execute(
            text("""
        SELECT g.kind FROM unnest(CAST(:ids AS integer[])) WITH ORDINALITY AS i(id, n)
        JOIN grid g ON g.id = i.id ORDER BY i.n
    """),
            {"ids": grid_ids},
        ).scalars()
    )


def grid_parts(connection: Connection, plan_id: int, grid_ids: list[int]) -> gpd.GeoDataFrame:
    """Return the polygons of grids ``grid_ids`` one by one (``grid``: the code; WGS 84)."""
    return read_geoframe(
        connection,
        """
        SELECT g.code AS grid, (ST_Dump(g.geom)).geom AS geom
        FROM grid g WHERE g.plan_id = :plan AND g.id = ANY(:ids) AND g.geom IS NOT NULL
        ORDER BY g.code
    """,
        {"plan": plan_id, "ids": [int(i) for i in grid_ids]},
    )


def grid_unit_codes(connection: Connection, plan_id: int, code: str) -> list[str]:
    """Return the codes of the units of grid ``code`` in a plan."""
    return list(
        connection.execute(
            text("""
        SELECT u.code FROM grid g JOIN assignment a ON a.grid_id = g.id AND a.plan_id = g.plan_id
        JOIN unit u ON u.id = a.unit_id WHERE g.plan_id = :p AND g.code = :c ORDER BY u.code
    """),
            {"p": plan_id, "c": code},
        ).scalars()
    )


def grid_kind_and_community(
    connection: Connection, plan_id: int, code: str
) -> dict[str, Any] | None:
    """Return grid ``code``'s kind and community code in a plan, or None when it has none."""
    row = (
        connection.execute(
            text("""
        SELECT g.kind, r.code AS community FROM grid g JOIN region r ON r.id = g.community_id
        WHERE g.plan_id = :p AND g.code = :c
    """),
            {"p": plan_id, "c": code},
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)
