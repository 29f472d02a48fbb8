"""The tile store: built tiles in PostgreSQL, shared by every process and kept across restarts.

Migration 0011 keeps it true: a write deletes, in its own transaction, exactly the stored tiles
it could change (the tables they read, where its changed rows lie, the plan it changed). This
module holds the statements that read and write it, for both ways of building a tile (a pooled
connection and the event loop), and what keys a tile in it.

A tile is stored only if the data revisions it was built at are still the current ones, read
under a share lock on their rows (which a committing writer holds exclusively while it bumps
them and deletes its tiles): a tile built before a commit is either refused or stored before
that commit deletes it, never kept after.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from gridmap.tiles.statement import TileRequest
from gridmap.tiles.tilesets import BUFFER, EXTENT, Tileset, uses

ROW_BYTES = 200
"""What a stored tile costs beside its bytes (its key, envelope and tables): counted in its
``bytes``, so that a flood of empty tiles fills the store like any other and is evicted."""

_KEY = "tileset = %(tileset)s AND z = %(z)s AND x = %(x)s AND y = %(y)s AND plan = %(plan)s "
_KEY += "AND run = %(run)s AND scope = %(scope)s"

GET = f"SELECT data, etag, used_at < now() - interval '10 minutes' FROM tile_store WHERE {_KEY}"
"""A stored tile, and whether its last use is old enough to be noted again."""

TOUCH = f"UPDATE tile_store SET used_at = now() WHERE {_KEY}"

PUT = f"""
    INSERT INTO tile_store (tileset, z, x, y, plan, run, scope, tables, bounds, data, etag, bytes)
    SELECT %(tileset)s, %(z)s, %(x)s, %(y)s, %(plan)s, %(run)s, %(scope)s, %(tables)s,
           ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {BUFFER / EXTENT}),
           %(data)s, %(etag)s, octet_length(%(data)s) + {ROW_BYTES}
    WHERE (SELECT array_agg(r.revision ORDER BY r.table_name COLLATE "C")
           FROM (SELECT table_name, revision FROM data_revision
                 WHERE table_name = ANY (%(checked)s)
                 ORDER BY table_name FOR SHARE) r) = %(revisions)s::bigint[]
    ON CONFLICT ON CONSTRAINT pk_tile_store DO UPDATE
    SET data = EXCLUDED.data, etag = EXCLUDED.etag, bytes = EXCLUDED.bytes,
        tables = EXCLUDED.tables, used_at = now()
"""
"""Store a tile if the revisions it was built at are still current (else nothing).

The rows are locked in the order a committing writer locks them (migration 0008): no deadlock.
"""

EVICT = """
    DELETE FROM tile_store s
    USING (SELECT tileset, z, x, y, plan, run, scope,
                  sum(bytes) OVER (ORDER BY used_at DESC, z, x, y, tileset, plan, run, scope)
                  AS kept
           FROM tile_store) o
    WHERE o.kept > %(budget)s
      AND (s.tileset, s.z, s.x, s.y, s.plan, s.run, s.scope)
          = (o.tileset, o.z, o.x, o.y, o.plan, o.run, o.scope)
"""
"""Delete the least recently used tiles beyond the budget (in bytes)."""

TAKE_STALE = """
    DELETE FROM tile_stale WHERE (tileset, z, x, y, run) IN (
        SELECT tileset, z, x, y, run FROM tile_stale ORDER BY z, tileset, x, y
        LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
    RETURNING tileset, z, x, y, run
"""
"""Take a few tiles to build again (another process takes others at once)."""


def tables_read(request: TileRequest) -> tuple[str, ...]:
    """Return the changes a stored tile is dropped for, sorted.

    The tables its layers read at its zoom (or what stands for them, e.g. ``grid/shape``),
    and the region if scoped.
    """
    names = set(_per_zoom(Tileset.follows_at, request.tileset, request.z))
    if request.scope is not None:
        names.add("region")
    return tuple(sorted(names))


def checked_tables(request: TileRequest) -> tuple[str, ...]:
    """Return the tables whose revisions a tile is built and stored at (its cache key's)."""
    names = set(request.tileset.tables)
    if request.scope is not None:
        names.add("region")
    return tuple(sorted(names))


_PER_ZOOM: dict[tuple[str, str, int], tuple[str, ...]] = {}


def _per_zoom(
    work: Callable[[Tileset, int], tuple[str, ...]], tiles: Tileset, z: int
) -> tuple[str, ...]:
    """Return ``work(tiles, z)``, worked out once per tileset and zoom.

    ``work`` is :func:`uses` or :meth:`Tileset.follows_at`: asked for every tile.
    """
    key = (work.__name__, tiles.name, z)
    if key not in _PER_ZOOM:
        _PER_ZOOM[key] = work(tiles, z)
    return _PER_ZOOM[key]


@dataclass(frozen=True)
class StoredKey:
    """Where a tile lies in the store: 0 for the current plan, the latest run, no scope."""

    tileset: str
    z: int
    x: int
    y: int
    plan: int
    run: int
    scope: int

    @classmethod
    def of(cls, request: TileRequest) -> StoredKey:
        """Return the key of ``request`` (a plan or run its zoom does not read is left out)."""
        used = _per_zoom(uses, request.tileset, request.z)
        return cls(
            request.tileset.name,
            request.z,
            request.x,
            request.y,
            (request.plan or 0) if "plan" in used else 0,
            (request.run or 0) if "run" in used else 0,
            request.scope or 0,
        )

    def parameters(self) -> dict[str, object]:
        """Return the key as statement parameters."""
        return {
            "tileset": self.tileset,
            "z": self.z,
            "x": self.x,
            "y": self.y,
            "plan": self.plan,
            "run": self.run,
            "scope": self.scope,
        }


def put_parameters(
    request: TileRequest, revisions: tuple[int, ...], data: bytes, etag: str
) -> dict[str, object]:
    """Return the parameters of :data:`PUT` for a tile built at ``revisions``."""
    return {
        **StoredKey.of(request).parameters(),
        "tables": list(tables_read(request)),
        "checked": list(checked_tables(request)),
        "revisions": list(revisions),
        "data": data,
        "etag": etag,
    }


def content_etag(raw: bytes) -> str:
    """Return the ETag of a tile's MVT bytes: the same tile, the same ETag, in every process."""
    return '"' + hashlib.blake2b(raw, digest_size=12).hexdigest() + '"'
