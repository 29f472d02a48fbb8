"""The shared tile store: a write drops only the stored tiles it changed, per plan; the store is
read by every process and kept across restarts; a tile built before a commit never outlives it;
an accepted plan's low-zoom tiles are built again in the background; the store keeps its budget.

Which tiles an edit must drop is decided here from the geometry (the tile's buffered envelope
against the grids and units the edit changed), and what a tile must show from the database.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile
import pytest
import shapely
import shapely.geometry
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.main import create_app
from gridmap.db import plans as plan_rows
from gridmap.db.engine import make_engine
from gridmap.tiles.cache import ENTRY_BYTES, TileCache
from gridmap.tiles.refresher import refresh_stale
from gridmap.tiles.revisions import Revisions
from gridmap.tiles.service import TileServer, build_tile
from gridmap.tiles.statement import TileRequest
from gridmap.tiles.store import EVICT, PUT, ROW_BYTES, put_parameters
from gridmap.tiles.tilesets import MAX_ZOOM, TILESETS
from tests.api.conftest import Served
from tests.api.test_plans import draft
from tests.api.test_tiles import decode

MARGIN = 64 / 4096  # a tile's buffer, as a share of its side


def rows(served: Served, sql: str, **params: Any) -> list[Any]:
    with served.engine.connect() as connection:
        return list(connection.execute(text(sql), params).all())


def stored(served: Served, z: int, x: int, y: int, plan: int = 0) -> str | None:
    """The ETag of a stored gridmap tile, or None when it is not in the store."""
    found = rows(
        served,
        "SELECT etag FROM tile_store WHERE tileset = 'gridmap' AND (z, x, y, plan, run, scope) "
        "= (:z, :x, :y, :plan, 0, 0)",
        z=z,
        x=x,
        y=y,
        plan=plan,
    )
    return found[0][0] if found else None


def tile_at(served: Served, point_sql: str, z: int, **params: Any) -> tuple[int, int, int]:
    """The tile at zoom ``z`` holding a point given in SQL (EPSG:3857)."""
    half = 20037508.342789244
    x, y = rows(
        served,
        f"SELECT floor((ST_X(p) + {half}) / (2 * {half}) * 2 ^ :z)::int, "
        f"floor(({half} - ST_Y(p)) / (2 * {half}) * 2 ^ :z)::int FROM ({point_sql}) q (p)",
        z=z,
        **params,
    )[0]
    return z, x, y


def unit_tile(served: Served, unit: str, z: int) -> tuple[int, int, int]:
    """The tile at zoom ``z`` holding a unit's inner point."""
    return tile_at(
        served, "SELECT ST_PointOnSurface(geom_3857) FROM unit WHERE code = :u", z, u=unit
    )


def far_tile(served: Served, plan: int, extent: object) -> tuple[int, int, int]:
    """A zoom-17 tile on a grid of the plan more than 700 m from ``extent``."""
    return tile_at(
        served,
        "SELECT ST_PointOnSurface(g.geom_3857) FROM grid g WHERE g.plan_id = :p "
        "AND ST_Distance(g.geom_3857, CAST(:e AS geometry)) > 700 ORDER BY g.code LIMIT 1",
        17,
        p=plan,
        e=extent,
    )


def meets(
    served: Served,
    tile: tuple[int, int, int],
    extent_sql: str,
    *,
    shape: bool = False,
    **params: Any,
) -> bool:
    """Say whether a tile's buffered envelope meets an extent given in SQL (its box), or with
    ``shape`` the shape itself."""
    z, x, y = tile
    envelope = f"ST_TileEnvelope(:z, :x, :y, margin => {MARGIN})"
    test = (
        f"ST_Intersects({envelope}, ({extent_sql}))" if shape else f"{envelope} && ({extent_sql})"
    )
    return bool(rows(served, f"SELECT {test}", z=z, x=x, y=y, **params)[0][0])


@pytest.fixture
def app(served: Served) -> Iterator[TestClient]:
    with TestClient(create_app(served.settings())) as client:
        yield client


