"""The feature collections gridmap serves, each one SQL query with typed columns.

Every collection's query yields ``id`` (the feature id: a code where the layer has one),
its properties, and ``geom`` (EPSG:4326). Queries are constants with bound parameters only:
``:plan`` (the plan whose grids are meant; the current one when NULL) and ``:run`` (the
coverage run; the latest when NULL). Filters, sorting, paging and a region scope are added
around them by :mod:`gridmap.features.query`, never spliced into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Boolean, DateTime, Double, Integer, Text
from sqlalchemy.types import TypeEngine

from gridmap.db.coverage import RUN_OR_LATEST
from gridmap.db.plans import GRID_WORKERS, PLAN_OR_CURRENT
from gridmap.errors import NotFound

PLAN = PLAN_OR_CURRENT
RUN = RUN_OR_LATEST


@dataclass(frozen=True)
class Collection:
    """One served layer: its query, its properties' types, what it is called."""

    id: str
    title: str
    title_zh: str
    description: str
    geometry_type: str
    sql: str
    properties: dict[str, type[TypeEngine[Any]]]
    id_type: type[TypeEngine[Any]] = Text
    parameters: tuple[str, ...] = field(default=())  # of "plan", "run"
    default_sort: str = "id"


def _collection(*args: object, **kwargs: object) -> tuple[str, Collection]:
    c = Collection(*args, **kwargs)  # type: ignore[arg-type]
    return c.id, c


