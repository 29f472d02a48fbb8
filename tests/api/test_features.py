"""OGC API - Features on the demo city: GDAL reads it; paging, filters, sorting, scope, keys."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.main import create_app
from gridmap.crs import wgs84_to_gcj02
from gridmap.features.collections import COLLECTIONS
from tests.api.conftest import Live, Served

GEOJSON = "application/geo+json"


def everything(api: TestClient, served: Served, collection: str, **params: str) -> dict:
    reply = api.get(
        f"/collections/{collection}/items",
        headers=served.headers("viewer"),
        params={"limit": "10000", **params},
    )
    assert reply.status_code == 200, reply.text
    return reply.json()


def count(served: Served, sql: str) -> int:
    with served.engine.connect() as connection:
        return int(connection.execute(text(sql)).scalar_one())


def test_gdal_lists_and_reads_every_collection(live: Live) -> None:
    header = f"Authorization: Bearer {live.served.keys['viewer']}"
    command = ["ogrinfo", "-ro", "-so", "-al", "--config", "GDAL_HTTP_HEADERS", header]
    out = subprocess.run(
        [*command, f"OAPIF:{live.base}"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    layers = [
        line.split(": ", 1)[1]
        for line in out.stdout.splitlines()
        if line.startswith("Layer name: ")
    ]
    assert layers == list(COLLECTIONS)
    counts = {
        name: int(line.split(": ")[1])
        for name, line in zip(
            layers,
            [ln for ln in out.stdout.splitlines() if ln.startswith("Feature Count: ")],
            strict=True,
        )
    }
    assert counts["buildings"] == count(live.served, "SELECT count(*) FROM building") == 483
    assert counts["units"] == count(live.served, "SELECT count(*) FROM unit") == 100
    assert counts["stations"] == 3
    assert counts["grids"] == count(
        live.served,
        "SELECT count(*) FROM grid g JOIN plan p ON p.id = g.plan_id WHERE p.status = 'current'",
    )
    code, households = next(iter(_grids(live.served)))
    one = subprocess.run(
        [
            "ogrinfo",
            "-ro",
            "--config",
            "GDAL_HTTP_HEADERS",
            header,
            f"OAPIF:{live.base}",
            "grids",
            "-where",
            f"code = '{code}'",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert one.returncode == 0, one.stderr
    assert f"households (Integer) = {households}" in one.stdout and "MULTIPOLYGON" in one.stdout


def _grids(served: Served) -> list[tuple[str, int]]:
    with served.engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                text(
                    "SELECT g.code, g.households FROM grid g JOIN plan p ON p.id = g.plan_id "
                    "WHERE p.status = 'current' ORDER BY g.code"
                )
            )
        ]


def test_pages_follow_next_links_to_every_feature_once(api: TestClient, served: Served) -> None:
    url, seen, pages = "/collections/buildings/items?limit=100", [], 0
    while url:
        page = api.get(url, headers=served.headers("viewer"))
        assert page.status_code == 200 and page.headers["content-type"] == GEOJSON
        body = page.json()
        assert body["numberMatched"] == 483 and body["numberReturned"] == len(body["features"])
        seen += [f["id"] for f in body["features"]]
        links = {link["rel"]: link["href"] for link in body["links"]}
        assert ("prev" in links) == (pages > 0)
        url = links.get("next", "").replace("http://testserver", "")
        pages += 1
    assert pages == 5 and len(seen) == len(set(seen)) == 483
    assert everything(api, served, "units", limit="20000")["numberReturned"] == 100  # clamped


def test_bbox_and_property_filters_select_what_they_say(api: TestClient, served: Served) -> None:
    box = (24.940, 60.165, 24.946, 60.170)
    inside = everything(api, served, "buildings", bbox=",".join(map(str, box)))["features"]
    shapes = [shapely.geometry.shape(f["geometry"]) for f in inside]
    assert 0 < len(inside) < 483 and all(s.intersects(shapely.box(*box)) for s in shapes)
    every = everything(api, served, "buildings")["features"]
    outside = [f for f in every if f["id"] not in {g["id"] for g in inside}]
    assert not any(
        shapely.geometry.shape(f["geometry"]).intersects(shapely.box(*box)) for f in outside
    )
    urban = everything(api, served, "grids", kind="urban")
    assert urban["numberMatched"] == len(_grids(served))
    assert everything(api, served, "grids", kind="rural")["numberMatched"] == 0


def test_cql2_filters_equal_the_same_test_in_python(api: TestClient, served: Served) -> None:
    grids = everything(api, served, "grids")["features"]
    first = grids[0]["properties"]["code"]
    cases = {
        "households > 400 AND kind = 'urban'": lambda p: (
            p["households"] > 400 and p["kind"] == "urban"
        ),
        "households < 300 OR residents > 1200": lambda p: (
            p["households"] < 300 or p["residents"] > 1200
        ),
        f"code IN ('{first}', 'nope')": lambda p: p["code"] == first,
        f"code LIKE '{first[:12]}%'": lambda p: p["code"].startswith(first[:12]),
        "NOT (households BETWEEN 300 AND 500)": lambda p: not 300 <= p["households"] <= 500,
    }
    for expression, test in cases.items():
        got = {f["id"] for f in everything(api, served, "grids", filter=expression)["features"]}
        assert got == {f["id"] for f in grids if test(f["properties"])}, expression
    box = "POLYGON((24.940 60.165, 24.946 60.165, 24.946 60.170, 24.940 60.170, 24.940 60.165))"
    spatial = everything(api, served, "stations", filter=f"S_INTERSECTS(geometry, {box})")
    assert all(
        shapely.box(24.940, 60.165, 24.946, 60.170).intersects(
            shapely.geometry.shape(f["geometry"])
        )
        for f in spatial["features"]
    )


def test_casei_likes_match_whatever_the_case_and_plain_likes_do_not(
    api: TestClient, served: Served
) -> None:
    stations = everything(api, served, "stations")["features"]
    cased = re.compile(r"[A-Za-z]{4}")  # a piece of a name in the other case
    piece = next(m.group() for f in stations if (m := cased.search(f["properties"]["name"] or "")))
    piece = piece.swapcase()
    want = {f["id"] for f in stations if piece.lower() in f["properties"]["name"].lower()}
    casei = everything(api, served, "stations", filter=f"CASEI(name) LIKE CASEI('%{piece}%')")
    assert {f["id"] for f in casei["features"]} == want and want
    plain = everything(api, served, "stations", filter=f"name LIKE '%{piece}%'")
    assert {f["id"] for f in plain["features"]} == {
        f["id"] for f in stations if piece in f["properties"]["name"]
    }
    other = api.get(
        "/collections/stations/items",
        params={"filter": "CASEI(name) = 'x'"},
        headers=served.headers("viewer"),
    )
    assert other.status_code == 400 and "lower" in other.json()["detail"]


def test_sortby_orders_and_bad_parameters_name_the_field(api: TestClient, served: Served) -> None:
    ordered = everything(api, served, "grids", sortby="-households")["features"]
    values = [f["properties"]["households"] for f in ordered]
    assert values == sorted(values, reverse=True)
    h = served.headers("viewer")
    for params, field in [
        ({"sortby": "height"}, "sortby"),
        ({"filter": "height > 2"}, "height"),
        ({"households": "many"}, "households"),
        ({"colour": "red"}, "colour"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"filter": "households >"}, "filter"),
        ({"crs": "EPSG:3857"}, "crs"),
        ({"limit": "0"}, "limit"),
    ]:
        reply = api.get("/collections/grids/items", params=params, headers=h)
        assert reply.status_code == 400, params
        assert reply.headers["content-type"] == "application/problem+json"
        assert field in reply.json()["detail"], reply.json()
    missing = api.get("/collections/nowhere/items", headers=h)
    assert missing.status_code == 404 and "grids" in missing.json()["detail"]


def test_one_feature_by_its_id_and_gcj02_output(api: TestClient, served: Served) -> None:
    code, households = _grids(served)[0]
    one = api.get(f"/collections/grids/items/{code}", headers=served.headers("viewer"))
    assert one.status_code == 200 and one.headers["content-type"] == GEOJSON
    assert one.json()["properties"]["households"] == households
    assert (
        api.get("/collections/grids/items/nope", headers=served.headers("viewer")).status_code
        == 404
    )
    assert (
        api.get("/collections/buildings/items/x1", headers=served.headers("viewer")).status_code
        == 404
    )
    with served.engine.begin() as connection:  # a station in Chengdu, where GCJ-02 shifts
        connection.execute(
            text(
                "INSERT INTO station (code, name, geom) VALUES "
                "('CD-1', '玉林站', ST_SetSRID(ST_MakePoint(104.06, 30.66), 4326))"
            )
        )
    try:
        plain = api.get("/collections/stations/items/CD-1", headers=served.headers("viewer"))
        shifted = api.get(
            "/collections/stations/items/CD-1?crs=gcj02", headers=served.headers("viewer")
        )
    finally:
        with served.engine.begin() as connection:
            connection.execute(text("DELETE FROM station WHERE code = 'CD-1'"))
    assert plain.json()["geometry"]["coordinates"] == [104.06, 30.66]
    assert shifted.headers["content-crs"] == "gcj02"
    expected = [float(v) for v in wgs84_to_gcj02(104.06, 30.66)]
    assert shifted.json()["geometry"]["coordinates"] == pytest.approx(expected, abs=1e-9)
    assert expected != pytest.approx([104.06, 30.66], abs=1e-4)  # the shift is hundreds of metres


def test_injection_attempts_are_refused_or_harmless(api: TestClient, served: Served) -> None:
    h = served.headers("viewer")
    before = count(served, "SELECT count(*) FROM grid")
    attempts = [
        {"filter": "code = 'x'; DROP TABLE grid; --"},
        {"filter": "code = 'x'' OR ''1''=''1'"},
        {"filter": "households > 0) OR (1=1"},
        {"filter": "pg_sleep(5) = 1"},
        {"sortby": "households; DROP TABLE grid"},
        {"sortby": "(SELECT 1)"},
        {"code": "' OR 1=1 --"},
        {"bbox": "0,0,1,1); DROP TABLE grid; --"},
    ]
    for params in attempts:
        reply = api.get("/collections/grids/items", params=params, headers=h)
        assert reply.status_code in (200, 400), (params, reply.text)
        if reply.status_code == 200:
            assert reply.json()["numberMatched"] == 0, params
    assert count(served, "SELECT count(*) FROM grid") == before


def test_an_embed_key_reads_only_its_region(api: TestClient, served: Served) -> None:
    embed = {"Authorization": f"Bearer {served.keys['embed']}"}
    grids = api.get("/collections/grids/items", headers=embed).json()["features"]
    assert grids and {g["properties"]["community"] for g in grids} == {served.community}
    units = api.get("/collections/units/items?limit=1000", headers=embed).json()
    assert units["numberMatched"] == count(
        served,
        f"SELECT count(*) FROM unit u JOIN region r ON r.id = u.community_id "
        f"WHERE r.code = '{served.community}'",
    )
    others = [c for c, _ in _grids(served) if not c.startswith(served.community)]
    assert api.get(f"/collections/grids/items/{others[0]}", headers=embed).status_code == 404
    region = shapely.geometry.shape(
        api.get(f"/collections/regions/items/{served.community}", headers=embed).json()["geometry"]
    )
    for name in ("buildings", "stations", "circles", "gaps"):
        for f in api.get(f"/collections/{name}/items?limit=1000", headers=embed).json()["features"]:
            assert region.buffer(1e-9).contains(
                shapely.point_on_surface(shapely.geometry.shape(f["geometry"]))
            ), name
    assert api.get("/collections/grids/items?key=" + served.keys["embed"]).json()[
        "numberMatched"
    ] == len(grids)  # the key in the URL, as an iframe sends it


def test_keys_are_needed_unless_public_reading_is_on(api: TestClient, served: Served) -> None:
    bare = api.get("/collections/grids/items")
    assert bare.status_code == 401 and bare.headers["www-authenticate"].startswith("Bearer")
    assert api.get("/collections", headers={"X-API-Key": "gm_wrong"}).status_code == 401
    assert (
        api.get(
            "/",
        ).status_code
        == 200
        and api.get("/conformance").status_code == 200
    )
    with TestClient(
        create_app(served.settings(public_read=True, cors_origins=["https://portal.example"]))
    ) as public:
        reply = public.get("/collections/grids/items", headers={"Origin": "https://portal.example"})
        assert reply.status_code == 200
        assert reply.headers["access-control-allow-origin"] == "https://portal.example"


def test_collections_describe_themselves(api: TestClient, served: Served) -> None:
    h = served.headers("viewer")
    listed = api.get("/collections", headers=h).json()
    assert [c["id"] for c in listed["collections"]] == list(COLLECTIONS)
    grids = api.get("/collections/grids", headers=h).json()
    west, south, east, north = grids["extent"]["spatial"]["bbox"][0]
    assert 24.9 < west < east < 25.0 and 60.1 < south < north < 60.2
    queryables = api.get("/collections/grids/queryables", headers=h)
    assert queryables.headers["content-type"] == "application/schema+json"
    assert queryables.json()["properties"]["households"] == {"type": "integer"}
    conformance = api.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson" in conformance


def test_request_bodies_above_the_limit_are_refused(served: Served) -> None:
    with TestClient(create_app(served.settings(max_body_bytes=2048))) as small:
        reply = small.post("/collections", content=b"x" * 5000, headers=served.headers("viewer"))
    assert reply.status_code == 413 and "2,048 bytes" in json.loads(reply.text)["detail"]


@pytest.mark.parametrize(
    ("expression", "named"),
    [
        ("households = 'abc'", "'households' is a number, compared with the text 'abc'"),
        ("code > 5", "'code' is a text, compared with the number 5"),
        ("locked = 'yes'", "'locked' is a boolean, compared with the text 'yes'"),
        ("households BETWEEN 'a' AND 'b'", "'households' is a number"),
        ("code IN (1, 2)", "'code' is a text, compared with the number 1"),
        ("S_INTERSECTS(geometry, POLYGON((0 0, 1 1)))", "POLYGON(((0.0, 0.0), (1.0, 1.0)),)"),
    ],
)
def test_mistyped_filters_are_a_400_naming_the_property_or_literal(
    api: TestClient, served: Served, expression: str, named: str
) -> None:
    reply = api.get(
        "/collections/grids/items", params={"filter": expression}, headers=served.headers("viewer")
    )
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    assert named in reply.json()["detail"], reply.json()


def test_well_typed_filters_still_pass(api: TestClient, served: Served) -> None:
    h = served.headers("viewer")
    square = "POLYGON((0 0, 1 0, 1 1, 0 0))"
    for expression in (
        "households BETWEEN 100 AND 900",
        "locked = false",
        "code IN ('x', 'y')",
        f"S_INTERSECTS(geometry, {square})",
    ):
        reply = api.get("/collections/grids/items", params={"filter": expression}, headers=h)
        assert reply.status_code == 200, (expression, reply.text)


def test_an_embed_key_receives_no_vertex_beyond_its_region(api: TestClient, served: Served) -> None:
    embed = {"Authorization": f"Bearer {served.keys['embed']}"}
    with served.engine.connect() as connection:
        wkb = connection.execute(
            text("SELECT ST_AsBinary(geom) FROM region WHERE code = :c"), {"c": served.community}
        ).scalar_one()
    region = shapely.from_wkb(bytes(wkb))
    near = region.buffer(1e-7)  # about a centimetre: rounding in the GeoJSON
    collections = api.get("/collections", headers=embed).json()["collections"]
    for c in collections:
        name = c["id"]
        body = api.get(f"/collections/{name}/items?limit=1000", headers=embed).json()
        for f in body["features"]:
            if f["geometry"] is not None:
                assert near.covers(shapely.geometry.shape(f["geometry"])), (name, f["id"])
    # (the extents a held key is told: test_an_embed_key_is_told_the_extent_of_its_region_only)
    # a circle or gap reaching beyond the region comes without the figures of its whole
    for name, figure in (("circles", "residents"), ("gaps", "residents")):
        features = api.get(f"/collections/{name}/items?limit=1000", headers=embed).json()
        full = api.get(f"/collections/{name}/items?limit=1000", headers=served.headers("viewer"))
        whole = {f["id"]: shapely.geometry.shape(f["geometry"]) for f in full.json()["features"]}
        for f in features["features"]:
            beyond = not near.covers(whole[f["id"]])
            assert (f["properties"][figure] is None) == beyond, (name, f["id"])
    parents = api.get("/collections/regions/items", headers=embed).json()["features"]
    assert {f["properties"]["level"] for f in parents} >= {"community"}


def test_typed_property_filters_read_booleans_numbers_and_times(
    api: TestClient, served: Served
) -> None:
    with served.engine.connect() as connection:
        covered, total = connection.execute(
            text(
                "SELECT count(*) FILTER (WHERE bc.covered), count(*) FROM building_coverage bc "
                "WHERE bc.run_id = (SELECT max(id) FROM coverage_run)"
            )
        ).one()
    assert 0 < covered < total
    assert everything(api, served, "buildings", covered="true")["numberMatched"] == covered
    assert everything(api, served, "buildings", covered="FALSE")["numberMatched"] == total - covered
    grids = len(_grids(served))
    assert everything(api, served, "grids", locked="false")["numberMatched"] == grids
    assert everything(api, served, "grids", locked="True")["numberMatched"] == 0
    one = everything(api, served, "gaps", limit="1")["features"][0]["properties"]
    same = everything(api, served, "gaps", area_m2=repr(one["area_m2"]), rank=str(one["rank"]))
    assert [f["properties"]["rank"] for f in same["features"]] == [one["rank"]]
    when = everything(api, served, "events", occurred_at="2026-01-01T00:00:00")
    assert when["numberMatched"] == 0  # a time is read as a time (no ticket at that instant)
    viewer = served.headers("viewer")
    for collection, name, value, kind in (
        ("grids", "locked", "yes", "boolean"),
        ("buildings", "walk_m", "far", "double"),
        ("buildings", "levels", "2.5", "integer"),
        ("events", "occurred_at", "someday", "datetime"),
    ):
        bad = api.get(f"/collections/{collection}/items", params={name: value}, headers=viewer)
        assert bad.status_code == 400
        assert bad.json()["detail"] == f"{name}: {value!r} is not a {kind}"


def test_an_embed_key_is_told_the_extent_of_its_region_only(
    api: TestClient, served: Served
) -> None:
    embed = {"Authorization": f"Bearer {served.keys['embed']}"}
    with served.engine.connect() as connection:
        wkb = connection.execute(
            text("SELECT ST_AsBinary(geom) FROM region WHERE code = :c"), {"c": served.community}
        ).scalar_one()
    r_west, r_south, r_east, r_north = shapely.from_wkb(bytes(wkb)).bounds
    told = 0
    for c in api.get("/collections", headers=embed).json()["collections"]:
        name = c["id"]
        described = api.get(f"/collections/{name}", headers=embed)
        assert described.status_code == 200, (name, described.text)
        mine = described.json().get("extent")
        items = api.get(f"/collections/{name}/items?limit=10000", headers=embed).json()
        shapes = [shapely.geometry.shape(f["geometry"]) for f in items["features"] if f["geometry"]]
        if mine is None:
            assert not shapes, name  # no extent only where there is nothing to see
            continue
        west, south, east, north = mine["spatial"]["bbox"][0]
        assert (
            west >= r_west - 1e-6
            and south >= r_south - 1e-6
            and east <= r_east + 1e-6
            and north <= r_north + 1e-6
        ), name
        # the extent is that of the features the key reads (to the GeoJSON's rounding)
        expected = shapely.GeometryCollection(shapes).bounds
        assert [west, south, east, north] == pytest.approx(expected, abs=1e-6), name
        told += 1
    assert told >= 5


def test_a_collection_with_nothing_in_the_region_has_no_extent(served: Served) -> None:
    """A region with no feature of any collection (an id no region has): no extent, no error."""
    from gridmap.features.collections import COLLECTIONS
    from gridmap.features.query import FeatureQuery, bbox_of

    nowhere = FeatureQuery(scope_region=-1)
    with served.engine.connect() as connection:
        for collection in COLLECTIONS.values():
            assert bbox_of(connection, collection, nowhere) == [], collection
        assert len(bbox_of(connection, COLLECTIONS["grids"], FeatureQuery())) == 4


def test_a_feature_with_a_number_for_id_is_read_by_that_number(
    api: TestClient, served: Served
) -> None:
    viewer = served.headers("viewer")
    first = everything(api, served, "buildings", limit="3")["features"][2]
    one = api.get(f"/collections/buildings/items/{first['id']}", headers=viewer)
    assert one.status_code == 200 and one.json()["id"] == first["id"]
    assert one.json()["properties"] == first["properties"]
    for missing in ("2147483647", "2147483648", "99999999999999999999", "-1", "1.5"):
        answer = api.get(f"/collections/buildings/items/{missing}", headers=viewer)
        assert answer.status_code == 404, missing
        assert answer.json()["detail"] == f"no feature {missing!r} in buildings"
