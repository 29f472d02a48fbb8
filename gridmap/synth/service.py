"""Store a synthetic city in PostGIS, in the caller's transaction, as an import would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection

from gridmap.crs import metric_crs_of
from gridmap.db import city as city_rows
from gridmap.db import imports
from gridmap.db.bulk import copy_rows
from gridmap.errors import Conflict
from gridmap.synth.city import SyntheticCity
from gridmap.units.residents import ResidentModel, estimate_residents

Step = Callable[[str], None]


@dataclass(frozen=True)
class SynthCounts:
    """Rows written per layer."""

    regions: int
    buildings: int
    residents: int
    walk_edges: int
    stations: int
    events: int


def store_city(
    connection: Connection,
    city: SyntheticCity,
    *,
    replace: bool = False,
    model: ResidentModel | None = None,
    step: Step | None = None,
) -> SynthCounts:
    """Write ``city`` into the database; with ``replace``, the stored city goes first.

    Raises
    ------
    Conflict
        When the database holds a city already and ``replace`` is not set.
    """
    say = step or (lambda _: None)
    if city_rows.count_rows(connection, "building") and not replace:
        raise Conflict("the database holds a city already; pass replace to overwrite it")
    city_rows.clear_city(connection)
    say("regions")
    codes = city.regions["code"]
    parents = codes.str[:9].where(codes.str.len() == 12, codes.str[:6])
    parents = parents.where(codes.str.len() != 6, codes.str[:4] + "00").where(
        ~((codes.str.len() == 6) & codes.str.endswith("00")), None
    )
    regions = imports.upsert_regions(
        connection,
        pd.DataFrame(
            {
                **_columns(city.regions, "code", "name", "level"),
                "geometry": _multi(city.regions.geometry.values),
            }
        ),
        pd.Series(parents.to_numpy(), index=codes.to_numpy()),
    )
    say("buildings")
    residents, households = _estimate(city, model or ResidentModel())
    rows = pd.DataFrame(
        {
            **_columns(city.buildings, "building_type", "levels"),
            "residents": residents,
            "households": households,
            "geometry": _multi(city.buildings.geometry.values),
        }
    )
    buildings = copy_rows(connection, "building", rows)
    say("streets, water, amenities and the walking network")
    city_rows.replace_layer(connection, "street", city.streets)
    city_rows.replace_layer(
        connection, "water", city.water.assign(geometry=_multi(city.water.geometry.values))
    )
    city_rows.replace_layer(
        connection,
        "amenity",
        city.amenities.drop(columns="community").assign(
            osm_type="synth", osm_id=np.arange(1, len(city.amenities) + 1)
        ),
    )
    _, edges = city_rows.replace_walk_network(connection, city.walk_nodes, city.walk_edges)
    say("stations and events")
    stations = imports.upsert_stations(
        connection, city.stations.assign(kind="station", services="{}")
    )
    events = imports.upsert_events(connection, city.events)
    return SynthCounts(regions, buildings, int(residents.sum()), edges, stations, events)


def _columns(frame: pd.DataFrame, *names: str) -> dict[str, np.ndarray]:
    return {name: frame[name].to_numpy() for name in names}


def _multi(geoms: np.ndarray) -> np.ndarray:
    return shapely.multipolygons(np.asarray(geoms, dtype=object).reshape(-1, 1))


def _estimate(city: SyntheticCity, model: ResidentModel) -> tuple[np.ndarray, np.ndarray]:
    metric = metric_crs_of(city.buildings.geometry.values)
    footprint_m2 = city.buildings.to_crs(metric).area.to_numpy()
    return estimate_residents(
        footprint_m2,
        city.buildings["levels"].to_numpy(dtype=float),
        city.buildings["building_type"].to_numpy(),
        model,
    )
