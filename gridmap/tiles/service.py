"""Serving a tile: from memory when its data has not changed, else from the store, else built.

A tile's key in memory holds the tileset, z/x/y, the plan and run asked for (where its zoom
reads them), the region scope and the revisions of every table the tileset reads; in the
shared store (:mod:`gridmap.tiles.store`) it is the same without the revisions, since a write
deletes the stored tiles it changes. Its ETag is a digest of its bytes: the same tile has the
same ETag in every process, and keeps it through writes elsewhere in the city.
"""

from __future__ import annotations

import asyncio
import gzip
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import psycopg
from sqlalchemy import Connection, Engine

from gridmap.tiles.cache import TileCache
from gridmap.tiles.revisions import Revisions
from gridmap.tiles.statement import TileRequest, tile_statement
from gridmap.tiles.store import (
    EVICT,
    GET,
    PUT,
    TOUCH,
    StoredKey,
    checked_tables,
    content_etag,
    put_parameters,
)
from gridmap.tiles.tilesets import Tileset

if TYPE_CHECKING:
    from gridmap.tiles.builder import TileBuilder

log = logging.getLogger(__name__)

__all__ = ["KnownTile", "Tile", "TileRequest", "TileServer", "build_tile"]


@dataclass(frozen=True)
class Tile:
    """A tile (empty bytes: no feature in it), gzip-compressed or not, its ETag, and whence.

    ``source`` says where it came from: ``memory``, the shared ``store``, or ``built``.
    """

    data: bytes
    etag: str
    gzipped: bool = True
    source: str = "built"

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
    return _build_on(_driver(connection), request)


def _build_on(driver: psycopg.Connection, request: TileRequest) -> bytes:
    statement = tile_statement(request)
    if statement is None:
        return b""
    row = driver.execute(*statement).fetchone()
    return bytes(row[0]) if row and row[0] else b""


def _driver(connection: Connection) -> psycopg.Connection:
    """Return the psycopg connection under a SQLAlchemy one."""
    driver = connection.connection.driver_connection
    assert driver is not None  # a connection in use has its driver's
    return driver


T = TypeVar("T")


def _on_connection(engine: Engine, work: Callable[[psycopg.Connection], T]) -> T:
    """Do ``work`` on a pooled connection, once more on a fresh one if the first had dropped.

    The tile engine does not ping a connection before each tile (a round trip); a connection
    the server closed meanwhile fails its first statement, is dropped from the pool, and the
    work is done again (it only reads, or stores what it built: doing it twice is harmless).
    """
    for attempt in (1, 2):
        with engine.connect() as connection:
            try:
                return work(_driver(connection))
            except psycopg.OperationalError:
                if attempt == 2 or not _driver(connection).closed:
                    raise
                connection.invalidate()
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class KnownTile:
    """A tile whose data revisions are known without a query: its cache key and data version."""

    request: TileRequest
    key: tuple[object, ...]
    version: str
    revisions: tuple[int, ...]


