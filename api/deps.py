"""Dependencies shared by the routes: settings, the engine, a connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from pydantic import Field
from sqlalchemy import Connection, Engine

from gridmap.config import Settings
from gridmap.coverage.engine import LIMITS, CoverageParameters
from gridmap.errors import InvalidInput


async def get_app_settings(request: Request) -> Settings:
    """Return the settings the app was built with.

    Dependencies that do no I/O are ``async``: FastAPI runs a plain one in its thread pool,
    a hop that costs more than a cold tile's whole Python work.
    """
    return request.app.state.settings


async def get_engine(request: Request) -> Engine:
    """Return the app's engine."""
    return request.app.state.engine


def get_connection(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Connection]:
    """Yield a connection for one request (a database that cannot be reached is a 503)."""
    with engine.connect() as connection:
        yield connection


MAX_ID = 2**31 - 1
"""Largest id a path or query parameter takes: PostgreSQL's integer."""
PlanId = Annotated[int, Path(ge=1, le=MAX_ID, description="A plan's id")]
JobId = Annotated[int, Path(ge=1, le=MAX_ID, description="A job's id")]

SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ConnectionDep = Annotated[Connection, Depends(get_connection)]
EngineDep = Annotated[Engine, Depends(get_engine)]

_WALK_HELP = {
    "minutes": "The walking budget in minutes",
    "speed_m_per_min": "Walking speed, metres a minute",
    "max_snap_m": "Buildings farther than this from every walkway are unreachable, metres",
}


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """Return ``west,south,east,north`` read from a ``bbox`` parameter (heights, if 6, dropped).

    Raises
    ------
    InvalidInput
        Naming ``bbox``, when it is not four (or six) numbers.
    """
    try:
        numbers = [float(p) for p in text.split(",")]
    except ValueError:
        raise InvalidInput(f"bbox: {text[:80]!r} is not four numbers") from None
    if len(numbers) == 6:  # with heights: drop them
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4:
        raise InvalidInput(f"bbox: expected 4 numbers (west,south,east,north), got {len(numbers)}")
    return numbers[0], numbers[1], numbers[2], numbers[3]


def walk_field(name: str) -> Any:
    """Return a body field for a walking parameter, with the engine's own default and limits."""
    low, high = LIMITS[name]
    default = getattr(CoverageParameters(), name)
    return Field(default=default, gt=low, le=high, description=_WALK_HELP[name])
