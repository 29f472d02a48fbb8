"""A plan as a file to hand on: grid polygons (GeoJSON, GeoPackage) or a unit → grid table (CSV)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy import Connection

from gridmap.db import plans as plan_rows
from gridmap.db.bulk import read_geoframe
from gridmap.errors import InvalidInput

EXPORT_FORMATS = {
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "csv": "text/csv; charset=utf-8",
}
"""Each export format and its media type."""


def export_plan(connection: Connection, plan_id: int, fmt: str) -> tuple[bytes, int]:
    """Return plan ``plan_id`` written as ``fmt``, and how many rows it holds.

    GeoJSON and GeoPackage hold one polygon per grid with its figures; CSV one row per unit
    (its code, its grid's code, name and kind), UTF-8 with a byte-order mark for Excel.
    """
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"format must be one of {', '.join(EXPORT_FORMATS)} (got {fmt!r})")
    plan_rows.plan_row(connection, plan_id)
    if fmt == "csv":
        table = plan_rows.plan_content(connection, plan_id)
        codes = read_geoframe(connection, "SELECT id AS unit_id, code AS unit, geom FROM unit")
        table = table.merge(codes.drop(columns="geometry"), on="unit_id").sort_values("unit")
        table = table[["unit", "code", "name", "kind"]].rename(columns={"code": "grid"})
        return table.to_csv(index=False).encode("utf-8-sig"), len(table)
    grids = read_geoframe(
        connection,
        """
        SELECT g.code, g.name, g.kind, r.code AS community, g.households, g.residents,
               g.area_m2, g.radius_m, g.polsby_popper, g.locked, g.geom
        FROM grid g JOIN region r ON r.id = g.community_id WHERE g.plan_id = :p ORDER BY g.code
    """,
        {"p": plan_id},
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"plan.{fmt}"
        grids.to_file(path, driver="GeoJSON" if fmt == "geojson" else "GPKG")
        return path.read_bytes(), len(grids)
