"""Jobs kept in PostgreSQL: no edit lost to a job, restarts, dead workers, cancellation, scope.

Jobs are made to wait where a test needs them waiting: with no worker running they stay
queued; a re-partition that must be *running* is held where it reads the units, by a lock the
test takes on the ``unit`` table (starting a job never reads it), and let go by releasing it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, text

from api.main import create_app
from gridmap.auth.keys import create_key
from gridmap.db import jobs as job_rows
from gridmap.jobs import runner
from gridmap.jobs.worker import STALLED_SECONDS
from tests.api.conftest import Served

ADJUST = {"mode": "adjust", "max": 450, "target": 380}
HOLD_UNITS = "LOCK TABLE unit IN ACCESS EXCLUSIVE MODE"


def headers(served: Served, role: str) -> dict[str, str]:
    return served.headers(role)


def draft(api: TestClient, served: Served, name: str = "作业草案") -> tuple[int, int]:
    made = api.post(
        "/plans", json={"name": name, "source": "current"}, headers=headers(served, "planner")
    )
    assert made.status_code == 201, made.text
    return made.json()["id"], made.json()["revision"]


def job_status(served: Served, job_id: int) -> dict[str, Any]:
    with served.engine.connect() as connection:
        return dict(
            connection.execute(text("SELECT * FROM job WHERE id = :j"), {"j": job_id})
            .mappings()
            .one()
        )


def wait_for(served: Served, job_id: int, statuses: set[str], seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        row = job_status(served, job_id)
        if row["status"] in statuses:
            return row
        assert time.monotonic() < deadline, row
        time.sleep(0.05)


def content(served: Served, plan: int) -> list[tuple[int, str]]:
    with served.engine.connect() as connection:
        return [
            tuple(r)
            for r in connection.execute(
                text(
                    "SELECT a.unit_id, g.code FROM assignment a JOIN grid g ON g.id = a.grid_id "
                    "WHERE a.plan_id = :p ORDER BY a.unit_id"
                ),
                {"p": plan},
            ).all()
        ]


@contextmanager
def holding(served: Served, sql: str) -> Iterator[Connection]:
    """Hold a lock (taken by ``sql``) in an open transaction until the block ends."""
    with served.engine.connect() as connection:
        transaction = connection.begin()
        connection.execute(text(sql))
        try:
            yield connection
        finally:
            transaction.rollback()


@pytest.fixture(scope="module")
def idle(served: Served) -> Iterator[TestClient]:
    """The API with no job worker: jobs stay queued."""
    with TestClient(create_app(served.settings(job_workers=0))) as client:
        yield client
    served.clear_jobs()


def test_a_draft_with_a_job_on_it_refuses_every_write_naming_the_job(
    idle: TestClient, served: Served
) -> None:
    plan, revision = draft(idle, served)
    grids = idle.get(f"/plans/{plan}/grids", headers=headers(served, "viewer")).json()
    started = idle.post(
        "/jobs/partition", json={"plan": plan, **ADJUST}, headers=headers(served, "planner")
    )
    assert started.status_code == 202, started.text
    job = started.json()
    assert job["status"] == "queued" and job["base_revision"] == revision
    etag = {"If-Match": f'"{revision}"'}
    unit = next(iter(content(served, plan)))
    with served.engine.connect() as connection:
        unit_code = connection.execute(
            text("SELECT code FROM unit WHERE id = :u"), {"u": unit[0]}
        ).scalar_one()
    planner, admin = headers(served, "planner"), headers(served, "admin")
    answers = {
        "edit": idle.patch(
            f"/plans/{plan}",
            headers={**planner, **etag},
            json={"moves": [{"unit": unit_code, "grid": grids[0]["code"]}]},
        ),
        "rename": idle.patch(f"/plans/{plan}", headers={**planner, **etag}, json={"name": "x"}),
        "lock": idle.post(
            f"/plans/{plan}/locks", headers=planner, json={"grids": [grids[0]["code"]]}
        ),
        "accept": idle.post(f"/plans/{plan}/accept", headers={**admin, **etag}),
        "delete": idle.delete(f"/plans/{plan}", headers=planner),
        "second job": idle.post("/jobs/partition", json={"plan": plan}, headers=planner),
    }
    for what, answer in answers.items():
        assert answer.status_code == 409, (what, answer.text)
        problem = answer.json()
        assert answer.headers["content-type"] == "application/problem+json"
        assert problem["job"] == job["id"] and f"job {job['id']}" in problem["detail"], what
    assert content(served, plan) == content(served, plan)  # nothing moved
    cancelled = idle.delete(f"/jobs/{job['id']}", headers=planner)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    after = idle.patch(f"/plans/{plan}", headers={**planner, **etag}, json={"name": "改名"})
    assert after.status_code == 200, after.text  # the draft is free again


def test_a_job_whose_plan_changed_anyway_writes_nothing_and_says_so(
    idle: TestClient, served: Served
) -> None:
    plan, revision = draft(idle, served)
    before = content(served, plan)
    started = idle.post(
        "/jobs/partition",
        json={"plan": plan, "mode": "full", "max": 450, "target": 380, "seed": 3},
        headers=headers(served, "planner"),
    )
    job = started.json()["id"]
    with served.engine.begin() as connection:  # a write that went round the lifecycle
        connection.execute(
            text("UPDATE plan SET revision = revision + 1 WHERE id = :p"), {"p": plan}
        )
    assert runner.run_job(job, served.url) == "failed"
    row = job_status(served, job)
    assert row["status"] == "failed" and "the plan changed while the job ran" in row["error"]
    assert content(served, plan) == before
    with served.engine.connect() as connection:
        assert (
            connection.execute(
                text("SELECT revision FROM plan WHERE id = :p"), {"p": plan}
            ).scalar_one()
            == revision + 1
        )


def test_a_job_starts_only_on_a_draft_that_exists(idle: TestClient, served: Served) -> None:
    planner = headers(served, "planner")
    missing = idle.post("/jobs/partition", json={"plan": 999999}, headers=planner)
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]
    with served.engine.connect() as connection:
        current = connection.execute(
            text("SELECT id FROM plan WHERE status = 'current'")
        ).scalar_one()
    refused = idle.post("/jobs/partition", json={"plan": current}, headers=planner)
    assert refused.status_code == 409 and "only a draft" in refused.json()["detail"]
    with served.engine.connect() as connection:  # neither was queued
        assert (
            connection.execute(
                text("SELECT count(*) FROM job WHERE plan_id IN (999999, :c)"), {"c": current}
            ).scalar_one()
            == 0
        )


def test_an_internal_error_of_a_job_carries_no_sql(idle: TestClient, served: Served) -> None:
    plan, revision = draft(idle, served)
    with served.engine.begin() as connection:
        job = job_rows.insert_job(
            connection,
            kind="partition",
            owner="tester",
            owner_key_id=None,
            scope_region_id=None,
            plan_id=plan,
            base_revision=revision,
            parameters={"mode": "full"},
            total_steps=4,  # the bounds are missing: a KeyError
        )
    assert runner.run_job(job, served.url) == "failed"
    error = job_status(served, job)["error"]
    assert error == runner.INTERNAL.format(id=job)
    assert "SELECT" not in error and "KeyError" not in error


def test_queued_jobs_survive_a_restart_and_a_running_one_fails_saying_why(
    served: Served,
) -> None:
    planner = headers(served, "planner")
    with TestClient(create_app(served.settings(job_workers=0))) as before:
        queued = before.post("/jobs/coverage", json={"minutes": 4}, headers=planner).json()
        plan, _ = draft(before, served, "重启")
    assert job_status(served, queued["id"])["status"] == "queued"  # the server is gone
    with TestClient(create_app(served.settings(job_workers=1))) as after:
        done = wait_for(served, queued["id"], {"succeeded", "failed"})
        assert done["status"] == "succeeded", done
        seen = after.get(f"/jobs/{queued['id']}", headers=planner)
        assert seen.status_code == 200 and seen.json()["result"]["run"] > 0
    with holding(served, HOLD_UNITS):
        with TestClient(create_app(served.settings(job_workers=1))) as stopping:
            running = stopping.post(
                "/jobs/partition", json={"plan": plan, **ADJUST}, headers=planner
            ).json()
            wait_for(served, running["id"], {"running"})
        # the app stopped (its worker with it) while the job waited for the units
        row = job_status(served, running["id"])
    assert row["status"] == "failed" and "shut down" in row["error"], row
    with TestClient(create_app(served.settings(job_workers=0))) as later:
        history = later.get(f"/jobs/{running['id']}", headers=planner).json()
        assert history["status"] == "failed" and history["error"] == row["error"]


def test_a_cancelled_running_job_keeps_nothing(served: Served) -> None:
    planner = headers(served, "planner")
    with TestClient(create_app(served.settings(job_workers=1))) as api:
        plan, _ = draft(api, served, "取消")
        before = content(served, plan)
        with holding(served, HOLD_UNITS):
            job = api.post("/jobs/partition", json={"plan": plan, **ADJUST}, headers=planner).json()
            wait_for(served, job["id"], {"running"})
            other = api.delete(f"/jobs/{job['id']}", headers=headers(served, "admin"))
            assert other.status_code == 200 and other.json()["cancel_requested"]
        row = wait_for(served, job["id"], {"cancelled", "failed", "succeeded"}, 30)
        assert row["status"] == "cancelled" and row["error"] == f"job {job['id']} was cancelled"
        assert content(served, plan) == before


def test_a_job_whose_worker_is_killed_fails_within_a_bounded_time(served: Served) -> None:
    planner = headers(served, "planner")
    environment = {**os.environ, "DATABASE_URL": served.url}
    gridmap = str(Path(sys.executable).with_name("gridmap"))
    worker = subprocess.Popen(
        [gridmap, "worker", "--name", "doomed"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with TestClient(create_app(served.settings(job_workers=0))) as api:
            plan, _ = draft(api, served, "失联")
            before = content(served, plan)
            with holding(served, HOLD_UNITS):
                job = api.post(
                    "/jobs/partition", json={"plan": plan, **ADJUST}, headers=planner
                ).json()
                row = wait_for(served, job["id"], {"running"}, 60)
                assert row["worker"].endswith(f":{worker.pid}")
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
                killed_at = time.monotonic()
                # another worker's sweeper notices the silence
                with TestClient(create_app(served.settings(job_workers=1))):
                    row = wait_for(
                        served,
                        job["id"],
                        {"failed", "succeeded", "cancelled"},
                        STALLED_SECONDS + 30,
                    )
                    took = time.monotonic() - killed_at
            # the orphaned child now gets the plan: it must not write
            time.sleep(1.0)
        assert row["status"] == "failed" and "stopped" in row["error"], row
        assert took < STALLED_SECONDS + 15
        assert content(served, plan) == before
        assert job_status(served, job["id"])["status"] == "failed"
    finally:
        if worker.poll() is None:
            worker.kill()


def test_who_sees_and_cancels_a_job(idle: TestClient, served: Served) -> None:
    with served.engine.begin() as connection:
        community_id = connection.execute(
            text("SELECT id FROM region WHERE code = :c"), {"c": served.community}
        ).scalar_one()
        other_planner = create_key(connection, name="另一规划员", role="planner").secret
        held = create_key(
            connection, name="社区规划员", role="planner", region_code=served.community
        ).secret
    plan, _ = draft(idle, served, "可见")
    job = idle.post(
        "/jobs/partition", json={"plan": plan, **ADJUST}, headers=headers(served, "planner")
    ).json()
    bearer = {"Authorization": f"Bearer {served.keys['embed']}"}
    assert idle.get(f"/jobs/{job['id']}", headers=bearer).status_code == 404  # embed: no jobs
    held_h = {"Authorization": f"Bearer {held}"}
    assert idle.get(f"/jobs/{job['id']}", headers=held_h).status_code == 404  # city's job
    assert idle.get(f"/jobs/{job['id']}", headers=headers(served, "viewer")).status_code == 200
    assert idle.get(f"/jobs/{job['id']}").status_code == 401
    other = {"Authorization": f"Bearer {other_planner}"}
    refused = idle.delete(f"/jobs/{job['id']}", headers=other)
    assert refused.status_code == 403 and "started by planner" in refused.json()["detail"]
    held_job = idle.post("/jobs/partition", json={"plan": plan}, headers=held_h)
    assert held_job.status_code == 403
    assert idle.delete(f"/jobs/{job['id']}", headers=headers(served, "planner")).status_code == 200
    assert community_id > 0


def test_revoked_keys_stop_working_in_every_process_within_a_second(served: Served) -> None:
    with served.engine.begin() as connection:
        key = create_key(connection, name="将撤销", role="viewer")
    bearer = {"Authorization": f"Bearer {key.secret}"}
    with (
        TestClient(create_app(served.settings(job_workers=0))) as one,
        TestClient(create_app(served.settings(job_workers=0))) as two,
    ):
        for app in (one, two):
            assert app.get("/collections/stations/items", headers=bearer).status_code == 200
        with served.engine.begin() as connection:
            connection.execute(
                text("UPDATE api_key SET revoked_at = now() WHERE id = :k"), {"k": key.id}
            )
        time.sleep(1.0)
        for app in (one, two):
            answer = app.get("/collections/stations/items", headers=bearer)
            assert answer.status_code == 401, answer.text


def test_the_queue_forgets_work_that_ended_over_a_day_ago(served: Served) -> None:
    import asyncio

    from psycopg_pool import AsyncConnectionPool

    from gridmap.db.address import DatabaseAddress
    from gridmap.jobs.queue import SESSION, worker_app
    from gridmap.jobs.worker import prune_queue

    with served.engine.begin() as connection:
        connection.execute(text("SET LOCAL search_path TO procrastinate, public"))
        old, recent = (
            connection.execute(
                text(
                    "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status) "
                    "VALUES ('default', 'gridmap:run', '{}', 'succeeded') RETURNING id"
                )
            ).scalar_one()
            for _ in range(2)
        )
        for job, age in ((old, "2 days"), (recent, "1 hour")):
            connection.execute(
                text(
                    "INSERT INTO procrastinate_events (job_id, type, at) "
                    f"VALUES (:j, 'succeeded', now() - interval '{age}')"
                ),
                {"j": job},
            )
    address = DatabaseAddress(served.settings())

    async def prune() -> None:
        app = worker_app()
        async with AsyncConnectionPool(address.libpq, kwargs=SESSION, min_size=1) as pool:
            await app.open_async(pool)
            await prune_queue(app)
            await app.close_async()

    asyncio.run(prune())
    with served.engine.connect() as connection:
        left = set(
            connection.execute(
                text("SELECT id FROM procrastinate.procrastinate_jobs WHERE id = ANY(:ids)"),
                {"ids": [old, recent]},
            ).scalars()
        )
    assert left == {recent}


def test_a_job_ends_when_its_work_commits_not_when_its_transaction_began(
    served: Served,
) -> None:
    with served.engine.begin() as connection:
        job_id = job_rows.insert_job(
            connection,
            kind="coverage",
            owner="test",
            owner_key_id=None,
            scope_region_id=None,
            plan_id=None,
            base_revision=None,
            parameters={},
            total_steps=1,
        )
    with served.engine.begin() as connection:
        assert job_rows.claim_job(connection, job_id, "test") is not None
    with served.engine.begin() as connection:  # the work's own transaction, as the child's
        began = connection.execute(text("SELECT now()")).scalar_one()
        time.sleep(0.4)  # the work
        assert job_rows.finish_job(connection, job_id, "succeeded", result={})
    with served.engine.connect() as connection:
        finished = connection.execute(
            text("SELECT finished_at FROM job WHERE id = :id"), {"id": job_id}
        ).scalar_one()
    assert (finished - began).total_seconds() >= 0.4  # now() would say the work took no time


def test_a_late_heartbeat_fails_another_worker_s_job_but_never_the_sweeper_s_own(
    served: Served,
) -> None:
    """Under load a worker's own heartbeat can be late; its sweeper must not fail its own job."""
    from gridmap.db.address import DatabaseAddress
    from gridmap.jobs.runner import worker_name
    from gridmap.jobs.worker import fail_stalled

    ids = {}
    with served.engine.begin() as connection:
        for who in (worker_name(), "elsewhere:1"):
            ids[who] = connection.execute(
                text(
                    "INSERT INTO job (kind, status, owner, parameters, total_steps, worker, "
                    "started_at) "
                    "VALUES ('coverage', 'running', 'test', '{}', 4, :w, now()) RETURNING id"
                ),
                {"w": who},
            ).scalar_one()
    address = DatabaseAddress(served.settings())
    try:
        assert fail_stalled(address, ids[worker_name()]) == "alive"
        assert fail_stalled(address, ids["elsewhere:1"]) == "failed"
        assert fail_stalled(address, ids["elsewhere:1"]) == "ended"
        assert fail_stalled(address, 2**31 - 1) == "ended"  # no row: the sweep goes on
        assert job_status(served, ids[worker_name()])["status"] == "running"
        failed = job_status(served, ids["elsewhere:1"])
        assert failed["status"] == "failed" and "no heartbeat" in failed["error"]
    finally:
        with served.engine.begin() as connection:
            connection.execute(
                text("DELETE FROM job WHERE id = ANY(:ids)"), {"ids": list(ids.values())}
            )
