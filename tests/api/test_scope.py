"""Keys held to a region: what-if and siting only inside it, and no draft plan, ever."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import mapbox_vector_tile
import pytest
import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text

from gridmap.auth.keys import create_key
from gridmap.db.bulk import read_geoframe
from tests.api.conftest import Served
from tests.api.test_plans import draft
from tests.api.test_tiles import tile_of
from tests.api.test_tokens import bearer, token_for


@pytest.fixture(scope="module")
def held(served: Served) -> Iterator[dict[str, str]]:
    """A planner key held to the embed key's community."""
    with served.engine.begin() as connection:
        key = create_key(
            connection, name="社区规划员", role="planner", region_code=served.community
        )
    yield {"Authorization": f"Bearer {key.secret}"}


def community(served: Served) -> gpd.GeoDataFrame:
    with served.engine.connect() as connection:
        return read_geoframe(
            connection, "SELECT code, geom FROM region WHERE code = :c", {"c": served.community}
        )


def stations_by_side(served: Served) -> tuple[list[str], list[str]]:
    with served.engine.connect() as connection:
        rows = connection.execute(
            text("""
            SELECT s.code, ST_Intersects(r.geom, s.geom) FROM station s, region r
            WHERE r.code = :c ORDER BY s.code
        """),
            {"c": served.community},
        ).all()
    return [c for c, inside in rows if inside], [c for c, inside in rows if not inside]


