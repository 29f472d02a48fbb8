"""Embed tokens: short-lived, read-only, held to a region and layers, never widened."""

from __future__ import annotations

import hashlib
import logging
import time
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.main import create_app
from gridmap.auth.keys import create_key, issue_token, lookup, revoke
from gridmap.auth.tokens import read_claims, sign, tile_token_expiry
from tests.api.conftest import Served, serving
from tests.api.test_tiles import CENTRE, tile_of


def token_for(api: TestClient, served: Served, body: dict, role: str = "embed") -> dict:
    got = api.post("/tokens", json=body, headers=served.headers(role))
    assert got.status_code == 201, got.text
    return got.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_reads_its_layers_in_its_region_and_nothing_else(
    api: TestClient, served: Served
) -> None:
    made = token_for(api, served, {"layers": ["stations", "grids", "grids"], "minutes": 30})
    assert made["layers"] == ["grids", "stations"] and made["region"] == served.community
    token = made["token"]
    assert token.startswith("gmt_") and served.keys["embed"] not in token
    grids = api.get("/collections/grids/items", params={"token": token, "limit": 1000})
    assert grids.status_code == 200, grids.text
    codes = [f["properties"]["code"] for f in grids.json()["features"]]
    assert codes and all(c.startswith(served.community) for c in codes)
    listed = api.get("/collections", headers=bearer(token)).json()["collections"]
    assert sorted(c["id"] for c in listed) == ["grids", "stations"]
    for other in ("units", "buildings", "events", "regions"):
        refused = api.get(f"/collections/{other}/items", headers=bearer(token))
        assert refused.status_code == 403 and "reads only grids, stations" in refused.text
    z, x, y = tile_of(*CENTRE, 15)
    tile = api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", params={"token": token})
    assert tile.status_code in (200, 204), tile.text
    layers = set(mapbox_vector_tile.decode(tile.content)) if tile.status_code == 200 else set()
    assert layers <= {"grids", "grid_labels", "stations"}
    full = mapbox_vector_tile.decode(
        api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", headers=served.headers("embed")).content
    )
    assert {"buildings", "units"} <= set(full)  # the key itself reads them: the token narrowed
    assert api.get(f"/tiles/buildings/{z}/{x}/{y}.mvt", headers=bearer(token)).status_code == 403
    assert api.get("/plans", headers=bearer(token)).status_code == 403  # a token only reads


def test_a_token_cannot_be_widened_forged_or_outlive_its_key(
    api: TestClient, served: Served
) -> None:
    with served.engine.begin() as connection:
        street, street_id = connection.execute(
            text("SELECT code, id FROM region WHERE level = 'street' ORDER BY code LIMIT 1")
        ).one()
        other = connection.execute(
            text(
                "SELECT code FROM region WHERE level = 'community' AND code <> :c ORDER BY code "
                "LIMIT 1"
            ),
            {"c": served.community},
        ).scalar_one()
        spare = create_key(
            connection, name="spare portal", role="viewer", region_code=served.community, embed=True
        )
    embed = served.headers("embed")
    for body, status, says in (
        ({"region": street}, 403, "not inside this key's region"),
        ({"region": other}, 403, "not inside this key's region"),
        ({"layers": ["grids", "roads"]}, 400, "'roads' is not one of"),
        ({"layers": []}, 400, "name at least one layer"),
        ({"minutes": 0}, 400, "minutes"),
        ({"minutes": 1441}, 400, "minutes"),
        ({"colour": "red"}, 400, "colour"),
    ):
        got = api.post("/tokens", json=body, headers=embed)
        assert (got.status_code, says in got.text) == (status, True), (body, got.text)
    narrow = token_for(api, served, {"layers": ["grids"], "minutes": 5})["token"]
    wider = api.post("/tokens", json={"layers": ["grids", "units"]}, headers=bearer(narrow))
    assert wider.status_code == 403 and "reads only grids" in wider.text
    again = api.post("/tokens", json={"minutes": 1440}, headers=bearer(narrow))
    assert again.status_code == 201 and again.json()["layers"] == ["grids"]
    assert again.json()["expires_at"] <= token_for(api, served, {"minutes": 6})["expires_at"]
    city = token_for(api, served, {"region": served.community}, role="viewer")
    assert city["region"] == served.community  # a city-wide key's token held to a community

    # forged: the payload changed (another region, all layers), the signature kept
    payload, signature = narrow.removeprefix("gmt_").split(".")
    with served.engine.connect() as connection:
        who = lookup(connection, served.keys["embed"])
        assert who is not None
        _, claims = issue_token(connection, who, expires=int(time.time()) + 600)
    forged = sign(claims.__class__(claims.key_id, None, None, claims.expires), "not the hash")
    for bad in (
        forged,
        f"gmt_{payload}x.{signature}",
        f"gmt_{payload}.{signature[:-2]}",
        "gmt_",
        "gmt_not.base64!",
    ):
        refused = api.get("/collections/grids/items", headers=bearer(bad))
        assert refused.status_code == 401 and "token is not valid" in refused.text, bad
    # the key's holder can compute its stored hash and sign any claims: never wider than the key
    held_hash = hashlib.sha256(served.keys["embed"].encode()).hexdigest()
    assert claims.region_id is not None
    for region in (None, street_id):
        wide = sign(claims.__class__(claims.key_id, region, None, claims.expires), held_hash)
        assert api.get("/collections/grids/items", headers=bearer(wide)).status_code == 401
    inside = sign(claims, held_hash)  # the key's own region: as good as the key
    assert api.get("/collections/grids/items", headers=bearer(inside)).status_code == 200
    with served.engine.connect() as connection:
        who = lookup(connection, spare.secret)
        assert who is not None
        old, _ = issue_token(connection, who, expires=int(time.time()) - 1)
        live, _ = issue_token(connection, who, expires=int(time.time()) + 600)
    assert api.get("/collections/grids/items", headers=bearer(old)).status_code == 401
    assert api.get("/collections/grids/items", headers=bearer(live)).status_code == 200
    with served.engine.begin() as connection:
        revoke(connection, spare.id)
    time.sleep(1.5)  # every process forgets a revoked key within a second
    gone = api.get("/collections/grids/items", headers=bearer(live))
    assert gone.status_code == 401 and "its key was revoked" in gone.text


