"""Tickets over the API, on hand-made tickets of 2031 in the served city (removed afterwards).

Expected figures come from the tickets placed here and the grids' households read from the
database, worked out in the test (not from gridmap.tickets).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import pytest
import shapely
import shapely.geometry
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from gridmap.auth.keys import create_key
from tests.api.conftest import Served

KIND, OTHER_KIND = "噪音扰民", "占道经营"
WINDOW = {"since": "2031-01-01", "until": "2032-01-01"}


@dataclass(frozen=True)
class Placed:
    mine: str  # a grid of the embed key's community, with tickets
    households: int
    quiet: str  # another grid of that community, without
    elsewhere: str  # a grid of another community, with tickets
    region_grids: dict[str, int]  # every grid of the community: households


def grid_with_households(  # type: ignore[no-untyped-def]
    connection, prefix: str = "", rank: int = 0, *, last: bool = False
) -> tuple[str, int, int]:
    """A grid of the current plan with households, the ``rank``-th by code (from the end with
    ``last``): its code, households and one of its units."""
    order = "DESC" if last else "ASC"
    row = connection.execute(
        text(f"""
        SELECT g.code, g.households, min(a.unit_id) FROM grid g
        JOIN plan p ON p.id = g.plan_id AND p.status = 'current'
        JOIN assignment a ON a.grid_id = g.id
        WHERE g.code LIKE :c || '%' AND g.households > 0
        GROUP BY g.code, g.households ORDER BY g.code {order} OFFSET :r LIMIT 1
        """),
        {"c": prefix, "r": rank},
    ).one()
    return str(row[0]), int(row[1]), int(row[2])


def add_ticket(  # type: ignore[no-untyped-def]
    connection, unit_id: int, kind: str, at: str | datetime, external_id: str
) -> None:
    """A ticket at a unit's inner point (``at``: a time, or text PostgreSQL reads as one)."""
    connection.execute(
        text(
            "INSERT INTO event (external_id, kind, occurred_at, geom) SELECT :id, :k, "
            "CAST(:t AS timestamptz), ST_PointOnSurface(geom) FROM unit WHERE id = :u"
        ),
        {"id": external_id, "k": kind, "t": at, "u": unit_id},
    )


@contextmanager
def tickets_removed(engine: Engine, prefix: str) -> Iterator[None]:
    """Remove the tickets whose external id begins with ``prefix`` when the block ends."""
    try:
        yield
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("DELETE FROM event WHERE external_id LIKE :p || '%'"), {"p": prefix}
            )


def _add(connection, unit_id: int, kind: str, at: str) -> None:  # type: ignore[no-untyped-def]
    add_ticket(connection, unit_id, kind, at, f"test-{uuid.uuid4()}")


@pytest.fixture(scope="module")
def placed(served: Served) -> Iterator[Placed]:
    with served.engine.begin() as connection:
        mine, households, unit = grid_with_households(connection, served.community, 0)
        quiet = grid_with_households(connection, served.community, 1)[0]
        other = connection.execute(
            text(
                "SELECT code FROM region WHERE level = 'community' AND code <> :c "
                "ORDER BY code LIMIT 1"
            ),
            {"c": served.community},
        ).scalar_one()
        elsewhere, _, far_unit = grid_with_households(connection, other, 0)
        for at in ("2031-01-05T10:00+08", "2031-01-20T10:00+08", "2031-02-01T01:00+08"):
            _add(connection, unit, KIND, at)
        _add(connection, unit, OTHER_KIND, "2031-04-10T10:00+08")
        for at in ("2031-01-07T10:00+08", "2031-04-07T10:00+08", "2031-04-08T10:00+08"):
            _add(connection, far_unit, KIND, at)
        connection.execute(
            text(
                "INSERT INTO event (external_id, kind, occurred_at, geom, address) VALUES "
                "('test-nowhere', :k, '2031-03-03T10:00+08', NULL, '建设路12号')"
            ),
            {"k": KIND},
        )
        region_grids = dict(
            connection.execute(
                text(
                    "SELECT g.code, g.households FROM grid g JOIN plan p ON p.id = g.plan_id "
                    "AND p.status = 'current' WHERE g.code LIKE :c || '%'"
                ),
                {"c": served.community},
            ).all()
        )
    try:
        yield Placed(mine, households, quiet, elsewhere, region_grids)
    finally:
        with served.engine.begin() as connection:
            connection.execute(text("DELETE FROM event WHERE external_id LIKE 'test-%'"))


