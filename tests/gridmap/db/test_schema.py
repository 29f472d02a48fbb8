"""The schema (docs/architecture.md) in a real PostGIS: round trips, validity, codes, one plan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import shapely
from shapely import LineString, MultiPolygon, Polygon
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gridmap.db import models
from tests import factories as f

GEOMETRY_TABLES = {
    "region",
    "unit",
    "building",
    "grid",
    "station",
    "walk_node",
    "walk_edge",
    "station_circle",
    "overlay",
    "event",
    "street",
    "water",
    "amenity",
    "coverage_gap",
}
ALL_TABLES = GEOMETRY_TABLES | {
    "plan",
    "assignment",
    "coverage_run",
    "unit_coverage",
    "audit",
    "api_key",
    "building_coverage",
    "data_revision",
    "job",
    "revision_flush",
    "tile_store",
    "tile_dirty",
    "tile_stale",
}
SERVING_GEOMETRIES = {("tile_store", "bounds", 3857), ("tile_dirty", "box", 0)}
"""The tile store's envelopes and the extents a transaction changed (no validity check)."""
KEPT_POINTS = {("building", "inner_point", 4326)}
"""Points derived from a valid footprint and read whole by a coverage run (no index, no check)."""
POLYGON_TABLES = sorted(
    {"region", "unit", "building", "grid", "station_circle", "overlay", "water", "coverage_gap"}
)


def _walk_nodes(session: Session) -> tuple[models.WalkNode, models.WalkNode]:
    a = f.add(session, models.WalkNode(geom=f.ewkb(f.point(0, 0))))
    b = f.add(session, models.WalkNode(geom=f.ewkb(f.point(1, 0))))
    return a, b


def _row(session: Session, table: str, geom: Any) -> Any:
    """Return a new, unflushed row of ``table``, with ``geom`` where the table has one."""
    g = f.ewkb(geom) if geom is not None else None
    if table == "region":
        return models.Region(code="510107001001", name="玉林社区", level="community", geom=g)
    if table == "overlay":
        return models.Overlay(net="public_security", code="ZA-01", name="治安一区", geom=g)
    if table == "event":
        return models.Event(kind="12345", occurred_at=datetime(2026, 5, 1, tzinfo=UTC), geom=g)
    if table == "station":
        return models.Station(code="ST-1", name="玉林党群服务站", services=["图书", "代办"], geom=g)
    if table == "walk_node":
        return models.WalkNode(osm_id=42, geom=g)
    if table == "street":
        return models.Street(osm_id=7, kind="residential", name="玉林北路", geom=g)
    if table == "water":
        return models.Water(osm_id=8, kind="river", name="府河", geom=g)
    if table == "amenity":
        return models.Amenity(osm_type="node", osm_id=9, kind="library", name="图书馆", geom=g)
    if table == "plan":
        return models.Plan(name="2026 plan")
    if table == "audit":
        return models.Audit(
            actor="planner", action="accept", target_table="plan", payload={"plan": 1}
        )
    if table == "coverage_run":
        return models.CoverageRun(minutes=5, speed_m_per_min=60, budget_m=300)
    if table == "data_revision":
        return models.DataRevision(table_name="somewhere")
    if table == "revision_flush":
        return models.RevisionFlush(txid=1)
    if table == "tile_store":
        return models.TileStore(
            tileset="gridmap",
            z=1,
            x=0,
            y=0,
            plan=0,
            run=0,
            scope=0,
            tables=["grid"],
            bounds="SRID=3857;POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))",
            data=b"tile",
            etag='"e"',
            bytes=4,
        )
    if table == "tile_dirty":
        return models.TileDirty(txid=1, table_name="grid")
    if table == "tile_stale":
        return models.TileStale(tileset="gridmap", z=1, x=0, y=0, run=0)
    if table == "job":
        return models.Job(
            kind="coverage", owner="planner", total_steps=5, parameters={"minutes": 5}
        )
    community = f.region(session)
    if table == "api_key":
        return models.ApiKey(
            key_hash="ab" * 32, prefix="gm_ab", name="portal", role="viewer", region_id=community.id
        )
    if table == "unit":
        return models.Unit(
            code=f"{community.code}0001",
            community_id=community.id,
            residents=262,
            households=100,
            geom=g,
        )
    unit = f.unit(session, community)
    if table == "building":
        return models.Building(unit_id=unit.id, levels=6, residents=90, households=34, geom=g)
    if table == "grid":
        return models.Grid(
            plan_id=f.plan(session).id,
            code=f"{community.code}001",
            community_id=community.id,
            geom=g,
        )
    if table == "assignment":
        grid = f.grid(session, f.plan(session), community)
        return models.Assignment(plan_id=grid.plan_id, unit_id=unit.id, grid_id=grid.id)
    if table == "walk_edge":
        a, b = _walk_nodes(session)
        return models.WalkEdge(source=a.id, target=b.id, length_m=96.3, highway="footway", geom=g)
    run = f.coverage_run(session)
    station = f.station(session)
    if table == "station_circle":
        return models.StationCircle(run_id=run.id, station_id=station.id, geom=g)
    if table == "unit_coverage":
        return models.UnitCoverage(
            run_id=run.id,
            unit_id=unit.id,
            residents=262,
            households=100,
            covered_residents=131,
            covered_households=50,
            walk_m=240.0,
            nearest_station_id=station.id,
        )
    if table == "coverage_gap":
        return models.CoverageGap(
            run_id=run.id, rank=0, residents=120, households=46, buildings=3, geom=g
        )
    if table == "building_coverage":
        building = f.add(session, models.Building(unit_id=unit.id, geom=f.ewkb(f.square())))
        return models.BuildingCoverage(
            run_id=run.id,
            building_id=building.id,
            reachable=True,
            covered=True,
            snap_m=4.0,
            walk_m=180.0,
            station_id=station.id,
        )
    raise AssertionError(f"no row builder for {table}")