class TileServer:
    """Tiles from a cache in memory keyed by data revisions, then from the shared store.

    The memory cache answers without any database work while nothing the tile reads has
    changed; after a write, the shared store (:mod:`gridmap.tiles.store`) still holds every
    tile the write did not touch, for every process and across restarts. ``store_bytes`` bounds
    the store (0: none).
    """

    def __init__(self, cache: TileCache, revisions: Revisions, store_bytes: int = 0) -> None:
        self.cache = cache
        self.revisions = revisions
        self.store_bytes = store_bytes
        self.stored_hits = self.built = 0  # what the memory cache missed: found, or built
        self._added = 0  # bytes this process stored since it last evicted
        self._lock = threading.Lock()

    def version(self, engine: Engine, tiles: Tileset) -> str:
        """Return the data version of a tileset, as tile URLs carry it."""
        return _version(self.revisions.of(engine, tiles.tables))

    def tile(self, engine: Engine, request: TileRequest) -> Tile:
        """Return the tile: from memory (no database work), from the store, or freshly built.

        Cached tiles are kept compressed; without a cache or a store a tile is compressed only
        for a client that asks for it.
        """
        revisions = self.revisions.of(engine, checked_tables(request))
        key = self._key_of(request, revisions)
        if self.cache.max_bytes and (hit := self.cache.get(key)) is not None:
            return Tile(*hit, source="memory")
        found = _on_connection(
            engine, lambda driver: self._find_or_build(driver, request, revisions)
        )
        if found.gzipped:  # compressed for the cache or the store
            self.cache.put(key, found.data, found.etag)
        return found

    def _find_or_build(
        self, driver: psycopg.Connection, request: TileRequest, revisions: tuple[int, ...]
    ) -> Tile:
        stored = StoredKey.of(request).parameters()
        if self.store_bytes:
            row = driver.execute(GET, stored).fetchone()
            if row is not None:
                if row[2]:
                    with _unstored():
                        driver.execute(TOUCH, stored)
                self.stored_hits += 1
                return Tile(bytes(row[0]), row[1], source="store")
        raw = _build_on(driver, request)
        self.built += 1
        if not (self.store_bytes or self.cache.max_bytes):
            return Tile(raw, content_etag(raw), gzipped=False)
        tile = Tile(_gzip(raw) if raw else b"", content_etag(raw))
        if self.store_bytes:
            with _unstored():
                driver.execute(PUT, put_parameters(request, revisions, tile.data, tile.etag))
                if self._evict_due(len(tile.data)):
                    driver.execute(EVICT, {"budget": self.store_bytes})
        return tile

    def _evict_due(self, added: int) -> bool:
        """Say whether this process stored enough since it last evicted to do it again."""
        with self._lock:
            self._added += added
            if self._added < max(self.store_bytes // 32, 1):
                return False
            self._added = 0
            return True

    def known(self, request: TileRequest) -> KnownTile | None:
        """Return the tile's key and data version if known without a query, else None."""
        tables = checked_tables(request)
        revisions = self.revisions.known(tables)
        version = self.revisions.known(request.tileset.tables)
        if revisions is None or version is None:
            return None
        return KnownTile(request, self._key_of(request, revisions), _version(version), revisions)

    async def tile_on_loop(self, builder: TileBuilder, known: KnownTile) -> Tile:
        """Return a known tile from memory, or from the store or built on the event loop."""
        if self.cache.max_bytes and (hit := self.cache.get(known.key)) is not None:
            return Tile(*hit, source="memory")
        request, stored = known.request, StoredKey.of(known.request).parameters()
        if self.store_bytes:
            row = await builder.fetch(GET, stored)
            if row is not None:
                if row[2]:
                    with _unstored():
                        await builder.fetch(TOUCH, stored)
                self.stored_hits += 1
                tile = Tile(bytes(row[0]), row[1], source="store")
                self.cache.put(known.key, tile.data, tile.etag)
                return tile
        raw = await builder.build(request)
        self.built += 1
        if not (self.store_bytes or self.cache.max_bytes):
            return Tile(raw, content_etag(raw), gzipped=False)
        data = await asyncio.to_thread(_gzip, raw) if raw else b""  # not on the loop
        tile = Tile(data, content_etag(raw))
        if self.store_bytes:
            with _unstored():
                await builder.fetch(PUT, put_parameters(request, known.revisions, data, tile.etag))
                if self._evict_due(len(data)):
                    await builder.fetch(EVICT, {"budget": self.store_bytes})
        self.cache.put(known.key, tile.data, tile.etag)
        return tile

    @staticmethod
    def _key_of(request: TileRequest, revisions: tuple[int, ...]) -> tuple[object, ...]:
        k = StoredKey.of(request)
        return (k.tileset, k.z, k.x, k.y, k.plan, k.run, k.scope, revisions)


NOT_STORED = (
    psycopg.errors.ReadOnlySqlTransaction,  # a read-only replica
    psycopg.errors.DeadlockDetected,
    psycopg.errors.SerializationFailure,
    psycopg.errors.LockNotAvailable,
    psycopg.errors.QueryCanceled,
)
"""What keeps a built tile out of the store, while the tile itself is still answered."""


@contextmanager
def _unstored() -> Iterator[None]:
    try:
        yield
    except NOT_STORED as error:
        log.info("tile not stored: %s", str(error).strip().splitlines()[0])


def _version(revisions: tuple[int, ...]) -> str:
    return "-".join(str(r) for r in revisions)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=5, mtime=0)
