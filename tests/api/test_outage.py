"""The service follows its database: down, up again, even on another port, with no restart.

The API runs on the embedded default (no ``DATABASE_URL``) over real HTTP, on a cluster of
its own that the test stops and starts as ``gridmap db down`` and ``gridmap db up`` do.
"""

from __future__ import annotations

import logging
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2 as httpx
import pytest

from api.main import create_app
from gridmap.auth.keys import create_key
from gridmap.config import Settings
from gridmap.db import migrate
from gridmap.db.engine import make_engine
from gridmap.db.local import LocalCluster
from tests.api.conftest import serving
from tests.conftest import make_temp_root, start_cluster


@dataclass
class Running:
    cluster: LocalCluster
    base: str
    key: str  # never used before the outage: its lookup meets the database away


@pytest.fixture(scope="module")
def running() -> Iterator[Running]:
    root = make_temp_root("gridmap-outage-")
    cluster = start_cluster(root)
    engine = make_engine(cluster.url())
    migrate.upgrade(engine)
    with engine.begin() as connection:
        key = create_key(connection, name="停机", role="viewer").secret
    engine.dispose()
    settings = Settings(state_dir=root, public_read=True, job_workers=1)
    assert settings.cluster_dir == cluster.cluster_dir
    try:
        with serving(create_app(settings)) as base:
            yield Running(cluster, base, key)
    finally:
        cluster.down()
        shutil.rmtree(root, ignore_errors=True)


PATHS = (
    "/health",
    "/collections/regions/items",
    "/tiles/gridmap/14/9326/4740.mvt",
    "/tiles/basemap.json",
    "/plans",
)


def answers(base: str) -> dict[str, httpx.Response]:
    with httpx.Client(base_url=base, timeout=30) as client:
        return {path: client.get(path) for path in PATHS}


def wait_healthy(base: str, seconds: float = 20) -> float:
    started = time.monotonic()
    while True:
        with httpx.Client(base_url=base, timeout=10) as client:
            if client.get("/health").status_code == 200:
                return time.monotonic() - started
        assert time.monotonic() - started < seconds, "the API did not follow its database"
        time.sleep(0.2)


def test_down_is_a_503_everywhere_logged_once_and_up_again_needs_no_restart(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    assert answers(running.base)["/health"].status_code == 200
    port = running.cluster.status().port
    caplog.set_level(logging.INFO, logger="gridmap.database")
    running.cluster.down()
    for _ in range(3):  # a burst of requests in the outage
        for path, answer in answers(running.base).items():
            if path == "/plans":
                assert answer.status_code in (401, 503), answer.text
                continue
            assert answer.status_code == 503, (path, answer.status_code, answer.text)
            assert answer.headers["content-type"] == "application/problem+json", path
            assert answer.headers["retry-after"] == "5", path
            assert "cannot be reached" in answer.json()["detail"], path
    with httpx.Client(base_url=running.base, timeout=30) as client:
        looked_up = client.get(
            "/collections/regions/items", headers={"Authorization": f"Bearer {running.key}"}
        )
    assert looked_up.status_code == 503 and looked_up.headers["retry-after"] == "5"
    running.cluster.up()
    assert running.cluster.status().port == port  # the same port: nothing held it
    wait_healthy(running.base)
    assert answers(running.base)["/collections/regions/items"].status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "gridmap.database"]
    assert sum("unreachable" in line for line in lines) == 1, lines
    assert sum("reachable again" in line for line in lines) == 1, lines
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the log"


def test_a_cluster_that_had_to_move_port_is_followed(running: Running) -> None:
    old = running.cluster.status().port
    running.cluster.down()
    with socket.socket() as squatter:  # someone else takes the port meanwhile
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME-WAIT
        squatter.bind(("127.0.0.1", old))
        squatter.listen()
        running.cluster.up()
        new = running.cluster.status().port
        assert new != old
        wait_healthy(running.base)
        assert answers(running.base)["/tiles/gridmap/14/9326/4740.mvt"].status_code in (200, 204)
