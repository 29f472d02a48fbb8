"""Reads and writes of the city's base layers, units and regions: the services' SQL.

Every function works in the caller's transaction on a SQLAlchemy connection; frames travel
with COPY (:mod:`gridmap.db.bulk`).
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from gridmap.db.bulk import copy_rows, read_geoframe

REPLACEABLE_LAYERS = ("street", "water", "amenity")


def replace_walk_network(
    connection: Connection, nodes: pd.DataFrame, edges: pd.DataFrame
) -> tuple[int, int]:
    """Replace the walking network; return the node and edge counts written."""
    connection.execute(text("DELETE FROM walk_edge"))
    connection.execute(text("DELETE FROM walk_node"))
    return copy_rows(connection, "walk_node", nodes), copy_rows(connection, "walk_edge", edges)


def replace_layer(connection: Connection, table: str, frame: pd.DataFrame) -> int:
    """Replace the rows of a base layer (street, water or amenity)."""
    if table not in REPLACEABLE_LAYERS:
        raise ValueError(f"{table!r} is not a replaceable base layer")
    connection.execute(text(f"DELETE FROM {table}"))  # the name is from the allow-list above
    return copy_rows(connection, table, frame)


_UPSERT_BUILDINGS = text("""
    INSERT INTO building (osm_id, building_type, levels, residents, households, source, geom)
    SELECT osm_id, building_type, levels, residents, households, 'estimated', geom
    FROM incoming_building
    ON CONFLICT (osm_id) DO UPDATE SET
        building_type = excluded.building_type,
        levels = excluded.levels,
        geom = excluded.geom,
        residents = CASE WHEN building.source = 'imported'
                         THEN building.residents ELSE excluded.residents END,
        households = CASE WHEN building.source = 'imported'
                          THEN building.households ELSE excluded.households END
""")


def upsert_osm_buildings(connection: Connection, rows: pd.DataFrame) -> int:
    """Upsert buildings by OSM id; drop OSM buildings not in ``rows``; keep imported counts."""
    connection.execute(
        text(
            "CREATE TEMP TABLE incoming_building (LIKE building INCLUDING DEFAULTS) ON COMMIT DROP"
        )
    )
    copy_rows(connection, "building", rows, into="incoming_building")
    connection.execute(
        text(
            "DELETE FROM building WHERE osm_id IS NOT NULL "
            "AND osm_id NOT IN (SELECT osm_id FROM incoming_building)"
        )
    )
    connection.execute(_UPSERT_BUILDINGS)
    connection.execute(text("DROP TABLE incoming_building"))
    return len(rows)


def load_city_layers(
    connection: Connection,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Return the buildings, streets and water of the city, in EPSG:4326."""
    buildings = read_geoframe(
        connection, "SELECT id, households, residents, geom FROM building ORDER BY id"
    )
    streets = read_geoframe(connection, "SELECT kind, name, geom FROM street")
    water = read_geoframe(connection, "SELECT geom FROM water")
    return buildings, streets, water


def count_grids(connection: Connection) -> int:
    """Return how many grids all plans hold."""
    return int(connection.execute(text("SELECT count(*) FROM grid")).scalar_one())


def count_units(connection: Connection) -> int:
    """Return how many units the city has."""
    return int(connection.execute(text("SELECT count(*) FROM unit")).scalar_one())


def clear_units_and_derived_regions(connection: Connection) -> None:
    """Remove every unit, and the regions derived from them (buildings stay, unlinked).

    Imported regions (from a file or OSM) stay: a rebuild cuts units inside them again.
    """
    connection.execute(text("UPDATE building SET unit_id = NULL"))
    connection.execute(text("DELETE FROM unit"))
    connection.execute(
        text(
            "UPDATE region SET parent_id = NULL "
            "WHERE parent_id IN (SELECT id FROM region WHERE source = 'derived')"
        )
    )
    connection.execute(text("DELETE FROM region WHERE source = 'derived'"))


def count_regions(connection: Connection, level: str) -> int:
    """Return how many regions of ``level`` the city has."""
    return int(
        connection.execute(
            text("SELECT count(*) FROM region WHERE level = :level"), {"level": level}
        ).scalar_one()
    )


def next_ids(connection: Connection, table: str, n: int) -> np.ndarray:
    """Draw ``n`` ids from the sequence of ``table``'s ``id``."""
    rows = connection.execute(
        text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
        {"t": table, "n": n},
    ).scalars()
    return np.fromiter(rows, dtype=np.int64, count=n)


def insert_regions(
    connection: Connection,
    *,
    codes: Sequence[str] | np.ndarray,
    names: Sequence[str] | np.ndarray,
    level: str,
    parents: Sequence[int | None] | np.ndarray,
    geoms: Sequence[object] | np.ndarray,
) -> np.ndarray:
    """Insert regions of one level (geometries as MultiPolygons in EPSG:4326); return ids."""
    ids = next_ids(connection, "region", len(codes))
    copy_rows(
        connection,
        "region",
        pd.DataFrame(
            {
                "id": ids,
                "code": list(codes),
                "name": list(names),
                "level": level,
                "parent_id": pd.array(list(parents), dtype="Int64"),
                "geometry": geoms,
            }
        ),
    )
    return ids


def link_buildings(connection: Connection, building_ids: np.ndarray, unit_ids: np.ndarray) -> None:
    """Set each building's unit."""
    connection.execute(text("CREATE TEMP TABLE building_unit (id int, unit_id int) ON COMMIT DROP"))
    frame = pd.DataFrame({"id": building_ids, "unit_id": unit_ids})
    copy_rows(connection, "building", frame, into="building_unit")
    connection.execute(
        text("UPDATE building b SET unit_id = t.unit_id FROM building_unit t WHERE b.id = t.id")
    )
    connection.execute(text("DROP TABLE building_unit"))


