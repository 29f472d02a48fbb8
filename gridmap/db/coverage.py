"""The SQL of coverage: the inputs of a run, its saved results, and its rates at every level.

A unit counts as covered when at least half of its residents are; units without residents
(water, parks) are left out of the unit counts.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from gridmap.db.bulk import copy_numbers, copy_rows, read_frame, read_geoframe
from gridmap.errors import Conflict
from gridmap.standards import code_prefix

_COVERED_UNIT = "(uc.residents > 0 AND 2 * uc.covered_residents >= uc.residents)"
_SUMS = f"""
    sum(uc.residents)::bigint AS residents, sum(uc.covered_residents)::bigint AS covered_residents,
    sum(uc.households)::bigint AS households,
    sum(uc.covered_households)::bigint AS covered_households,
    count(*) FILTER (WHERE uc.residents > 0) AS units,
    count(*) FILTER (WHERE {_COVERED_UNIT}) AS covered_units
"""


RUN_OR_LATEST = "coalesce(CAST(:run AS integer), (SELECT max(id) FROM coverage_run))"
"""SQL for the coverage run ``:run`` asks for, or the latest one when it is NULL."""


def load_network(connection: Connection) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return the walking network's nodes (id) and edges (source, target, length_m)."""
    nodes = read_geoframe(connection, "SELECT id, geom FROM walk_node ORDER BY id")
    edges = read_geoframe(
        connection, "SELECT id, source, target, length_m, geom FROM walk_edge ORDER BY id"
    )
    return nodes, edges


def load_buildings(connection: Connection) -> pd.DataFrame:
    """Return every building's id, unit, residents, households and inner point (lon, lat).

    Points, not footprints: a coverage run, a what-if and siting walk from a building's inner
    point (``ST_PointOnSurface``, the point the units and the features place it by); only the
    gaps need footprints, of the few buildings left uncovered (:func:`load_footprints`).
    """
    return read_frame(
        connection,
        "SELECT id, unit_id, residents, households, ST_X(inner_point) AS lon, "
        "ST_Y(inner_point) AS lat FROM building ORDER BY id",
        dtype={"unit_id": "Int64"},
    )


def load_footprints(connection: Connection, ids: np.ndarray, srid: int = 4326) -> np.ndarray:
    """Return the footprints of the buildings ``ids``, in that order, in EPSG ``srid``.

    PostGIS reprojects them as it sends them (0.7 s less than pyproj afterwards for the 755,000
    uncovered footprints of the 1,000,000-building city).

    Raises
    ------
    Conflict
        When one of them is no longer there (deleted since it was read).
    """
    found = read_geoframe(
        connection,
        "SELECT ST_Transform(b.geom, CAST(:srid AS integer)) AS geom "
        "FROM unnest(CAST(:ids AS integer[])) WITH ORDINALITY AS i (id, n) "
        "JOIN building b ON b.id = i.id ORDER BY i.n",
        {"ids": [int(i) for i in ids], "srid": int(srid)},
    )
    if len(found) != len(ids):
        raise Conflict(
            f"{len(ids) - len(found)} buildings were deleted while this coverage run read "
            "them: run it again"
        )
    return np.asarray(found.geometry.values, dtype=object)


def load_stations(connection: Connection) -> gpd.GeoDataFrame:
    """Return every station's id, code, name and capacity."""
    return read_geoframe(
        connection,
        "SELECT id, code, name, capacity_residents, geom FROM station ORDER BY id",
    )


def load_candidates(
    connection: Connection, *, source: str, within: int | None = None
) -> gpd.GeoDataFrame:
    """Return candidate sites: station-capable amenities, or every unit's inner point.

    With ``within`` (a region id), only the candidates inside that region.
    """
    inside = (
        "CAST(:within AS integer) IS NULL OR ST_Intersects(geom, "
        "(SELECT geom FROM region WHERE id = :within))"
    )
    if source == "amenities":
        query = (
            f"SELECT label, name, geom FROM (SELECT id, 'amenity ' || id AS label, "
            f"coalesce(name, kind) AS name, geom FROM amenity) c WHERE {inside} "
            "ORDER BY id"
        )
    elif source == "units":
        query = (
            f"SELECT label, name, geom FROM (SELECT code, 'unit ' || code AS label, "
            "code AS name, ST_PointOnSurface(geom) AS geom FROM unit WHERE residents > 0) c "
            f"WHERE {inside} ORDER BY code"
        )
    else:
        raise ValueError(f"unknown candidate source {source!r}")
    return read_geoframe(connection, query, {"within": within})


