"""A short way for tiles already in the cache: answered before routing, with no database work.

Only a plain tile request takes it (no ``plan`` or ``run``), when its caller is known without a
query (public reading, or a key looked up lately) and the data revisions are known current
from the notifications; anything else, and every miss, goes on to the tile route, which does
the same checks the long way and fills the cache.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.routes.tiles import answer
from gridmap.auth.keys import Principal
from gridmap.errors import GridmapError
from gridmap.tiles.service import TileRequest
from gridmap.tiles.tilesets import TILESETS

TILE_PATH = re.compile(r"^/tiles/([a-z]+)/(\d{1,2})/(\d{1,7})/(\d{1,7})\.mvt$")


class CachedTiles:
    """ASGI middleware serving cache hits of the tile route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a cached tile at once; pass everything else on."""
        if scope["type"] == "http" and scope["method"] == "GET":
            match = TILE_PATH.match(scope["path"])
            if match is not None:
                response = self._hit(scope, match)
                if response is not None:
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _hit(self, scope: Scope, match: re.Match[str]):  # type: ignore[no-untyped-def]
        state = scope["app"].state
        tiles = TILESETS.get(match.group(1))
        if tiles is None or not hasattr(state, "tiles"):
            return None
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if set(query) - {"v", "key"}:
            return None
        request = Request(scope)
        who = self._principal(state, request, query)
        if who is None:
            return None
        try:
            wanted = TileRequest(tiles, *(int(g) for g in match.groups()[1:]), scope=who.region_id)
        except GridmapError:
            return None  # the route says what is wrong
        found = state.tiles.cached(wanted)
        current = state.tiles.version_known(tiles)
        if found is None or current is None:
            return None
        return answer(found, who=who, version=query.get("v", [None])[0], current=current,
                      if_none_match=request.headers.get("if-none-match"),
                      accept_encoding=request.headers.get("accept-encoding", ""))  # fmt: skip

    @staticmethod
    def _principal(state, request: Request, query: dict[str, list[str]]) -> Principal | None:  # type: ignore[no-untyped-def]
        authorization = request.headers.get("authorization", "")
        secret = (authorization[7:] if authorization.lower().startswith("bearer ") else None) or (
            request.headers.get("x-api-key") or query.get("key", [None])[0])  # fmt: skip
        if not secret:
            return Principal("viewer") if state.settings.public_read else None
        return state.keys.known(secret)
