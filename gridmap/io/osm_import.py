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
from sqlalchemy import Connection

from gridmap.crs import metric_crs_of
from gridmap.db.city import replace_layer, replace_walk_network, upsert_osm_buildings
from gridmap.db.imports import upsert_regions
from gridmap.geometry import polygonal_parts
from gridmap.io.osm import OsmLayers
from gridmap.io.osm_regions import regions_from_boundaries
from gridmap.units.residents import (
    ResidentModel,
    estimate_residents,
    not_residential,
    residential_note,
)

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
    regions: int = 0
    residential: str = ""
    """How many buildings counted as homes, and why the others did not."""


def import_osm_layers(
    connection: Connection,
    layers: OsmLayers,
    *,
    model: ResidentModel | None = None,
    county_code: str | None = None,
    step: Step | None = None,
) -> OsmImportCounts:
    """Write ``layers`` into the database on ``connection`` (the caller commits).

    With ``county_code``, admin boundaries that reach down to communities become regions
    (source ``osm``), coded from it.
    """
    say = step or (lambda _: None)
    say("buildings")
    buildings, residential = _write_buildings(connection, layers, model or ResidentModel())
    say("walking network")
    nodes, edges = replace_walk_network(
        connection,
        layers.walk_nodes.assign(osm_id=layers.walk_nodes["id"]),
        layers.walk_edges[["source", "target", "length_m", "highway", "osm_id", "geometry"]],
    )
    say("streets, water and amenities")
    counts = {
        table: replace_layer(connection, table, frame)
        for table, frame in (
            ("street", layers.streets),
            ("water", layers.water),
            ("amenity", layers.amenities),
        )
    }
    regions = 0
    if county_code is not None and not layers.boundaries.empty:
        say("admin boundaries")
        found = regions_from_boundaries(layers.boundaries, county_code)
        if not found.empty:
            rows = found.assign(geometry=polygonal_parts(found.geometry.values)[0])
            parents = pd.Series(found["parent_code"].to_numpy(), index=found["code"].to_numpy())
            regions = upsert_regions(
                connection, rows[["code", "name", "level", "geometry"]], parents, source="osm"
            )
    return OsmImportCounts(
        buildings,
        nodes,
        edges,
        counts["street"],
        counts["water"],
        counts["amenity"],
        regions,
        residential,
    )


def _write_buildings(
    connection: Connection, layers: OsmLayers, model: ResidentModel
) -> tuple[int, str]:
    frame = layers.buildings
    footprint_m2 = frame.geometry.to_crs(metric_crs_of(frame.geometry.values)).area.to_numpy()
    uses = frame["use"].to_numpy() if "use" in frame else None
    levels, kinds = frame["levels"].to_numpy(), frame["building_type"].to_numpy()
    residents, households = estimate_residents(footprint_m2, levels, kinds, model, uses)
    note = residential_note(not_residential(footprint_m2, levels, kinds, uses, model))
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
    return upsert_osm_buildings(connection, rows), note
