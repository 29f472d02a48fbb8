"""Stations (党群服务站): seeded from station-capable amenities for a city that has none listed."""

from __future__ import annotations

from sqlalchemy import Connection, text

DEFAULT_SERVICES = ("图书阅览", "血压测量", "代办服务")
"""Services a seeded station offers (books, blood pressure, paperwork done on one's behalf)."""

_SEED_ONE_PER_COMMUNITY = text("""
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


def seed_stations_from_amenities(connection: Connection) -> int:
    """Open one station per community, at the amenity nearest its residents' centre.

    A plausible start for a demo city: one station per community covers part of it, so that
    coverage is well below 100% and siting has something to improve. Communities without a
    station-capable amenity get none. Returns the number of stations added.
    """
    result = connection.execute(_SEED_ONE_PER_COMMUNITY, {"services": list(DEFAULT_SERVICES)})
    return result.rowcount