COLLECTIONS: dict[str, Collection] = dict(
    [
        _collection(
            "regions",
            "Regions",
            "行政区划",
            "Districts, streets and communities, coded per GB/T 2260.",
            "MultiPolygon",
            """
        SELECT r.code AS id, r.code, r.name, r.level, p.code AS parent, r.source, r.geom
        FROM region r LEFT JOIN region p ON p.id = r.parent_id
        """,
            {"code": Text, "name": Text, "level": Text, "parent": Text, "source": Text},
        ),
        _collection(
            "grids",
            "Grids",
            "网格",
            "The governance grids of the current plan (or of ?plan=ID), with their figures and "
            "the share of residents within a 5-minute walk of a station in the latest run.",
            "MultiPolygon",
            f"""
        WITH chosen AS (SELECT {PLAN} AS plan_id, {RUN} AS run_id),
        cover AS (
            SELECT a.grid_id, sum(uc.covered_residents)::float8
                   / nullif(sum(uc.residents), 0) AS coverage
            FROM assignment a JOIN chosen ON a.plan_id = chosen.plan_id
            JOIN unit_coverage uc ON uc.unit_id = a.unit_id AND uc.run_id = chosen.run_id
            GROUP BY a.grid_id
        ),
        served AS (  -- the station nearest on foot to most of the grid's residents
            SELECT DISTINCT ON (a.grid_id) a.grid_id, s.code AS station, s.name AS station_name
            FROM assignment a JOIN chosen ON a.plan_id = chosen.plan_id
            JOIN unit_coverage uc ON uc.unit_id = a.unit_id AND uc.run_id = chosen.run_id
            JOIN station s ON s.id = uc.nearest_station_id
            GROUP BY a.grid_id, s.id
            ORDER BY a.grid_id, sum(uc.residents) DESC, s.code
        )
        SELECT g.code AS id, g.code, g.name, g.kind, c.code AS community, c.name AS
               community_name, g.households, g.residents, g.governance_load, g.area_m2,
               g.radius_m, g.polsby_popper, ST_NumGeometries(g.geom) AS pieces, g.locked,
               g.plan_id AS plan, cover.coverage,
               served.station, served.station_name, g.staff -> 'leader' ->> 'name' AS leader,
               staff.workers, g.residents::float8 / nullif(staff.workers, 0)
               AS residents_per_worker, g.geom
        FROM grid g JOIN chosen ON g.plan_id = chosen.plan_id
        JOIN region c ON c.id = g.community_id
        LEFT JOIN cover ON cover.grid_id = g.id
        LEFT JOIN served ON served.grid_id = g.id
        CROSS JOIN LATERAL (
            SELECT {GRID_WORKERS} AS workers
        ) staff
        """,
            {
                "code": Text,
                "name": Text,
                "kind": Text,
                "community": Text,
                "community_name": Text,
                "households": Integer,
                "residents": Integer,
                "governance_load": Double,
                "area_m2": Double,
                "radius_m": Double,
                "polsby_popper": Double,
                "pieces": Integer,
                "locked": Boolean,
                "plan": Integer,
                "coverage": Double,
                "station": Text,
                "station_name": Text,
                "leader": Text,
                "workers": Integer,
                "residents_per_worker": Double,
            },
            parameters=("plan", "run"),
        ),
        _collection(
            "units",
            "Units",
            "单元",
            "The smallest governance units, with their grid in the current plan (or ?plan=ID) "
            "and their coverage in the latest run.",
            "MultiPolygon",
            f"""
        WITH chosen AS (SELECT {PLAN} AS plan_id, {RUN} AS run_id)
        SELECT u.code AS id, u.code, c.code AS community, g.code AS grid, u.kind,
               u.households, u.residents, u.governance_load,
               uc.covered_residents::float8 / nullif(uc.residents, 0) AS coverage,
               uc.walk_m, u.geom
        FROM unit u CROSS JOIN chosen JOIN region c ON c.id = u.community_id
        LEFT JOIN assignment a ON a.unit_id = u.id AND a.plan_id = chosen.plan_id
        LEFT JOIN grid g ON g.id = a.grid_id
        LEFT JOIN unit_coverage uc ON uc.unit_id = u.id AND uc.run_id = chosen.run_id
        """,
            {
                "code": Text,
                "community": Text,
                "grid": Text,
                "kind": Text,
                "households": Integer,
                "residents": Integer,
                "governance_load": Double,
                "coverage": Double,
                "walk_m": Double,
            },
            parameters=("plan", "run"),
        ),
        _collection(
            "buildings",
            "Buildings",
            "建筑",
            "Building footprints with their residents and, in the latest run, whether a station "
            "is within a 5-minute walk.",
            "MultiPolygon",
            f"""
        SELECT b.id, b.osm_id, u.code AS unit, b.building_type, b.levels, b.residents,
               b.households, b.source, bc.covered, bc.walk_m, b.geom
        FROM building b LEFT JOIN unit u ON u.id = b.unit_id
        LEFT JOIN building_coverage bc ON bc.building_id = b.id AND bc.run_id = {RUN}
        """,
            {
                "osm_id": Integer,
                "unit": Text,
                "building_type": Text,
                "levels": Integer,
                "residents": Integer,
                "households": Integer,
                "source": Text,
                "covered": Boolean,
                "walk_m": Double,
            },
            id_type=Integer,
            parameters=("run",),
        ),
        _collection(
            "stations",
            "Stations",
            "党群服务站",
            "Party-mass service stations, with the residents whose nearest station each is.",
            "Point",
            f"""
        SELECT s.code AS id, s.code, s.name, s.kind, array_to_string(s.services, ';')
               AS services, s.capacity_residents, s.address, s.opening_hours, s.phone,
               sc.residents AS residents_served, s.geom
        FROM station s LEFT JOIN station_circle sc
            ON sc.station_id = s.id AND sc.method = 'network' AND sc.run_id = {RUN}
        """,
            {
                "code": Text,
                "name": Text,
                "kind": Text,
                "services": Text,
                "capacity_residents": Integer,
                "address": Text,
                "opening_hours": Text,
                "phone": Text,
                "residents_served": Integer,
            },
            parameters=("run",),
        ),
        _collection(
            "circles",
            "Service circles",
            "5分钟服务圈",
            "Each station's 5-minute service circle in the latest run (or ?run=ID): on the "
            "walking network, and as the straight-line disc it replaces.",
            "MultiPolygon",
            f"""
        SELECT s.code || ':' || sc.method AS id, s.code AS station, s.name, sc.method,
               sc.area_m2, sc.residents, sc.households, sc.run_id AS run, sc.geom
        FROM station_circle sc JOIN station s ON s.id = sc.station_id
        WHERE sc.run_id = {RUN}
        """,
            {
                "station": Text,
                "name": Text,
                "method": Text,
                "area_m2": Double,
                "residents": Integer,
                "households": Integer,
                "run": Integer,
            },
            parameters=("run",),
        ),
        _collection(
            "gaps",
            "Coverage gaps",
            "服务盲区",
            "Areas of residential buildings beyond a 5-minute walk of every station, largest "
            "first, in the latest run (or ?run=ID).",
            "MultiPolygon",
            f"""
        SELECT cg.rank AS id, cg.rank, cg.residents, cg.households, cg.buildings,
               cg.area_m2, cg.run_id AS run, cg.geom
        FROM coverage_gap cg WHERE cg.run_id = {RUN}
        """,
            {
                "rank": Integer,
                "residents": Integer,
                "households": Integer,
                "buildings": Integer,
                "area_m2": Double,
                "run": Integer,
            },
            id_type=Integer,
            parameters=("run",),
            default_sort="rank",
        ),
        _collection(
            "overlays",
            "Overlay nets",
            "专项网格",
            "The special-purpose nets laid over the base grids (多网合一).",
            "MultiPolygon",
            """
        SELECT o.net || ':' || o.code AS id, o.net, o.code, o.name, o.geom FROM overlay o
        """,
            {"net": Text, "code": Text, "name": Text},
        ),
        _collection(
            "events",
            "Events",
            "事件",
            "Governance events (12345 hot-line cases and the like) where they happened.",
            "Point",
            """
        SELECT e.id, e.external_id, e.kind, e.occurred_at, e.status, e.address, e.geom
        FROM event e
        """,
            {
                "external_id": Text,
                "kind": Text,
                "occurred_at": DateTime,
                "status": Text,
                "address": Text,
            },
            id_type=Integer,
        ),
    ]
)


def collection(collection_id: str) -> Collection:
    """Return the collection ``collection_id``.

    Raises
    ------
    NotFound
        When there is no such collection.
    """
    try:
        return COLLECTIONS[collection_id]
    except KeyError:
        raise NotFound(
            f"no collection {collection_id!r}; there are {', '.join(COLLECTIONS)}"
        ) from None
