"""Coverage of the real demo city, saved in PostGIS, checked against networkx per building."""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.coverage.engine import CoverageParameters, nearest_stations
from gridmap.coverage.service import CoverageSummary, load_city, run_coverage
from gridmap.db import coverage as db
from gridmap.errors import Conflict, InvalidInput
from gridmap.network import snap
from tests.gridmap.conftest import City


@pytest.fixture(scope="module")
def run(helsinki: City) -> Iterator[CoverageSummary]:
    savepoint = helsinki.connection.begin_nested()
    try:
        yield run_coverage(helsinki.connection)
    finally:
        savepoint.rollback()


def test_the_demo_city_is_well_below_full_coverage(helsinki: City, run: CoverageSummary) -> None:
    figures = run.figures
    assert figures["residents"] == helsinki.counts.residents
    assert 0.2 < figures["rate_residents"] < 0.9  # something to improve
    assert figures["rate_residents"] < figures["euclidean_rate_residents"]  # discs flatter
    assert figures["unreachable_buildings"] == 0


def test_rates_at_every_level_add_up(helsinki: City, run: CoverageSummary) -> None:
    rates = db.region_rates(helsinki.connection, run.run_id).set_index("code")
    assert set(rates["level"]) == {"city", "district", "street", "community"}
    city = rates.loc[rates["level"] == "city"].iloc[0]
    communities = rates.loc[rates["level"] == "community"]
    assert city["covered_residents"] == run.figures["covered_residents"]
    for column in ("residents", "covered_residents", "households", "units", "covered_units"):
        assert communities[column].sum() == city[column]
    assert (rates["covered_residents"] <= rates["residents"]).all()


def test_grids_of_a_plan_get_rates(helsinki: City, run: CoverageSummary) -> None:
    connection = helsinki.connection
    savepoint = connection.begin_nested()
    try:
        plan = connection.execute(
            text("INSERT INTO plan (name) VALUES ('t') RETURNING id")
        ).scalar()
        connection.execute(
            text("""
            INSERT INTO grid (plan_id, code, community_id)
            SELECT :plan, code || '001', id FROM region WHERE level = 'community'
        """),
            {"plan": plan},
        )
        connection.execute(
            text("""
            INSERT INTO assignment (plan_id, unit_id, grid_id)
            SELECT :plan, u.id, g.id FROM unit u JOIN grid g
              ON g.community_id = u.community_id AND g.plan_id = :plan
        """),
            {"plan": plan},
        )
        grids = db.grid_rates(connection, run.run_id, plan).set_index("code")
        regions = db.region_rates(connection, run.run_id).set_index("code")
        for code, grid in grids.iterrows():
            assert grid["covered_residents"] == regions.loc[code[:12], "covered_residents"]
    finally:
        savepoint.rollback()


def test_circles_gaps_and_loads_are_saved(helsinki: City, run: CoverageSummary) -> None:
    value = helsinki.value
    stations = helsinki.stations
    drawn = value(
        f"SELECT count(*) FROM station_circle WHERE run_id = {run.run_id} "
        "AND method = 'network' AND ST_IsValid(geom) AND area_m2 > 0"
    )
    assert drawn == stations
    assert (
        value(
            f"SELECT count(*) FROM station_circle WHERE run_id = {run.run_id} "
            "AND method = 'euclidean'"
        )
        == stations
    )
    # a network circle lies inside its station's disc (grown by the buffer), and is smaller
    assert value(f"""
        SELECT bool_and(ST_Area(n.geom::geography) < ST_Area(e.geom::geography))
        FROM station_circle n JOIN station_circle e USING (run_id, station_id)
        WHERE n.run_id = {run.run_id} AND n.method = 'network' AND e.method = 'euclidean'
    """)
    assert (
        value(
            f"SELECT sum(residents) FROM station_circle WHERE run_id = {run.run_id} "
            "AND method = 'network'"
        )
        == run.figures["covered_residents"]
    )
    uncovered = run.figures["residents"] - run.figures["covered_residents"]
    assert value(f"SELECT sum(residents) FROM coverage_gap WHERE run_id = {run.run_id}") == (
        uncovered
    )
    ranks = (
        helsinki.connection.execute(
            text(f"SELECT residents FROM coverage_gap WHERE run_id = {run.run_id} ORDER BY rank")
        )
        .scalars()
        .all()
    )
    assert ranks == sorted(ranks, reverse=True)


def test_covered_buildings_lie_in_their_stations_circle(
    helsinki: City, run: CoverageSummary
) -> None:
    outside = helsinki.value(f"""
        SELECT count(*) FROM building_coverage bc
        JOIN building b ON b.id = bc.building_id
        JOIN station_circle c ON c.run_id = bc.run_id AND c.station_id = bc.station_id
                             AND c.method = 'network'
        WHERE bc.run_id = {run.run_id} AND bc.covered AND bc.snap_m < 25
          AND NOT ST_Intersects(c.geom, ST_PointOnSurface(b.geom))
    """)
    assert outside == 0