def _sample_geometry(table: str) -> Any:
    if table in {"station", "walk_node", "event", "amenity"}:
        return f.point(0.25, 0.75)
    if table in {"walk_edge", "street"}:
        return LineString([f.point(0, 0), f.point(1, 0), f.point(1, 1)])
    # a block with a courtyard: the hole must survive the round trip too
    shell = f.square(0, 0, size=0.002).geoms[0].exterior
    courtyard = f.square(1, 1, size=0.0005).geoms[0].exterior
    return MultiPolygon([Polygon(shell, [courtyard])])


def _constraint_error(session: Session, add: Callable[[], None]) -> str:
    """Run ``add`` in a savepoint and return the database's refusal message."""
    with pytest.raises(DBAPIError) as refused, session.begin_nested():
        add()
        session.flush()
    return str(refused.value.orig)


def test_the_schema_has_every_table_of_the_design(engine: Any) -> None:
    with engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    assert tables - {"spatial_ref_sys", "alembic_version"} == ALL_TABLES


@pytest.mark.parametrize("table", sorted(ALL_TABLES))
def test_each_table_round_trips_a_row(db: Session, table: str) -> None:
    geometry = _sample_geometry(table) if table in GEOMETRY_TABLES else None
    row = _row(db, table, geometry)
    db.add(row)
    db.flush()
    mapper = inspect(type(row))
    key = mapper.primary_key_from_instance(row)
    assert all(part is not None for part in key)
    db.expire_all()
    again = db.get(type(row), key)
    assert again is not None
    if geometry is None:
        return
    wkb, srid = db.execute(
        text(f"SELECT ST_AsBinary(geom), ST_SRID(geom) FROM {table} WHERE geom IS NOT NULL")
    ).one()
    assert srid == models.SRID
    assert shapely.from_wkb(bytes(wkb)).equals_exact(geometry, tolerance=0)


def test_every_geometry_column_has_a_gist_index_and_a_validity_check(engine: Any) -> None:
    with engine.connect() as connection:
        columns = connection.execute(
            text(
                "SELECT f_table_name, f_geometry_column, srid FROM geometry_columns "
                "WHERE f_table_schema = 'public'"
            )
        ).all()
        gist = {
            row.tablename
            for row in connection.execute(
                text(
                    "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                    "AND indexdef LIKE '%USING gist (geom)%'"
                )
            )
        }
        derived_gist = {
            (row.tablename, row.column)
            for row in connection.execute(
                text(
                    "SELECT tablename, substring(indexdef from "
                    "'USING gist \\(((geom|label)_3857\\w*)\\)') AS column FROM pg_indexes "
                    "WHERE schemaname = 'public' AND indexdef ~ 'USING gist \\((geom|label)_3857'"
                )
            )
        }
        checked = {
            row.relname
            for row in connection.execute(
                text(
                    "SELECT c.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                    "WHERE k.contype = 'c' AND pg_get_constraintdef(k.oid) ILIKE "
                    "'%st_isvalid(geom)%'"
                )
            )
        }
    derived = (
        {(t, "geom_3857") for t in models.MERCATOR}
        | {(t, "geom_3857_s") for t in models.SIMPLIFIED}
        | {(t, "label_3857") for t in models.LABELLED}
    )
    assert {(table, column, srid) for table, column, srid in columns} == {
        (table, "geom", models.SRID) for table in GEOMETRY_TABLES
    } | {(table, column, 3857) for table, column in derived} | SERVING_GEOMETRIES | KEPT_POINTS
    assert gist == GEOMETRY_TABLES
    assert derived_gist == derived  # each web-mercator copy has its index too
    assert checked == GEOMETRY_TABLES


