"""The SQL of ``gridmap import`` for users' layers: upserts by code, links and sums.

Every function works in the caller's transaction; rows arrive with COPY into a temporary table
shaped like the target, then one statement upserts them.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

from gridmap.db.bulk import copy_rows, read_geoframe, rows_frame
from gridmap.db.models import Base


def _stage(connection: Connection, table: str, frame: pd.DataFrame) -> str:
    """COPY ``frame`` into a temporary copy of ``table``; return the temporary table's name."""
    if table not in Base.metadata.tables:
        raise ValueError(f"unknown table {table!r}")
    staged = f"incoming_{table}"
    connection.execute(text(f"DROP TABLE IF EXISTS {staged}"))
    connection.execute(
        text(f"CREATE TEMP TABLE {staged} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
    )
    connection.execute(text(f"ALTER TABLE {staged} ALTER COLUMN id DROP NOT NULL"))
    copy_rows(connection, table, frame, into=staged)
    return staged


def city_extent(connection: Connection) -> tuple[float, float, float, float] | None:
    """Return the bounding box (lon/lat) of the city's regions, buildings and streets, if any."""
    row = connection.execute(
        text("""
        SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (
            SELECT ST_Extent(geom) AS e FROM (
                SELECT geom FROM region UNION ALL SELECT geom FROM building
                UNION ALL SELECT geom FROM street
            ) g
        ) x
    """)
    ).one()
    return None if row[0] is None else (row[0], row[1], row[2], row[3])


def regions_by_code(connection: Connection) -> pd.DataFrame:
    """Return every region's id, code and level, indexed by code."""
    return pd.read_sql(text("SELECT id, code, level FROM region"), connection, index_col="code")


def upsert_regions(
    connection: Connection, rows: pd.DataFrame, parents: pd.Series, *, source: str = "imported"
) -> int:
    """Insert or update regions by code, then link each to its parent.

    ``parents`` maps each row's code to its parent's code (or None); ``source`` says where the
    regions came from (``imported`` from a file, ``osm``).
    """
    _stage(connection, "region", rows.assign(source=source))
    connection.execute(
        text("""
        INSERT INTO region (code, name, level, source, geom)
        SELECT code, name, level, source, geom FROM incoming_region
        ON CONFLICT (code) DO UPDATE SET
            name = excluded.name, level = excluded.level, source = excluded.source,
            geom = excluded.geom
    """)
    )
    links = pd.DataFrame({"code": parents.index, "parent_code": parents.to_numpy()})
    connection.execute(
        text("CREATE TEMP TABLE region_parent (code text, parent_code text) ON COMMIT DROP")
    )
    copy_rows(connection, "region", links, into="region_parent")
    connection.execute(
        text("""
        UPDATE region r SET parent_id = p.id
        FROM region_parent l LEFT JOIN region p ON p.code = l.parent_code
        WHERE r.code = l.code
    """)
    )
    connection.execute(text("DROP TABLE region_parent"))
    return len(rows)


def communities(connection: Connection) -> gpd.GeoDataFrame:
    """Return the communities' id, code and geometry (EPSG:4326)."""
    return read_geoframe(
        connection, "SELECT id, code, geom FROM region WHERE level = 'community' ORDER BY code"
    )


def largest_serials(
    connection: Connection, table: str, prefix_digits: int, *, within: str | None = None
) -> pd.Series:
    """Return the largest serial used per parent code among ``table``'s codes (unit or grid).

    With ``within`` (a region's code), only the codes under it.
    """
    if table not in ("unit", "grid"):
        raise ValueError(f"{table!r} has no serial codes")
    rows = connection.execute(
        text(
            f"SELECT left(code, :n) AS parent, max(right(code, length(code) - :n)::int) "
            f"FROM {table} WHERE CAST(:within AS text) IS NULL OR starts_with(code, :within) "
            f"GROUP BY 1"
        ),
        {"n": prefix_digits, "within": within},
    ).all()
    return pd.Series({parent: serial for parent, serial in rows}, dtype="int64")


def units_with_communities(connection: Connection) -> gpd.GeoDataFrame:
    """Return every unit's id, code, community (id and code) and geometry (EPSG:4326)."""
    return read_geoframe(
        connection,
        "SELECT u.id, u.code, u.community_id, r.code AS community_code, u.geom "
        "FROM unit u JOIN region r ON r.id = u.community_id ORDER BY u.code",
    )


def upsert_units(connection: Connection, rows: pd.DataFrame, *, sum_codes: list[str]) -> int:
    """Insert or update units by code, then link the buildings inside them.

    Units in ``sum_codes`` (the file gave no counts) take their buildings' sums.
    """
    _stage(connection, "unit", rows)
    connection.execute(
        text("""
        INSERT INTO unit (code, community_id, kind, residents, households, governance_load, geom)
        SELECT code, community_id, kind, residents, households, governance_load, geom
        FROM incoming_unit
        ON CONFLICT (code) DO UPDATE SET
            community_id = excluded.community_id, kind = excluded.kind,
            residents = excluded.residents, households = excluded.households,
            governance_load = excluded.governance_load, geom = excluded.geom
    """)
    )
    link_buildings_to_units(connection, only_unlinked=False)
    sum_buildings_into_units(connection, codes=sum_codes)
    return len(rows)


def link_buildings_to_units(connection: Connection, *, only_unlinked: bool) -> None:
    """Put each building in the unit holding its inner point."""
    connection.execute(
        text(f"""
        UPDATE building b SET unit_id = u.id
        FROM unit u
        WHERE ST_Intersects(u.geom, ST_PointOnSurface(b.geom))
          {"AND b.unit_id IS NULL" if only_unlinked else ""}
    """)
    )


def sum_buildings_into_units(connection: Connection, *, codes: list[str] | None = None) -> None:
    """Set each unit's residents and households to its buildings' sums (units in ``codes``)."""
    only = "AND u.code = ANY(:codes)" if codes is not None else ""
    connection.execute(
        text(f"""
        UPDATE unit u SET residents = s.residents, households = s.households
        FROM (SELECT unit_id, sum(residents) AS residents, sum(households) AS households
              FROM building WHERE unit_id IS NOT NULL GROUP BY unit_id) s
        WHERE u.id = s.unit_id {only}
    """),
        {"codes": codes},
    )


def upsert_buildings(connection: Connection, rows: pd.DataFrame) -> int:
    """Update buildings matched by OSM id and insert the rest; link them; re-sum units."""
    _stage(connection, "building", rows)
    connection.execute(
        text("""
        UPDATE building b SET
            building_type = coalesce(i.building_type, b.building_type),
            levels = coalesce(i.levels, b.levels),
            residents = i.residents, households = i.households, source = i.source,
            geom = i.geom, unit_id = NULL
        FROM incoming_building i WHERE i.osm_id IS NOT NULL AND b.osm_id = i.osm_id
    """)
    )
    connection.execute(
        text("""
        INSERT INTO building (osm_id, building_type, levels, residents, households, source, geom)
        SELECT osm_id, building_type, levels, residents, households, source, geom
        FROM incoming_building i
        WHERE i.osm_id IS NULL OR NOT EXISTS (SELECT 1 FROM building b WHERE b.osm_id = i.osm_id)
    """)
    )
    link_buildings_to_units(connection, only_unlinked=True)
    sum_buildings_into_units(connection)
    return len(rows)


def upsert_stations(connection: Connection, rows: pd.DataFrame) -> int:
    """Insert or update stations by code."""
    _stage(connection, "station", rows)
    connection.execute(
        text("""
        INSERT INTO station (code, name, kind, services, capacity_residents, address,
                             opening_hours, phone, geom)
        SELECT code, name, kind, services, capacity_residents, address, opening_hours, phone,
               geom
        FROM incoming_station
        ON CONFLICT (code) DO UPDATE SET
            name = excluded.name, kind = excluded.kind, services = excluded.services,
            capacity_residents = excluded.capacity_residents, address = excluded.address,
            opening_hours = excluded.opening_hours, phone = excluded.phone, geom = excluded.geom
    """)
    )
    return len(rows)


def upsert_events(connection: Connection, rows: pd.DataFrame) -> int:
    """Insert events (updating those with a known external id); recount each unit's load.

    An event without a place (``geometry`` None) is kept with its address: it counts in its
    month's totals, and in no unit's load.
    """
    _stage(connection, "event", rows)
    connection.execute(
        text("""
        INSERT INTO event (external_id, kind, occurred_at, status, address, geom)
        SELECT external_id, kind, occurred_at, status, address, geom FROM incoming_event
        ON CONFLICT (external_id) DO UPDATE SET
            kind = excluded.kind, occurred_at = excluded.occurred_at,
            status = excluded.status, address = excluded.address, geom = excluded.geom
    """)
    )
    recount_governance_load(connection)
    return len(rows)


def recount_governance_load(connection: Connection) -> None:
    """Set each unit's governance load to the number of events inside it."""
    connection.execute(
        text("""
        UPDATE unit u SET governance_load = coalesce(
            (SELECT count(*) FROM event e WHERE ST_Intersects(u.geom, e.geom)), 0)
    """)
    )


def upsert_overlays(connection: Connection, rows: pd.DataFrame) -> int:
    """Insert or update overlay zones by net and code."""
    _stage(connection, "overlay", rows)
    connection.execute(
        text("""
        INSERT INTO overlay (net, code, name, geom)
        SELECT net, code, name, geom FROM incoming_overlay
        ON CONFLICT (net, code) DO UPDATE SET name = excluded.name, geom = excluded.geom
    """)
    )
    return len(rows)


def overlaps_with_stored(
    connection: Connection,
    table: str,
    geoms_wkb: list[bytes | None],
    keys: list[str | None],
    *,
    key_column: str,
    tolerance: float,
) -> pd.DataFrame:
    """Find stored ``table`` rows that the file's polygons overlap beyond ``tolerance``.

    ``tolerance`` is a share of the smaller polygon's area; a stored row whose ``key_column``
    (as text) equals the file row's key is the same feature, updated, and not counted.
    Returns ``position`` (in the file), ``stored`` (its key, else "id N"), ``stored_id``,
    ``overlap_m2`` and ``share``.
    """
    if table not in ("unit", "building"):
        raise ValueError(f"no overlap check for {table!r}")
    sql = f"""
        WITH f AS (
            SELECT n - 1 AS position, k AS key, ST_SetSRID(ST_GeomFromWKB(w), 4326) AS geom
            FROM unnest(CAST(:wkb AS bytea[]), CAST(:keys AS text[])) WITH ORDINALITY AS t(w, k, n)
            WHERE w IS NOT NULL
        ), o AS (
            SELECT f.position, coalesce(s.{key_column}::text, 'id ' || s.id) AS stored, s.id,
                   ST_Area(ST_Intersection(f.geom, s.geom)::geography) AS overlap_m2,
                   least(ST_Area(f.geom::geography), ST_Area(s.geom::geography)) AS smaller
            FROM f JOIN {table} s ON ST_Intersects(f.geom, s.geom)
            WHERE f.key IS DISTINCT FROM s.{key_column}::text
        )
        SELECT position, stored, id, overlap_m2, overlap_m2 / nullif(smaller, 0) AS share
        FROM o WHERE overlap_m2 > :tolerance * smaller
        ORDER BY position, overlap_m2 DESC
    """
    found = connection.execute(text(sql), {"wkb": geoms_wkb, "keys": keys, "tolerance": tolerance})
    columns = ["position", "stored", "stored_id", "overlap_m2", "share"]
    return rows_frame(found, columns)


def replace_units(connection: Connection, replaced: list[int]) -> list[int]:
    """Hand the grids of the units ``replaced`` to the new units over them, then delete them.

    Runs after the new units are upserted. In every plan, each new unit without a grid that
    overlaps a replaced unit joins the grid of the replaced unit it overlaps most; the
    replaced units then go (their assignments with them). Returns the plans that changed.
    """
    connection.execute(
        text("""
        INSERT INTO assignment (plan_id, unit_id, grid_id)
        SELECT DISTINCT ON (a.plan_id, n.id) a.plan_id, n.id, a.grid_id
        FROM unit old
        JOIN assignment a ON a.unit_id = old.id
        JOIN unit n ON ST_Intersects(n.geom, old.geom) AND n.code IN (
            SELECT code FROM incoming_unit)
        WHERE old.id = ANY(:replaced)
          AND NOT EXISTS (SELECT 1 FROM assignment x
                          WHERE x.plan_id = a.plan_id AND x.unit_id = n.id)
        ORDER BY a.plan_id, n.id, ST_Area(ST_Intersection(n.geom, old.geom)) DESC
    """),
        {"replaced": replaced},
    )
    plans = (
        connection.execute(
            text("""
        SELECT DISTINCT a.plan_id FROM assignment a JOIN unit u ON u.id = a.unit_id
        WHERE u.id = ANY(:replaced) ORDER BY 1
    """),
            {"replaced": replaced},
        )
        .scalars()
        .all()
    )
    connection.execute(text("DELETE FROM unit WHERE id = ANY(:replaced)"), {"replaced": replaced})
    return list(plans)


def delete_buildings(connection: Connection, ids: list[int]) -> None:
    """Delete the buildings ``ids`` (a file that replaces them is being imported)."""
    connection.execute(text("DELETE FROM building WHERE id = ANY(:ids)"), {"ids": ids})
