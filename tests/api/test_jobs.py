"""Jobs run in processes of their own: progress, results, failures, cancellation, crashes."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.pool import NullPool

from api.jobs import Job, Jobs, Task
from gridmap.db.engine import make_engine
from gridmap.errors import InvalidInput
from tests.api.conftest import Served

# The tasks are module-level functions: a job's child process imports them by name.


def _counted(step: Any, *, upto: int) -> dict[str, Any]:
    for n in range(upto):
        step(f"counted {n + 1}")
    return {"pid": os.getpid(), "counted": upto}


def _refused(step: Any) -> dict[str, Any]:
    step("checking")
    raise InvalidInput("target: 0 is below the minimum of 1")


def _killed(step: Any) -> dict[str, Any]:
    step("about to die")
    os.kill(os.getpid(), signal.SIGKILL)
    return {}


def _half_way(step: Any, *, url: str) -> dict[str, Any]:
    engine = make_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO plan (name) VALUES ('半途')"))
        step("written")
        for _ in range(400):  # until the cancellation takes effect, at a step
            time.sleep(0.05)
            step("waiting")
    return {}


@pytest.fixture
def jobs() -> Iterator[Jobs]:
    runner = Jobs()
    yield runner
    runner.shutdown()


def finished(job: Job, seconds: float = 60) -> Job:
    deadline = time.monotonic() + seconds
    while job.status in ("queued", "running"):
        assert time.monotonic() < deadline, job.view()
        time.sleep(0.05)
    return job


def test_a_job_runs_in_a_process_of_its_own_and_reports_each_step(jobs: Jobs) -> None:
    job = finished(jobs.submit("count", "tester", 4, Task(_counted, {"upto": 3})))
    assert job.status == "succeeded", job.view()
    assert job.result == {"pid": job.result["pid"], "counted": 3}
    assert job.result["pid"] != os.getpid()
    assert job.view()["progress"] == {"step": 4, "steps": 4, "message": "done", "fraction": 1.0}
    assert job.finished_at is not None and job.error is None


def test_a_refused_job_fails_with_the_reason_and_a_dead_one_says_so(jobs: Jobs) -> None:
    refused = finished(jobs.submit("refuse", "tester", 2, Task(_refused)))
    assert refused.status == "failed"
    assert refused.error == "target: 0 is below the minimum of 1"
    assert refused.step == 1 and refused.message == "checking"
    killed = finished(jobs.submit("kill", "tester", 2, Task(_killed)))
    assert killed.status == "failed"
    assert killed.error == f"the job's process ended unexpectedly (exit code {-signal.SIGKILL})"
    after = finished(jobs.submit("count", "tester", 2, Task(_counted, {"upto": 1})))
    assert after.status == "succeeded"  # the runner goes on


def test_a_cancelled_job_keeps_nothing(jobs: Jobs, served: Served) -> None:
    job = jobs.submit("test", "tester", 3, Task(_half_way, {"url": served.url}))
    deadline = time.monotonic() + 60
    while job.message not in ("written", "waiting"):
        assert job.status in ("queued", "running") and time.monotonic() < deadline, job.view()
        time.sleep(0.05)
    jobs.cancel(job.id)
    finished(job, 20)
    assert job.status == "cancelled" and job.error == f"job {job.id} was cancelled"
    with served.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM plan WHERE name = '半途'")
                                  ).scalar_one() == 0  # fmt: skip


def test_a_queued_job_cancelled_never_starts() -> None:
    jobs = Jobs(workers=1)
    try:
        first = jobs.submit("count", "tester", 2, Task(_half_way, {"url": "postgresql://x/y"}))
        second = jobs.submit("count", "tester", 2, Task(_counted, {"upto": 1}))
        jobs.cancel(second.id)
        assert second.status == "cancelled" and second.finished_at is not None
        finished(first)  # (it fails: no such database)
        time.sleep(0.2)
        assert second.status == "cancelled" and second.result is None and second.step == 0
    finally:
        jobs.shutdown()
