"""Embed tokens: a short-lived, read-only stand-in for a key, to put in URLs (iframes, tiles).

``POST /tokens`` with a key in a header answers a token held to the key's region (or one
inside it) and to some layers, expiring within a day; a token asks for tokens no wider than
itself. See :mod:`gridmap.auth.tokens`.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Viewer
from api.deps import EngineDep
from api.schemas import Token
from gridmap.auth.keys import issue_token
from gridmap.auth.tokens import LAYERS, MAX_MINUTES
from gridmap.db.coverage import region_code

router = APIRouter(tags=["Keys"])


class TokenAsk(BaseModel):
    """How long the token lives, and what it may read."""

    model_config = ConfigDict(extra="forbid")

    minutes: int = Field(default=60, ge=1, le=MAX_MINUTES, description="How long it lives")
    layers: list[str] | None = Field(
        default=None,
        max_length=len(LAYERS),
        examples=[["grids", "stations"]],
        description=f"Some of {', '.join(LAYERS)} (default: every layer)",
    )
    region: str | None = Field(
        default=None, pattern="^[0-9]{6,12}$", description="A region inside the key's own"
    )


@router.post("/tokens", name="tokens", status_code=201, response_model=Token)
def make_token(
    engine: EngineDep, who: Viewer, ask: Annotated[TokenAsk | None, Body()] = None
) -> dict[str, Any]:
    """Make an embed token from the key this request carries (send the key in a header)."""
    ask = ask or TokenAsk()
    expires = int(time.time()) + ask.minutes * 60
    with engine.begin() as connection:
        token, claims = issue_token(
            connection, who, region_code=ask.region, layers=ask.layers, expires=expires
        )
        held = None if claims.region_id is None else region_code(connection, claims.region_id)
    return {
        "token": token,
        "expires_at": datetime.fromtimestamp(claims.expires, UTC).isoformat(),
        "region": held,
        "layers": list(claims.layers) if claims.layers is not None else None,
    }
