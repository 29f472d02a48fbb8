"""Builds the FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import add_exception_handlers
from api.routes import ROUTERS, docs
from gridmap import __version__
from gridmap.config import Settings, get_settings
from gridmap.db.engine import database_url, make_engine


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the gridmap API for ``settings`` (read from the environment when None)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(database_url(settings))
        app.state.engine = engine
        try:
            yield
        finally:
            engine.dispose()

    app = FastAPI(
        title="gridmap",
        summary="One map for the whole city: governance grids, units, stations and coverage.",
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,  # served by api.routes.docs, with the OGC media type
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    add_exception_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    docs.mount_assets(app)
    return app
