"""The real demo city, built once per test module that reads it.

Module scope, not session scope: the city lives in an open transaction whose locks would block
other modules' TRUNCATEs and schema changes until the session ended.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Connection, Engine, text

from gridmap.demo import build_demo_city
from gridmap.io.osm import OsmLayers
from gridmap.units.service import UnitBuildCounts

COUNTY = "990101"


@dataclass(frozen=True)
class City:
    """Helsinki in PostGIS, on a connection whose transaction is never committed."""

    connection: Connection
    layers: OsmLayers
    counts: UnitBuildCounts
    stations: int

    def value(self, query: str) -> object:
        """Return the one value ``query`` selects."""
        return self.connection.execute(text(query)).scalar_one()


@pytest.fixture(scope="module")
def helsinki(engine: Engine) -> Iterator[City]:
    """Helsinki imported, cut into units and given stations; rolled back at the end.

    Tests that change it do so inside a savepoint they roll back.
    """
    with engine.connect() as connection:
        transaction = connection.begin()
        built = build_demo_city(connection, until="stations", county_code=COUNTY)
        assert built.layers is not None and built.units is not None and built.stations is not None
        try:
            yield City(connection, built.layers, built.units, built.stations)
        finally:
            transaction.rollback()


@pytest.fixture
def city(helsinki: City) -> Iterator[City]:
    """The session's Helsinki inside a savepoint rolled back after the test: free to change.

    A module that means another city by ``city`` defines its own fixture of that name.
    """
    savepoint = helsinki.connection.begin_nested()
    try:
        yield helsinki
    finally:
        savepoint.rollback()
