"""The SQL of reports: a region and its children, a run, and what of a run lies in a region."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from sqlalchemy import Connection, text

from gridmap.db.bulk import read_geoframe
from gridmap.errors import NotFound


def region_by_code(connection: Connection, code: str) -> gpd.GeoDataFrame:
    """Return the region ``code``: id, code, name, level, parent code and geometry.

    Raises
    ------
    NotFound
        When there is no such region.
    """
    found = read_geoframe(
        connection,
        """
        SELECT r.id, r.code, r.name, r.level, p.code AS parent, r.geom
        FROM region r LEFT JOIN region p ON p.id = r.parent_id WHERE r.code = :code
    """,
        {"code": code},
    )
    if found.empty:
        raise NotFound(f"region: no region {code!r}")
    return found


def children(connection: Connection, region_id: int) -> gpd.GeoDataFrame:
    """Return the regions one level under ``region_id``, with their geometry."""
    return read_geoframe(
        connection,
        "SELECT id, code, name, level, geom FROM region WHERE parent_id = :id ORDER BY code",
        {"id": region_id},
    )


def grids_of_community(connection: Connection, region_id: int) -> gpd.GeoDataFrame:
    """Return the current plan's grids of a community, with their geometry."""
    return read_geoframe(
        connection,
        """
        SELECT g.id, g.code, g.name, 'grid' AS level, g.geom FROM grid g
        JOIN plan p ON p.id = g.plan_id AND p.status = 'current'
        WHERE g.community_id = :id ORDER BY g.code
    """,
        {"id": region_id},
    )


def run_row(connection: Connection, run_id: int | None) -> dict[str, Any]:
    """Return a coverage run (the latest when ``run_id`` is None) with its parameters.

    Raises
    ------
    NotFound
        When there is no such run, or no run at all.
    """
    row = (
        connection.execute(
            text("""
        SELECT id, created_at, minutes, speed_m_per_min, budget_m, max_snap_m, plan_id
        FROM coverage_run WHERE id = coalesce(CAST(:run AS integer), (SELECT max(id)
        FROM coverage_run))
    """),
            {"run": run_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("run: there is no coverage run" + (f" {run_id}" if run_id else " yet"))
    return dict(row)


def gaps_within(connection: Connection, run_id: int, region_id: int) -> gpd.GeoDataFrame:
    """Return a run's gaps that lie in a region (by their inner point), largest first.

    Each gap is located where a planner looks for it: the street, community and current grid
    its inner point lies in (code and name).
    """
    return read_geoframe(
        connection,
        """
        WITH inner_point AS (
            SELECT cg.rank, cg.residents, cg.households, cg.buildings, cg.area_m2, cg.geom,
                   ST_PointOnSurface(cg.geom) AS at
            FROM coverage_gap cg, region r
            WHERE cg.run_id = :run AND r.id = :region
              AND ST_Intersects(r.geom, ST_PointOnSurface(cg.geom))
        )
        SELECT g.rank, g.residents, g.households, g.buildings, g.area_m2,
               s.code AS street, s.name AS street_name,
               c.code AS community, c.name AS community_name,
               gr.code AS grid, gr.name AS grid_name, g.geom
        FROM inner_point g
        LEFT JOIN LATERAL (SELECT code, name FROM region WHERE level = 'street'
                           AND ST_Intersects(geom, g.at) LIMIT 1) s ON true
        LEFT JOIN LATERAL (SELECT code, name FROM region WHERE level = 'community'
                           AND ST_Intersects(geom, g.at) LIMIT 1) c ON true
        LEFT JOIN LATERAL (SELECT code, name FROM grid
                           WHERE plan_id = (SELECT id FROM plan WHERE status = 'current')
                             AND ST_Intersects(geom, g.at) LIMIT 1) gr ON true
        ORDER BY g.rank
    """,
        {"run": run_id, "region": region_id},
    )


def circles_near(connection: Connection, run_id: int, region_id: int) -> gpd.GeoDataFrame:
    """Return a run's 5-minute circles (on the network) that reach into a region."""
    return read_geoframe(
        connection,
        """
        SELECT s.code AS station, s.name, sc.residents, sc.geom
        FROM station_circle sc JOIN station s ON s.id = sc.station_id, region r
        WHERE sc.run_id = :run AND sc.method = 'network' AND r.id = :region
          AND ST_Intersects(r.geom, sc.geom)
        ORDER BY s.code
    """,
        {"run": run_id, "region": region_id},
    )


def stations_near(connection: Connection, region_id: int, margin_m: float) -> gpd.GeoDataFrame:
    """Return the stations in a region or within ``margin_m`` metres of it."""
    return read_geoframe(
        connection,
        """
        SELECT s.code, s.name, s.geom FROM station s, region r
        WHERE r.id = :region AND ST_DWithin(r.geom::geography, s.geom::geography, :margin)
        ORDER BY s.code
    """,
        {"region": region_id, "margin": margin_m},
    )


def overlay_zones(connection: Connection, net: str | None = None) -> gpd.GeoDataFrame:
    """Return the zones of one special net (or of every net), by net and code."""
    return read_geoframe(
        connection,
        "SELECT net, code, name, geom FROM overlay "
        "WHERE CAST(:net AS text) IS NULL OR net = :net ORDER BY net, code",
        {"net": net},
    )


def current_grids(connection: Connection) -> gpd.GeoDataFrame:
    """Return the current plan's grids: code, households, geometry."""
    return read_geoframe(
        connection,
        "SELECT g.code, g.households, g.geom FROM grid g "
        "JOIN plan p ON p.id = g.plan_id AND p.status = 'current' "
        "ORDER BY g.code",
    )


def current_units(connection: Connection) -> gpd.GeoDataFrame:
    """Return each unit's grid in the current plan, its households and a point inside it."""
    return read_geoframe(
        connection,
        """
        SELECT g.code AS grid, u.households, ST_PointOnSurface(u.geom) AS geom
        FROM unit u JOIN assignment a ON a.unit_id = u.id
        JOIN plan p ON p.id = a.plan_id AND p.status = 'current'
        JOIN grid g ON g.id = a.grid_id
    """,
    )


def basemap_within(connection: Connection, region_id: int) -> gpd.GeoDataFrame:
    """Return the city's own basemap inside a region: streets (by kind) and water, clipped."""
    return read_geoframe(
        connection,
        """
        WITH r AS (SELECT geom FROM region WHERE id = :region)
        SELECT 'street' AS layer, s.kind, ST_Intersection(s.geom, r.geom) AS geom
        FROM street s, r WHERE s.geom && r.geom AND ST_Intersects(s.geom, r.geom)
        UNION ALL
        SELECT 'water', NULL, ST_Intersection(w.geom, r.geom)
        FROM water w, r WHERE w.geom && r.geom AND ST_Intersects(w.geom, r.geom)
    """,
        {"region": region_id},
    )


def streets_near(connection: Connection, geometry_wkb: bytes, margin_m: float) -> gpd.GeoDataFrame:
    """Return the streets within ``margin_m`` of a geometry (lon/lat WKB): kind, name, line."""
    return read_geoframe(
        connection,
        """
        WITH g AS (SELECT ST_GeomFromWKB(:wkb, 4326) AS geom)
        SELECT s.kind, s.name, s.geom FROM street s, g
        WHERE s.kind <> 'rail' AND ST_DWithin(s.geom::geography, g.geom::geography, :margin)
    """,
        {"wkb": geometry_wkb, "margin": margin_m},
    )
