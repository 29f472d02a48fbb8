"""The peer for bench/jobs: gridmap with each job run in a thread of the server, as before.

Only the runner changes: the same tasks, steps and results, in the server's own process.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI

import api.jobs
from api.main import create_app as gridmap_app


def _run_in_thread(self: api.jobs.Jobs, job: api.jobs.Job, task: api.jobs.Task) -> None:
    if job.cancel_requested.is_set():
        return
    job.status = "running"

    def step(message: str) -> None:
        job.step += 1
        job.message = message

    try:
        job.result = task.function(step, **task.arguments)
        job.step, job.status, job.message = job.total_steps, "succeeded", "done"
    except Exception as error:  # the bench reads statuses only
        job.status, job.error = "failed", str(error)
    job.finished_at = datetime.now(UTC)


def create_app() -> FastAPI:
    """Return gridmap's app with jobs run in its threads."""
    api.jobs.Jobs._run = _run_in_thread  # type: ignore[method-assign]
    return gridmap_app()
