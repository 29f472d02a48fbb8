"""Who is asking: API keys from a header (or ``?key=`` for embeds and tiles), and roles.

Keys are looked up once and remembered, so a tile request costs no extra query. Every change
to the keys notifies each API process (``gridmap_keys``, migration 0007), which then forgets
what it remembered: a revoked key stops working everywhere within a second. While a process
hears no notifications (its listener lost the database), it remembers a key for
:data:`UNHEARD_SECONDS` only.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from threading import Lock
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from api.deps import get_app_settings, get_engine
from gridmap.auth.keys import Principal, hash_key, lookup, token_principal
from gridmap.auth.tokens import is_token
from gridmap.config import Settings
from gridmap.errors import Forbidden, Unauthorized

CACHE_SECONDS = 300.0
UNHEARD_SECONDS = 1.0


_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer gm_…`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False)
_query = APIKeyQuery(name="key", auto_error=False, description="An API key, for embeds and tiles")
_token = APIKeyQuery(
    name="token", auto_error=False, description="An embed token (POST /tokens): read-only"
)


class KeyCache:
    """Principals by key hash, each remembered for a while."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal | None]] = {}
        self._lock = Lock()
        self._generation = 0  # counts the changes heard: a lookup older than one is not kept
        self.hearing: Callable[[], bool] = lambda: False  # notifications of key changes arrive

    def clear(self) -> None:
        """Forget every key (they changed)."""
        with self._lock:
            self._entries.clear()
            self._generation += 1

    def known(self, secret: str) -> Principal | None:
        """Return who holds ``secret`` if that was looked up lately (None: not known now)."""
        with self._lock:
            hit = self._entries.get(hash_key(secret))
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def get(self, engine: Engine, secret: str) -> Principal | None:
        """Return who holds ``secret`` (None: nobody), from memory when recently asked."""
        digest = hash_key(secret)
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self._lock:
            generation = self._generation
        with engine.connect() as connection:
            if is_token(secret):
                principal = token_principal(connection, secret, time.time())
            else:
                principal = lookup(connection, secret)
        with self._lock:
            if generation != self._generation:  # the keys changed meanwhile: ask again next time
                return principal
            if len(self._entries) > 10_000:
                self._entries.clear()
            keep = CACHE_SECONDS if self.hearing() else UNHEARD_SECONDS
            self._entries[digest] = (now + keep, principal)
        return principal


async def principal(
    request: Request,
    settings: Annotated[Settings, Depends(get_app_settings)],
    engine: Annotated[Engine, Depends(get_engine)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header: Annotated[str | None, Depends(_header)],
    query: Annotated[str | None, Depends(_query)],
    token: Annotated[str | None, Depends(_token)],
) -> Principal:
    """Return who is asking; without a key, a public viewer when public reading is on.

    A key or a token goes in ``Authorization: Bearer``, ``X-API-Key``, ``?key=`` or ``?token=``.
    """
    secret = (bearer.credentials if bearer else None) or header or query or token
    if not secret:
        if settings.public_read:
            return Principal("viewer")
        raise Unauthorized("an API key is needed: send `Authorization: Bearer <key>`")
    cache: KeyCache = request.app.state.keys
    found = cache.known(secret)  # a key asked for lately: no query, no thread
    if found is None:
        found = await run_in_threadpool(cache.get, engine, secret)
    if found is None:
        if is_token(secret):
            raise Unauthorized(
                "the token is not valid: it expired, was altered, or its key "
                "was revoked; ask for a new one"
            )
        raise Unauthorized("the API key is not known or was revoked")
    if expired(found):
        raise Unauthorized("the token expired; ask for a new one")
    return found


def expired(who: Principal) -> bool:
    """Say whether ``who`` speaks with a token that has expired since it was looked up."""
    return who.expires is not None and who.expires <= time.time()


def require(role: str) -> Callable[..., Awaitable[Principal]]:
    """Return a dependency that lets through principals with ``role`` or above."""

    async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
        if not who.may(role):
            what = "an embed key only reads" if who.embed else f"a {who.role} key"
            raise Forbidden(f"this needs the {role} role; {what}")
        return who

    return check


Viewer = Annotated[Principal, Depends(require("viewer"))]
Planner = Annotated[Principal, Depends(require("planner"))]
Admin = Annotated[Principal, Depends(require("admin"))]
