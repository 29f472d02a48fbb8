"""Stations over the API: list, remove, replace (admin), all-or-nothing, held to the city."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import text

from gridmap.auth.keys import create_key
from tests.api.conftest import Served


def codes(served: Served) -> list[str]:
    with served.engine.connect() as connection:
        return list(connection.execute(text("SELECT code FROM station ORDER BY code")).scalars())


def collection(stations: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": s["code"], "name": s["name"]},
         "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]}}
        for s in stations]}  # fmt: skip


def test_planners_list_the_stations(api: TestClient, served: Served) -> None:
    got = api.get("/stations", headers=served.headers("planner"))
    assert got.status_code == 200
    assert [s["code"] for s in got.json()] == codes(served)
    assert api.get("/stations", headers=served.headers("viewer")).status_code == 403


def test_only_a_city_wide_admin_changes_stations(api: TestClient, served: Served) -> None:
    with served.engine.begin() as connection:
        held = create_key(connection, name="street admin", role="admin",
                          region_code=served.community).secret  # fmt: skip
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

    added = {"code": "TEST-NEW", "name": "新站", "lon": stations[0]["lon"] + 0.0005,
             "lat": stations[0]["lat"]}  # fmt: skip
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
        held = create_key(connection, name="社区规划员", role="planner",
                          region_code=served.community).secret  # fmt: skip
        inside = list(connection.execute(text(
            "SELECT s.code FROM station s JOIN region r ON r.code = :c "
            "AND ST_Intersects(r.geom, s.geom) ORDER BY s.code"), {"c": served.community}
        ).scalars())  # fmt: skip
    got = api.get("/stations", headers={"Authorization": f"Bearer {held}"})
    assert got.status_code == 200
    assert [s["code"] for s in got.json()] == inside
    assert len(inside) < len(codes(served))
