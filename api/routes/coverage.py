"""Coverage questions answered at once, nothing saved.

What if stations were added, moved or closed, and where new stations would raise coverage most.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.auth import Planner
from api.deps import ConnectionDep, walk_field
from api.schemas import SitingAnswer, WhatIfAnswer
from gridmap.coverage.engine import CoverageParameters
from gridmap.coverage.station_planning import StationChanges, suggest_sites, whatif_answer

router = APIRouter(prefix="/coverage", tags=["Coverage"])

Lon = Field(ge=-180, le=180)
Lat = Field(ge=-90, le=90)


class Place(BaseModel):
    """A WGS 84 position."""

    lon: float = Lon
    lat: float = Lat


class StationMove(Place):
    """A station to move, by code, and where to."""

    code: str = Field(min_length=1, max_length=32)


class WhatIf(BaseModel):
    """Stations to add, move and close, and the walk to measure."""

    add: list[Place] = Field(default_factory=list, max_length=200)
    move: list[StationMove] = Field(default_factory=list, max_length=200)
    remove: list[str] = Field(default_factory=list, max_length=200)
    minutes: float = walk_field("minutes")
    speed_m_per_min: float = walk_field("speed_m_per_min")


class SitingAsk(BaseModel):
    """How many new stations (or the rate to reach) and where they may go."""

    k: int | None = Field(default=None, ge=1, le=500)
    target: float | None = Field(default=None, gt=0, le=1)
    candidates: str = Field(default="amenities", pattern="^(amenities|units)$")
    capacity: int | None = Field(default=None, ge=1)
    exact: bool = False
    minutes: float = walk_field("minutes")
    speed_m_per_min: float = walk_field("speed_m_per_min")


@router.post("/whatif", name="whatif", response_model=WhatIfAnswer)
def whatif(body: WhatIf, connection: ConnectionDep, who: Planner) -> dict[str, Any]:
    """Return the coverage rates now and with the stations changed as asked.

    A key held to a region changes stations inside it only, and gets its region's figures.
    """
    added = [(p.lon, p.lat) for p in body.add]
    moved = [(m.code, m.lon, m.lat) for m in body.move]
    changes = StationChanges(added, moved, list(body.remove))
    return whatif_answer(
        connection,
        CoverageParameters(body.minutes, body.speed_m_per_min),
        changes,
        within=who.region_id,
    )


@router.post("/siting", name="siting", response_model=SitingAnswer)
def siting(body: SitingAsk, connection: ConnectionDep, who: Planner) -> dict[str, Any]:
    """Suggest new stations: ``k`` of them, or the fewest that reach ``target``.

    A key held to a region gets sites inside it, chosen for its residents, and its rates.
    """
    report = suggest_sites(
        connection,
        CoverageParameters(body.minutes, body.speed_m_per_min),
        k=body.k,
        target_rate=body.target,
        candidates=body.candidates,
        capacity=body.capacity,
        solve_exactly=body.exact,
        within=who.region_id,
        residents_within=who.region_id,
    )
    sites = [
        {
            "label": str(r.label),
            "name": None if r.name is None else str(r.name),
            "lon": float(r.lon),
            "lat": float(r.lat),
            "gain": int(r.gain),
        }
        for r in report.sites.itertuples()
    ]
    return {
        "before_rate": report.before_rate,
        "after_rate": report.greedy.rate,
        "target_reached": report.target_reached,
        "sites": sites,
        "exact_rate": None if report.exact is None else report.exact.rate,
        "note": report.note,
    }
