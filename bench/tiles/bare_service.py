"""The service floor: the least a Python web service can do to answer gridmap's tile URLs.

A bare ASGI application under the same uvicorn (httptools, uvloop) as gridmap: for
``/tiles/{tileset}/{z}/{x}/{y}.mvt`` it runs gridmap's own tile statement on one asynchronous
psycopg connection, as gridmap's tile builder does, and answers the bytes; no routing, no
callers, no revisions, no cache, no ETag, no errors beyond a 404. What gridmap's served tile
costs beyond this is what gridmap adds; what this costs beyond the SQL alone is the price of
HTTP and the event loop, which no Python service pays less of.

    DATABASE_URL=... uvicorn bare_service:app --app-dir bench/tiles
"""

from __future__ import annotations

import os
import re
from typing import Any

import psycopg

from gridmap.tiles.builder import SESSION
from gridmap.tiles.statement import TileRequest, tile_statement
from gridmap.tiles.tilesets import TILESETS

PATH = re.compile(r"^/tiles/([a-z]+)/(\d+)/(\d+)/(\d+)\.mvt$")
MVT = (b"content-type", b"application/vnd.mapbox-vector-tile")
_connection: list[psycopg.AsyncConnection] = []


async def _answer(send: Any, status: int, body: bytes, headers: list[Any]) -> None:
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer a tile URL with its tile; any other path with a 404 (``/`` with 200: alive)."""
    if scope["type"] != "http":
        return
    match = PATH.match(scope["path"])
    if match is None or match.group(1) not in TILESETS:
        await _answer(send, 200 if scope["path"] == "/" else 404, b"", [])
        return
    if not _connection:
        url = os.environ["DATABASE_URL"].replace("+psycopg", "")
        _connection.append(
            await psycopg.AsyncConnection.connect(url, autocommit=True, options=SESSION)
        )
    z, x, y = (int(g) for g in match.groups()[1:])
    statement = tile_statement(TileRequest(TILESETS[match.group(1)], z, x, y))
    body = b""
    if statement is not None:
        cursor = await _connection[0].execute(*statement)
        row = await cursor.fetchone()
        body = bytes(row[0]) if row and row[0] else b""
    await _answer(send, 200 if body else 204, body, [MVT])