def get(api: TestClient, served: Served, tile: tuple[int, int, int], plan: int | None = None):  # type: ignore[no-untyped-def]
    z, x, y = tile
    query = f"?plan={plan}" if plan else ""
    reply = api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt{query}", headers=served.headers("viewer"))
    assert reply.status_code == 200, reply.text
    return reply


def small_move(served: Served, plan: int) -> tuple[str, str, str]:
    """A unit to move, its grid and another of its community: the two grids the smallest."""
    return tuple(  # type: ignore[return-value]
        rows(
            served,
            """
            SELECT u.code, s.code, t.code FROM grid s
            JOIN grid t ON t.plan_id = s.plan_id AND t.community_id = s.community_id
                       AND t.id <> s.id AND ST_Touches(t.geom, s.geom)
            JOIN assignment a ON a.grid_id = s.id JOIN unit u ON u.id = a.unit_id
            WHERE s.plan_id = :p AND (SELECT count(*) FROM assignment WHERE grid_id = s.id) > 1
            ORDER BY ST_Area(ST_Envelope(ST_Collect(s.geom_3857, t.geom_3857))), u.code
            LIMIT 1
            """,
            p=plan,
        )[0]
    )


def unit_grid(reply: Any, unit: str) -> str:
    units = mapbox_vector_tile.decode(reply.content)["units"]["features"]
    return next(f["properties"]["grid"] for f in units if f["properties"]["code"] == unit)


def test_a_draft_edit_drops_only_its_own_tiles_where_it_changed(
    api: TestClient, app: TestClient, served: Served
) -> None:
    plan, etag = draft(api, served, "瓦片")
    unit, source, target = small_move(served, plan)
    changed = (  # both grids' extent in the draft, before and after (the move stays inside it)
        "SELECT ST_Extent(geom_3857)::geometry FROM grid WHERE plan_id = :p AND code IN (:s, :t)"
    )
    extent = rows(served, f"SELECT ST_SetSRID(({changed}), 3857)", p=plan, s=source, t=target)[0][0]
    near = unit_tile(served, unit, 17)
    far = far_tile(served, plan, extent)
    assert meets(served, near, "CAST(:e AS geometry)", e=extent)
    assert not meets(served, far, "CAST(:e AS geometry)", e=extent)

    before = {(t, p): get(app, served, t, p) for t in (near, far) for p in (plan, None)}
    assert unit_grid(before[near, plan], unit) == source
    for (tile, p), reply in before.items():
        assert stored(served, *tile, plan=p or 0) == reply.headers["etag"]

    moved = api.patch(
        f"/plans/{plan}",
        json={"moves": [{"unit": unit, "grid": target}]},
        headers={**served.headers("planner"), "If-Match": etag},
    )
    assert moved.status_code == 200, moved.text

    assert stored(served, *near, plan=plan) is None  # the draft's tile where the unit moved
    assert stored(served, *far, plan=plan) == before[far, plan].headers["etag"]
    for tile in (near, far):  # the current plan's tiles: not touched by a draft's edit
        assert stored(served, *tile) == before[tile, None].headers["etag"]
    server = app.app.state.tiles  # type: ignore[attr-defined]
    built = server.built
    after = get(app, served, near, plan)
    assert unit_grid(after, unit) == target and server.built == built + 1
    assert after.headers["server-timing"] == 'tile;desc="built"'
    kept = get(app, served, far, plan)
    assert kept.headers["etag"] == before[far, plan].headers["etag"] and server.built == built + 1

    with TestClient(create_app(served.settings())) as other:  # another process, or a restart
        again = get(other, served, far)
        mine = other.app.state.tiles  # type: ignore[attr-defined]
        assert (mine.stored_hits, mine.built) == (1, 0)
        assert again.headers["server-timing"] == 'tile;desc="store"'
        assert get(other, served, far).headers["server-timing"] == 'tile;desc="memory"'
        assert again.content == before[far, None].content
        assert again.headers["etag"] == before[far, None].headers["etag"]


