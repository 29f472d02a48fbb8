"""Embed tokens as pure functions: signed, checked, expiring exactly when they say."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from gridmap.auth.tokens import (
    TokenClaims,
    check_layers,
    read_claims,
    sign,
    tile_token_expiry,
    verify,
)
from gridmap.errors import InvalidInput

HASH = hashlib.sha256(b"gm_example").hexdigest()
CLAIMS = TokenClaims(7, 42, ("grids", "stations"), 1_000_000)


def test_a_token_verifies_until_the_second_it_expires() -> None:
    token = sign(CLAIMS, HASH)
    assert verify(token, HASH, 999_999.9) == CLAIMS
    assert verify(token, HASH, 1_000_000) is None  # expired at that second, not after it
    assert verify(token, HASH, 1_000_001) is None


def test_a_token_lives_a_day_at_most_whoever_signed_it() -> None:
    day = 24 * 60 * 60
    assert verify(sign(CLAIMS, HASH), HASH, 1_000_000 - day) == CLAIMS
    assert verify(sign(CLAIMS, HASH), HASH, 1_000_000 - day - 1) is None


def test_the_signature_is_an_hmac_of_the_payload_with_the_key_s_stored_hash() -> None:
    token = sign(CLAIMS, HASH)
    payload, signature = token.removeprefix("gmt_").split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert json.loads(raw) == {"k": 7, "r": 42, "l": ["grids", "stations"], "e": 1_000_000}
    expected = hmac.new(HASH.encode(), raw, hashlib.sha256).digest()
    assert base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)) == expected


def test_a_changed_payload_or_another_key_fails() -> None:
    token = sign(CLAIMS, HASH)
    wider = sign(TokenClaims(7, None, None, 2_000_000), HASH)
    _, signature = token.removeprefix("gmt_").split(".")
    forged = wider.split(".")[0] + "." + signature
    assert verify(forged, HASH, 0) is None
    assert verify(token, hashlib.sha256(b"gm_other").hexdigest(), 0) is None
    for bad in ("gm_key", "gmt_", "gmt_a.b.c", "gmt_!!.??", token + "x"):
        assert verify(bad, HASH, 0) is None
    assert read_claims("gmt_e30.x") is None  # {} claims nothing


def test_layers_are_checked_and_kept_in_one_order() -> None:
    assert check_layers(None) is None
    assert check_layers(["stations", "grids", "stations"]) == ("grids", "stations")
    with pytest.raises(InvalidInput, match="'roads' is not one of"):
        check_layers(["grids", "roads"])
    with pytest.raises(InvalidInput, match="name at least one layer"):
        check_layers([])


def test_the_payload_is_compact_json_with_sorted_keys_and_no_padding() -> None:
    """One set of claims makes one token (tile URLs of an hour are the same, so cached)."""
    token = sign(CLAIMS, HASH)
    payload = token.removeprefix("gmt_").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    assert raw == b'{"e":1000000,"k":7,"l":["grids","stations"],"r":42}'
    assert "=" not in token


@pytest.mark.parametrize("key_id", range(1, 13))
def test_tokens_of_every_length_read_back(key_id: int) -> None:
    # key ids and expiries of growing length make payloads of every length modulo 4 and 5
    claims = TokenClaims(10**key_id, None, None, 10 ** (key_id % 5) + 1_000_000)
    assert verify(sign(claims, HASH), HASH, claims.expires - 10) == claims
    assert read_claims(sign(claims, HASH)) == claims


def test_tile_tokens_expire_on_the_hour_eleven_to_twelve_hours_ahead() -> None:
    hour = 3600
    assert tile_token_expiry(2 * hour) == 13 * hour  # on the hour: 11 hours ahead
    assert tile_token_expiry(2 * hour + 1) == 14 * hour  # a second after: the next hour's
    assert tile_token_expiry(3 * hour - 1) == 14 * hour  # the same URL all that hour