def test_a_token_that_expires_while_remembered_is_refused(api: TestClient, served: Served) -> None:
    with served.engine.connect() as connection:
        who = lookup(connection, served.keys["embed"])
        assert who is not None
        brief, _ = issue_token(connection, who, expires=int(time.time()) + 2)
    z, x, y = tile_of(*CENTRE, 14)
    assert api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", headers=bearer(brief)).status_code == 200
    time.sleep(2.5)
    late = api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", headers=bearer(brief))
    assert late.status_code == 401 and "expired" in late.text
    assert api.get("/collections/grids/items", headers=bearer(brief)).status_code == 401


def test_a_style_fetched_with_a_key_hands_its_tiles_a_token_not_the_key(
    api: TestClient, served: Served
) -> None:
    key = served.keys["embed"]
    style = api.get("/styles/gridmap.json", params={"key": key})
    assert style.status_code == 200 and key not in style.text
    source = style.json()["sources"]["gridmap"]["url"]
    token = parse_qs(urlsplit(source).query)["token"][0]
    tilejson = api.get(source)
    assert tilejson.status_code == 200 and key not in tilejson.text
    template = tilejson.json()["tiles"][0]
    assert parse_qs(urlsplit(template).query)["token"] == [token]
    z, x, y = tile_of(*CENTRE, 14)
    tile = api.get(template.format(z=z, x=x, y=y))
    assert tile.status_code == 200
    direct = api.get("/tiles/gridmap.json", params={"key": key}).json()["tiles"][0]
    assert parse_qs(urlsplit(direct).query)["token"] == [token]  # the same within the hour
    read = read_claims(token)  # on the hour, 11 to 12 hours ahead: one hour's URLs are the same
    assert read is not None and read.expires == tile_token_expiry(time.time())
    headed = api.get("/tiles/gridmap.json", headers=served.headers("embed")).json()["tiles"][0]
    assert "token=" not in headed and "key=" not in headed  # a header is sent again, not put in


@pytest.mark.parametrize("layer", ["grids", "stations"])
def test_a_token_s_tilejson_lists_only_its_layers(
    api: TestClient, served: Served, layer: str
) -> None:
    token = token_for(api, served, {"layers": [layer]})["token"]
    doc = api.get("/tiles/gridmap.json", params={"token": token}).json()
    ids = {v["id"] for v in doc["vector_layers"]}
    assert layer in ids and "buildings" not in ids and "units" not in ids


class Lines(logging.Handler):
    """Every access-log line as uvicorn writes it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_a_session_of_embed_traffic_leaves_no_key_or_token_in_the_access_log(
    served: Served,
) -> None:
    key = served.keys["embed"]
    access = logging.getLogger("uvicorn.access")
    lines = Lines()
    with serving(create_app(served.settings(job_workers=0))) as base:
        level = access.level
        access.setLevel(logging.INFO)  # the fixture's server logs warnings only
        access.addHandler(lines)
        try:
            with httpx.Client(base_url=base, timeout=30) as client:
                made = client.post(
                    "/tokens", json={"minutes": 10}, headers={"Authorization": f"Bearer {key}"}
                )
                token = made.json()["token"]
                assert client.get("/embed", params={"token": token}).status_code == 200
                style = client.get("/styles/gridmap.json", params={"key": key}).json()
                tilejson = client.get(style["sources"]["gridmap"]["url"]).json()
                z, x, y = tile_of(*CENTRE, 14)
                tile = client.get(tilejson["tiles"][0].format(z=z, x=x, y=y))
                assert tile.status_code == 200
                items = client.get("/collections/grids/items", params={"key": key, "limit": 5})
                assert items.status_code == 200
                units = client.get("/collections/units/items", params={"token": token})
                assert units.status_code == 200
        finally:
            access.removeHandler(lines)
            access.setLevel(level)
    tile_token = parse_qs(urlsplit(tilejson["tiles"][0]).query)["token"][0]
    logged = "\n".join(lines.lines)
    assert len(lines.lines) >= 7 and "/tiles/gridmap/14/" in logged
    for secret in (key, token, tile_token):
        assert secret not in logged
    assert "token=***" in logged and "key=***" in logged