def test_a_held_planner_changes_stations_inside_its_region_only(
    api: TestClient, served: Served, held: dict[str, str]
) -> None:
    shape = community(served).geometry.iloc[0]
    inside_point = shapely.point_on_surface(shape)
    far = (24.90, 60.20)
    assert not shape.contains(shapely.Point(far))
    _, outside = stations_by_side(served)
    refused = api.post(
        "/coverage/whatif", headers=held, json={"add": [{"lon": far[0], "lat": far[1]}]}
    )
    assert refused.status_code == 403 and "add[0]" in refused.json()["detail"]
    if outside:
        away = api.post("/coverage/whatif", headers=held, json={"remove": [outside[0]]})
        assert away.status_code == 403 and outside[0] in away.json()["detail"]
    answer = api.post(
        "/coverage/whatif",
        headers=held,
        json={"add": [{"lon": inside_point.x, "lat": inside_point.y}]},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert {c["community"] for c in body["communities"]} == {served.community}
    mine = body["communities"][0]
    assert body["before"]["residents"] == body["after"]["residents"] == mine["residents"]
    assert body["after"]["covered_residents"] == mine["covered_after"]
    added = {"add": [{"lon": inside_point.x, "lat": inside_point.y}]}
    city = api.post("/coverage/whatif", headers=served.headers("planner"), json=added).json()
    assert city["before"]["residents"] > body["before"]["residents"]  # the held one saw less
    same = next(c for c in city["communities"] if c["community"] == served.community)
    assert same == mine  # the region's own figures agree with the city's answer


def test_a_held_planner_gets_sites_and_rates_of_its_region(
    api: TestClient, served: Served, held: dict[str, str]
) -> None:
    shape = community(served).geometry.iloc[0]
    reply = api.post("/coverage/siting", headers=held, json={"k": 2, "candidates": "units"})
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert found["sites"], found
    for site in found["sites"]:
        assert shape.buffer(1e-9).contains(shapely.Point(site["lon"], site["lat"])), site
    city = api.post(
        "/coverage/siting", headers=served.headers("planner"), json={"k": 1, "candidates": "units"}
    ).json()
    assert city["before_rate"] != found["before_rate"]  # the region's rate, not the city's


def test_no_draft_for_a_key_held_to_a_region(api: TestClient, served: Served) -> None:
    made = api.post(
        "/plans",
        json={"name": "草稿不外传", "source": "current"},
        headers=served.headers("planner"),
    )
    plan = made.json()["id"]
    embed = {"Authorization": f"Bearer {served.keys['embed']}"}
    for path in (f"/collections/grids/items?plan={plan}", f"/collections/units/items?plan={plan}"):
        reply = api.get(path, headers=embed)
        assert reply.status_code == 403 and "draft" in reply.json()["detail"], path
        assert api.get(path, headers=served.headers("viewer")).status_code == 200, path
    shape = community(served).geometry.iloc[0]
    point = shapely.point_on_surface(shape)
    z, x, y = tile_of(point.x, point.y, 15)
    tile = api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt?plan={plan}", headers=embed)
    assert tile.status_code == 403 and "draft" in tile.json()["detail"]
    with served.engine.connect() as connection:
        current = connection.execute(
            text("SELECT id FROM plan WHERE status = 'current'")
        ).scalar_one()
    shown = api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt?plan={current}", headers=embed)
    assert shown.status_code in (200, 204)
    if shown.status_code == 200:
        decoded = mapbox_vector_tile.decode(shown.content)
        assert all(
            f["properties"]["code"].startswith(served.community)
            for f in decoded.get("grids", {"features": []})["features"]
        )


def test_a_key_held_to_the_city_reads_and_changes_the_whole_city(
    api: TestClient, served: Served
) -> None:
    """The city's code (990100) is not a prefix of its districts' (990101…): a key held to it
    still holds everything below it (gridmap.standards.code_prefix)."""
    with served.engine.begin() as connection:
        city = connection.execute(
            text("SELECT code FROM region WHERE parent_id IS NULL")
        ).scalar_one()
        assert city.endswith("00") and not served.community.startswith(city)
        held = {
            "Authorization": "Bearer "
            + create_key(connection, name="全市管理员", role="admin", region_code=city).secret
        }
    everyone = api.get("/stations", headers=served.headers("admin")).json()
    assert everyone and api.get("/stations", headers=held).json() == everyone
    same = {"name": everyone[0]["name"]}  # an edit that changes nothing, allowed to the city
    edited = api.patch(f"/stations/{everyone[0]['code']}", headers=held, json=same)
    assert edited.status_code == 200, edited.text
    report = api.get(
        "/reports/coverage", params={"region": served.community, "format": "csv"}, headers=held
    )
    assert report.status_code == 200, report.text
    token = api.post("/tokens", headers=held, json={"region": served.community})
    assert token.status_code in (200, 201), token.text
    point = shapely.point_on_surface(community(served).geometry.iloc[0])
    added = {"add": [{"lon": point.x, "lat": point.y}]}
    mine = api.post("/coverage/whatif", headers=held, json=added)
    assert mine.status_code == 200, mine.text
    whole = api.post("/coverage/whatif", headers=served.headers("planner"), json=added).json()
    assert mine.json()["communities"] == whole["communities"] and whole["communities"]
    sites = api.post("/coverage/siting", headers=held, json={"k": 1, "candidates": "units"})
    assert sites.status_code == 200, sites.text
    unheld = api.post(
        "/coverage/siting", headers=served.headers("planner"), json={"k": 1, "candidates": "units"}
    ).json()
    assert sites.json()["before_rate"] == unheld["before_rate"]


def test_the_plan_tileset_keeps_a_key_in_its_region_and_out_of_drafts(
    api: TestClient, served: Served
) -> None:
    """The plan tileset (grids by shape and code) is held as the gridmap tileset is: no draft
    for a key held to a region, only its region's grids and units of the current plan, and a
    token narrowed to layers gets those of them it may read, or 403."""
    plan, _ = draft(api, served, "形状不外传")
    embed = {"Authorization": f"Bearer {served.keys['embed']}"}
    whole = community(served).geometry.iloc[0]
    point = shapely.point_on_surface(whole)
    z, x, y = tile_of(point.x, point.y, 14)
    drafted = api.get(f"/tiles/plan/{z}/{x}/{y}.mvt?plan={plan}", headers=embed)
    assert drafted.status_code == 403 and "draft" in drafted.json()["detail"]
    mine = api.get(f"/tiles/plan/{z}/{x}/{y}.mvt", headers=embed)
    everyone = api.get(f"/tiles/plan/{z}/{x}/{y}.mvt", headers=served.headers("viewer"))
    assert mine.status_code == everyone.status_code == 200, mine.text
    held_codes = {
        name: {f["properties"]["code"] for f in layer["features"]}
        for name, layer in mapbox_vector_tile.decode(mine.content).items()
    }
    all_codes = {
        name: {f["properties"]["code"] for f in layer["features"]}
        for name, layer in mapbox_vector_tile.decode(everyone.content).items()
    }
    assert held_codes["grids"] and all(c.startswith(served.community) for c in held_codes["grids"])
    with served.engine.connect() as connection:  # units: those whose inner point is inside
        inside = set(
            connection.execute(
                text(
                    "SELECT u.code FROM unit u JOIN region r ON r.code = :c "
                    "WHERE ST_Intersects(r.geom, ST_PointOnSurface(u.geom))"
                ),
                {"c": served.community},
            ).scalars()
        )
    assert held_codes["units"] and held_codes["units"] <= inside
    assert all_codes["units"] - inside  # the tile itself reaches beyond the region
    assert not {"households", "residents"} & set(
        mapbox_vector_tile.decode(everyone.content)["grids"]["features"][0]["properties"]
    )
    stations_only = token_for(api, served, {"layers": ["stations"], "minutes": 5})["token"]
    refused = api.get(f"/tiles/plan/{z}/{x}/{y}.mvt", headers=bearer(stations_only))
    assert refused.status_code == 403, refused.text
    grids_only = token_for(api, served, {"layers": ["grids"], "minutes": 5})["token"]
    narrowed = api.get(f"/tiles/plan/{z}/{x}/{y}.mvt", headers=bearer(grids_only))
    assert narrowed.status_code == 200, narrowed.text
    assert set(mapbox_vector_tile.decode(narrowed.content)) <= {"grids", "grid_labels"}
