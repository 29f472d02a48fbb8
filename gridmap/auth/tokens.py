"""Embed tokens: short-lived, read-only, signed stand-ins for a key in a URL.

A portal's iframe or a tile URL must carry its credential in the address, where browser
history, proxies and log shippers keep it. A token is what travels there instead of the key:

``gmt_`` + base64url(payload) + ``.`` + base64url(HMAC-SHA256(the key's stored hash, payload))

The payload names the key (by id), the region the token is held to (the key's, or one inside
it), the layers it may read (None: all) and when it expires (Unix seconds). Tokens are never
stored: the service checks the signature with the key's stored hash, so revoking the key voids
every token made from it, and a token cannot be widened (region, layers, expiry) without the
key. Whoever holds the key can compute that hash and sign tokens, so a token is trusted no
further than its key: its region must lie inside the key's (checked when it is read). A token
only ever reads, whatever the key's role.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from dataclasses import dataclass

from gridmap.errors import InvalidInput

TOKEN_PREFIX = "gmt_"
LAYERS = ("grids", "units", "regions", "buildings", "stations", "circles", "gaps")
"""What a token may be limited to: the embed page's layers, the same names as collections."""
MAX_MINUTES = 24 * 60
"""The longest a token may live."""
TILE_TOKEN_MINUTES = 12 * 60
"""How long a token written into a TileJSON's or a style's URLs lives (a day's session)."""
TILE_TOKEN_STEP_S = 3600
"""Tokens written into tile URLs expire on the hour, so that one hour's URLs are the same and
browsers cache their tiles."""


@dataclass(frozen=True)
class TokenClaims:
    """What a token says: whose key, which region and layers, until when."""

    key_id: int
    region_id: int | None
    layers: tuple[str, ...] | None
    expires: int  # Unix seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(key_hash: str, payload: bytes) -> bytes:
    return hmac.new(key_hash.encode(), payload, hashlib.sha256).digest()


def check_layers(layers: list[str] | tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Return ``layers`` sorted and without repeats (None: every layer).

    >>> check_layers(["stations", "grids", "grids"])
    ('grids', 'stations')

    Raises
    ------
    InvalidInput
        Naming a layer that is not one of :data:`LAYERS`, or when the list is empty.
    """
    if layers is None:
        return None
    unknown = sorted(set(layers) - set(LAYERS))
    if unknown:
        raise InvalidInput(f"layers: {unknown[0]!r} is not one of {', '.join(LAYERS)}")
    if not layers:
        raise InvalidInput("layers: name at least one layer, or leave layers out for all")
    return tuple(sorted(set(layers)))


def sign(claims: TokenClaims, key_hash: str) -> str:
    """Return the token of ``claims``, signed with the key's stored hash."""
    body = {
        "k": claims.key_id,
        "r": claims.region_id,
        "e": claims.expires,
        "l": list(claims.layers) if claims.layers is not None else None,
    }
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    return f"{TOKEN_PREFIX}{_b64(payload)}.{_b64(_signature(key_hash, payload))}"


def is_token(secret: str) -> bool:
    """Say whether ``secret`` is a token (not a key)."""
    return secret.startswith(TOKEN_PREFIX)


def read_claims(token: str) -> TokenClaims | None:
    """Return what ``token`` claims, unverified (None: not a well-formed token)."""
    try:
        payload = _unb64(token.removeprefix(TOKEN_PREFIX).split(".")[0])
        body = json.loads(payload)
        layers = body["l"]
        return TokenClaims(
            int(body["k"]),
            None if body["r"] is None else int(body["r"]),
            None if layers is None else tuple(str(x) for x in layers),
            int(body["e"]),
        )
    except (ValueError, KeyError, TypeError, IndexError):
        return None


def verify(token: str, key_hash: str, now: float) -> TokenClaims | None:
    """Return the claims of ``token`` when its signature holds and it has not expired."""
    if not is_token(token) or token.count(".") != 1:
        return None
    payload_text, signature_text = token.removeprefix(TOKEN_PREFIX).split(".")
    try:
        payload, signature = _unb64(payload_text), _unb64(signature_text)
    except ValueError:
        return None
    if not hmac.compare_digest(signature, _signature(key_hash, payload)):
        return None
    claims = read_claims(token)
    if claims is None or claims.expires <= now:
        return None
    if claims.expires > now + MAX_MINUTES * 60:  # signed by a key's holder for longer: refused
        return None
    return claims


def tile_token_expiry(now: float) -> int:
    """Return when a token written into tile URLs now expires: on the hour, 11–12 h ahead.

    >>> tile_token_expiry(7200.0), tile_token_expiry(7201.0)
    (46800, 50400)
    """
    return int(
        math.ceil(now / TILE_TOKEN_STEP_S) * TILE_TOKEN_STEP_S
        + (TILE_TOKEN_MINUTES * 60 - TILE_TOKEN_STEP_S)
    )