@pytest.mark.parametrize("table", POLYGON_TABLES)
def test_an_invalid_polygon_is_refused(db: Session, table: str) -> None:
    bowtie = f.bowtie()
    assert not bowtie.is_valid
    message = _constraint_error(db, lambda: db.add(_row(db, table, bowtie)))
    assert f"ck_{table}_geom_valid" in message


def test_a_geometry_in_another_crs_is_refused(db: Session) -> None:
    community = f.region(db)
    web_mercator = "SRID=3857;MULTIPOLYGON(((0 0,100 0,100 100,0 100,0 0)))"
    message = _constraint_error(
        db,
        lambda: db.add(
            models.Unit(
                code=f"{community.code}0009",
                community_id=community.id,
                geom=web_mercator,
            )
        ),
    )
    assert "SRID" in message


@pytest.mark.parametrize(
    ("make", "duplicate"),
    [
        pytest.param(
            lambda s: f.region(s, code="510107001001"),
            lambda s: f.region(s, code="510107001001"),
            id="region code",
        ),
        pytest.param(
            lambda s: f.unit(s, f.region(s, code="510107001002"), serial=7),
            lambda s: f.unit(
                s, s.scalars(select(models.Region).filter_by(code="510107001002")).one(), serial=7
            ),
            id="unit code",
        ),
        pytest.param(
            lambda s: f.station(s, code="ST-7"),
            lambda s: f.station(s, code="ST-7"),
            id="station code",
        ),
        pytest.param(
            lambda s: f.grid(s, f.plan(s, name="p"), f.region(s, code="510107001003")),
            lambda s: f.grid(
                s,
                s.scalars(select(models.Plan).filter_by(name="p")).one(),
                s.scalars(select(models.Region).filter_by(code="510107001003")).one(),
            ),
            id="grid code within a plan",
        ),
        pytest.param(
            lambda s: f.add(
                s,
                models.Overlay(
                    net="urban_management", code="CG-1", name="a", geom=f.ewkb(f.square())
                ),
            ),
            lambda s: f.add(
                s,
                models.Overlay(
                    net="urban_management", code="CG-1", name="b", geom=f.ewkb(f.square(1))
                ),
            ),
            id="overlay code within a net",
        ),
    ],
)
def test_a_duplicate_code_is_refused(
    db: Session, make: Callable[[Session], Any], duplicate: Callable[[Session], Any]
) -> None:
    make(db)
    message = _constraint_error(db, lambda: duplicate(db))
    assert "duplicate key value violates unique constraint" in message


def test_plans_share_grid_codes_but_an_assignment_stays_in_its_plan(db: Session) -> None:
    community = f.region(db)
    old, new = f.plan(db, name="old"), f.plan(db, name="new")
    kept = f.grid(db, old, community, serial=1)
    f.grid(db, new, community, serial=1)  # a grid that did not change keeps its code
    unit = f.unit(db, community)
    message = _constraint_error(
        db, lambda: db.add(models.Assignment(plan_id=new.id, unit_id=unit.id, grid_id=kept.id))
    )
    assert "fk_assignment_grid_same_plan" in message


def test_only_one_plan_may_be_current(db: Session) -> None:
    f.plan(db, status="current", name="2025")
    f.plan(db, status="archived", name="2024")
    f.plan(db, status="archived", name="2023")
    f.plan(db, status="draft", name="2026 a")
    f.plan(db, status="draft", name="2026 b")
    message = _constraint_error(db, lambda: f.plan(db, status="current", name="2026"))
    assert "uq_plan_single_current" in message
    counts = dict(db.execute(text("SELECT status, count(*) FROM plan GROUP BY status")).all())
    assert counts == {"current": 1, "archived": 2, "draft": 2}