def insert_run(
    connection: Connection,
    *,
    minutes: float,
    speed_m_per_min: float,
    budget_m: float,
    max_snap_m: float,
    plan_id: int | None,
    figures: dict[str, Any],
) -> int:
    """Insert a coverage run; return its id."""
    return int(
        connection.execute(
            text("""
        INSERT INTO coverage_run (minutes, speed_m_per_min, budget_m, max_snap_m, plan_id, figures)
        VALUES (:minutes, :speed, :budget, :snap, :plan, CAST(:figures AS jsonb)) RETURNING id
    """),
            {
                "minutes": minutes,
                "speed": speed_m_per_min,
                "budget": budget_m,
                "snap": max_snap_m,
                "plan": plan_id,
                "figures": json.dumps(figures),
            },
        ).scalar_one()
    )


def save_details(
    connection: Connection,
    run_id: int,
    *,
    buildings: pd.DataFrame,
    units: pd.DataFrame,
    circles: pd.DataFrame,
    gaps: pd.DataFrame,
) -> None:
    """Write a run's building, unit, circle and gap rows (frames shaped like the tables).

    The building rows have no row-by-row foreign keys (migration 0010): once they are written,
    writers to buildings and stations wait for this transaction, and one anti-join checks that
    every building and station they name still exists.

    Raises
    ------
    Conflict
        When a building or station the run read was deleted before it was saved.
    """
    for table, frame in (("building_coverage", buildings), ("unit_coverage", units)):
        copy_numbers(connection, table, frame.assign(run_id=run_id))  # binary: 1M rows in 2 s
    for table, frame in (("station_circle", circles), ("coverage_gap", gaps)):
        copy_rows(connection, table, frame.assign(run_id=run_id))
    connection.execute(text("LOCK TABLE building, station IN SHARE MODE"))
    gone = connection.execute(
        text("""
        SELECT (SELECT count(*) FROM building_coverage c WHERE c.run_id = :run
                AND NOT EXISTS (SELECT 1 FROM building b WHERE b.id = c.building_id)),
               (SELECT count(*) FROM building_coverage c WHERE c.run_id = :run
                AND NOT EXISTS (SELECT 1 FROM station s WHERE s.id = c.station_id)
                AND c.station_id IS NOT NULL)
    """),
        {"run": run_id},
    ).one()
    if gone[0] or gone[1]:
        raise Conflict(
            f"{gone[0]} buildings and {gone[1]} stations this coverage run read were deleted "
            "while it ran: run it again"
        )


def current_plan_id(connection: Connection) -> int | None:
    """Return the current plan's id, if there is one."""
    return connection.execute(text("SELECT id FROM plan WHERE status = 'current'")).scalar()


def latest_run_id(connection: Connection) -> int | None:
    """Return the newest coverage run's id, if any."""
    return connection.execute(text("SELECT max(id) FROM coverage_run")).scalar()


def region_rates(connection: Connection, run_id: int) -> pd.DataFrame:
    """Return the rates of every region (community up to city) in a run."""
    return pd.read_sql(
        text(f"""
        WITH RECURSIVE up AS (
            SELECT id AS community_id, id AS region_id FROM region WHERE level = 'community'
            UNION ALL
            SELECT up.community_id, r.parent_id FROM up JOIN region r ON r.id = up.region_id
            WHERE r.parent_id IS NOT NULL
        )
        SELECT g.code, g.name, g.level, {_SUMS}
        FROM unit_coverage uc
        JOIN unit u ON u.id = uc.unit_id
        JOIN up ON up.community_id = u.community_id
        JOIN region g ON g.id = up.region_id
        WHERE uc.run_id = :run
        GROUP BY g.id
        ORDER BY g.code
    """),
        connection,
        params={"run": run_id},
    )


def grid_rates(connection: Connection, run_id: int, plan_id: int) -> pd.DataFrame:
    """Return the rates of every grid of a plan in a run."""
    return pd.read_sql(
        text(f"""
        SELECT g.code, g.name, 'grid' AS level, {_SUMS}
        FROM unit_coverage uc
        JOIN assignment a ON a.unit_id = uc.unit_id AND a.plan_id = :plan
        JOIN grid g ON g.id = a.grid_id
        WHERE uc.run_id = :run
        GROUP BY g.id
        ORDER BY g.code
    """),
        connection,
        params={"run": run_id, "plan": plan_id},
    )


def run_figures(connection: Connection, run_id: int) -> dict[str, Any]:
    """Return a run's city-wide figures."""
    figures = connection.execute(
        text("SELECT figures FROM coverage_run WHERE id = :run"), {"run": run_id}
    ).scalar_one()
    return dict(figures)


