"""Low-zoom tiles of the current plan, built again in the background after a write dropped them.

A commit that changes the current plan's tiles (an accepted plan, an import) notes its dropped
tiles of zoom 13 and below in ``tile_stale`` (migration 0011); each serving process takes a
few at a time (others take others) and builds them into the store, so that the city's
overview is ready before a planner or a resident asks for it.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from gridmap.tiles.service import TileServer
from gridmap.tiles.statement import TileRequest
from gridmap.tiles.store import TAKE_STALE
from gridmap.tiles.tilesets import TILESETS

log = logging.getLogger(__name__)


def refresh_stale(engine: Engine, server: TileServer, *, batch: int = 16) -> int:
    """Take up to ``batch`` dropped tiles, build each into the store; return how many."""
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        rows = driver.execute(TAKE_STALE, {"limit": batch}).fetchall()  # autocommit: taken
    for name, z, x, y, run in rows:
        tiles = TILESETS.get(name)
        if tiles is not None:
            server.tile(engine, TileRequest(tiles, z, x, y, run=run or None))
    return len(rows)


class StaleTiles:
    """A thread that builds dropped low-zoom tiles again, every ``interval`` seconds."""

    def __init__(self, engine: Engine, server: TileServer, *, interval: float = 1.0) -> None:
        self._engine = engine
        self._server = server
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gridmap-stale-tiles", daemon=True)

    def start(self) -> None:
        """Start building."""
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                while not self._stop.is_set() and refresh_stale(self._engine, self._server):
                    pass
            except (psycopg.Error, DBAPIError) as error:  # the database away: try again later
                log.info(
                    "stale tiles: %s", str(error).strip().splitlines()[0] if str(error) else error
                )

    def stop(self) -> None:
        """Stop building (a tile under way is finished first)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
