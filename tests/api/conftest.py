"""Apps on the session's PostGIS, built with explicit settings.

``client`` serves the session database (empty city). ``served`` is the demo city committed to
a database of its own, built once per session, with a key for each role; tests that change it
undo what they change.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy import Engine, text

from api.main import create_app
from gridmap.auth.keys import create_key
from gridmap.config import Settings
from gridmap.db import migrate
from gridmap.db.engine import make_engine
from gridmap.db.local import LocalCluster
from gridmap.demo import build_demo_city
from tests.conftest import AttachedCluster

SERVED = "gridmap_served"


@pytest.fixture
def client(cluster: LocalCluster, engine: Engine) -> Iterator[TestClient]:
    """A client of the app on the migrated session database, readable without a key."""
    app = create_app(Settings(database_url=cluster.url(), public_read=True, job_workers=0))
    with TestClient(app) as client:
        yield client


@dataclass(frozen=True)
class Served:
    """The demo city in its own database, and keys to read and change it."""

    url: str
    engine: Engine
    keys: dict[str, str]  # viewer, planner, admin, embed (a community), other_embed
    community: str  # the code the embed key is held to
    database: str  # its name in the cluster

    def settings(self, **overrides: object) -> Settings:
        """The app's settings: no job worker unless asked (``job_workers=1``)."""
        overrides.setdefault("job_workers", 0)
        return Settings(database_url=self.url, **overrides)  # type: ignore[arg-type]

    def clear_jobs(self) -> None:
        """Stop every job a test left queued or running, so that no later app runs it."""
        with self.engine.begin() as connection:
            connection.execute(
                text(
                    "UPDATE job SET status = 'cancelled', error = 'left by a test', "
                    "finished_at = now() WHERE status IN ('queued', 'running')"
                )
            )
            connection.execute(text("SET LOCAL search_path TO procrastinate, public"))
            connection.execute(text("DELETE FROM procrastinate_jobs WHERE status = 'todo'"))

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}


def build_served_city(url: str) -> None:
    """Migrate the database at ``url`` and commit the demo city to it (no keys)."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with engine.begin() as connection:
            build_demo_city(connection, author="test")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def served(cluster: LocalCluster) -> Iterator[Served]:
    """Helsinki imported, with units, stations, a current plan and a coverage run."""
    if isinstance(cluster, AttachedCluster):  # a copy of the city the first session built
        database = f"{cluster.own}_served"
        cluster.copy(database, "gridmap_served_template", build_served_city)
    else:
        database = SERVED
        admin = cluster.url(driver=None, database="postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(database)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        build_served_city(cluster.url(database=database))
    url = cluster.url(database=database)
    engine = make_engine(url)
    with engine.begin() as connection:
        communities = (
            connection.exec_driver_sql(
                "SELECT code FROM region WHERE level = 'community' ORDER BY code"
            )
            .scalars()
            .all()
        )
        keys = {
            role: create_key(connection, name=role, role=role).secret
            for role in ("viewer", "planner", "admin")
        }
        keys["embed"] = create_key(
            connection, name="portal", role="viewer", region_code=communities[0], embed=True
        ).secret
    try:
        yield Served(url, engine, keys, communities[0], database)
    finally:
        engine.dispose()
        if isinstance(cluster, AttachedCluster):
            cluster.drop(database)


@pytest.fixture(scope="module")
def api(served: Served) -> Iterator[TestClient]:
    """A client of the app on the served city (keys required)."""
    with TestClient(create_app(served.settings(job_workers=1))) as client:
        yield client
    served.clear_jobs()


@dataclass(frozen=True)
class Live:
    """An app served over real HTTP on loopback."""

    base: str
    served: Served


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` over HTTP in a thread, on a port the kernel picks; yield its base URL."""
    import threading
    import time

    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def live(served: Served) -> Iterator[Live]:
    """The served city over HTTP (uvicorn in a thread), for GIS clients and concurrency."""
    with serving(create_app(served.settings(job_workers=1))) as base:
        yield Live(base, served)
    served.clear_jobs()
