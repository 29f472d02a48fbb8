"""The web map's page and what it starts from, served by the app (no browser here)."""

from __future__ import annotations

import re
from dataclasses import asdict

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from api.routes.web import STATIC
from gridmap.standards import GRID_BOUNDS
from tests.api.conftest import Served


def test_the_page_and_its_scripts_come_from_this_service(api: TestClient) -> None:
    page = api.get("/map/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert 'lang="zh-CN"' in html and "importmap" in html
    addresses = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert addresses and all(not a.startswith(("http:", "https:", "//")) for a in addresses)
    for address in addresses:  # every script, style and module the page names is served here
        if address.startswith("data:"):
            continue
        served = api.get(f"/map/{address}")
        assert served.status_code == 200, address
    engine = api.get("/map/vendor/maplibre-gl/maplibre-gl.mjs")
    assert engine.status_code == 200 and "javascript" in engine.headers["content-type"]
    assert api.get("/map/vendor/maplibre-gl/maplibre-gl-worker.mjs").status_code == 200
    for module in (STATIC / "src").glob("*.js"):
        assert api.get(f"/map/src/{module.name}").text == module.read_text()
    assert api.get("/map", follow_redirects=False).headers["location"] == "/map/"


def test_no_script_reaches_for_the_internet() -> None:
    for source in [*(STATIC / "src").glob("*"), STATIC / "index.html"]:
        body = source.read_text()
        assert not re.search(r"https?://(?!www\.w3\.org)", body), source.name


def test_a_browser_at_the_root_is_sent_to_the_map_and_gis_clients_get_json(
    api: TestClient, served: Served
) -> None:
    browser = api.get(
        "/", headers={"Accept": "text/html,application/xhtml+xml"}, follow_redirects=False
    )
    assert browser.status_code == 303 and browser.headers["location"].endswith("/map/")
    client = api.get("/", headers={"Accept": "application/json"})
    assert client.status_code == 200
    assert any(
        link["rel"] == "alternate" and link["href"].endswith("/map/")
        for link in client.json()["links"]
    )
    assert api.get("/?f=json", headers={"Accept": "text/html"}).status_code == 200


def test_the_config_says_who_is_asking_and_the_standards(api: TestClient, served: Served) -> None:
    for role in ("viewer", "planner", "admin"):
        config = api.get("/map/config.json", headers=served.headers(role)).json()
        assert config["role"] == role and config["scoped"] is False
    config = api.get("/map/config.json", headers=served.headers("admin")).json()
    assert config["bounds"] == {kind: asdict(b) for kind, b in GRID_BOUNDS.items()}
    with served.engine.connect() as connection:
        current = connection.execute(text("SELECT id FROM plan WHERE status = 'current'")).scalar()
    assert config["current_plan"] == current
    west, south, east, north = config["extent"]
    assert west < east and south < north and 24 < west < 25 and 60 < south < 61
    embed = api.get("/map/config.json", headers=served.headers("embed")).json()
    assert embed["scoped"] is True and embed["current_plan"] is None
    assert embed["extent"][2] - embed["extent"][0] < east - west  # its own community only
    assert api.get("/map/config.json").status_code == 401  # no public reading on this app


def test_a_draft_can_be_discarded_and_nothing_else(api: TestClient, served: Served) -> None:
    made = api.post(
        "/plans", json={"name": "试一试", "source": "current"}, headers=served.headers("planner")
    )
    plan = made.json()["id"]
    assert api.delete(f"/plans/{plan}", headers=served.headers("viewer")).status_code == 403
    gone = api.delete(f"/plans/{plan}", headers=served.headers("planner"))
    assert gone.status_code == 204
    assert api.get(f"/plans/{plan}", headers=served.headers("viewer")).status_code == 404
    with served.engine.connect() as connection:
        current = connection.execute(text("SELECT id FROM plan WHERE status = 'current'")).scalar()
        grids = connection.execute(
            text("SELECT count(*) FROM grid WHERE plan_id = :p"), {"p": plan}
        ).scalar()
    assert grids == 0
    kept = api.delete(f"/plans/{current}", headers=served.headers("admin"))
    assert kept.status_code == 409 and "only a draft" in kept.json()["detail"]


def test_a_grid_names_the_station_most_of_its_residents_walk_to(
    api: TestClient, served: Served
) -> None:
    grids = api.get("/collections/grids/items", headers=served.headers("viewer")).json()
    with served.engine.connect() as connection:
        rows = connection.execute(
            text("""
            SELECT g.code, s.code AS station, sum(uc.residents) AS residents
            FROM grid g JOIN plan p ON p.id = g.plan_id AND p.status = 'current'
            JOIN assignment a ON a.grid_id = g.id
            JOIN unit_coverage uc ON uc.unit_id = a.unit_id
                AND uc.run_id = (SELECT max(id) FROM coverage_run)
            JOIN station s ON s.id = uc.nearest_station_id
            GROUP BY g.code, s.code
        """)
        ).all()
    best: dict[str, str] = {}
    for code, station, _ in sorted(rows, key=lambda r: (r.code, -r.residents, r.station)):
        best.setdefault(code, station)  # most residents; ties to the smaller code
    shown = {f["properties"]["code"]: f["properties"]["station"] for f in grids["features"]}
    assert best and best == {code: s for code, s in shown.items() if s is not None}
    with served.engine.connect() as connection:
        staff = dict(
            connection.execute(
                text(
                    "SELECT g.code, g.staff FROM grid g JOIN plan p ON p.id = g.plan_id "
                    "AND p.status = 'current'"
                )
            ).all()
        )
    staffed = 0
    for feature in grids["features"]:  # the sample roster, kept by grids that kept their code
        p, people = feature["properties"], staff[feature["properties"]["code"]]
        workers = len(people.get("workers", []))
        staffed += workers > 0
        assert p["workers"] == workers
        assert p["leader"] == (people["leader"]["name"] if people.get("leader") else None)
        if workers:
            assert p["residents_per_worker"] == pytest.approx(p["residents"] / workers)
        else:
            assert p["residents_per_worker"] is None
    assert staffed > 0
