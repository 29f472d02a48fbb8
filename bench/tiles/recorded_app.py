"""gridmap's API as ``gridmap serve`` runs it, with a note of every tile it answers (bench only).

``webmap_session.py`` serves the city with it to count what reaches the server when the web
map asks for a tile (the browser's own cache answers some itself) and where the server found
it (``Server-Timing``: memory, store or built). ``GET /_bench/tiles`` returns the notes taken so
far; nothing else of the API changes.

    python -m uvicorn --factory recorded_app:create_app --port PORT   (run from bench/tiles)
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from api.main import create_app as create_gridmap

Scope = dict[str, Any]
TILE = re.compile(r"/tiles/[^/]+/\d+/\d+/\d+")  # a tile's path (not a TileJSON)


class Recorder:
    """ASGI middleware: note each tile's address, status, source and time in the server."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.notes: list[dict[str, Any]] = []

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        """Answer the notes, or pass the request on (noting a tile's answer)."""
        if scope["type"] == "http" and scope["path"] == "/_bench/tiles":
            body = json.dumps(self.notes).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        if scope["type"] != "http" or not TILE.match(scope["path"]):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        note: dict[str, Any] = {"path": scope["path"], "query": scope["query_string"].decode()}

        async def noted(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                note["status"] = message["status"]
                headers = dict(message.get("headers", []))
                timing = headers.get(b"server-timing", b"").decode()
                note["source"] = timing.split('"')[1] if '"' in timing else ""
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                note["ms"] = (time.perf_counter() - started) * 1000
                self.notes.append(note)
            await send(message)

        await self.app(scope, receive, noted)


def create_app() -> Recorder:
    """Return gridmap's app (settings from the environment, as ``gridmap serve``), noted."""
    return Recorder(create_gridmap())
