"""Stations over the API: list, remove, replace (admin), all-or-nothing, held to the city."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gridmap.auth.keys import create_key
from tests.api.conftest import Served


def codes(served: Served) -> list[str]:
    with served.engine.connect() as connection:
        return list(connection.execute(text("SELECT code FROM station ORDER BY code")).scalars())


def collection(stations: list[dict]) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": s["code"], "name": s["name"]},
                "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
            }
            for s in stations
        ],
    }


def test_planners_list_the_stations(api: TestClient, served: Served) -> None:
    got = api.get("/stations", headers=served.headers("planner"))
    assert got.status_code == 200
    assert [s["code"] for s in got.json()] == codes(served)
    assert api.get("/stations", headers=served.headers("viewer")).status_code == 403


def test_only_a_city_wide_admin_changes_stations(api: TestClient, served: Served) -> None:
    with served.engine.begin() as connection:
        held = create_key(
            connection, name="street admin", role="admin", region_code=served.community
        ).secret
    before = codes(served)
    for headers in (served.headers("planner"), {"Authorization": f"Bearer {held}"}):
        assert api.delete(f"/stations/{before[0]}", headers=headers).status_code == 403
        assert api.put("/stations", json=collection([]), headers=headers).status_code == 403
    missing = api.delete("/stations/NOPE", headers=served.headers("admin"))
    assert missing.status_code == 404 and "no station NOPE" in missing.json()["detail"]
    assert codes(served) == before


def test_a_replacement_is_all_or_nothing(api: TestClient, served: Served) -> None:
    admin = served.headers("admin")
    stations = api.get("/stations", headers=admin).json()
    before = codes(served)
    broken = collection(stations)
    broken["features"][1]["properties"]["name"] = None
    bad = api.put("/stations", json=broken, headers=admin)
    assert bad.status_code == 400, bad.text
    assert "feature 2: name is missing" in bad.json()["detail"]
    assert codes(served) == before

    added = {
        "code": "TEST-NEW",
        "name": "新站",
        "lon": stations[0]["lon"] + 0.0005,
        "lat": stations[0]["lat"],
    }
    put = api.put("/stations", json=collection([*stations, added]), headers=admin)
    assert put.status_code == 200, put.text
    assert put.json()["stations"] == len(stations) + 1 and put.json()["removed"] == []
    assert codes(served) == sorted([*before, "TEST-NEW"])

    gone = api.delete("/stations/TEST-NEW", headers=admin)
    assert gone.status_code == 200 and gone.json() == {"removed": ["TEST-NEW"]}
    assert codes(served) == before


def test_a_planner_held_to_a_region_lists_only_its_stations(
    api: TestClient, served: Served
) -> None:
    with served.engine.begin() as connection:
        held = create_key(
            connection, name="社区规划员", role="planner", region_code=served.community
        ).secret
        inside = list(
            connection.execute(
                text(
                    "SELECT s.code FROM station s JOIN region r ON r.code = :c "
                    "AND ST_Intersects(r.geom, s.geom) ORDER BY s.code"
                ),
                {"c": served.community},
            ).scalars()
        )
    got = api.get("/stations", headers={"Authorization": f"Bearer {held}"})
    assert got.status_code == 200
    assert [s["code"] for s in got.json()] == inside
    assert len(inside) < len(codes(served))


@pytest.fixture
def station_in_community(served: Served) -> Iterator[tuple[str, str]]:
    """A station inside the served community and one outside it; their rows restored after."""
    with served.engine.connect() as connection:
        inside, outside = (
            connection.execute(
                text(
                    "SELECT s.code FROM station s JOIN region r ON r.code = :c "
                    f"AND {'' if flag else 'NOT '}ST_Intersects(r.geom, s.geom) ORDER BY s.code "
                    "LIMIT 1"
                ),
                {"c": served.community},
            ).scalar_one()
            for flag in (True, False)
        )
        saved = (
            connection.execute(
                text(
                    "SELECT code, name, address, opening_hours, phone, capacity_residents FROM "
                    "station"
                )
            )
            .mappings()
            .all()
        )
    yield inside, outside
    with served.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE station SET name = :name, address = :address, opening_hours = "
                ":opening_hours, phone = :phone, capacity_residents = :capacity_residents "
                "WHERE code = :code"
            ),
            [dict(r) for r in saved],
        )


def test_an_admin_edits_a_station_s_contacts_and_the_card_shows_them(
    api: TestClient, served: Served, station_in_community: tuple[str, str]
) -> None:
    grids = api.get(
        "/collections/grids/items", params={"limit": 1000}, headers=served.headers("viewer")
    ).json()["features"]
    grid = next(g["properties"] for g in grids if g["properties"]["station"])
    code = grid["station"]
    admin = served.headers("admin")
    edit = {
        "address": " 建设路12号 ",
        "opening_hours": "周一至周五 9:00-17:00",
        "phone": "028-8888 6666",
    }
    got = api.patch(f"/stations/{code}", json=edit, headers=admin)
    assert got.status_code == 200, got.text
    assert got.json()["address"] == "建设路12号" and got.json()["phone"] == "028-8888 6666"
    item = api.get(f"/collections/stations/items/{code}", headers=served.headers("viewer"))
    assert {k: item.json()["properties"][k] for k in edit} == {**edit, "address": "建设路12号"}
    card = api.get(f"/cards/{grid['code']}").text
    assert '<td id="station-address">建设路12号</td>' in card
    assert '<td id="station-hours">周一至周五 9:00-17:00</td>' in card
    assert 'href="tel:02888886666"' in card and 'id="navigate"' in card

    cleared = api.patch(f"/stations/{code}", json={"phone": "", "address": None}, headers=admin)
    assert cleared.status_code == 200
    assert (cleared.json()["phone"], cleared.json()["address"]) == (None, None)
    assert cleared.json()["opening_hours"] == "周一至周五 9:00-17:00"  # left out: kept


def test_a_station_edit_with_a_bad_field_writes_nothing(
    api: TestClient, served: Served, station_in_community: tuple[str, str]
) -> None:
    code, outside = station_in_community
    admin = served.headers("admin")
    before = api.get("/stations", headers=admin).json()
    for body, field in (
        ({"phone": "1", "colour": "red"}, "colour"),
        ({"capacity_residents": 0}, "capacity_residents"),
        ({"capacity_residents": "many"}, "capacity_residents"),
        ({"address": "x" * 201}, "address"),
        ({"name": ""}, "name"),
        ({"phone": 5}, "phone"),
    ):
        bad = api.patch(f"/stations/{code}", json=body, headers=admin)
        assert bad.status_code in (400, 422), (body, bad.text)
        assert field in bad.text, (body, bad.text)
    assert api.patch("/stations/NOPE", json={"phone": "1"}, headers=admin).status_code == 404
    assert (
        api.patch(
            f"/stations/{code}", json={"phone": "1"}, headers=served.headers("planner")
        ).status_code
        == 403
    )
    assert api.get("/stations", headers=admin).json() == before

    with served.engine.begin() as connection:
        held = create_key(
            connection, name="社区管理员", role="admin", region_code=served.community
        ).secret
    mine = {"Authorization": f"Bearer {held}"}
    assert api.patch(f"/stations/{outside}", json={"phone": "1"}, headers=mine).status_code == 404
    assert api.patch(f"/stations/{code}", json={"phone": "2"}, headers=mine).status_code == 200
