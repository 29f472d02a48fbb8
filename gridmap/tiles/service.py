"""Serving a tile: from the cache when its data has not changed, else built in PostGIS.

A tile's key holds the tileset, z/x/y, the plan and run asked for, the region scope and the
revisions of every table the tileset reads; its ETag is a digest of that key, so a client's
``If-None-Match`` is answered without building or even finding the tile.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg
from sqlalchemy import Connection, Engine

from gridmap.tiles.cache import TileCache
from gridmap.tiles.revisions import Revisions
from gridmap.tiles.statement import TileRequest, tile_statement
from gridmap.tiles.tilesets import Tileset

if TYPE_CHECKING:
    from gridmap.tiles.builder import TileBuilder

__all__ = ["KnownTile", "Tile", "TileRequest", "TileServer", "build_tile"]


@dataclass(frozen=True)
class Tile:
    """A tile (empty bytes: no feature in it), gzip-compressed or not, and its ETag."""

    data: bytes
    etag: str
    gzipped: bool = True

    @property
    def empty(self) -> bool:
        """Say whether the tile holds nothing."""
        return not self.data

    def plain(self) -> bytes:
        """Return the MVT bytes."""
        return gzip.decompress(self.data) if self.gzipped and self.data else self.data

    def compressed(self) -> bytes:
        """Return the gzip-compressed bytes."""
        return self.data if self.gzipped or not self.data else _gzip(self.data)


def build_tile(connection: Connection, request: TileRequest) -> bytes:
    """Return the tile's MVT bytes, built in one statement (empty: nothing there)."""
    statement = tile_statement(request)
    if statement is None:
        return b""
    row = _driver(connection).execute(*statement).fetchone()
    return bytes(row[0]) if row and row[0] else b""


def _driver(connection: Connection) -> psycopg.Connection:
    """Return the psycopg connection under a SQLAlchemy one."""
    driver = connection.connection.driver_connection
    assert driver is not None  # a connection in use has its driver's
    return driver


def _built(engine: Engine, request: TileRequest) -> bytes:
    """Build a tile on a pooled connection, once more on a fresh one if the first had dropped.

    The tile engine does not ping a connection before each tile (a round trip); a connection
    the server closed meanwhile fails its first statement, is dropped from the pool, and the
    tile is built again.
    """
    for attempt in (1, 2):
        with engine.connect() as connection:
            try:
                return build_tile(connection, request)
            except psycopg.OperationalError:
                if attempt == 2 or not _driver(connection).closed:
                    raise
                connection.invalidate()
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class KnownTile:
    """A tile whose data revisions are known without a query: its cache key, ETag, version."""

    request: TileRequest
    key: tuple[object, ...]
    etag: str
    version: str


class TileServer:
    """Tiles through a cache keyed by data revisions."""

    def __init__(self, cache: TileCache, revisions: Revisions) -> None:
        self.cache = cache
        self.revisions = revisions

    def etag(self, engine: Engine, request: TileRequest) -> str:
        """Return the ETag the tile has now (no tile is built, no query made as a rule)."""
        return _etag(self._key(engine, request))

    def version(self, engine: Engine, tiles: Tileset) -> str:
        """Return the data version of a tileset, as tile URLs carry it."""
        return _version(self.revisions.of(engine, tiles.tables))

    def tile(self, engine: Engine, request: TileRequest) -> Tile:
        """Return the tile, from the cache (no database work) or freshly built.

        Cached tiles are kept compressed; without a cache a tile is compressed only for a
        client that asks for it.
        """
        key = self._key(engine, request)
        if not self.cache.max_bytes:
            return Tile(_built(engine, request), _etag(key), gzipped=False)
        data = self.cache.get(key)
        if data is None:
            raw = _built(engine, request)
            data = _gzip(raw) if raw else b""
            self.cache.put(key, data)
        return Tile(data, _etag(key))

    def known(self, request: TileRequest) -> KnownTile | None:
        """Return the tile's key, ETag and data version if known without a query, else None."""
        revisions = self.revisions.known(request.tileset.tables)
        if revisions is None:
            return None
        key = self._key_of(request, revisions)
        return KnownTile(request, key, _etag(key), _version(revisions))

    async def tile_on_loop(self, builder: TileBuilder, known: KnownTile) -> Tile:
        """Return a known tile from the cache, or built on the event loop (and cached)."""
        if self.cache.max_bytes:
            data = self.cache.get(known.key)
            if data is not None:
                return Tile(data, known.etag)
        raw = await builder.build(known.request)
        if not self.cache.max_bytes:
            return Tile(raw, known.etag, gzipped=False)
        data = await asyncio.to_thread(_gzip, raw) if raw else b""  # not on the loop
        self.cache.put(known.key, data)
        return Tile(data, known.etag)

    def _key(self, engine: Engine, request: TileRequest) -> tuple[object, ...]:
        return self._key_of(request, self.revisions.of(engine, request.tileset.tables))

    @staticmethod
    def _key_of(request: TileRequest, revisions: tuple[int, ...]) -> tuple[object, ...]:
        tiles = request.tileset
        return (
            tiles.name,
            request.z,
            request.x,
            request.y,
            request.plan,
            request.run,
            request.scope,
            revisions,
        )


def _version(revisions: tuple[int, ...]) -> str:
    return "-".join(str(r) for r in revisions)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=5, mtime=0)


def _etag(key: tuple[object, ...]) -> str:
    return '"' + hashlib.blake2b(repr(key).encode(), digest_size=12).hexdigest() + '"'
