"""Hotline (12345) tickets: a grid's months, the areas that stand out, before and after a change.

A key held to a region sees its region's areas only, measured against its region (not the
city): no figure of the rest of the city leaves through it.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel

from api.auth import Viewer
from api.deps import ConnectionDep, parse_bbox
from gridmap.db.coverage import region_prefix
from gridmap.db.tickets import kind_counts
from gridmap.errors import Forbidden, InvalidInput
from gridmap.standards import HOTSPOT_PERCENTILE
from gridmap.tickets.bins import BINS_MAXZOOM
from gridmap.tickets.service import (
    MAX_MONTHS,
    compare_before_after,
    grid_months,
    hotspot_list,
    ticket_filter,
    ticket_hexagons,
)

router = APIRouter(prefix="/tickets", tags=["Tickets"])
GridCode = Annotated[str, PathParam(pattern="^[0-9]{15}$", description="A grid's 15-digit code")]
Kinds = Annotated[
    list[str] | None,
    Query(max_length=50, description="Ticket kinds (诉求类型) to count; repeat it (default all)"),
]
Since = Annotated[date | None, Query(description="The first day counted (Beijing time)")]
Until = Annotated[date | None, Query(description="The day after the last one counted")]


class Month(BaseModel):
    """A grid's tickets in one month."""

    month: str
    tickets: int
    per_1000_households: float | None
    by_kind: dict[str, int]


class GridTickets(BaseModel):
    """A grid's tickets by month and by kind, per 1,000 households."""

    grid: str
    name: str | None
    households: int
    tickets: int
    per_1000_households: float | None
    by_kind: dict[str, int]
    months: list[Month]


class Hotspot(BaseModel):
    """An area whose ticket rate stands out."""

    code: str
    name: str | None
    tickets: int
    households: int
    per_1000_households: float | None


class Hotspots(BaseModel):
    """The areas that stand out, the statistic and its threshold."""

    level: str
    reference: str
    statistic: str
    percentile: float
    threshold: float | None
    areas: int
    tickets: int
    hotspots: list[Hotspot]
    unplaced: dict[str, int] | None


class Side(BaseModel):
    """Tickets per month on one side of a change, and their sum."""

    months: dict[str, int]
    tickets: int


class BeforeAfter(BaseModel):
    """The grids' tickets before and after the month of a change, beside the reference's."""

    grids: list[str]
    date: str
    month: str
    reference: str
    before: Side
    after: Side
    change: float | None
    reference_before: Side
    reference_after: Side
    reference_change: float | None
    against_reference: float | None


def _prefix(connection: Any, who: Any) -> str:
    return "" if who.region_id is None else region_prefix(connection, who.region_id)


def _held(codes: list[str], prefix: str) -> None:
    outside = [c for c in codes if not c.startswith(prefix)]
    if outside:
        raise Forbidden(f"grid: this key is held to region {prefix}, not {', '.join(outside)}")


@router.get("/grids/{code}", name="grid_tickets", response_model=GridTickets)
def grid_tickets(
    code: GridCode,
    connection: ConnectionDep,
    who: Viewer,
    kind: Kinds = None,
    since: Since = None,
    until: Until = None,
) -> dict[str, Any]:
    """Return a grid's tickets (current plan) by month and by kind, per 1,000 households."""
    _held([code], _prefix(connection, who))
    return grid_months(connection, code, ticket_filter(kind, since, until))


@router.get("/hotspots", name="ticket_hotspots", response_model=Hotspots)
def ticket_hotspots(
    connection: ConnectionDep,
    who: Viewer,
    level: Annotated[str, Query(pattern="^(grid|unit)$", description="grid or unit")] = "grid",
    kind: Kinds = None,
    since: Since = None,
    until: Until = None,
    percentile: Annotated[
        float, Query(ge=50, le=99.9, description="The percentile of rates to stand above")
    ] = HOTSPOT_PERCENTILE,
) -> dict[str, Any]:
    """Return the grids or units whose tickets per 1,000 households stand out."""
    prefix = _prefix(connection, who)
    return hotspot_list(
        connection, level, ticket_filter(kind, since, until), prefix=prefix, percentile=percentile
    )


class Kind(BaseModel):
    """A ticket kind and how many tickets it has."""

    kind: str
    tickets: int


@router.get("/kinds", name="ticket_kinds", response_model=list[Kind])
def ticket_kinds(
    connection: ConnectionDep,
    who: Viewer,
    since: Since = None,
    until: Until = None,
) -> list[dict[str, Any]]:
    """Return the ticket kinds with their counts, most first (the key's region's, if held)."""
    counts = kind_counts(
        connection, ticket_filter(None, since, until), prefix=_prefix(connection, who)
    )
    return [{"kind": str(k), "tickets": int(n)} for k, n in counts.items()]


@router.get("/before-after", name="tickets_before_after", response_model=BeforeAfter)
def tickets_before_after(
    connection: ConnectionDep,
    who: Viewer,
    grid: Annotated[
        list[str], Query(min_length=1, max_length=200, description="Grid codes; repeat it")
    ],
    date_: Annotated[date, Query(alias="date", description="The day of the change")],
    months: Annotated[int, Query(ge=1, le=MAX_MONTHS, description="Months on each side")] = 6,
    kind: Kinds = None,
) -> dict[str, Any]:
    """Return the grids' tickets in the months before and after a change, beside the trend."""
    bad = [c for c in grid if not (len(c) == 15 and c.isdigit())]
    if bad:
        raise InvalidInput(f"grid: {', '.join(bad[:5])} is not a 15-digit grid code")
    prefix = _prefix(connection, who)
    _held(grid, prefix)
    return compare_before_after(
        connection, grid, date_, months, tuple(kind) if kind else None, prefix=prefix
    )


class Hexagons(BaseModel):
    """Hexagons with their tickets (a GeoJSON FeatureCollection), their zoom and size."""

    type: str
    zoom: int
    size_m: float
    tickets: int
    features: list[dict[str, Any]]


@router.get(
    "/hexagons",
    name="ticket_hexagons",
    response_model=Hexagons,
    responses={200: {"content": {"application/geo+json": {}}}},
)
def hexagons(
    connection: ConnectionDep,
    who: Viewer,
    bbox: Annotated[str, Query(max_length=200, description="west,south,east,north in degrees")],
    zoom: Annotated[
        int, Query(ge=0, le=BINS_MAXZOOM, description="The map's zoom: the hexagons' size")
    ],
    kind: Kinds = None,
    since: Since = None,
    until: Until = None,
) -> Response:
    """Return the tickets counted in hexagons over ``bbox`` (the map below zoom 15).

    The hexagons are 18 screen pixels from centre to corner at ``zoom``; a key held to a
    region counts its region's tickets only. An embed reads no ticket places, these neither.
    """
    if who.embed:
        raise Forbidden("an embed does not read ticket places: hotline tickets are the city's own")
    body = ticket_hexagons(
        connection,
        parse_bbox(bbox),
        zoom,
        ticket_filter(kind, since, until),
        prefix=_prefix(connection, who),
    )
    return Response(body, media_type="application/geo+json")
