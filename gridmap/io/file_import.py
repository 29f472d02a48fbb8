"""``gridmap import <layer> FILE``: read, validate, and write a user's layer in one transaction.

Each layer goes through the same three steps: :func:`gridmap.io.read.read_features` (format,
CRS, field names), :func:`gridmap.io.layers.validate_layer` (geometry, codes, counts), and the
layer's own checks against what the database holds (parents of regions, communities of units,
the units a grid covers). Every problem is gathered; if there is any, one error lists them and
nothing is written. Otherwise the layer is upserted in the caller's transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection

from gridmap.crs import metric_crs_of
from gridmap.db import imports as import_rows
from gridmap.io import unit_import
from gridmap.io.layers import LAYERS, validate_layer
from gridmap.io.options import ImportOptions, Prepared, column
from gridmap.io.overlaps import overlaps_within, stored_overlaps
from gridmap.io.problems import Problems
from gridmap.io.read import read_features
from gridmap.standards import PERSONS_PER_HOUSEHOLD
from gridmap.units.residents import estimate_residents, not_residential, residential_note


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote, and what it repaired or noticed on the way."""

    layer: str
    rows: int
    repairs: list[str]
    notes: list[str] = field(default_factory=list)
    codes: frozenset[str] = frozenset()
    """The codes the file gave (for layers with codes)."""


def import_file(
    connection: Connection, layer: str, path: Path, options: ImportOptions | None = None
) -> ImportResult:
    """Import ``path`` as ``layer`` (regions, units, buildings, grids, stations, events, overlays).

    Raises
    ------
    InvalidInput
        Listing the first 20 problems, when the file has any; nothing is written then.
    """
    options = options or ImportOptions()
    spec = LAYERS[layer]
    problems = Problems(path.name)
    frame = read_features(
        path,
        problems=problems,
        crs=options.crs,
        field_map=options.field_map,
        extent=import_rows.city_extent(connection),
        encoding=options.encoding,
    )
    validated = validate_layer(frame, spec, problems=problems, fix=options.fix)
    prepare = _PREPARERS[layer]
    write, notes = prepare(connection, validated.frame, problems, options)
    problems.raise_if_any()
    given = validated.frame["code"].dropna() if "code" in validated.frame.columns else []
    return ImportResult(
        layer,
        write(connection),
        validated.repairs,
        [*problems.notes, *notes],
        frozenset(map(str, given)),
    )


def _regions(
    connection: Connection, frame: gpd.GeoDataFrame, problems: Problems, options: ImportOptions
) -> Prepared:
    labels = frame["label"].to_numpy()
    code = column(frame, "code").fillna("").astype(str)
    street12 = (code.str.len() == 12) & code.str.endswith("000")
    code = code.where(~street12, code.str[:9])  # a street's 12-digit form → its 9-digit code
    n = code.str.len()
    inferred = pd.Series(
        np.select(
            [n == 12, n == 9, (n == 6) & code.str.endswith("00")],
            ["community", "street", "city"],
            "district",
        ),
        index=frame.index,
    )
    given = column(frame, "level")
    clash = given.notna() & (given != inferred) & (n > 0)
    problems.add_where(
        labels,
        clash.to_numpy(),
        [
            f"level {g!r} does not fit code {c!r}, which is a {i}'s code"
            for g, c, i in zip(given[clash], code[clash], inferred[clash], strict=True)
        ],
    )
    parent = pd.Series(
        np.select(
            [inferred == "community", inferred == "street", inferred == "district"],
            [code.str[:9], code.str[:6], code.str[:4] + "00"],
            "",
        ),
        index=frame.index,
    )
    known = set(code) | set(import_rows.regions_by_code(connection).index)
    orphan = inferred.isin(["community", "street"]) & ~parent.isin(known) & (n > 0)
    problems.add_where(
        labels,
        orphan.to_numpy(),
        [
            f"{lvl} {c}: its parent {p} is in neither the file nor the database"
            for lvl, c, p in zip(inferred[orphan], code[orphan], parent[orphan], strict=True)
        ],
    )
    parent = parent.where(parent.isin(known), None)
    rows = pd.DataFrame(
        {
            "code": code,
            "name": column(frame, "name"),
            "level": inferred,
            "geometry": frame.geometry.values,
        }
    )
    return (
        lambda c: import_rows.upsert_regions(
            c, rows, pd.Series(parent.to_numpy(), index=code.to_numpy())
        ),
        ["run `gridmap units build --replace` to cut units inside the imported communities"],
    )


def _stations(
    connection: Connection, frame: gpd.GeoDataFrame, problems: Problems, options: ImportOptions
) -> Prepared:
    services = column(frame, "services").map(
        lambda v: (
            [s.strip() for s in re.split(r"[,;|、，；]", v) if s.strip()]
            if isinstance(v, str)
            else []
        )
    )
    rows = pd.DataFrame(
        {
            "code": column(frame, "code"),
            "name": column(frame, "name"),
            "kind": column(frame, "kind").fillna("station"),
            "services": services.map(_pg_array),
            "capacity_residents": pd.array(
                pd.to_numeric(column(frame, "capacity_residents")).round(), dtype="Int64"
            ),
            **{name: _text_or_none(column(frame, name)) for name in STATION_CONTACTS},
            "geometry": frame.geometry.values,
        }
    )
    return lambda c: import_rows.upsert_stations(c, rows), []


