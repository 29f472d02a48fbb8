"""Dependencies shared by the routes: settings, the engine, a connection."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy import Connection, Engine

from gridmap.config import Settings


async def get_app_settings(request: Request) -> Settings:
    """Return the settings the app was built with.

    Dependencies that do no I/O are ``async``: FastAPI runs a plain one in its thread pool,
    a hop that costs more than a cold tile's whole Python work.
    """
    return request.app.state.settings  # type: ignore[no-any-return]


async def get_engine(request: Request) -> Engine:
    """Return the app's engine."""
    return request.app.state.engine  # type: ignore[no-any-return]


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
