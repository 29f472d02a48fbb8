"""API keys with roles (viewer, planner, admin), optionally read-only embeds scoped to a region.

A key is 32 random bytes, shown once when it is made; the database keeps only its SHA-256
(a key has far more entropy than a password, so a slow hash adds nothing) and its first
characters to tell keys apart in lists.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, text

from gridmap.auth.tokens import TokenClaims, check_layers, read_claims, sign, verify
from gridmap.db.models import ROLES
from gridmap.errors import Forbidden, InvalidInput, NotFound
from gridmap.standards import code_prefix

PREFIX = "gm_"


@dataclass(frozen=True)
class Principal:
    """Who is asking: a role, and the region they are held to (None: the whole city)."""

    role: str
    region_id: int | None = None
    embed: bool = False
    name: str = "public"
    key_id: int | None = None
    layers: tuple[str, ...] | None = None  # a token's layers (None: every layer)
    expires: int | None = None  # a token's expiry, Unix seconds

    def may(self, role: str) -> bool:
        """Say whether this principal holds ``role`` or a higher one."""
        if self.embed and role != "viewer":
            return False
        return ROLES.index(self.role) >= ROLES.index(role)

    def allows(self, layer: str) -> bool:
        """Say whether this principal may read ``layer`` (a token may be held to some)."""
        return self.layers is None or layer in self.layers


@dataclass(frozen=True)
class NewKey:
    """A key just made: the secret (shown once) and its row."""

    id: int
    secret: str
    prefix: str


def hash_key(secret: str) -> str:
    """Return the stored hash of a key."""
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    connection: Connection,
    *,
    name: str,
    role: str,
    region_code: str | None = None,
    embed: bool = False,
) -> NewKey:
    """Make a key; an embed key is a viewer held to ``region_code``.

    Raises
    ------
    InvalidInput
        On an unknown role, an embed key without a region or with a role above viewer.
    NotFound
        When the region does not exist.
    """
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)} (got {role!r})")
    if embed and (role != "viewer" or region_code is None):
        raise InvalidInput("an embed key is a viewer held to a region: give --region")
    region_id = None
    if region_code is not None:
        region_id = connection.execute(
            text("SELECT id FROM region WHERE code = :code"), {"code": region_code}
        ).scalar()
        if region_id is None:
            raise NotFound(f"region: no region with code {region_code!r}")
    secret = PREFIX + secrets.token_urlsafe(32)
    key_id = connection.execute(
        text("""
        INSERT INTO api_key (key_hash, prefix, name, role, region_id, embed)
        VALUES (:hash, :prefix, :name, :role, :region, :embed) RETURNING id
    """),
        {
            "hash": hash_key(secret),
            "prefix": secret[:10],
            "name": name,
            "role": role,
            "region": region_id,
            "embed": embed,
        },
    ).scalar_one()
    return NewKey(int(key_id), secret, secret[:10])


def lookup(connection: Connection, secret: str) -> Principal | None:
    """Return who holds ``secret``, or None when no live key matches."""
    row = connection.execute(
        text("""
        SELECT id, name, role, region_id, embed FROM api_key
        WHERE key_hash = :hash AND revoked_at IS NULL
    """),
        {"hash": hash_key(secret)},
    ).first()
    if row is None:
        return None
    return Principal(row.role, row.region_id, row.embed, row.name, row.id)


def token_principal(connection: Connection, token: str, now: float) -> Principal | None:
    """Return who a token speaks for: a read-only viewer held to its region and layers.

    None when the token is malformed, forged, expired, or its key was revoked.
    """
    claims = read_claims(token)
    if claims is None:
        return None
    # The signing key is the key's stored hash, which its holder can compute: a token is
    # trusted only as far as its key is, so its region must lie inside the key's own.
    row = connection.execute(
        text("""
        SELECT k.id, k.name, k.key_hash,
               k.region_id IS NULL OR coalesce(t.code LIKE kr.code || '%', false) AS inside
        FROM api_key k
        LEFT JOIN region kr ON kr.id = k.region_id
        LEFT JOIN region t ON t.id = :region
        WHERE k.id = :id AND k.revoked_at IS NULL
    """),
        {"id": claims.key_id, "region": claims.region_id},
    ).first()
    if row is None or not row.inside or verify(token, row.key_hash, now) is None:
        return None
    return Principal(
        "viewer",
        claims.region_id,
        True,
        f"{row.name} (token)",
        row.id,
        claims.layers,
        claims.expires,
    )


def issue_token(
    connection: Connection,
    who: Principal,
    *,
    region_code: str | None = None,
    layers: list[str] | tuple[str, ...] | None = None,
    expires: int,
) -> tuple[str, TokenClaims]:
    """Sign a token for the key ``who`` asked with, narrowed to a region and layers.

    A token made from a token keeps that token's region, layers and expiry at most.

    Raises
    ------
    Forbidden
        When ``who`` asked without a key, or for a region or layers beyond its own.
    NotFound
        When the region does not exist.
    """
    if who.key_id is None:
        raise Forbidden("a token is made from an API key: send the key")
    wanted = check_layers(layers)
    if who.layers is not None:
        if wanted is not None and not set(wanted) <= set(who.layers):
            raise Forbidden(f"layers: this token reads only {', '.join(who.layers)}")
        wanted = wanted or who.layers
    region_id = who.region_id
    if region_code is not None:
        row = connection.execute(
            text("SELECT id, code FROM region WHERE code = :code"), {"code": region_code}
        ).first()
        if row is None:
            raise NotFound(f"region: no region with code {region_code!r}")
        if who.region_id is not None:
            held = connection.execute(
                text("SELECT code FROM region WHERE id = :id"), {"id": who.region_id}
            ).scalar_one()
            if not row.code.startswith(code_prefix(held)):
                raise Forbidden(f"region: {region_code} is not inside this key's region {held}")
        region_id = row.id
    if who.expires is not None:
        expires = min(expires, who.expires)
    key_hash = connection.execute(
        text("SELECT key_hash FROM api_key WHERE id = :id"), {"id": who.key_id}
    ).scalar_one()
    claims = TokenClaims(who.key_id, region_id, wanted, expires)
    return sign(claims, key_hash), claims


def revoke(connection: Connection, key_id: int) -> None:
    """Revoke a key; it stops working at once (and within the API's cache time).

    Raises
    ------
    NotFound
        When there is no such live key.
    """
    done = connection.execute(
        text("UPDATE api_key SET revoked_at = now() WHERE id = :id AND revoked_at IS NULL"),
        {"id": key_id},
    ).rowcount
    if not done:
        raise NotFound(f"no live key {key_id}")


def list_keys(connection: Connection) -> list[dict[str, object]]:
    """Return every key's row, without hashes."""
    rows = (
        connection.execute(
            text("""
        SELECT k.id, k.prefix, k.name, k.role, r.code AS region, k.embed, k.created_at,
               k.revoked_at
        FROM api_key k LEFT JOIN region r ON r.id = k.region_id ORDER BY k.id
    """)
        )
        .mappings()
        .all()
    )
    return [dict(row) for row in rows]