_SEED_ONE_STATION_PER_COMMUNITY = text("""
    WITH centre AS (
        SELECT u.community_id,
               ST_SetSRID(ST_MakePoint(
                   sum(ST_X(ST_PointOnSurface(b.geom)) * b.residents) / nullif(sum(b.residents), 0),
                   sum(ST_Y(ST_PointOnSurface(b.geom)) * b.residents) / nullif(sum(b.residents), 0)
               ), 4326) AS point
        FROM building b JOIN unit u ON u.id = b.unit_id
        GROUP BY u.community_id
    )
    INSERT INTO station (code, name, kind, services, geom)
    SELECT r.code || '-01', coalesce(a.name, r.name) || ' 党群服务站', 'station', :services, a.geom
    FROM region r
    JOIN centre c ON c.community_id = r.id AND c.point IS NOT NULL
    JOIN LATERAL (
        SELECT name, geom FROM amenity
        WHERE ST_Intersects(amenity.geom, r.geom)
        ORDER BY amenity.geom <-> c.point
        LIMIT 1
    ) a ON true
    WHERE r.level = 'community'
    ON CONFLICT (code) DO NOTHING
""")


def insert_station_per_community(connection: Connection, services: Sequence[str]) -> int:
    """Open a station in each community at the amenity nearest its residents' centre."""
    return connection.execute(
        _SEED_ONE_STATION_PER_COMMUNITY, {"services": list(services)}
    ).rowcount


CITY_TABLES = (
    "job",
    "assignment",
    "grid",
    "plan",
    "building_coverage",
    "coverage_gap",
    "unit_coverage",
    "station_circle",
    "coverage_run",
    "unit",
    "building",
    "station",
    "walk_edge",
    "walk_node",
    "overlay",
    "event",
    "street",
    "water",
    "amenity",
)
"""Every table that holds a city's data (jobs too: theirs); regions and keys are handled apart."""


def count_rows(connection: Connection, table: str) -> int:
    """Return how many rows a city table holds."""
    if table not in CITY_TABLES:
        raise ValueError(f"{table!r} is not a city table")
    return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def clear_city(connection: Connection) -> None:
    """Remove the whole city: every layer, plan and coverage run, and every region.

    API keys scoped to a region go with it; other keys and the audit trail stay.
    """
    connection.execute(text(f"TRUNCATE {', '.join(CITY_TABLES)} RESTART IDENTITY"))
    connection.execute(text("UPDATE region SET parent_id = NULL"))
    connection.execute(text("DELETE FROM region"))


def region_extent(connection: Connection, region_id: int | None = None) -> list[float] | None:
    """Return the bounding box (lon/lat) of one region, or of every region; None when none."""
    row = connection.execute(
        text("""
        SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
            SELECT ST_Extent(geom) AS e FROM region
            WHERE CAST(:scope AS integer) IS NULL OR id = :scope
        ) x
    """),
        {"scope": region_id},
    ).one()
    return None if row[0] is None else [float(v) for v in row]


def communities_without_station(connection: Connection) -> list[tuple[str, str | None]]:
    """Return the code and name of every community with no station inside it."""
    return [
        tuple(r)
        for r in connection.execute(
            text("""
        SELECT r.code, r.name FROM region r
        WHERE r.level = 'community'
          AND NOT EXISTS (SELECT 1 FROM station s WHERE ST_Intersects(s.geom, r.geom))
        ORDER BY r.code
    """)
        ).all()
    ]


def list_stations(connection: Connection) -> list[dict[str, object]]:
    """Return every station: code, name, kind, services, lon, lat and its community's code."""
    return [
        dict(r)
        for r in connection.execute(
            text("""
        SELECT s.code, s.name, s.kind, s.services, s.capacity_residents, s.address,
               s.opening_hours, s.phone, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
               (SELECT r.code FROM region r WHERE r.level = 'community'
                AND ST_Intersects(r.geom, s.geom) ORDER BY r.code LIMIT 1) AS community
        FROM station s ORDER BY s.code
    """)
        )
        .mappings()
        .all()
    ]


STATION_EDITABLE = ("name", "address", "opening_hours", "phone", "capacity_residents")
"""A station's fields one may change in place (its code and place are changed by a file)."""


def update_station(connection: Connection, code: str, changes: dict[str, object]) -> bool:
    """Set ``changes`` (fields of STATION_EDITABLE) on station ``code``; say whether it exists.

    The row is locked and updated in one statement.
    """
    fields = [name for name in STATION_EDITABLE if name in changes]
    if not fields:
        return (
            connection.execute(
                text("SELECT 1 FROM station WHERE code = :code FOR UPDATE"), {"code": code}
            ).first()
            is not None
        )
    assignments = ", ".join(f"{name} = :{name}" for name in fields)
    return (
        connection.execute(
            text(f"UPDATE station SET {assignments} WHERE code = :code RETURNING 1"),
            {**{name: changes[name] for name in fields}, "code": code},
        ).first()
        is not None
    )


def delete_stations(connection: Connection, codes: list[str]) -> list[str]:
    """Delete the stations ``codes``; return the codes that were deleted."""
    return list(
        connection.execute(
            text("DELETE FROM station WHERE code = ANY(:codes) RETURNING code"), {"codes": codes}
        ).scalars()
    )


def delete_stations_except(connection: Connection, keep: list[str]) -> list[str]:
    """Delete every station whose code is not in ``keep``; return the codes deleted."""
    return list(
        connection.execute(
            text("DELETE FROM station WHERE NOT (code = ANY(:keep)) RETURNING code"), {"keep": keep}
        ).scalars()
    )