def gaps(connection: Connection, run_id: int) -> pd.DataFrame:
    """Return a run's gaps, largest first (without geometry)."""
    return pd.read_sql(
        text(
            "SELECT rank, residents, households, buildings, area_m2 FROM coverage_gap "
            "WHERE run_id = :run ORDER BY rank"
        ),
        connection,
        params={"run": run_id},
    )


def station_loads(connection: Connection, run_id: int) -> pd.DataFrame:
    """Return each station's load on the network in a run, with its capacity."""
    return pd.read_sql(
        text(
            "SELECT s.code, s.name, s.capacity_residents, coalesce(c.residents, 0) AS residents, "
            "coalesce(c.households, 0) AS households FROM station s "
            "LEFT JOIN station_circle c ON c.station_id = s.id AND c.run_id = :run "
            "AND c.method = 'network' ORDER BY s.code"
        ),
        connection,
        params={"run": run_id},
    )


def building_communities(connection: Connection) -> pd.Series:
    """Return each building's community code, indexed by building id."""
    rows = connection.execute(
        text(
            "SELECT b.id, r.code FROM building b JOIN unit u ON u.id = b.unit_id "
            "JOIN region r ON r.id = u.community_id"
        )
    ).all()
    return pd.Series({i: code for i, code in rows}, dtype=object)


def region_code(connection: Connection, region_id: int) -> str:
    """Return a region's code."""
    return str(
        connection.execute(
            text("SELECT code FROM region WHERE id = :r"), {"r": region_id}
        ).scalar_one()
    )


def region_prefix(connection: Connection, region_id: int) -> str:
    """Return what the codes of everything inside region ``region_id`` begin with.

    A city's code is not a prefix of its districts' (990100, 990101): see
    :func:`gridmap.standards.code_prefix`.
    """
    return code_prefix(region_code(connection, region_id))


def region_shape(connection: Connection, region_id: int) -> Any:
    """Return region ``region_id``'s boundary (a shapely geometry in WGS 84)."""
    frame = read_geoframe(connection, "SELECT geom FROM region WHERE id = :id", {"id": region_id})
    return frame.geometry.iloc[0]


def points_outside(
    connection: Connection, region_id: int, points: list[tuple[float, float]]
) -> list[int]:
    """Return the positions of the WGS 84 points that lie outside region ``region_id``."""
    if not points:
        return []
    return [
        int(i) - 1
        for i in connection.execute(
            text("""
        SELECT p.i FROM unnest(CAST(:lon AS float8[]), CAST(:lat AS float8[]))
             WITH ORDINALITY AS p(lon, lat, i)
        WHERE NOT ST_Intersects((SELECT geom FROM region WHERE id = :r),
                                ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
        ORDER BY p.i
    """),
            {"r": region_id, "lon": [p[0] for p in points], "lat": [p[1] for p in points]},
        ).scalars()
    ]


def stations_outside(connection: Connection, region_id: int, codes: list[str]) -> list[int]:
    """Return the positions of the station codes whose station lies outside the region.

    A code of no station is not listed (the what-if says it does not exist).
    """
    if not codes:
        return []
    return [
        int(i) - 1
        for i in connection.execute(
            text("""
        SELECT c.i FROM unnest(CAST(:codes AS text[])) WITH ORDINALITY AS c(code, i)
        JOIN station s ON s.code = c.code
        WHERE NOT ST_Intersects((SELECT geom FROM region WHERE id = :r), s.geom)
        ORDER BY c.i
    """),
            {"r": region_id, "codes": codes},
        ).scalars()
    ]


def data_version(connection: Connection, tables: tuple[str, ...]) -> tuple[object, ...] | None:
    """Return what names the committed data of ``tables`` in this database, or None.

    The database (its server's start and its name) and the revisions of ``tables`` (each write
    to one bumps its own). None when this transaction has written anything: what it sees is
    not what is committed.
    """
    server = connection.execute(
        text(
            "SELECT pg_postmaster_start_time()::text, current_database(), "
            "pg_current_xact_id_if_assigned() IS NOT NULL"
        )
    ).one()
    if server[2]:
        return None
    rows: dict[str, int] = dict(
        connection.execute(
            text("SELECT table_name, revision FROM data_revision WHERE table_name = ANY(:t)"),
            {"t": list(tables)},
        ).all()
    )
    return (server[0], server[1], *(int(rows.get(table, 0)) for table in tables))
