"""Jobs as a caller sees them: start one, read it, cancel it, and who may do which.

Starting a job checks at once what would make it fail: a re-partition of a plan that does not
exist (404), that is not a draft, or that another job works on (409) is refused before it is
queued, and the job records the plan's revision it starts from (the lifecycle re-checks it
when the job writes). The row is committed before its work is queued, so any worker that takes
the work finds it.

Who sees what: a job is visible to the key that started it, to admins, and to keys whose
region holds the job's scope (a job of the whole city: city-wide keys only); embed keys and
the public see none. Only the key that started a job, or an admin, cancels it.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from gridmap.auth.keys import Principal
from gridmap.db import jobs as job_rows
from gridmap.db import plans as plan_rows
from gridmap.db.jobs import JobRow
from gridmap.errors import Forbidden, NotFound, StoreError
from gridmap.jobs.queue import JobQueue
from gridmap.plans import lifecycle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewJob:
    """A job to start: its kind, plan (if any), parameters and step count."""

    kind: str
    plan_id: int | None
    parameters: dict[str, Any]
    total_steps: int


def start_job(engine: Engine, queue: JobQueue, job: NewJob, who: Principal) -> JobRow:
    """Check, record and queue a job; return its row.

    Raises
    ------
    NotFound
        When the job's plan does not exist.
    Conflict
        When a re-partition's plan is not a draft, or a job works on it already.
    StoreError
        When the work could not be queued (the job is then failed, not left queued).
    """
    with engine.begin() as connection:
        base_revision = None
        if job.plan_id is not None:
            if job.kind == "partition":
                base_revision = lifecycle.guard(connection, job.plan_id, "partition")["revision"]
            else:
                plan_rows.plan_row(connection, job.plan_id)
        job_id = job_rows.insert_job(
            connection,
            kind=job.kind,
            owner=who.name,
            owner_key_id=who.key_id,
            scope_region_id=who.region_id,
            plan_id=job.plan_id,
            base_revision=base_revision,
            parameters=job.parameters,
            total_steps=job.total_steps,
        )
    try:
        queue_job_id = queue.defer(job_id)
    except Exception as error:
        log.exception("job %s could not be queued", job_id)
        with engine.begin() as connection:
            job_rows.finish_job(connection, job_id, "failed", error="the job could not be queued")
        raise StoreError(f"job {job_id} could not be queued: {type(error).__name__}") from None
    with engine.begin() as connection:
        job_rows.set_queue_job(connection, job_id, queue_job_id)
        return job_rows.job_row(connection, job_id)


def visible_job(connection: Connection, job_id: int, who: Principal) -> JobRow:
    """Return job ``job_id`` if ``who`` may see it.

    Raises
    ------
    NotFound
        When there is no such job, or ``who`` may not see it (its existence is not told).
    """
    job = job_rows.job_row(connection, job_id)
    if not may_see(connection, job, who):
        raise NotFound(f"no job {job_id}")
    return job


def may_see(connection: Connection, job: JobRow, who: Principal) -> bool:
    """Say whether ``who`` may see ``job``."""
    if who.embed or who.key_id is None:
        return False
    if who.role == "admin" and who.region_id is None:
        return True
    if job.owner_key_id == who.key_id:
        return True
    if who.region_id is None:
        return True
    return job_rows.region_holds(connection, who.region_id, job.scope_region_id)


def cancel_job(engine: Engine, queue: JobQueue, job_id: int, who: Principal) -> JobRow:
    """Cancel a queued job, or ask a running one to stop; return the job as it is now.

    Raises
    ------
    NotFound
        When there is no such job ``who`` may see.
    Forbidden
        When ``who`` neither started the job nor is an admin.
    """
    with engine.begin() as connection:
        job = visible_job(connection, job_id, who)
        if job.owner_key_id != who.key_id and not (who.role == "admin" and who.region_id is None):
            raise Forbidden(
                f"job {job_id} was started by {job.owner}: only they or an admin may cancel it"
            )
        running = job.status == "running"
        job = job_rows.ask_to_cancel(connection, job_id)
    if job.queue_job_id is not None and (running or job.status == "cancelled"):
        # the row says cancelled already: a worker that takes the work leaves it alone
        with contextlib.suppress(Exception):
            queue.cancel(job.queue_job_id, running=running)
    return job


def job_view(job: JobRow) -> dict[str, Any]:
    """Return what a client sees of a job."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "owner": job.owner,
        "plan": job.plan_id,
        "base_revision": job.base_revision,
        "progress": {
            "step": job.step,
            "steps": job.total_steps,
            "message": job.message,
            "fraction": round(min(job.step / max(job.total_steps, 1), 1.0), 3),
        },
        "result": job.result,
        "error": job.error,
        "cancel_requested": job.cancel_requested,
        "created_at": job.created_at.isoformat(),
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