def test_a_tile_built_before_a_commit_is_not_stored_after_it(served: Served) -> None:
    request = TileRequest(TILESETS["gridmap"], 15, 0, 0)
    tables = sorted(set(TILESETS["gridmap"].tables))
    read = dict(rows(served, "SELECT table_name, revision FROM data_revision"))
    built_at = tuple(int(read[t]) for t in tables)
    with served.engine.begin() as connection:  # a write commits between build and store
        connection.execute(
            text("UPDATE grid SET name = name WHERE id = (SELECT min(id) FROM grid)")
        )
    key = "tileset = 'gridmap' AND z = 15 AND x = 0 AND y = 0"
    with served.engine.begin() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute(PUT, put_parameters(request, built_at, b"old", '"old"'))
    assert rows(served, f"SELECT count(*) FROM tile_store WHERE {key}")[0][0] == 0
    read = dict(rows(served, "SELECT table_name, revision FROM data_revision"))
    with served.engine.begin() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        now_at = tuple(int(read[t]) for t in tables)
        driver.execute(PUT, put_parameters(request, now_at, b"new", '"new"'))
    assert rows(served, f"SELECT data FROM tile_store WHERE {key}")[0][0] == b"new"
    with served.engine.begin() as connection:
        connection.execute(text(f"DELETE FROM tile_store WHERE {key}"))


def test_an_accepted_plan_drops_the_current_tiles_where_it_differs_and_rebuilds_low_zooms(
    api: TestClient, app: TestClient, served: Served
) -> None:
    plan, etag = draft(api, served, "接受")
    unit, source, target = small_move(served, plan)
    moved = api.patch(
        f"/plans/{plan}",
        json={"moves": [{"unit": unit, "grid": target}]},
        headers={**served.headers("planner"), "If-Match": etag},
    )
    assert moved.status_code == 200, moved.text
    # where the two plans differ: the moved unit and both its grids, as they are in either plan
    differ = (
        "SELECT ST_SetSRID(ST_Extent(geom_3857)::geometry, 3857) FROM ("
        "SELECT geom_3857 FROM grid WHERE code IN (:s, :t) "
        "AND plan_id IN (:p, (SELECT id FROM plan WHERE status = 'current'))) q"
    )
    near = unit_tile(served, unit, 17)
    low = unit_tile(served, unit, 12)
    extent = rows(served, differ, s=source, t=target, p=plan)[0][0]
    far = far_tile(served, plan, extent)
    near16 = unit_tile(served, unit, 16)
    before = {tile: get(app, served, tile) for tile in (near, near16, low, far)}
    assert unit_grid(before[near], unit) == source
    drafted = get(app, served, near, plan)  # the planner looked at the draft there
    assert unit_grid(drafted, unit) == target
    current = rows(served, "SELECT id FROM plan WHERE status = 'current'")[0][0]
    with served.engine.begin() as connection:
        plan_rows.make_current(connection, plan)
    try:
        assert stored(served, *near16) is None  # where the plans differ: dropped
        assert stored(served, *near) == drafted.headers["etag"]  # unless the draft's is stored
        assert stored(served, *far) == before[far].headers["etag"]
        server = app.app.state.tiles  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10  # built again before anyone asks: here or by a thread
        while (rebuilt := stored(served, *low)) is None or rebuilt == before[low].headers["etag"]:
            assert time.monotonic() < deadline, "the low-zoom tile was not built again"
            refresh_stale(server_engine(app), server)
            time.sleep(0.05)
        assert stored(served, *near16) is None  # high zooms wait until asked
        assert unit_grid(get(app, served, near16), unit) == target
        shown = get(app, served, near)
        assert unit_grid(shown, unit) == target and shown.content == drafted.content
    finally:
        with served.engine.begin() as connection:
            plan_rows.make_current(connection, current)
    # the old plan back: where they differ, dropped again, unless a tile stored for the old plan
    # by its id (asked with ?plan=) was lent back: either way the old plan's own tile
    was = before[near16].headers["etag"]
    assert stored(served, *near16) in (None, was)
    again = get(app, served, near16)
    assert unit_grid(again, unit) == source and again.headers["etag"] == was


