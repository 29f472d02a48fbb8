"""Stations (党群服务站): seeded from station-capable amenities for a city that has none listed."""

from __future__ import annotations

from sqlalchemy import Connection

from gridmap.db.city import insert_station_per_community

DEFAULT_SERVICES = ("图书阅览", "血压测量", "代办服务")
"""Services a seeded station offers (books, blood pressure, paperwork done on one's behalf)."""


def seed_stations_from_amenities(connection: Connection) -> int:
    """Open one station per community, at the amenity nearest its residents' centre.

    A plausible start for a demo city: one station per community covers part of it, so that
    coverage is well below 100% and siting has something to improve. Communities without a
    station-capable amenity get none. Returns the number of stations added.
    """
    return insert_station_per_community(connection, DEFAULT_SERVICES)
