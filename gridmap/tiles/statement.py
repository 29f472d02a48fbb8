"""A tile's one statement: which tile is asked for, and the SQL and parameters that build it.

Both ways of building a tile use it: on a pooled connection (:mod:`gridmap.tiles.service`)
and on the event loop (:mod:`gridmap.tiles.builder`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gridmap.tiles.tilesets import Tileset, check_tile, tile_sql, uses


@dataclass(frozen=True)
class TileRequest:
    """Which tile, of which plan and run, for which region scope."""

    tileset: Tileset
    z: int
    x: int
    y: int
    plan: int | None = None
    run: int | None = None
    scope: int | None = None

    def __post_init__(self) -> None:
        check_tile(self.z, self.x, self.y)


PARAMETER = re.compile(r"(?<!:):(z|x|y|plan|run|scope)\b")
_DRIVER_SQL: dict[tuple[str, int, bool], str | None] = {}


def driver_sql(tiles: Tileset, z: int, *, scoped: bool) -> str | None:
    """Return :func:`tile_sql` in the driver's own placeholders, made once per zoom and scope.

    Tiles run on the driver's connection directly: SQLAlchemy's statement handling costs about
    half a millisecond a tile, a third of a small tile's whole time.
    """
    key = (tiles.name, z, scoped)
    if key not in _DRIVER_SQL:
        sql = tile_sql(tiles, z, scoped=scoped)
        _DRIVER_SQL[key] = None if sql is None else PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))
    return _DRIVER_SQL[key]


def tile_statement(request: TileRequest) -> tuple[str, dict[str, object]] | None:
    """Return the tile's one statement and its parameters (None: no layer at this zoom)."""
    sql = driver_sql(request.tileset, request.z, scoped=request.scope is not None)
    if sql is None:
        return None
    params: dict[str, object] = {"z": request.z, "x": request.x, "y": request.y}
    wanted = {"plan": request.plan, "run": request.run}
    params |= {name: wanted[name] for name in uses(request.tileset, request.z)}
    if request.scope is not None:
        params["scope"] = request.scope
    return sql, params