def server_engine(app: TestClient) -> Any:
    return app.app.state.tile_engine  # type: ignore[attr-defined]


def test_the_store_keeps_within_its_budget_least_recently_used_out(served: Served) -> None:
    with served.engine.begin() as connection:
        connection.execute(text("DELETE FROM tile_store WHERE tileset = 'test'"))
        for i in range(10):  # 10 tiles of 1,000 bytes, the latest used, tile 9 last
            connection.execute(
                text(
                    "INSERT INTO tile_store (tileset, z, x, y, plan, run, scope, tables, bounds, "
                    "data, etag, bytes, used_at) VALUES ('test', 20, :i, 0, 0, 0, 0, '{grid}', "
                    "ST_TileEnvelope(20, :i, 0), :data, 'e', 1000, "
                    "now() + :i * interval '1 minute')"
                ),
                {"i": i, "data": bytes(1000)},
            )
    with served.engine.begin() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute(EVICT, {"budget": 3500})
    kept = rows(served, "SELECT tileset, x FROM tile_store ORDER BY x")
    assert kept == [("test", 7), ("test", 8), ("test", 9)]  # 3 of 1,000 bytes fit in 3,500
    with served.engine.begin() as connection:
        connection.execute(text("DELETE FROM tile_store WHERE tileset = 'test'"))


def test_a_new_draft_starts_with_the_stored_tiles_of_its_source(
    api: TestClient, app: TestClient, served: Served
) -> None:
    tile = tile_at(
        served, "SELECT ST_PointOnSurface(geom_3857) FROM unit ORDER BY code LIMIT 1", 16
    )
    current = get(app, served, tile)
    plan, _ = draft(api, served, "副本")
    assert stored(served, *tile, plan=plan) == current.headers["etag"]
    server = app.app.state.tiles  # type: ignore[attr-defined]
    built = server.built
    copied = get(app, served, tile, plan)
    assert copied.headers["server-timing"] == 'tile;desc="store"' and server.built == built
    with served.engine.connect() as connection:  # what the draft's tile is, built afresh
        fresh = build_tile(connection, TileRequest(TILESETS["gridmap"], *tile, plan=plan))
    assert copied.content == fresh  # (the client undoes the gzip)


def test_a_tile_that_cannot_be_stored_is_still_answered(served: Served) -> None:
    engine = make_engine(  # a read-only replica, say
        served.url,
        connect_args={"options": "-c default_transaction_read_only=on"},
        isolation_level="AUTOCOMMIT",
    )
    server = TileServer(TileCache(2**20), Revisions(None), store_bytes=2**20)
    request = TileRequest(TILESETS["gridmap"], 20, 1, 1)  # far from the city: never stored
    try:
        tile = server.tile(engine, request)
    finally:
        engine.dispose()
    assert tile.source == "built" and tile.empty
    assert rows(served, "SELECT count(*) FROM tile_store WHERE z = 20 AND x = 1")[0][0] == 0


def test_a_flood_of_empty_tiles_fills_the_caches_like_any_other(served: Served) -> None:
    cache = TileCache(10 * ENTRY_BYTES)
    for i in range(100):  # empty tiles, each a key of its own
        cache.put(("gridmap", 22, i, 0), b"", '"e"')
    assert len(cache) == 10 and cache.get(("gridmap", 22, 99, 0)) == (b"", '"e"')
    assert cache.get(("gridmap", 22, 0, 0)) is None  # the least recently used went first
    request = TileRequest(TILESETS["gridmap"], 22, 7, 7)  # far from the city: empty
    read = dict(rows(served, "SELECT table_name, revision FROM data_revision"))
    revisions = tuple(int(read[t]) for t in sorted(TILESETS["gridmap"].tables))
    with served.engine.begin() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute(PUT, put_parameters(request, revisions, b"", '"e"'))
    key = "tileset = 'gridmap' AND z = 22 AND x = 7 AND y = 7"
    assert rows(served, f"SELECT bytes FROM tile_store WHERE {key}") == [(ROW_BYTES,)]
    with served.engine.begin() as connection:
        connection.execute(text(f"DELETE FROM tile_store WHERE {key}"))


