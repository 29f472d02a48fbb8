"""A short way for plain tile requests, before routing.

Hits in memory cost no database work at all; misses are looked up in the shared store and,
if not there, built on the event loop (no hop to a worker thread and back) without the
routing and dependency machinery around them.

Only a plain tile request takes it (no ``plan`` or ``run``), when its caller is known without a
query (public reading, or a key looked up lately) and the data revisions are known current
from the notifications; anything else goes on to the tile route, which does the same checks
the long way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import psycopg
from sqlalchemy.exc import DBAPIError
from starlette.types import ASGIApp, Receive, Scope, Send

from api.auth import expired
from api.errors import unreachable
from api.routes.tiles import reply
from gridmap.auth.keys import Principal
from gridmap.db.outage import lost_connection
from gridmap.errors import GridmapError
from gridmap.tiles.service import KnownTile, TileRequest
from gridmap.tiles.tilesets import TILESETS, narrowed

TILE_PATH = re.compile(r"^/tiles/([a-z]+)/(\d{1,2})/(\d{1,7})/(\d{1,7})\.mvt$")


@dataclass(frozen=True)
class _Plain:
    """A plain tile request, its caller and the data version, all known without a query."""

    known: KnownTile
    who: Principal
    version: str | None
    if_none_match: str | None
    accept_encoding: str


class CachedTiles:
    """ASGI middleware answering plain tile requests before routing."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a plain tile request here; pass everything else on."""
        if scope["type"] == "http" and scope["method"] == "GET":
            match = TILE_PATH.match(scope["path"])
            plain = self._plain(scope, match) if match is not None else None
            try:
                answered = await self._answer(scope, plain) if plain is not None else None
            except (psycopg.Error, DBAPIError) as error:
                if lost_connection(error):  # the database went away: a 503, said once
                    await unreachable(scope["app"], error)(scope, receive, send)
                    return
                answered = None  # the route answers, the long way, with its own errors
            if answered is not None:
                status, headers, body = answered
                raw = [
                    (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
                ]
                if status == 200:
                    raw.append((b"content-length", str(len(body)).encode("latin-1")))
                await send({"type": "http.response.start", "status": status, "headers": raw})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _answer(scope: Scope, plain: _Plain) -> tuple[int, dict[str, str], bytes] | None:
        state = scope["app"].state
        known = plain.known
        try:  # from memory, or from the store or built on the event loop, without the route
            found = await state.tiles.tile_on_loop(state.tile_builder, known)
        except GridmapError:
            return None  # the route reports it, as problem+json
        return reply(
            found,
            who=plain.who,
            version=plain.version,
            current=known.version,
            if_none_match=plain.if_none_match,
            accept_encoding=plain.accept_encoding,
        )

    def _plain(self, scope: Scope, match: re.Match[str]) -> _Plain | None:
        state = scope["app"].state
        tiles = TILESETS.get(match.group(1))
        if tiles is None or not hasattr(state, "tiles"):
            return None
        raw_query = scope.get("query_string", b"")
        query = parse_qs(raw_query.decode("latin-1")) if raw_query else {}
        if set(query) - {"v", "key", "token"}:
            return None
        headers = _headers_of(scope)
        who = self._principal(state, headers, query)
        if who is None or expired(who):
            return None  # the route answers 401
        tiles = narrowed(tiles, who.layers, embed=who.embed)
        if tiles is None:
            return None  # the route answers 403
        try:
            z, x, y = (int(g) for g in match.groups()[1:])
            wanted = TileRequest(tiles, z, x, y, scope=who.region_id)
        except GridmapError:
            return None  # the route says what is wrong
        known = state.tiles.known(wanted)
        if known is None:
            return None
        return _Plain(
            known,
            who,
            query.get("v", [None])[0],
            headers.get("if-none-match"),
            headers.get("accept-encoding", ""),
        )

    @staticmethod
    def _principal(
        state: Any, headers: dict[str, str], query: dict[str, list[str]]
    ) -> Principal | None:
        authorization = headers.get("authorization", "")
        secret = (authorization[7:] if authorization.lower().startswith("bearer ") else None) or (
            headers.get("x-api-key") or query.get("key", [None])[0] or query.get("token", [None])[0]
        )
        if not secret:
            return Principal("viewer") if state.settings.public_read else None
        return state.keys.known(secret)


WANTED_HEADERS = frozenset({b"authorization", b"x-api-key", b"if-none-match", b"accept-encoding"})


def _headers_of(scope: Scope) -> dict[str, str]:
    """Return the few request headers the short way reads, in one pass (names lower case)."""
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name, value in scope["headers"]
        if name in WANTED_HEADERS
    }
