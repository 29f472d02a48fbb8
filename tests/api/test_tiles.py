"""Vector tiles of the demo city: decoded back, zoom ranges, cache and ETags, scope, TileJSON."""

from __future__ import annotations

import math
import subprocess
import time

import httpx2 as httpx
import mapbox_vector_tile
import psycopg
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.main import create_app
from gridmap.db.local import LocalCluster
from tests.api.conftest import Live, Served, serving

CENTRE = (24.944, 60.170)  # central Helsinki, inside the demo city


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def decode(reply) -> dict:  # type: ignore[no-untyped-def]
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(reply.content)


def in_tile(
    served: Served, table: str, z: int, x: int, y: int, where: str = "true", margin: float = 0.0
) -> set:
    with served.engine.connect() as connection:
        return set(
            connection.execute(
                text(
                    f"SELECT code FROM {table} t WHERE ST_Intersects(t.geom_3857, "
                    f"ST_TileEnvelope({z}, {x}, {y}, margin => {margin})) AND {where}"
                )
            ).scalars()
        )


def between(
    got: set, served: Served, table: str, z: int, x: int, y: int, where: str = "true"
) -> bool:
    """Say whether a tile holds every feature in it, and none beyond its 64-unit buffer."""
    inner = in_tile(served, table, z, x, y, where)
    return inner != set() and inner <= got <= in_tile(served, table, z, x, y, where, 64 / 4096)