def test_tickets_are_points_in_the_tiles_and_a_new_one_drops_its_stored_tile(
    api: TestClient, served: Served
) -> None:
    """Tickets from zoom 15: kind, status and Beijing day; a write drops the tiles it touches."""
    unit = rows(served, "SELECT code FROM unit ORDER BY code LIMIT 1")[0][0]
    z, x, y = unit_tile(served, unit, 15)
    insert = (
        "INSERT INTO event (external_id, kind, occurred_at, status, geom) SELECT :id, :kind, "
        "CAST(:at AS timestamptz), 'open', ST_PointOnSurface(geom) FROM unit WHERE code = :u"
    )
    h = served.headers("viewer")
    try:
        with served.engine.begin() as connection:
            connection.execute(
                text(insert),
                {"id": "tile-1", "kind": "噪音扰民", "at": "2031-02-01T01:00+08", "u": unit},
            )
        first = api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", headers=h)
        events = decode(first)["events"]["features"]
        assert [(f["properties"]["kind"], f["properties"]["day"]) for f in events] == [
            ("噪音扰民", 20310201)  # 1 a.m. in Beijing: 1 February, though 31 January in UTC
        ]
        assert stored(served, z, x, y) == first.headers["etag"]
        assert not decode(api.get(f"/tiles/gridmap/{z - 1}/{x // 2}/{y // 2}.mvt", headers=h)).get(
            "events"
        )  # below zoom 15: no points
        with served.engine.begin() as connection:
            connection.execute(
                text(insert),
                {"id": "tile-2", "kind": "占道经营", "at": "2031-03-01T10:00+08", "u": unit},
            )
        assert stored(served, z, x, y) is None  # the new ticket dropped its tile
        # this process hears of the write by its notification, a moment after the commit
        deadline = time.monotonic() + 5
        url = f"/tiles/gridmap/{z}/{x}/{y}.mvt"
        while len(again := decode(api.get(url, headers=h))["events"]["features"]) == 1:
            assert time.monotonic() < deadline, "the new ticket never reached the tile"
            time.sleep(0.02)
        assert sorted(f["properties"]["kind"] for f in again) == ["占道经营", "噪音扰民"]
    finally:
        with served.engine.begin() as connection:
            connection.execute(text("DELETE FROM event WHERE external_id LIKE 'tile-%'"))
    assert stored(served, z, x, y) is None  # and so did their removal


def test_every_table_a_tileset_reads_drops_its_stored_tiles_when_written(served: Served) -> None:
    """Each change a stored tile follows (the tables it reads, or what stands for them: a
    grid's shape, a grid's units) has triggers noting it (migrations 0011, 0014, 0016): on
    insert, update, delete and truncate; a table added to a tileset without them would leave
    stored tiles stale."""
    read = {
        name
        for tiles in TILESETS.values()
        for z in range(MAX_ZOOM + 1)
        for name in tiles.follows_at(z)
    }
    found = rows(
        served,
        "SELECT CASE p.proname WHEN 'gridmap_note_grid_shapes' THEN 'grid/shape' "
        "WHEN 'gridmap_note_tiles_as' THEN convert_from(substring("
        "t.tgargs FROM 1 FOR position('\\x00'::bytea IN t.tgargs) - 1), 'UTF8') "
        "ELSE c.relname::text END, array_agg(DISTINCT e.event ORDER BY e.event) "
        "FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
        "CROSS JOIN LATERAL (VALUES (1, 'insert'), (2, 'delete'), (3, 'update'), "
        "(4, 'truncate')) e (bit, event) "
        "WHERE p.proname IN ('gridmap_note_tiles', 'gridmap_note_plans', 'gridmap_note_tiles_as', "
        "'gridmap_note_grid_shapes') "
        "AND t.tgtype & (CASE e.bit WHEN 1 THEN 4 WHEN 2 THEN 8 WHEN 3 THEN 16 ELSE 32 END) > 0 "
        "GROUP BY 1",
    )
    noted = {table: set(events) for table, events in found}
    plan_events = {"update", "delete"}  # a plan is noted when it becomes or stops being current
    missing = {
        table: sorted(
            ({"insert", "update", "delete", "truncate"} if table != "plan" else plan_events)
            - noted.get(table, set())
        )
        for table in read
    }
    assert {t: m for t, m in missing.items() if m} == {}
    assert {"grid/shape", "assignment/grid"} <= read  # the plan tileset, the grids' coverage
    assert "event" in read  # the tickets layer reads it


