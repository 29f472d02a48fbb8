"""Builds the FastAPI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import event

from api import logs
from api.auth import KeyCache
from api.cached_tiles import CachedTiles
from api.errors import add_exception_handlers
from api.limits import BodyLimit
from api.routes import ROUTERS, docs, web
from gridmap import __version__
from gridmap.config import Settings, get_settings
from gridmap.db.address import DatabaseAddress
from gridmap.db.engine import make_engine
from gridmap.db.outage import Outage
from gridmap.jobs.queue import JobQueue
from gridmap.jobs.worker import WorkerThread
from gridmap.tiles.builder import SESSION, TileBuilder
from gridmap.tiles.cache import TileCache
from gridmap.tiles.refresher import StaleTiles
from gridmap.tiles.revisions import Revisions
from gridmap.tiles.service import TileServer


def create_app(settings: Settings | None = None) -> FastAPI:
    """Return the gridmap API for ``settings`` (read from the environment when None)."""
    settings = settings or get_settings()
    logs.install()  # no key in the access log

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        address = DatabaseAddress(settings)  # follows the embedded cluster if it moves
        outage: Outage = app.state.outage
        engine = make_engine(address.url(), follow=address.connect_arguments)
        event.listen(engine, "connect", lambda *_: outage.up())
        app.state.engine = engine
        # tiles asked the long way (of a plan or a run, or while revisions are not known),
        # built on worker threads: many small statements at once, each best without parallel
        # workers, without a ping before each, outside a transaction (one statement needs no
        # BEGIN before it and no ROLLBACK when its connection goes back: two round trips a
        # tile), and on the connection used last (warm in the CPU's caches; others may idle)
        app.state.tile_engine = make_engine(
            address.url(),
            follow=address.connect_arguments,
            connect_args={"options": SESSION},
            pool_size=settings.tile_workers,
            pool_pre_ping=False,  # a tile retries once on a dropped connection instead
            isolation_level="AUTOCOMMIT",
            pool_use_lifo=True,
        )
        # plain tiles are built on the event loop, at most this many at once: more queries
        # than the cores can run only lengthen every one of them (on 2 cores, 4 at once
        # halved the p99 of 8 clients)
        app.state.tile_builder = TileBuilder(
            address.libpq, settings.tile_workers, on_connect=outage.up
        )
        # when the database goes away, every pooled connection goes stale with it
        outage.on_down[:] = [
            engine.dispose,
            app.state.tile_engine.dispose,
            app.state.tile_builder.forget,
        ]
        keys: KeyCache = app.state.keys
        revisions = Revisions(address.libpq, on_keys=keys.clear, on_connect=outage.up)
        revisions.follow_commits(engine)  # this process's own writes count at once
        keys.hearing = lambda: revisions.listening
        app.state.tiles = TileServer(
            TileCache(settings.tile_cache_mb * 2**20), revisions, settings.tile_store_mb * 2**20
        )
        stale = StaleTiles(app.state.tile_engine, app.state.tiles)
        if settings.tile_store_mb:
            stale.start()
        app.state.job_queue = JobQueue(address.libpq)
        worker = None
        if settings.job_workers:  # plain `gridmap serve` and the demo need no worker of their own
            worker = WorkerThread(address, concurrency=settings.job_workers)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            stale.stop()
            app.state.job_queue.close()
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
    app.state.outage = Outage()
    add_exception_handlers(app)
    app.add_middleware(CachedTiles)  # inside CORS and the body limit, before any routing
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["ETag", "Content-Crs", "Location"],
        )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)

    for router in ROUTERS:
        app.include_router(router)
    docs.mount_assets(app)
    web.mount_assets(app)
    return app
