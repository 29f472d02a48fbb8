"""Builds the FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy.engine import make_url

from api.auth import KeyCache
from api.cached_tiles import CachedTiles
from api.errors import add_exception_handlers
from api.jobs import Jobs
from api.limits import BodyLimit
from api.routes import ROUTERS, docs, web
from gridmap import __version__
from gridmap.config import Settings, get_settings
from gridmap.db.engine import database_url, make_engine
from gridmap.tiles.builder import SESSION, TileBuilder
from gridmap.tiles.cache import TileCache
from gridmap.tiles.revisions import Revisions
from gridmap.tiles.service import TileServer


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the gridmap API for ``settings`` (read from the environment when None)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = database_url(settings)
        engine = make_engine(url)
        app.state.engine = engine
        # tiles asked the long way (of a plan or a run, or while revisions are not known),
        # built on worker threads: many small statements at once, each best without parallel
        # workers, without a ping before each, outside a transaction (one statement needs no
        # BEGIN before it and no ROLLBACK when its connection goes back: two round trips a
        # tile), and on the connection used last (warm in the CPU's caches; others may idle)
        app.state.tile_engine = make_engine(
            url, connect_args={"options": SESSION},
            pool_size=settings.tile_workers,
            pool_pre_ping=False,  # a tile retries once on a dropped connection instead
            isolation_level="AUTOCOMMIT", pool_use_lifo=True,
        )  # fmt: skip
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        # plain tiles are built on the event loop, at most this many at once: more queries
        # than the cores can run only lengthen every one of them (on 2 cores, 4 at once
        # halved the p99 of 8 clients)
        app.state.tile_builder = TileBuilder(libpq, settings.tile_workers)
        revisions = Revisions(libpq)
        app.state.tiles = TileServer(TileCache(settings.tile_cache_mb * 2**20), revisions)
        app.state.jobs = Jobs()
        try:
            yield
        finally:
            app.state.jobs.shutdown()
            revisions.close()
            await app.state.tile_builder.close()
            app.state.tile_engine.dispose()
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
    app.state.keys = KeyCache()
    add_exception_handlers(app)
    app.add_middleware(CachedTiles)  # inside CORS and the body limit, before any routing
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["*"],
            allow_headers=["*"], expose_headers=["ETag", "Content-Crs", "Location"],
        )  # fmt: skip
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    for router in ROUTERS:
        app.include_router(router)
    docs.mount_assets(app)
    web.mount_assets(app)
    return app
