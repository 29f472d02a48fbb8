"""Stations (党群服务站): list them, remove one, or replace them all with a GeoJSON list (admin).

Each change is one transaction; a replacement with any problem in its features writes nothing
and answers 400 naming each feature. Keys held to a region cannot change the city's stations.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from api.auth import Admin, Planner
from api.deps import ConnectionDep, EngineDep
from api.schemas import Removed, Station, StationsReplaced
from gridmap.db.coverage import region_prefix
from gridmap.errors import Forbidden, NotFound
from gridmap.stations import (
    MAX_TEXT,
    edit_station,
    list_stations,
    remove_stations,
    replace_stations,
)

router = APIRouter(prefix="/stations", tags=["Stations"])
StationCode = Annotated[str, PathParam(min_length=1, max_length=64)]


def _city_wide(who: Any) -> None:
    if who.region_id is not None:
        raise Forbidden("stations are the whole city's: a key held to a region cannot change them")


def _plain(stations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**s, "services": list(s["services"] or [])} for s in stations]


@router.get("", name="stations", response_model=list[Station])
def stations(connection: ConnectionDep, who: Planner) -> list[dict[str, Any]]:
    """List every station with its community (a key held to a region: the region's)."""
    found = _plain(list_stations(connection))
    if who.region_id is not None:
        prefix = region_prefix(connection, who.region_id)
        found = [s for s in found if str(s["community"] or "").startswith(prefix)]
    return found


class StationEdit(BaseModel):
    """The fields to change; a field left out stays as it is, null or "" clears it."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=MAX_TEXT)
    address: str | None = Field(default=None, max_length=MAX_TEXT, examples=["建设路12号"])
    opening_hours: str | None = Field(
        default=None, max_length=MAX_TEXT, examples=["周一至周五 9:00-17:00"]
    )
    phone: str | None = Field(default=None, max_length=MAX_TEXT, examples=["028-8888 6666"])
    capacity_residents: int | None = Field(default=None, ge=1)


@router.patch("/{code}", name="edit_station", response_model=Station)
def edit(code: StationCode, body: StationEdit, engine: EngineDep, who: Admin) -> dict[str, Any]:
    """Change a station's name, address, opening hours, phone or capacity (admin).

    A key held to a region edits the stations inside its region only; the change is one
    transaction, and the duty cards and the stations collection show it at once.
    """
    with engine.begin() as connection:
        if who.region_id is not None:
            prefix = region_prefix(connection, who.region_id)
            mine = {
                s["code"]
                for s in list_stations(connection)
                if str(s["community"] or "").startswith(prefix)
            }
            if code not in mine:
                raise NotFound(f"no station {code} in this key's region")
        station = edit_station(connection, code, body.model_dump(exclude_unset=True))
    return _plain([station])[0]


@router.delete("/{code}", name="remove_station", response_model=Removed)
def remove_station(code: StationCode, engine: EngineDep, who: Admin) -> dict[str, Any]:
    """Remove one station (admin); the next coverage run counts without it."""
    _city_wide(who)
    with engine.begin() as connection:
        removed = remove_stations(connection, [code])
    return {"removed": removed}


@router.put("", name="replace_stations", response_model=StationsReplaced)
def replace_all(
    engine: EngineDep,
    who: Admin,
    collection: Annotated[
        dict[str, Any],
        Body(description="A GeoJSON FeatureCollection of points with code and name (编码, 名称)"),
    ],
) -> dict[str, Any]:
    """Make a GeoJSON FeatureCollection the whole list of stations (admin).

    Stations are matched by code: the collection's are written, every other one is removed.
    """
    _city_wide(who)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stations.geojson"
        path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
        with engine.begin() as connection:
            result, removed = replace_stations(connection, path)
    return {"stations": result.rows, "removed": removed, "notes": result.notes}