def percentile_90(values: list[float]) -> float:
    """The 90th percentile by linear interpolation between the closest ranks, by hand."""
    ordered = sorted(values)
    position = 0.9 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def test_a_grids_tickets_by_month_and_kind(api: TestClient, served: Served, placed: Placed) -> None:
    got = api.get(f"/tickets/grids/{placed.mine}", params=WINDOW, headers=served.headers("viewer"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["grid"], body["households"], body["tickets"]) == (
        placed.mine,
        placed.households,
        4,
    )
    assert body["per_1000_households"] == round(4000 / placed.households, 2)
    assert body["by_kind"] == {KIND: 3, OTHER_KIND: 1}
    assert [(m["month"], m["tickets"], m["by_kind"]) for m in body["months"]] == [
        ("2031-01", 2, {KIND: 2}),
        ("2031-02", 1, {KIND: 1}),  # 01:00 on 1 February in Beijing
        ("2031-04", 1, {OTHER_KIND: 1}),
    ]
    kind = api.get(
        f"/tickets/grids/{placed.mine}",
        params={**WINDOW, "kind": OTHER_KIND},
        headers=served.headers("viewer"),
    ).json()
    assert kind["tickets"] == 1 and kind["by_kind"] == {OTHER_KIND: 1}
    january = api.get(
        f"/tickets/grids/{placed.mine}",
        params={"since": "2031-01-01", "until": "2031-02-01"},
        headers=served.headers("viewer"),
    ).json()
    assert january["tickets"] == 2
    quiet = api.get(
        f"/tickets/grids/{placed.quiet}", params=WINDOW, headers=served.headers("viewer")
    )
    assert quiet.json()["tickets"] == 0 and quiet.json()["months"] == []


def test_hotspots_for_the_city_and_for_a_key_held_to_a_community(
    api: TestClient, served: Served, placed: Placed
) -> None:
    city = api.get("/tickets/hotspots", params=WINDOW, headers=served.headers("viewer")).json()
    assert {placed.mine, placed.elsewhere} <= {h["code"] for h in city["hotspots"]}
    assert city["reference"] == "city" and city["tickets"] == 7
    assert city["unplaced"] == {"without_coordinates": 1, "outside_units": 0}

    region = api.get("/tickets/hotspots", params=WINDOW, headers=served.headers("embed"))
    assert region.status_code == 200, region.text
    body = region.json()
    rates = [
        (4000 / h if code == placed.mine else 0.0) for code, h in placed.region_grids.items() if h
    ]
    assert body["reference"] == served.community and body["unplaced"] is None
    assert body["threshold"] == pytest.approx(percentile_90(rates), abs=0.01)
    assert [h["code"] for h in body["hotspots"]] == [placed.mine]  # not the other community's
    assert body["areas"] == len(placed.region_grids) and body["tickets"] == 4
    units = api.get(
        "/tickets/hotspots", params={**WINDOW, "level": "unit"}, headers=served.headers("embed")
    ).json()
    assert all(h["code"].startswith(served.community) for h in units["hotspots"])
    assert sum(h["tickets"] for h in units["hotspots"]) == 4  # one unit holds them all


def test_before_and_after_beside_the_city_or_the_region(
    api: TestClient, served: Served, placed: Placed
) -> None:
    asked = {"grid": placed.mine, "date": "2031-03-15", "months": 3}
    city = api.get("/tickets/before-after", params=asked, headers=served.headers("viewer"))
    assert city.status_code == 200, city.text
    body = city.json()
    assert body["before"] == {
        "months": {"2030-12": 0, "2031-01": 2, "2031-02": 1},
        "tickets": 3,
    }
    assert body["after"] == {"months": {"2031-04": 1, "2031-05": 0, "2031-06": 0}, "tickets": 1}
    assert body["change"] == pytest.approx(1 / 3 - 1, abs=1e-4)
    # the city: 2 + 1 + 1 tickets before, 1 + 2 after; the March ticket without a place is
    # the month of the change
    assert (body["reference_before"]["tickets"], body["reference_after"]["tickets"]) == (4, 3)
    assert body["against_reference"] == pytest.approx((1 / 3) / (3 / 4) - 1, abs=1e-4)
    other_kind = api.get(
        "/tickets/before-after",
        params={**asked, "kind": OTHER_KIND},
        headers=served.headers("viewer"),
    ).json()
    assert (other_kind["before"]["tickets"], other_kind["after"]["tickets"]) == (0, 1)
    assert other_kind["change"] is None  # none before: no ratio
    region = api.get("/tickets/before-after", params=asked, headers=served.headers("embed"))
    assert region.json()["reference"] == served.community
    assert region.json()["reference_before"]["tickets"] == 3
    assert region.json()["against_reference"] == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("role", "path", "params", "status", "words"),
    [
        ("embed", "/tickets/grids/{elsewhere}", {}, 403, "held to region"),
        (
            "embed",
            "/tickets/before-after",
            {"grid": "{elsewhere}", "date": "2031-03-01"},
            403,
            "held",
        ),
        ("viewer", "/tickets/grids/{community}999", {}, 404, "no such grid"),
        ("viewer", "/tickets/grids/12345", {}, 400, "code"),
        (
            "viewer",
            "/tickets/grids/{mine}",
            {"since": "2031-05-01", "until": "2031-05-01"},
            400,
            "until",
        ),
        ("viewer", "/tickets/grids/{mine}", {"since": "May"}, 400, "since"),
        (
            "viewer",
            "/tickets/before-after",
            {"grid": ["{mine}", "{mine}"], "date": "2031-03-01"},
            400,
            "each once",
        ),
        ("viewer", "/tickets/before-after", {"grid": "x1", "date": "2031-03-01"}, 400, "x1"),
        (
            "viewer",
            "/tickets/before-after",
            {"grid": "{community}999", "date": "2031-03-01"},
            404,
            "999",
        ),
        (
            "viewer",
            "/tickets/before-after",
            {"grid": "{mine}", "date": "2031-03-01", "months": 0},
            400,
            "months",
        ),
        ("viewer", "/tickets/before-after", {"grid": "{mine}"}, 400, "date"),
        ("viewer", "/tickets/hotspots", {"percentile": 100}, 400, "percentile"),
        ("viewer", "/tickets/hotspots", {"level": "block"}, 400, "level"),
        ("viewer", "/tickets/hotspots", {"kind": "a\x00b"}, 400, "kind"),
        ("viewer", "/tickets/hotspots", {"kind": "长" * 65}, 400, "kind"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(
    api: TestClient,
    served: Served,
    placed: Placed,
    role: str,
    path: str,
    params: dict[str, object],
    status: int,
    words: str,
) -> None:
    names = {"mine": placed.mine, "elsewhere": placed.elsewhere, "community": served.community}

    def filled(value: object) -> object:
        if isinstance(value, list):
            return [filled(v) for v in value]
        return value.format(**names) if isinstance(value, str) else value

    got = api.get(
        path.format(**names),
        params={k: filled(v) for k, v in params.items()},
        headers=served.headers(role),
    )
    assert got.status_code == status, got.text
    assert words in got.text


def test_the_kinds_of_the_city_and_of_a_region(
    api: TestClient, served: Served, placed: Placed
) -> None:
    city = api.get("/tickets/kinds", params=WINDOW, headers=served.headers("viewer")).json()
    # the city: 3 + 3 + the one without a place of the first kind, 1 of the other
    assert city == [{"kind": KIND, "tickets": 7}, {"kind": OTHER_KIND, "tickets": 1}]
    region = api.get("/tickets/kinds", params=WINDOW, headers=served.headers("embed")).json()
    assert region == [{"kind": KIND, "tickets": 3}, {"kind": OTHER_KIND, "tickets": 1}]
    april = api.get(
        "/tickets/kinds", params={"since": "2031-04-01"}, headers=served.headers("viewer")
    ).json()
    assert april == [{"kind": KIND, "tickets": 2}, {"kind": OTHER_KIND, "tickets": 1}]


@pytest.mark.parametrize("crs", [None, "gcj02"])
def test_a_ticket_without_a_place_is_a_feature_without_geometry(
    api: TestClient, served: Served, placed: Placed, crs: str | None
) -> None:
    params = {"limit": 1000, **({"crs": crs} if crs else {})}
    got = api.get("/collections/events/items", params=params, headers=served.headers("viewer"))
    assert got.status_code == 200, got.text
    features = {f["properties"]["external_id"]: f for f in got.json()["features"]}
    assert features["test-nowhere"]["geometry"] is None
    assert features["test-nowhere"]["properties"]["address"] == "建设路12号"  # where it was said
    assert sum(f["geometry"] is not None for f in features.values()) >= 7


def _hexagon_query(served: Served) -> dict[str, object]:
    with served.engine.connect() as connection:
        west, south, east, north = connection.execute(
            text(
                "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                "(SELECT ST_Extent(geom) AS e FROM unit) x"
            )
        ).one()
    return {"bbox": f"{west},{south},{east},{north}", "zoom": 14, **WINDOW}


def _test_points(served: Served, kind: str | None = None) -> list[tuple[float, float]]:
    with served.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT ST_X(geom), ST_Y(geom) FROM event WHERE external_id LIKE 'test-%' "
                "AND geom IS NOT NULL AND (CAST(:k AS text) IS NULL OR kind = :k)"
            ),
            {"k": kind},
        ).all()
    return [(float(x), float(y)) for x, y in rows]


def _counted(body: dict[str, object], points: list[tuple[float, float]]) -> list[int]:
    """How many of ``points`` each returned hexagon holds, by shapely (not by PostGIS)."""
    hexagons = [shapely.geometry.shape(f["geometry"]) for f in body["features"]]  # type: ignore[index, union-attr]
    return [sum(h.covers(shapely.Point(p)) for p in points) for h in hexagons]


def test_hexagons_count_the_tickets_where_the_map_is_too_far_out_for_points(
    api: TestClient, served: Served, placed: Placed
) -> None:
    query = _hexagon_query(served)
    got = api.get("/tickets/hexagons", params=query, headers=served.headers("viewer"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert got.headers["content-type"] == "application/geo+json"
    assert body["type"] == "FeatureCollection" and body["tickets"] == 7  # not the placeless one
    assert body["size_m"] == pytest.approx(2 * math.pi * 6378137 / (512 * 2**14) * 18, abs=1e-3)
    counts = [f["properties"]["tickets"] for f in body["features"]]
    assert counts == _counted(body, _test_points(served)) and 0 not in counts
    assert sorted(counts) == [3, 4]  # a unit's inner point holds each unit's tickets
    # each filter varied: the kind, the days, a key held to one community
    other = api.get(
        "/tickets/hexagons", params={**query, "kind": OTHER_KIND}, headers=served.headers("viewer")
    ).json()
    assert other["tickets"] == 1
    assert [f["properties"]["tickets"] for f in other["features"]] == _counted(
        other, _test_points(served, OTHER_KIND)
    )
    january = {**query, "since": "2031-01-01", "until": "2031-02-01"}
    assert (
        api.get("/tickets/hexagons", params=january, headers=served.headers("viewer")).json()[
            "tickets"
        ]
        == 3
    )
    with served.engine.begin() as connection:
        held = create_key(
            connection, name="held", role="viewer", region_code=served.community
        ).secret
    region = api.get("/tickets/hexagons", params=query, headers={"Authorization": f"Bearer {held}"})
    assert region.status_code == 200 and region.json()["tickets"] == 4  # its community's only
    # zoom 3: one hexagon spans the city
    wide = api.get(
        "/tickets/hexagons", params={**query, "zoom": 3}, headers=served.headers("viewer")
    ).json()
    assert [f["properties"]["tickets"] for f in wide["features"]] == [7]


def test_hexagons_refuse_an_embed_and_a_box_they_cannot_span(
    api: TestClient, served: Served
) -> None:
    query = _hexagon_query(served)
    embed = api.get("/tickets/hexagons", params=query, headers=served.headers("embed"))
    assert embed.status_code == 403 and "embed" in embed.json()["detail"]
    viewer = served.headers("viewer")
    for bad, named in (
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "25,60.2,24.9,60.1"}, "bbox"),  # west after east
        ({"bbox": "0,-89,1,89"}, "bbox"),  # beyond Web Mercator
        ({"bbox": "24,59,26,61"}, "hexagons"),  # too many at zoom 14
        ({"zoom": 15}, "zoom"),  # points from zoom 15
        ({"zoom": -1}, "zoom"),
    ):
        got = api.get("/tickets/hexagons", params={**query, **bad}, headers=viewer)
        assert got.status_code == 400, (bad, got.text)
        assert named in got.json()["detail"], (bad, got.text)
