"""Write an OSM extract's layers into PostGIS, in the caller's transaction.

Buildings are upserted by OSM id, so importing the same file again replaces, never duplicates,
and keeps each building's unit and any imported resident counts. The walking network, streets,
water and amenities are replaced whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Connection, text

from gridmap.db.bulk import copy_rows
from gridmap.io.crs import local_metric_crs
from gridmap.io.osm import OsmLayers
from gridmap.units.residents import ResidentModel, estimate_residents

Step = Callable[[str], None]


@dataclass(frozen=True)
class OsmImportCounts:
    """Rows written per table."""

    buildings: int
    walk_nodes: int
    walk_edges: int
    streets: int
    water: int
    amenities: int


def import_osm_layers(
    connection: Connection,
    layers: OsmLayers,
    *,
    model: ResidentModel | None = None,
    step: Step | None = None,
) -> OsmImportCounts:
    """Write ``layers`` into the database on ``connection`` (the caller commits)."""
    say = step or (lambda _: None)
    say("buildings")
    buildings = _write_buildings(connection, layers, model or ResidentModel())
    say("walking network")
    connection.execute(text("DELETE FROM walk_edge"))
    connection.execute(text("DELETE FROM walk_node"))
    nodes = copy_rows(
        connection, "walk_node", layers.walk_nodes.assign(osm_id=layers.walk_nodes["id"])
    )
    edges = copy_rows(
        connection,
        "walk_edge",
        layers.walk_edges[["source", "target", "length_m", "highway", "osm_id", "geometry"]],
    )
    say("streets, water and amenities")
    counts = {}
    for table, frame in (
        ("street", layers.streets),
        ("water", layers.water),
        ("amenity", layers.amenities),
    ):
        connection.execute(text(f"DELETE FROM {table}"))
        counts[table] = copy_rows(connection, table, frame)
    return OsmImportCounts(
        buildings, nodes, edges, counts["street"], counts["water"], counts["amenity"]
    )


def _write_buildings(connection: Connection, layers: OsmLayers, model: ResidentModel) -> int:
    frame = layers.buildings
    centre = frame.geometry.union_all().centroid
    footprint_m2 = frame.geometry.to_crs(local_metric_crs(centre.x, centre.y)).area.to_numpy()
    residents, households = estimate_residents(
        footprint_m2, frame["levels"].to_numpy(), frame["building_type"].to_numpy(), model
    )
    rows = pd.DataFrame(
        {
            "osm_id": frame["osm_id"].to_numpy(),
            "building_type": frame["building_type"].to_numpy(),
            "levels": pd.array(
                np.where(np.isnan(frame["levels"]), pd.NA, frame["levels"]), dtype="Int64"
            ),
            "residents": residents,
            "households": households,
            "geometry": frame.geometry.to_numpy(),
        }
    )
    connection.execute(text(
        "CREATE TEMP TABLE incoming_building (LIKE building INCLUDING DEFAULTS) ON COMMIT DROP"
    ))  # fmt: skip
    copy_rows(connection, "building", rows, into="incoming_building")
    connection.execute(text(
        "DELETE FROM building WHERE osm_id IS NOT NULL "
        "AND osm_id NOT IN (SELECT osm_id FROM incoming_building)"
    ))  # fmt: skip
    connection.execute(text("""
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
    """))  # fmt: skip
    connection.execute(text("DROP TABLE incoming_building"))
    return len(rows)
