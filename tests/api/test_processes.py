"""The API as it scales out: `gridmap serve --workers 2` with no job worker of its own, and a
separate `gridmap worker` process, all on the demo city, driven over real HTTP.

What one process started, remembered or cached, every other process must see: jobs started
through one process and followed through the other, run by the separate worker; edits and
accepts with their revisions; tiles of the accepted plan; a revoked key refused by both. And
every API test that speaks HTTP alone (``api`` and ``served``: features, plans and jobs,
reports, scope, tiles, the web map's API) runs again here, against this deployment.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import mapbox_vector_tile
import pytest
from sqlalchemy import text

from gridmap.auth.keys import create_key
from tests.api.conftest import Served
from tests.api.test_tiles import CENTRE, tile_of

ADJUST = {"mode": "adjust", "max": 490, "target": 400}  # not test_plans' bounds: it runs here too


@dataclass(frozen=True)
class Deployment:
    base: str
    served: Served
    server: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def deployment(served: Served, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    gridmap = str(Path(sys.executable).with_name("gridmap"))
    logs = tmp_path_factory.mktemp("processes")
    environment = {**os.environ, "DATABASE_URL": served.url}
    port = _free_port()
    server = subprocess.Popen(
        [gridmap, "serve", "--port", str(port), "--workers", "2", "--job-workers", "0"],
        env=environment,
        stdout=(logs / "serve.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [gridmap, "worker", "--name", "separate"],
        env=environment,
        stdout=(logs / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # two worker processes importing the app on a busy machine
    try:  # the processes are stopped even when they never came up
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (logs / "serve.log").read_text()
            assert server.poll() is None, (logs / "serve.log").read_text()
            time.sleep(0.2)
        yield Deployment(base, served, server, worker)
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        served.clear_jobs()


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def wait_job(client: httpx.Client, served: Served, job: int, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        answer = client.get(f"/jobs/{job}", headers=served.headers("viewer"))
        assert answer.status_code == 200, answer.text  # whichever process answers
        body = answer.json()
        if body["status"] not in ("queued", "running"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def test_two_api_processes_and_a_separate_worker_run_a_plan_to_acceptance(
    deployment: Deployment,
) -> None:
    served = deployment.served
    assert len(_children(deployment.server.pid)) >= 2  # uvicorn's two serving processes
    planner, admin = served.headers("planner"), served.headers("admin")
    with httpx.Client(base_url=deployment.base, timeout=120) as client:
        made = client.post("/plans", json={"name": "多进程", "source": "current"}, headers=planner)
        assert made.status_code == 201, made.text
        plan = made.json()["id"]
        started = client.post("/jobs/partition", json={"plan": plan, **ADJUST}, headers=planner)
        assert started.status_code == 202, started.text
        job = started.json()["id"]
        for _ in range(10):  # every process answers for the job at once
            assert client.get(f"/jobs/{job}", headers=planner).status_code == 200
        done = wait_job(client, served, job)
        assert done["status"] == "succeeded", done
        with served.engine.connect() as connection:
            ran_on = connection.execute(
                text("SELECT worker FROM job WHERE id = :j"), {"j": job}
            ).scalar_one()
        assert ran_on.endswith(f":{deployment.worker.pid}"), ran_on
        revision = done["result"]["revision"]
        grids = client.get(f"/plans/{plan}/grids", headers=planner).json()
        renamed = client.patch(
            f"/plans/{plan}",
            json={"name": "多进程·改"},
            headers={**planner, "If-Match": f'"{revision}"'},
        )
        assert renamed.status_code == 200 and renamed.headers["etag"] == f'"{revision + 1}"'
        stale = client.post(f"/plans/{plan}/accept", headers={**admin, "If-Match": f'"{revision}"'})
        assert stale.status_code == 412
        accepted = client.post(
            f"/plans/{plan}/accept", headers={**admin, "If-Match": renamed.headers["etag"]}
        )
        assert accepted.status_code == 200 and accepted.json()["status"] == "current"
        z, x, y = tile_of(*CENTRE, 14)
        codes = {g["code"] for g in grids}
        for _ in range(6):  # each process's tile cache follows the accept
            tile = client.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", headers=served.headers("viewer"))
            assert tile.status_code == 200
            layer = mapbox_vector_tile.decode(tile.content)["grids"]
            shown = {f["properties"]["code"] for f in layer["features"]}
            assert shown and shown <= codes


def test_a_coverage_job_runs_on_the_separate_worker(deployment: Deployment) -> None:
    served = deployment.served
    with httpx.Client(base_url=deployment.base, timeout=120) as client:
        started = client.post(
            "/jobs/coverage", json={"minutes": 5}, headers=served.headers("planner")
        )
        assert started.status_code == 202
        done = wait_job(client, served, started.json()["id"])
        assert done["status"] == "succeeded", done
        circles = client.get(
            "/collections/circles/items?limit=1", headers=served.headers("viewer")
        ).json()
        assert circles["features"][0]["properties"]["run"] == done["result"]["run"]


def test_a_revoked_key_is_refused_by_every_process_within_a_second(
    deployment: Deployment,
) -> None:
    served = deployment.served
    with served.engine.begin() as connection:
        key = create_key(connection, name="多进程撤销", role="viewer")
    bearer = {"Authorization": f"Bearer {key.secret}"}
    with httpx.Client(base_url=deployment.base, timeout=30) as client:
        for _ in range(8):  # remembered by both processes
            assert client.get("/collections/stations/items", headers=bearer).status_code == 200
        with served.engine.begin() as connection:
            connection.execute(
                text("UPDATE api_key SET revoked_at = now() WHERE id = :k"), {"k": key.id}
            )
        time.sleep(1.0)
        for _ in range(8):
            assert client.get("/collections/stations/items", headers=bearer).status_code == 401


def _api_tests() -> list[object]:
    """The API tests that speak HTTP only (``api`` and ``served``), from their modules."""
    import inspect

    from tests.api import test_features, test_plans, test_reports, test_scope, test_tiles, test_web

    # its adjustment expects units to move from the plan current when its module runs; once
    # that module accepted one, nothing moves (its flow is this module's first test)
    already = {"test_a_re_partition_runs_as_a_job_and_an_admin_accepts_it"}
    found = []
    for module in (test_features, test_plans, test_reports, test_scope, test_tiles, test_web):
        for name, function in sorted(vars(module).items()):
            if (
                name not in already
                and name.startswith("test_")
                and inspect.isfunction(function)
                and list(inspect.signature(function).parameters) == ["api", "served"]
            ):
                found.append(pytest.param(function, id=f"{module.__name__[10:]}::{name}"))
    return found


@pytest.mark.parametrize("api_test", _api_tests())
def test_the_api_tests_pass_against_two_processes_and_a_separate_worker(
    deployment: Deployment, api_test: Any
) -> None:
    with httpx.Client(base_url=deployment.base, timeout=120) as client:
        api_test(client, deployment.served)
