"""The synthetic city: deterministic, coded, nested, and cut into units like a real one."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.errors import Conflict
from gridmap.synth.city import SyntheticCity, synthesize
from gridmap.synth.service import store_city
from gridmap.units.service import build_units


@pytest.fixture(scope="module")
def city() -> SyntheticCity:
    return synthesize(3_000, seed=7, county_code="510107")


def test_the_same_seed_gives_the_same_city(city: SyntheticCity) -> None:
    again = synthesize(3_000, seed=7, county_code="510107")
    other = synthesize(3_000, seed=8, county_code="510107")
    assert shapely.equals_exact(
        city.buildings.geometry.values, again.buildings.geometry.values, tolerance=0
    ).all()
    assert (city.buildings["levels"] == again.buildings["levels"]).all()
    assert not shapely.equals(
        city.buildings.geometry.values[:50], other.buildings.geometry.values[:50]
    ).all()


def test_exactly_the_buildings_asked_for_inside_blocks(city: SyntheticCity) -> None:
    assert len(synthesize(1, seed=0).buildings) == 1
    assert len(city.buildings) == 3_000
    streets = shapely.STRtree(city.streets.geometry.values)
    assert streets.query(city.buildings.geometry.values, predicate="intersects").size == 0
    assert city.buildings.is_valid.all() and (city.buildings["levels"] >= 2).all()


def test_regions_are_coded_and_nested(city: SyntheticCity) -> None:
    regions = city.regions.set_index("code")
    assert regions.index.is_unique
    lengths = regions.index.str.len()
    assert sorted(set(zip(lengths, regions["level"], strict=True))) == [
        (6, "city"),
        (6, "district"),
        (9, "street"),
        (12, "community"),
    ]
    communities = regions.loc[regions["level"] == "community"]
    parents = regions.loc[communities.index.str[:9]]
    assert (parents["level"] == "street").all()
    inside = shapely.covers(
        shapely.buffer(parents.geometry.values, 1e-7), communities.geometry.values
    )
    assert inside.all()
    union = shapely.union_all(communities.geometry.values)
    city_area = regions.loc[regions["level"] == "city"].geometry.iloc[0]
    assert abs(union.area - city_area.area) < 1e-9 * city_area.area


def test_the_walking_network_is_one_connected_graph(city: SyntheticCity) -> None:
    edges = city.walk_edges
    n = len(city.walk_nodes)
    graph = coo_matrix((np.ones(len(edges)), (edges["source"], edges["target"])), shape=(n, n))
    assert connected_components(graph, directed=False)[0] == 1
    assert np.allclose(edges["length_m"], edges.to_crs(32648).length, rtol=1e-3)


def test_stored_and_cut_into_units(db: Session, city: SyntheticCity) -> None:
    connection = db.connection()
    counts = store_city(connection, city)
    built = build_units(connection, county_code="510107")

    def value(sql: str) -> object:
        return connection.execute(text(sql)).scalar_one()

    communities = value("SELECT count(*) FROM region WHERE level = 'community'")
    assert built.communities == communities
    assert value("SELECT count(*) FROM building WHERE unit_id IS NULL") == 0
    assert value("SELECT sum(residents) FROM unit") == counts.residents
    assert value("SELECT max(households) FROM unit WHERE kind = 'residential'") <= 500
    worst = value("""
        SELECT max(ST_Area(ST_SymDifference(r.geom, u.geom)::geography)
                   / ST_Area(r.geom::geography))
        FROM region r
        JOIN (SELECT community_id, ST_Union(geom) AS geom FROM unit GROUP BY community_id) u
          ON u.community_id = r.id
    """)
    assert worst < 0.001
    assert value("SELECT sum(governance_load) FROM unit") == counts.events
    assert 0 < counts.stations < communities  # coverage has room to grow
    median = value("""
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY residents) FROM (
            SELECT sum(residents) AS residents FROM unit GROUP BY community_id) c
    """)
    assert 3_000 <= median <= 8_000  # the size of a community in DESIGN §1
    with pytest.raises(Conflict, match="holds a city already"):
        store_city(connection, city)


def test_a_city_with_plans_and_jobs_is_replaced_whole(db: Session, city: SyntheticCity) -> None:
    connection = db.connection()
    store_city(connection, city)
    plan = connection.execute(text("INSERT INTO plan (name) VALUES ('现状') RETURNING id")).scalar()
    connection.execute(
        text(
            "INSERT INTO job (kind, owner, plan_id, base_revision, total_steps) "
            "VALUES ('partition', 'planner', :p, 1, 4)"
        ),
        {"p": plan},
    )
    counts = store_city(connection, city, replace=True)  # the jobs of the old city go with it
    assert counts.buildings == 3_000
    assert connection.execute(text("SELECT count(*) FROM job")).scalar_one() == 0
    assert connection.execute(text("SELECT count(*) FROM plan")).scalar_one() == 0