def test_every_building_agrees_with_networkx(helsinki: City) -> None:
    city = load_city(helsinki.connection)
    parameters = CoverageParameters()
    budget = parameters.budget_m
    net = city.network
    sites = snap(net, np.asarray(city.stations.geometry.values), max_snap_m=200)
    buildings = snap(net, city.points, max_snap_m=200)
    ours = nearest_stations(net, sites, buildings, budget_m=budget)

    graph = nx.Graph()
    for u, v, w in zip(net.source, net.target, net.length_m, strict=True):
        if not graph.has_edge(u, v) or graph[u][v]["weight"] > w:
            graph.add_edge(int(u), int(v), weight=float(w))
    best = np.full(len(buildings), np.inf)
    for s in np.flatnonzero(sites.reachable):  # one Dijkstra per station, as a GIS user would
        e, a, sn = sites.edge[s], sites.offset_m[s], sites.snap_m[s]
        graph.add_edge("s", int(net.source[e]), weight=sn + a)
        graph.add_edge("s", int(net.target[e]), weight=sn + net.length_m[e] - a)
        dist = nx.single_source_dijkstra_path_length(graph, "s", cutoff=budget, weight="weight")
        graph.remove_node("s")
        for b in np.flatnonzero(buildings.reachable):
            eb, ab = buildings.edge[b], buildings.offset_m[b]
            walk = min(
                dist.get(int(net.source[eb]), np.inf) + ab,
                dist.get(int(net.target[eb]), np.inf) + net.length_m[eb] - ab,
            )
            if eb == e:
                walk = min(walk, sn + abs(a - ab))
            best[b] = min(best[b], walk + buildings.snap_m[b])
    expected = np.where(best <= budget + 1e-6, best, np.inf)
    assert np.array_equal(np.isinf(expected), np.isinf(ours.walk_m))
    finite = np.isfinite(expected)
    assert np.allclose(ours.walk_m[finite], expected[finite], atol=1e-6)
    assert finite.sum() > 100


def test_no_network_is_a_clear_error(db: Session) -> None:
    with pytest.raises(InvalidInput, match="no walking network"):
        run_coverage(db.connection())


def test_circles_are_polygons_in_wgs84(helsinki: City, run: CoverageSummary) -> None:
    bounds = helsinki.connection.execute(
        text(
            "SELECT ST_AsBinary(ST_Extent(geom)::geometry) FROM station_circle "
            f"WHERE run_id = {run.run_id}"
        )
    ).scalar_one()
    xmin, ymin, xmax, ymax = shapely.from_wkb(bounds).bounds
    assert 24.9 < xmin < xmax < 25.0 and 60.15 < ymin < ymax < 60.19


def _rows(connection: object, where: str) -> int:
    return int(
        connection.execute(  # type: ignore[attr-defined]
            text(f"SELECT count(*) FROM building_coverage WHERE {where}")
        ).scalar_one()
    )


def test_deleted_buildings_runs_and_stations_take_their_coverage_rows_along(
    helsinki: City, run: CoverageSummary
) -> None:
    """The references migration 0010 keeps by triggers mean what the foreign keys meant."""
    connection = helsinki.connection
    savepoint = connection.begin_nested()
    try:
        served = connection.execute(
            text(
                "SELECT station_id, count(*) FROM building_coverage WHERE run_id = :r "
                "AND station_id IS NOT NULL GROUP BY station_id ORDER BY count(*) DESC LIMIT 1"
            ),
            {"r": run.run_id},
        ).one()
        building = connection.execute(
            text("SELECT min(building_id) FROM building_coverage WHERE run_id = :r"),
            {"r": run.run_id},
        ).scalar_one()
        total = _rows(connection, f"run_id = {run.run_id}")
        assert total == run.figures["buildings"]
        # a deleted station: its buildings keep their rows, without a nearest station (SET NULL)
        connection.execute(text("DELETE FROM station WHERE id = :s"), {"s": served[0]})
        assert _rows(connection, f"station_id = {served[0]}") == 0
        assert _rows(connection, f"run_id = {run.run_id}") == total
        # a deleted building takes its row (CASCADE), and only its own
        connection.execute(text("DELETE FROM unit_coverage WHERE run_id = :r"), {"r": run.run_id})
        connection.execute(text("DELETE FROM building WHERE id = :b"), {"b": building})
        assert _rows(connection, f"building_id = {building}") == 0
        assert _rows(connection, f"run_id = {run.run_id}") == total - 1
        # a deleted run takes all of its rows
        connection.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": run.run_id})
        assert _rows(connection, f"run_id = {run.run_id}") == 0
    finally:
        savepoint.rollback()


def test_a_run_naming_a_building_or_station_gone_is_refused(helsinki: City) -> None:
    """A building or station deleted between a run's reading and its saving is caught."""
    connection = helsinki.connection
    for table, column in (("building", "building_id"), ("station", "station_id")):
        savepoint = connection.begin_nested()
        try:
            missing = connection.execute(text(f"SELECT max(id) + 1 FROM {table}")).scalar_one()
            run_id = db.insert_run(
                connection,
                minutes=5,
                speed_m_per_min=60,
                budget_m=300,
                max_snap_m=100,
                plan_id=None,
                figures={},
            )
            building = connection.execute(text("SELECT min(id) FROM building")).scalar_one()
            row = {"building_id": building, "reachable": True, "covered": True}
            row |= {"snap_m": 1.0, "walk_m": 10.0, "station_id": None, column: missing}
            empty = pd.DataFrame()
            with pytest.raises(
                Conflict,
                match=f"^{int(table == 'building')} buildings and "
                f"{int(table == 'station')} stations",
            ):
                db.save_details(
                    connection,
                    run_id,
                    buildings=pd.DataFrame([row]),
                    units=empty,
                    circles=empty,
                    gaps=empty,
                )
        finally:
            savepoint.rollback()