def test_an_embed_reads_no_ticket_points(api: TestClient, served: Served) -> None:
    """A portal's key gets the grids and the figures, not where residents' tickets come from."""
    unit = rows(
        served,
        "SELECT u.code FROM unit u JOIN region c ON c.id = u.community_id "
        "WHERE c.code = :c ORDER BY u.code LIMIT 1",
        c=served.community,
    )[0][0]
    z, x, y = unit_tile(served, unit, 15)
    try:
        with served.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO event (external_id, kind, occurred_at, geom) SELECT 'embed-1', "
                    "'噪音扰民', now(), ST_PointOnSurface(geom) FROM unit WHERE code = :u"
                ),
                {"u": unit},
            )
        path = f"/tiles/gridmap/{z}/{x}/{y}.mvt"
        assert decode(api.get(path, headers=served.headers("viewer")))["events"]["features"]
        portal = decode(api.get(path, headers=served.headers("embed")))
        assert "events" not in portal and portal["grids"]["features"]
        document = api.get("/tiles/gridmap.json", headers=served.headers("embed")).json()
        assert "events" not in {layer["id"] for layer in document["vector_layers"]}
        refused = api.get("/collections/events/items", headers=served.headers("embed"))
        assert refused.status_code == 403 and "hotline tickets" in refused.text
    finally:
        with served.engine.begin() as connection:
            connection.execute(text("DELETE FROM event WHERE external_id = 'embed-1'"))


def lies_on(served: Served, tile: tuple[int, int, int], shape_sql: str, **params: Any) -> bool:
    """Say whether a tile's buffered envelope meets a shape given in SQL (not its box)."""
    return meets(served, tile, shape_sql, shape=True, **params)


BOTH_GRIDS = "SELECT geom_3857 FROM grid WHERE plan_id = :p AND code IN (:s, :t)"
"""The shapes of a move's two grids (``:s``, ``:t``) in a plan (``:p``)."""


def plan_tiles(
    app: TestClient, served: Served, z: int, extent: object, plan: int
) -> dict[tuple[int, int, int], Any]:
    """Every ``plan`` tile at zoom ``z`` over an extent (EPSG:3857), asked of the server."""
    half = 20037508.342789244
    (x0, x1, y0, y1) = rows(
        served,
        f"SELECT floor((ST_XMin(e) + {half}) / (2 * {half}) * 2 ^ :z)::int, "
        f"floor((ST_XMax(e) + {half}) / (2 * {half}) * 2 ^ :z)::int, "
        f"floor(({half} - ST_YMax(e)) / (2 * {half}) * 2 ^ :z)::int, "
        f"floor(({half} - ST_YMin(e)) / (2 * {half}) * 2 ^ :z)::int "
        "FROM (SELECT CAST(:e AS geometry) AS e) q",
        z=z,
        e=extent,
    )[0]
    replies = {}
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            replies[z, x, y] = get_plan(app, served, (z, x, y), plan)
    return replies


def stored_plan_tile(served: Served, tile: tuple[int, int, int], plan: int) -> bytes | None:
    found = rows(
        served,
        "SELECT data FROM tile_store WHERE tileset = 'plan' AND (z, x, y, plan, run, scope) "
        "= (:z, :x, :y, :p, 0, 0)",
        z=tile[0],
        x=tile[1],
        y=tile[2],
        p=plan,
    )
    return bytes(found[0][0]) if found else None