def test_a_tile_holds_the_features_and_figures_of_its_area(api: TestClient, served: Served) -> None:
    z, x, y = tile_of(*CENTRE, 15)
    layers = decode(api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", headers=served.headers("viewer")))

    current = "t.plan_id = (SELECT id FROM plan WHERE status = 'current')"
    grids = {f["properties"]["code"]: f["properties"] for f in layers["grids"]["features"]}
    assert between(set(grids), served, "grid", z, x, y, current)
    with served.engine.connect() as connection:
        stored = dict(
            connection.execute(text(f"SELECT code, households FROM grid t WHERE {current}")).all()
        )
    assert all(p["households"] == stored[code] for code, p in grids.items())
    assert all(0 <= p.get("coverage", 0) <= 1 for p in grids.values())
    units = {f["properties"]["code"] for f in layers["units"]["features"]}
    assert between(units, served, "unit", z, x, y)
    assert {f["properties"]["grid"] for f in layers["units"]["features"]} <= set(stored)
    assert layers["buildings"]["features"] and {"covered", "residents"} <= set(
        layers["buildings"]["features"][0]["properties"]
    )
    assert layers["grids"]["extent"] == 4096


def test_layers_show_within_their_zooms_and_empty_tiles_are_204(
    api: TestClient, served: Served
) -> None:
    h = served.headers("viewer")
    low = decode(api.get("/tiles/gridmap/{}/{}/{}.mvt".format(*tile_of(*CENTRE, 12)), headers=h))
    assert {"grids", "stations", "regions"} <= set(low) and not {"buildings", "units"} & set(low)
    high = decode(api.get("/tiles/gridmap/{}/{}/{}.mvt".format(*tile_of(*CENTRE, 16)), headers=h))
    assert {"buildings", "units", "grids"} <= set(high)
    base = decode(api.get("/tiles/basemap/{}/{}/{}.mvt".format(*tile_of(*CENTRE, 14)), headers=h))
    assert {"streets", "buildings"} <= set(base)
    far = api.get("/tiles/gridmap/14/0/0.mvt", headers=h)
    assert far.status_code == 204 and not far.content
    assert api.get("/tiles/gridmap/7/64/40.mvt", headers=h).status_code == 204  # below minzoom
    bad = api.get("/tiles/gridmap/3/9/1.mvt", headers=h)
    assert bad.status_code == 400 and "x must be between 0 and 7" in bad.json()["detail"]
    assert api.get("/tiles/roads/3/1/1.mvt", headers=h).status_code == 404


def test_cached_tiles_follow_every_write_at_once(served: Served) -> None:
    z, x, y = tile_of(*CENTRE, 15)
    url = f"/tiles/gridmap/{z}/{x}/{y}.mvt"
    h = served.headers("viewer")
    with TestClient(create_app(served.settings())) as api:
        server = api.app.state.tiles  # type: ignore[attr-defined]
        assert server.revisions.listening
        first = api.get(url, headers=h)
        again = api.get(url, headers=h)
        assert server.cache.hits == 1 and first.content == again.content
        etag = first.headers["etag"]
        not_modified = api.get(url, headers={**h, "If-None-Match": etag})
        assert not_modified.status_code == 304 and not not_modified.content
        code = next(f["properties"]["code"] for f in decode(first)["grids"]["features"])
        with served.engine.begin() as connection:
            connection.execute(
                text("UPDATE grid SET households = households + 1000 WHERE code = :code"),
                {"code": code},
            )
        try:
            deadline = time.monotonic() + 5
            while (fresh := api.get(url, headers={**h, "If-None-Match": etag})).status_code == 304:
                assert time.monotonic() < deadline, "the edit never reached the tile"
                time.sleep(0.02)
            changed = {
                f["properties"]["code"]: f["properties"]["households"]
                for f in decode(fresh)["grids"]["features"]
            }
            before = {
                f["properties"]["code"]: f["properties"]["households"]
                for f in decode(first)["grids"]["features"]
            }
            assert changed[code] == before[code] + 1000 and fresh.headers["etag"] != etag
        finally:
            with served.engine.begin() as connection:
                connection.execute(
                    text("UPDATE grid SET households = households - 1000 WHERE code = :code"),
                    {"code": code},
                )


def test_tiles_are_gzipped_when_asked_and_versioned_urls_are_immutable(
    api: TestClient, served: Served
) -> None:
    h = served.headers("viewer")
    document = api.get("/tiles/gridmap.json", headers=h).json()
    assert document["tilejson"] == "3.0.0" and document["minzoom"] == 8
    assert {layer["id"] for layer in document["vector_layers"]} == {
        "regions",
        "region_labels",
        "grids",
        "grid_labels",
        "units",
        "buildings",
        "circles",
        "gaps",
        "stations",
        "events",
    }
    west, south, east, north = document["bounds"]
    assert 24.9 < west < east < 25.0 and 60.1 < south < north < 60.2
    template = document["tiles"][0].replace("http://testserver", "")
    assert "v=" in template
    z, x, y = tile_of(*CENTRE, 14)
    versioned = api.get(template.format(z=z, x=x, y=y), headers=h)
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    plain = api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", headers={**h, "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and decode(plain)["grids"]
    zipped = api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", headers={**h, "Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(plain.content)


def test_an_embed_key_gets_nothing_outside_its_region(api: TestClient, served: Served) -> None:
    embed = {"Authorization": f"Bearer {served.keys['embed']}"}
    z, x, y = tile_of(*CENTRE, 14)
    everything = decode(
        api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", headers=served.headers("viewer"))
    )
    scoped = decode(api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", headers=embed))
    codes = {f["properties"]["code"] for f in scoped.get("grids", {"features": []})["features"]}
    assert all(code.startswith(served.community) for code in codes)
    assert len(scoped["buildings"]["features"]) < len(everything["buildings"]["features"])
    with served.engine.connect() as connection:  # every scoped feature's bbox within the region
        region = connection.execute(
            text(
                "SELECT ST_XMin(g), ST_YMin(g), ST_XMax(g), ST_YMax(g) FROM (SELECT ST_Transform("
                "geom, 3857) g FROM region WHERE code = :c) r"
            ),
            {"c": served.community},
        ).one()
        tile = connection.execute(
            text(
                f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM ST_TileEnvelope({z}, "
                f"{x}, {y}) e"
            )
        ).one()
    size = (tile[2] - tile[0]) / 4096
    for layer in scoped.values():
        for f in layer["features"]:
            for px, py in _points(f["geometry"]):
                mx, my = tile[0] + px * size, tile[1] + py * size
                assert region[0] - 2 * size <= mx <= region[2] + 2 * size
                assert region[1] - 2 * size <= my <= region[3] + 2 * size
    assert api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt?key={served.keys['embed']}").status_code == 200
    style = api.get("/styles/gridmap.json?key=" + served.keys["embed"]).json()
    assert "?token=gmt_" in style["sources"]["gridmap"]["url"]  # a token, never the key
    assert served.keys["embed"] not in str(style)


def _points(geometry: dict) -> list:
    return shapely.get_coordinates(shapely.geometry.shape(geometry)).tolist()


def test_the_style_draws_every_layer_from_this_service(api: TestClient, served: Served) -> None:
    h = served.headers("viewer")
    style = api.get("/styles/gridmap.json", headers=h).json()
    assert style["version"] == 8 and style["name"] == "全市一张图"
    assert set(style["sources"]) == {"gridmap", "basemap"}
    for name, source in style["sources"].items():
        tilejson = api.get(source["url"].replace("http://testserver", ""), headers=h).json()
        layers = {layer["id"] for layer in tilejson["vector_layers"]}
        drawn = {s["source-layer"] for s in style["layers"] if s.get("source") == name}
        assert drawn and drawn <= layers, name
    used = {(s["source"], s["source-layer"]) for s in style["layers"] if "source" in s}
    assert ("basemap", "water") in used and ("gridmap", "grids") in used
    assert api.get("/styles/gridmap.json?lang=en", headers=h).json()["name"].startswith("One map")
    assert api.get("/styles/other.json", headers=h).status_code == 404


def test_gdal_reads_a_tile(live: Live) -> None:
    z, x, y = tile_of(*CENTRE, 15)
    header = f"Authorization: Bearer {live.served.keys['viewer']}"
    out = subprocess.run(
        [
            "ogrinfo",
            "-ro",
            "-so",
            "--config",
            "GDAL_HTTP_HEADERS",
            header,
            f"MVT:{live.base}/tiles/gridmap/{z}/{x}/{y}.mvt",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    for layer in ("grids", "units", "buildings"):
        assert f": {layer} (" in out.stdout, out.stdout


def test_cached_tiles_are_answered_before_routing_with_the_same_rules(served: Served) -> None:
    z, x, y = tile_of(*CENTRE, 15)
    url = f"/tiles/gridmap/{z}/{x}/{y}.mvt"
    settings = served.settings(public_read=True, cors_origins=["https://portal.example"])
    with TestClient(create_app(settings)) as api:
        server = api.app.state.tiles  # type: ignore[attr-defined]
        first = api.get(url)  # built and cached
        assert first.status_code == 200 and server.cache.hits == 0
        again = api.get(url, headers={"Origin": "https://portal.example"})
        assert server.cache.hits == 1 and again.content == first.content
        assert again.headers["etag"] == first.headers["etag"]
        assert again.headers["access-control-allow-origin"] == "https://portal.example"
        assert api.get(url, headers={"If-None-Match": first.headers["etag"]}).status_code == 304
        embed = api.get(url, headers={"Authorization": f"Bearer {served.keys['embed']}"})
        scoped = api.get(url, headers={"Authorization": f"Bearer {served.keys['embed']}"})
        assert embed.content == scoped.content != first.content  # its own, scoped entry
        assert scoped.headers["cache-control"].startswith("private")
        assert api.get(url, headers={"Authorization": "Bearer gm_unknown"}).status_code == 401
        routed = []  # a miss is built before routing too, once caller and versions are known
        version = server.version
        server.version = lambda *a: routed.append(a) or version(*a)
        _, x2, y2 = tile_of(*CENTRE, 16)
        fresh = api.get(f"/tiles/gridmap/16/{x2}/{y2}.mvt")
        assert fresh.status_code == 200 and decode(fresh)["buildings"] and routed == []
        with_plan = api.get(f"/tiles/gridmap/16/{x2}/{y2}.mvt?plan=1")  # not plain: routed
        assert with_plan.status_code == 200 and len(routed) == 1


def test_without_a_cache_tiles_are_built_each_time_and_still_compressed_on_request(
    served: Served,
) -> None:
    z, x, y = tile_of(*CENTRE, 15)
    url = f"/tiles/gridmap/{z}/{x}/{y}.mvt"
    with TestClient(create_app(served.settings(tile_cache_mb=0))) as api:
        h = served.headers("viewer")
        plain = api.get(url, headers={**h, "Accept-Encoding": "identity"})
        zipped = api.get(url, headers={**h, "Accept-Encoding": "gzip"})
        assert api.app.state.tiles.cache.hits == 0 and len(api.app.state.tiles.cache) == 0  # type: ignore[attr-defined]
    assert decode(plain) == decode(zipped) and zipped.headers["content-encoding"] == "gzip"
    assert plain.headers["etag"] == zipped.headers["etag"]


def test_each_grid_is_labelled_once_over_the_whole_map(api: TestClient, served: Served) -> None:
    h = served.headers("viewer")
    west, south, east, north = api.get("/tiles/gridmap.json", headers=h).json()["bounds"]
    z = 14
    _, x0, y0 = tile_of(west, north, z)
    _, x1, y1 = tile_of(east, south, z)
    seen: dict[str, int] = {}
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            reply = api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", headers=h)
            if reply.status_code == 204:
                continue
            for feature in decode(reply).get("grid_labels", {"features": []})["features"]:
                assert feature["geometry"]["type"] == "Point"
                px, py = feature["geometry"]["coordinates"]
                if 0 <= px < 4096 and 0 <= py < 4096:  # in this tile, not in its buffer
                    code = feature["properties"]["code"]
                    seen[code] = seen.get(code, 0) + 1
    with served.engine.connect() as connection:
        codes = set(
            connection.execute(
                text(
                    "SELECT g.code FROM grid g JOIN plan p ON p.id = g.plan_id AND p.status = "
                    "'current'"
                )
            ).scalars()
        )
    assert seen and set(seen) == codes and set(seen.values()) == {1}


def test_below_zoom_14_the_buildings_tileset_draws_blocks_with_their_figures(
    api: TestClient, served: Served
) -> None:
    h = served.headers("viewer")
    z, x, y = tile_of(*CENTRE, 13)
    blocks = decode(api.get(f"/tiles/buildings/{z}/{x}/{y}.mvt", headers=h))["buildings"]
    with served.engine.connect() as connection:
        units = dict(connection.execute(text("SELECT code, residents FROM unit")).all())
    shown = {f["properties"]["code"]: f["properties"]["residents"] for f in blocks["features"]}
    assert shown and all(units[code] == residents for code, residents in shown.items())
    assert between(set(shown), served, "unit", z, x, y)  # every block of the tile, no more
    z, x, y = tile_of(*CENTRE, 14)
    footprints = decode(api.get(f"/tiles/buildings/{z}/{x}/{y}.mvt", headers=h))["buildings"]
    assert all(
        "id" in f["properties"] and "code" not in f["properties"] for f in footprints["features"]
    )  # footprints again
    fields = api.get("/tiles/buildings.json", headers=h).json()["vector_layers"][0]["fields"]
    assert {"code", "id", "levels", "residents", "households"} <= set(fields)


def test_a_tile_is_built_again_when_its_pooled_connection_was_dropped(
    served: Served, cluster: LocalCluster
) -> None:
    z, x, y = tile_of(*CENTRE, 15)
    url = f"/tiles/gridmap/{z}/{x}/{y}.mvt"
    with TestClient(create_app(served.settings(tile_cache_mb=0))) as api:
        h = served.headers("viewer")
        first = api.get(url, headers=h)  # the key is looked up (routed), then known
        for path in (url, url + "?route=1"):  # the short way's pool and the route's hold one
            assert api.get(path, headers=h).content == first.content
        with psycopg.connect(cluster.url(driver=None, database="postgres"), autocommit=True) as c:
            dropped = c.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND backend_type = 'client backend' "
                "AND query NOT LIKE 'LISTEN%%'",
                (served.database,),
            ).fetchone()[0]
        # no ping before a tile: each way's first try fails, the next holds
        again = [api.get(path, headers=h) for path in (url, url + "?route=1")]
    assert dropped >= 2 and first.status_code == 200
    assert [a.status_code for a in again] == [200, 200]
    assert [a.content for a in again] == [first.content] * 2


def test_no_more_tiles_are_built_at_once_than_the_tile_workers(
    served: Served, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import gridmap.tiles.builder as builder
    import gridmap.tiles.service as service

    real = service.tile_statement

    def slow(request):  # type: ignore[no-untyped-def]
        statement = real(request)
        return statement and (
            f"SELECT t.mvt FROM pg_sleep(0.3), ({statement[0]}) AS t(mvt)",
            statement[1],
        )

    for module in (service, builder):  # the long way's statement and the short way's
        monkeypatch.setattr(module, "tile_statement", slow)
    most, lock, watching = [0], threading.Lock(), threading.Event()

    def watch() -> None:  # how many tile statements the database runs at once
        with psycopg.connect(
            cluster.url(driver=None, database=served.database), autocommit=True
        ) as connection:
            while not watching.is_set():
                row = connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                    "AND query LIKE 'SELECT t.mvt FROM pg_sleep(0.3)%%' AND pid <> pg_backend_pid()"
                ).fetchone()
                most[0] = max(most[0], row[0] if row else 0)
                time.sleep(0.02)

    app = create_app(served.settings(tile_cache_mb=0, tile_workers=2))
    z, x, y = tile_of(*CENTRE, 15)
    # plain requests take the short way; an extra parameter sends one through the route
    paths = [
        f"/tiles/gridmap/{z}/{x + dx}/{y}.mvt" + ("?route=1" if dx % 2 else "") for dx in range(8)
    ]
    statuses: list[int] = []

    def fetch(base: str, path: str) -> None:
        reply = httpx.get(f"{base}{path}", headers=served.headers("viewer"))
        with lock:
            statuses.append(reply.status_code)

    with serving(app) as base:
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            fetchers = [threading.Thread(target=fetch, args=(base, p)) for p in paths]
            for f in fetchers:
                f.start()
            for f in fetchers:
                f.join(30)
        finally:
            watching.set()
            watcher.join(timeout=10)
    assert sorted(statuses) == sorted(s for s in statuses if s in (200, 204)) and len(statuses) == 8
    assert most[0] == 2  # eight asked at once, two built at a time


# Index scans hand rows over in the index's (spatial) order, sequential scans in the table's:
# the two ways PostgreSQL may read a layer's rows.
SCANS = {
    "index": "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off",
    "sequential": "SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off",
}


@pytest.mark.parametrize(
    ("name", "z"), [("gridmap", 15), ("gridmap", 13), ("buildings", 12), ("basemap", 14)]
)
def test_a_tile_has_the_same_bytes_whatever_plan_its_query_takes(
    served: Served, name: str, z: int
) -> None:
    from gridmap.tiles.service import TileRequest, build_tile
    from gridmap.tiles.tilesets import tileset

    request = TileRequest(tileset(name), *tile_of(*CENTRE, z))
    built = {}
    for scan, settings in SCANS.items():
        with served.engine.begin() as connection:
            connection.exec_driver_sql(settings)
            built[scan] = build_tile(connection, request)
    layers = mapbox_vector_tile.decode(built["index"])
    assert sum(len(layer["features"]) for layer in layers.values()) > 20
    assert built["index"] == built["sequential"]


@pytest.mark.parametrize(("name", "z"), [("gridmap", 15), ("buildings", 12)])
def test_a_tile_computes_each_geometry_once(served: Served, name: str, z: int) -> None:
    """No filter on the clipped geometry, which PostgreSQL would push into the scan."""
    from gridmap.tiles.statement import TileRequest, tile_statement
    from gridmap.tiles.tilesets import tileset

    sql, params = tile_statement(TileRequest(tileset(name), *tile_of(*CENTRE, z)))  # type: ignore[misc]
    with served.engine.connect() as connection:
        driver = connection.connection.driver_connection
        plan = [row[0].strip().lower() for row in driver.execute("EXPLAIN VERBOSE " + sql, params)]
    outputs = [line for line in plan if line.startswith("output:") and "st_asmvtgeom" in line]
    assert len(outputs) >= len(tileset(name).layers_at(z))  # drawn in each layer
    assert not [line for line in plan if line.startswith("filter:") and "st_asmvtgeom" in line]
