"""What a what-if changes on the map: the placed stations' circles and the buildings that changed.

The buildings said to be newly covered are checked against the stored coverage run (they were
not covered there) and against the new circle (they lie near it), both independent of the
what-if's own arithmetic; a key held to a region sees nothing beyond it.
"""

from __future__ import annotations

import shapely
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.api.conftest import Served
from tests.api.test_scope import community, held  # noqa: F401  (held is a fixture)

METRES_PER_DEGREE = 111_320


def largest_gap_point(api: TestClient, served: Served) -> shapely.Point:
    gaps = api.get(
        "/collections/gaps/items?limit=1&sortby=-residents", headers=served.headers("planner")
    ).json()
    return shapely.point_on_surface(shapely.geometry.shape(gaps["features"][0]["geometry"]))


def stored_covered(served: Served, points: list[list[float]]) -> list[bool | None]:
    """Whether the building at each point was covered in the latest stored run."""
    with served.engine.connect() as connection:
        return list(
            connection.execute(
                text("""
            SELECT (SELECT bc.covered FROM building b
                    JOIN building_coverage bc ON bc.building_id = b.id
                    AND bc.run_id = (SELECT max(id) FROM coverage_run)
                    ORDER BY b.geom <-> ST_SetSRID(ST_MakePoint(p.x, p.y), 4326) LIMIT 1)
            FROM unnest(CAST(:xs AS float8[]), CAST(:ys AS float8[])) WITH ORDINALITY AS p(x, y, i)
            ORDER BY p.i
        """),
                {"xs": [p[0] for p in points], "ys": [p[1] for p in points]},
            ).scalars()
        )


def test_an_added_station_draws_its_circle_and_the_buildings_it_wins(
    api: TestClient, served: Served
) -> None:
    place = largest_gap_point(api, served)
    answer = api.post(
        "/coverage/whatif",
        headers=served.headers("planner"),
        json={"add": [{"lon": place.x, "lat": place.y}]},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    circles = body["circles"]["features"]
    assert [c["properties"]["station"] for c in circles] == ["new-1"]
    circle = shapely.geometry.shape(circles[0]["geometry"])
    assert circle.area > 0 and circle.distance(place) < 200 / METRES_PER_DEGREE
    won = body["buildings"]["features"]
    assert won and all(f["properties"]["covered"] for f in won)  # adding never uncovers
    assert body["buildings_gained"] == len(won) and body["buildings_lost"] == 0
    points = [f["geometry"]["coordinates"] for f in won]
    assert set(stored_covered(served, points)) == {False}  # uncovered in the stored run
    near = circle.buffer(250 / METRES_PER_DEGREE)  # a building's snap and the circle's buffer
    assert all(near.contains(shapely.Point(p)) for p in points)
    assert body["after"]["covered_residents"] > body["before"]["covered_residents"]


def test_a_station_moved_where_it_stands_changes_no_building(
    api: TestClient, served: Served
) -> None:
    station = api.get(
        "/collections/stations/items?limit=1", headers=served.headers("planner")
    ).json()["features"][0]
    lon, lat = station["geometry"]["coordinates"]
    code = station["properties"]["code"]
    body = api.post(
        "/coverage/whatif",
        headers=served.headers("planner"),
        json={"move": [{"code": code, "lon": lon, "lat": lat}]},
    ).json()
    assert [c["properties"]["station"] for c in body["circles"]["features"]] == [code]
    assert body["buildings"]["features"] == [] and body["buildings_gained"] == 0
    assert body["before"] == body["after"]


def test_a_held_key_sees_no_circle_or_building_beyond_its_region(
    api: TestClient,
    served: Served,
    held: dict[str, str],  # noqa: F811
) -> None:
    shape = community(served).geometry.iloc[0]
    boundary = shape.boundary
    inside = shapely.point_on_surface(shape)
    body = api.post(
        "/coverage/whatif", headers=held, json={"add": [{"lon": inside.x, "lat": inside.y}]}
    ).json()
    region = shape.buffer(1e-7)
    for feature in body["circles"]["features"]:
        assert region.contains(shapely.geometry.shape(feature["geometry"]))
    for feature in body["buildings"]["features"]:
        assert region.contains(shapely.Point(feature["geometry"]["coordinates"]))
    city = api.post(
        "/coverage/whatif",
        headers=served.headers("planner"),
        json={"add": [{"lon": inside.x, "lat": inside.y}]},
    ).json()
    whole = shapely.geometry.shape(city["circles"]["features"][0]["geometry"])
    assert whole.crosses(boundary) or region.contains(whole)  # the city's key sees it whole


def test_a_station_placed_beyond_every_street_draws_no_circle_and_changes_nothing(
    api: TestClient, served: Served
) -> None:
    at_sea = {"lon": 24.99, "lat": 60.10}  # out in the Gulf of Finland, far from any street
    answer = api.post("/coverage/whatif", headers=served.headers("planner"), json={"add": [at_sea]})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["circles"]["features"] == [] and body["buildings"]["features"] == []
    assert body["before"] == body["after"]