def drawn(raw: bytes) -> dict[tuple[str, str], Any]:
    """What a tile draws: each layer's features by code, their shapes and attributes."""
    layers = mapbox_vector_tile.decode(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    return {
        (name, feature["properties"]["code"]): (
            shapely.normalize(shapely.geometry.shape(feature["geometry"])),
            feature["properties"],
        )
        for name, layer in layers.items()
        for feature in layer["features"]
    }


def same_drawing(a: bytes, b: bytes) -> bool:
    one, two = drawn(a), drawn(b)
    return one.keys() == two.keys() and all(
        one[k][1] == two[k][1] and one[k][0].equals(two[k][0]) for k in one
    )


def test_a_move_drops_the_plan_tiles_only_where_its_unit_lies_and_every_kept_one_is_true(
    api: TestClient, app: TestClient, served: Served
) -> None:
    """The plan tileset draws grids by shape and code (migration 0016): a move changes them
    only where its unit lies. Every tile over the two grids is asked for, the unit moved, and
    each tile the store keeps is compared with one built afresh: none may draw the old plan."""
    plan, etag = draft(api, served, "形状")
    unit, source, target = small_move(served, plan)
    extent = rows(
        served,
        f"SELECT ST_SetSRID(ST_Extent(geom_3857), 3857) FROM ({BOTH_GRIDS}) q",
        p=plan,
        s=source,
        t=target,
    )[0][0]
    z = 18
    before = plan_tiles(app, served, z, extent, plan)
    on_grids = {
        tile
        for tile in before
        if lies_on(
            served,
            tile,
            f"(SELECT ST_Collect(geom_3857) FROM ({BOTH_GRIDS}) q)",
            p=plan,
            s=source,
            t=target,
        )
    }
    assert all(stored_plan_tile(served, tile, plan) is not None for tile in before)
    for tile in on_grids:
        get(app, served, tile, plan)  # the gridmap tileset's too: it carries the figures
    assert all(stored(served, *tile, plan=plan) is not None for tile in on_grids)

    moved = api.patch(
        f"/plans/{plan}",
        json={"moves": [{"unit": unit, "grid": target}]},
        headers={**served.headers("planner"), "If-Match": etag},
    )
    assert moved.status_code == 200, moved.text

    on_unit = {
        tile
        for tile in before
        if lies_on(served, tile, "(SELECT geom_3857 FROM unit WHERE code = :u)", u=unit)
    }
    kept = kept_tiles_draw_as_built(served, set(before), plan)  # each checked against a build
    assert on_unit and not on_unit & kept  # where the unit lies: dropped
    assert on_grids & kept  # elsewhere on the two grids: kept, though their figures changed
    assert all(stored(served, *tile, plan=plan) is None for tile in on_grids)  # gridmap: gone
    changed = 0
    with served.engine.connect() as connection:
        for tile in on_unit:
            fresh = build_tile(connection, TileRequest(TILESETS["plan"], *tile, plan=plan))
            changed += not same_drawing(before[tile].content, fresh)
    assert changed  # the tiles dropped did change
    after = drawn(get_plan(app, served, unit_tile(served, unit, z), plan).content)
    assert after["units", unit][1]["grid"] == target


def get_plan(app: TestClient, served: Served, tile: tuple[int, int, int], plan: int) -> Any:
    """A plan tile of ``plan``, asked of the server."""
    reply = app.get(
        "/tiles/plan/{}/{}/{}.mvt".format(*tile) + f"?plan={plan}", headers=served.headers("viewer")
    )
    assert reply.status_code == 200, reply.text
    return reply


def test_a_lock_redraws_the_whole_grid_in_plan_tiles_and_staff_none(
    api: TestClient, app: TestClient, served: Served
) -> None:
    """A grid's lock is drawn on its whole shape: every plan tile over it is dropped; its
    staff is drawn nowhere in plan tiles: none is (the gridmap tileset's, with figures,
    drop for both)."""
    plan, etag = draft(api, served, "锁定")
    code, extent = rows(
        served,
        "SELECT code, geom_3857 FROM grid WHERE plan_id = :p ORDER BY ST_Area(geom_3857) DESC "
        "LIMIT 1",
        p=plan,
    )[0]
    z = 17
    tiles = set(plan_tiles(app, served, z, extent, plan))
    over = {t for t in tiles if lies_on(served, t, "CAST(:e AS geometry)", e=extent)}
    assert len(over) > 1
    with served.engine.begin() as connection:
        plan_rows.set_staff(connection, plan, {code: {"leader": "王"}})
    assert all(stored_plan_tile(served, t, plan) is not None for t in over)
    locked = api.post(
        f"/plans/{plan}/locks",
        json={"grids": [code], "locked": True},
        headers={**served.headers("planner"), "If-Match": etag},
    )
    assert locked.status_code == 200, locked.text
    assert all(stored_plan_tile(served, t, plan) is None for t in over)
    redrawn = drawn(get_plan(app, served, next(iter(over)), plan).content)
    assert redrawn["grids", code][1]["locked"] is True


def kept_tiles_draw_as_built(
    served: Served, tiles: set[tuple[int, int, int]], plan: int
) -> set[tuple[int, int, int]]:
    """Return which of ``tiles`` the store holds, each checked against a build now."""
    kept = set()
    with served.engine.connect() as connection:
        for tile in tiles:
            held = stored_plan_tile(served, tile, plan)
            if held is not None:
                fresh = build_tile(connection, TileRequest(TILESETS["plan"], *tile, plan=plan))
                assert same_drawing(held, fresh), f"tile {tile} kept, but it drew the old plan"
                kept.add(tile)
    return kept


def test_a_grid_reshaped_or_a_unit_reassigned_alone_drops_plan_tiles_where_it_changed(
    api: TestClient, app: TestClient, served: Served
) -> None:
    """Each of the two notes on its own (migration 0016): a grid's shape changed without its
    assignments (its symmetric difference), and an assignment changed without its grids (the
    unit, whose grid code the units layer draws)."""
    plan, _ = draft(api, served, "各自")
    unit, source, target = small_move(served, plan)
    extent = rows(
        served,
        f"SELECT ST_SetSRID(ST_Extent(geom_3857), 3857) FROM ({BOTH_GRIDS}) q",
        p=plan,
        s=source,
        t=target,
    )[0][0]
    on_unit_sql = "(SELECT geom_3857 FROM unit WHERE code = :u)"
    with served.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO grid (plan_id, code, name, kind, community_id, locked, staff) "
                "SELECT plan_id, left(code, 12) || '999', name, kind, community_id, false, '{}' "
                "FROM grid WHERE plan_id = :p AND code = :s"
            ),
            {"p": plan, "s": source},
        )
    try:
        for statement in (
            "UPDATE grid SET geom = ST_Multi(ST_CollectionExtract(ST_Difference(geom, "
            "(SELECT geom FROM unit WHERE code = :u)), 3)) WHERE plan_id = :p AND code = :s",
            "UPDATE assignment SET grid_id = "
            "(SELECT id FROM grid WHERE plan_id = :p AND code = :t) "
            "WHERE plan_id = :p AND unit_id = (SELECT id FROM unit WHERE code = :u)",
            # a grid with no shape yet given one (its old shape NULL: no difference to take)
            "UPDATE grid SET geom = (SELECT ST_Multi(geom) FROM unit WHERE code = :u) "
            "WHERE plan_id = :p AND code = left(:s, 12) || '999'",
        ):
            tiles = set(plan_tiles(app, served, 18, extent, plan))
            on_unit = {t for t in tiles if lies_on(served, t, on_unit_sql, u=unit)}
            assert on_unit and all(stored_plan_tile(served, t, plan) is not None for t in tiles)
            with served.engine.begin() as connection:
                assert (
                    connection.execute(
                        text(statement), {"p": plan, "s": source, "t": target, "u": unit}
                    ).rowcount
                    == 1
                )
            kept = kept_tiles_draw_as_built(served, tiles, plan)
            assert not on_unit & kept, statement
            assert len(kept) > len(tiles) // 2, statement  # the rest of the two grids: kept
    finally:  # the draft's shapes and codes no longer agree with its units: gone
        with served.engine.begin() as connection:
            plan_rows.delete_plan(connection, plan)