@pytest.mark.parametrize(
    ("table", "column", "value", "constraint"),
    [
        ("region", "level", "province", "ck_region_level_allowed"),
        ("region", "code", "51010700100", "ck_region_code_format"),
        ("plan", "status", "published", "ck_plan_status_allowed"),
        ("api_key", "role", "root", "ck_api_key_role_allowed"),
        ("unit", "households", -1, "ck_unit_figures"),
        ("unit_coverage", "covered_residents", 300, "ck_unit_coverage_covered_within_totals"),
    ],
)
def test_values_outside_the_domain_are_refused(
    db: Session, table: str, column: str, value: Any, constraint: str
) -> None:
    geometry = _sample_geometry(table) if table in GEOMETRY_TABLES else None

    def add() -> None:
        row = _row(db, table, geometry)
        setattr(row, column, value)
        db.add(row)

    assert constraint in _constraint_error(db, add)


def test_web_mercator_copies_and_revisions_follow_every_write(db: Session) -> None:
    def revision() -> int:
        return int(
            db.execute(
                text("SELECT revision FROM data_revision WHERE table_name = 'station'")
            ).scalar_one()
        )

    before = revision()
    db.add(models.Station(code="ST-9", name="站", geom=f.ewkb(shapely.Point(104.05, 30.65))))
    db.flush()
    assert revision() == before  # bumped when the transaction commits, not before
    db.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # as a commit would: the flush runs
    assert revision() == before + 1
    x, y = db.execute(
        text("SELECT ST_X(geom_3857), ST_Y(geom_3857) FROM station WHERE code = 'ST-9'")
    ).one()
    assert (x, y) == pytest.approx((11582793.0, 3587377.9), abs=0.1)  # pyproj: 104.05, 30.65
    db.execute(
        text("UPDATE station SET geom = ST_SetSRID(ST_MakePoint(0, 0), 4326) WHERE code = 'ST-9'")
    )
    assert revision() == before + 2
    assert db.execute(text("SELECT ST_X(geom_3857) FROM station WHERE code = 'ST-9'")).scalar() == 0


def test_writers_in_opposite_orders_never_deadlock_and_bump_once_at_commit(engine: Any) -> None:
    import threading

    def revisions() -> dict[str, int]:
        with engine.connect() as connection:
            return dict(
                connection.execute(
                    text(
                        "SELECT table_name, revision FROM data_revision "
                        "WHERE table_name IN ('street', 'water')"
                    )
                ).all()
            )

    before = revisions()
    first_done, errors = threading.Barrier(2), []

    def write(order: tuple[str, str]) -> None:
        try:
            with engine.begin() as connection:
                connection.execute(text(f"UPDATE {order[0]} SET name = name WHERE false"))
                connection.execute(text(f"UPDATE {order[0]} SET name = name WHERE false"))
                first_done.wait(timeout=10)  # each holds its first table's note
                connection.execute(text(f"UPDATE {order[1]} SET name = name WHERE false"))
        except Exception as error:  # a deadlock would land here
            errors.append(error)

    threads = [
        threading.Thread(target=write, args=(o,))
        for o in (("street", "water"), ("water", "street"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    after = revisions()
    assert after == {t: before[t] + 2 for t in before}  # one bump per transaction and table


def test_a_building_keeps_the_inner_point_of_its_footprint_as_it_changes(db: Session) -> None:
    """The point a coverage run walks from: inside the footprint, PostGIS's own, kept current."""
    ell = "SRID=4326;MULTIPOLYGON(((0 0,3 0,3 1,1 1,1 3,0 3,0 0)))"  # its centroid lies outside
    building = f.add(db, models.Building(geom=ell))
    db.flush()

    def kept() -> tuple[bool, bool]:
        return db.execute(
            text(
                "SELECT ST_Equals(inner_point, ST_PointOnSurface(geom)), "
                "ST_Within(inner_point, geom) FROM building WHERE id = :id"
            ),
            {"id": building.id},
        ).one()

    assert kept() == (True, True)
    db.execute(
        text("UPDATE building SET geom = ST_Translate(geom, 5, 5) WHERE id = :id"),
        {"id": building.id},
    )
    assert kept() == (True, True)
