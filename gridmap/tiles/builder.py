"""Tiles built on the event loop, over a few asynchronous connections of their own.

A tile is one statement. Run on a worker thread, it paid a hop to the thread and back (about
0.1–0.25 ms, a third of a small tile's whole time) and its thread fought the event loop for
the interpreter lock under load; awaited on the loop, it pays neither. At most ``size`` tiles
are built at once (more queries than the cores can run only lengthen every one of them), on
the connection used last (warm), outside transactions, without parallel workers and without
a ping before each: a connection the server dropped meanwhile fails its first statement and
the tile is built once more on a fresh one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import psycopg

from gridmap.tiles.statement import TileRequest, tile_statement

SESSION = "-c max_parallel_workers_per_gather=0"  # many small statements at once


class TileBuilder:
    """At most ``size`` tiles built at once, each on a pooled asynchronous connection."""

    def __init__(
        self,
        conninfo: str | Callable[[], str],
        size: int,
        *,
        on_connect: Callable[[], None] | None = None,
    ) -> None:
        self.conninfo = conninfo  # or how to find it now (the embedded cluster may move)
        self._on_connect = on_connect or (lambda: None)
        self.slots = asyncio.Semaphore(size)  # also held by tiles built the long way
        self._idle: list[psycopg.AsyncConnection] = []  # the last one back is the next out

    async def build(self, request: TileRequest) -> bytes:
        """Return the tile's MVT bytes (empty: nothing there), waiting for a free slot."""
        statement = tile_statement(request)
        if statement is None:
            return b""
        row = await self.fetch(*statement)
        return bytes(row[0]) if row and row[0] else b""

    async def fetch(self, sql: str, parameters: dict[str, object]) -> tuple[Any, ...] | None:
        """Run one statement and return its first row (None: no row, or no result at all)."""
        async with self.slots:
            for attempt in (1, 2):
                connection = self._idle.pop() if self._idle else await self._connect()
                try:
                    cursor = await connection.execute(sql, parameters)
                    row = await cursor.fetchone() if cursor.description is not None else None
                except psycopg.OperationalError:
                    dropped = connection.closed
                    await connection.close()
                    if attempt == 2 or not dropped:
                        raise
                    continue
                except BaseException:  # only a connection whose statement went through is kept
                    await connection.close()
                    raise
                self._idle.append(connection)
                return row
        raise AssertionError("unreachable")

    async def _connect(self) -> psycopg.AsyncConnection:
        where = self.conninfo() if callable(self.conninfo) else self.conninfo
        connection = await psycopg.AsyncConnection.connect(
            where, autocommit=True, options=SESSION, connect_timeout=5
        )
        self._on_connect()
        return connection

    def forget(self) -> None:
        """Drop the pooled connections without a word to the server (it has gone)."""
        self._idle.clear()

    async def close(self) -> None:
        """Close the pooled connections."""
        while self._idle:
            await self._idle.pop().close()