def _events(
    connection: Connection, frame: gpd.GeoDataFrame, problems: Problems, options: ImportOptions
) -> Prepared:
    rows = pd.DataFrame(
        {
            "external_id": column(frame, "external_id"),
            "kind": column(frame, "kind"),
            "occurred_at": column(frame, "occurred_at"),
            "status": column(frame, "status").fillna("open"),
            "address": column(frame, "address"),
            "geometry": frame.geometry.values,
        }
    )
    notes = ["each unit's governance load recounted"]
    placeless = shapely.is_missing(np.asarray(frame.geometry.values, dtype=object))
    if placeless.any():
        listed = frame["label"].to_numpy()[placeless]
        shown = ", ".join(listed[:PLACELESS_LISTED]) + (
            ", …" if len(listed) > PLACELESS_LISTED else ""
        )
        notes.append(
            f"{len(listed)} without coordinates, kept with their address and counted in their "
            f"months, not on the map: {shown}"
        )
    return lambda c: import_rows.upsert_events(c, rows), notes


def _overlays(
    connection: Connection, frame: gpd.GeoDataFrame, problems: Problems, options: ImportOptions
) -> Prepared:
    rows = pd.DataFrame(
        {
            "net": column(frame, "net"),
            "code": column(frame, "code"),
            "name": column(frame, "name").fillna(column(frame, "code")),
            "geometry": frame.geometry.values,
        }
    )
    return lambda c: import_rows.upsert_overlays(c, rows), []


def _buildings(
    connection: Connection, frame: gpd.GeoDataFrame, problems: Problems, options: ImportOptions
) -> Prepared:
    labels = frame["label"].to_numpy()
    osm_id = pd.to_numeric(column(frame, "osm_id"), errors="coerce")
    bad_id = column(frame, "osm_id").notna() & (osm_id.isna() | (osm_id != osm_id.round()))
    problems.add_where(labels, bad_id.to_numpy(), "osm_id is not a whole number")
    building_type = column(frame, "building_type")
    if "building_type" not in frame.columns and "type" in frame.columns:
        building_type = frame["type"]
    levels = pd.to_numeric(column(frame, "levels"), errors="coerce")
    residents = pd.to_numeric(column(frame, "residents"), errors="coerce")
    households = pd.to_numeric(column(frame, "households"), errors="coerce")
    residents = residents.fillna((households * PERSONS_PER_HOUSEHOLD).round())
    households = households.fillna((residents / PERSONS_PER_HOUSEHOLD).round())
    imported = residents.notna()
    geoms = frame.geometry
    present = geoms.notna() & ~geoms.is_empty
    if present.any():
        footprint = geoms.to_crs(metric_crs_of(geoms[present].values)).area.fillna(0.0)
        kinds = building_type.fillna("yes").astype(str).to_numpy()
        uses = column(frame, "use").to_numpy()
        est_r, est_h = estimate_residents(
            footprint.to_numpy(),
            levels.to_numpy(dtype=float),
            kinds,
            options.resident_model,
            uses,
        )
        estimated = ~imported.to_numpy()
        reasons = not_residential(
            footprint.to_numpy()[estimated],
            levels.to_numpy(dtype=float)[estimated],
            kinds[estimated],
            uses[estimated],
            options.resident_model,
        )
        residents = residents.fillna(pd.Series(est_r, index=frame.index))
        households = households.fillna(pd.Series(est_h, index=frame.index))
    rows = pd.DataFrame(
        {
            "osm_id": pd.array(osm_id.where(~bad_id), dtype="Int64"),
            "building_type": building_type,
            "levels": pd.array(levels.round(), dtype="Int64"),
            "residents": pd.array(residents.fillna(0).round(), dtype="Int64"),
            "households": pd.array(households.fillna(0).round(), dtype="Int64"),
            "source": np.where(imported, "imported", "estimated"),
            "geometry": frame.geometry.values,
        }
    )
    note = f"{int(imported.sum())} with counts from the file, {int((~imported).sum())} estimated"
    overlaps_within(frame, problems, "building")
    replaced = stored_overlaps(
        connection,
        "building",
        frame,
        pd.Series(rows["osm_id"].astype(object)),
        key_column="osm_id",
        problems=problems,
        replace=options.replace,
    )

    def write(connection: Connection) -> int:
        import_rows.delete_buildings(connection, replaced)
        return import_rows.upsert_buildings(connection, rows)

    notes = [note] + ([f"{len(replaced)} stored buildings replaced"] if replaced else [])
    if present.any() and (~imported).any():
        notes.append(f"of those estimated: {residential_note(reasons)}")
    return write, notes


STATION_CONTACTS = ("address", "opening_hours", "phone")
PLACELESS_LISTED = 20
"""How many tickets without coordinates an import names (it counts them all)."""
"""A station's free-text contacts, as its notice board writes them."""


def _text_or_none(values: pd.Series) -> pd.Series:
    """Return trimmed text, with blank cells as None."""
    text = values.map(lambda v: str(v).strip() if isinstance(v, str) or pd.notna(v) else "")
    return text.astype(object).mask(text == "", None)


def _pg_array(values: list[str]) -> str:
    """Return a PostgreSQL text[] literal for COPY."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


_PREPARERS: dict[
    str, Callable[[Connection, gpd.GeoDataFrame, Problems, ImportOptions], Prepared]
] = {
    "regions": _regions,
    "units": unit_import.prepare_units,
    "buildings": _buildings,
    "grids": unit_import.prepare_grids,
    "stations": _stations,
    "events": _events,
    "overlays": _overlays,
}
