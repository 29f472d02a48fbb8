"""Jobs: a re-partition or a coverage run in the background, with progress; cancellable.

Jobs are rows in PostgreSQL (see :mod:`gridmap.jobs`): any process of the API answers for any
job, and a job outlives the process that started it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from api.auth import Planner, Viewer
from api.deps import MAX_ID, EngineDep, JobId, walk_field
from api.schemas import Job
from gridmap.coverage.engine import CoverageParameters
from gridmap.errors import Forbidden
from gridmap.jobs.queue import JobQueue
from gridmap.jobs.service import NewJob, cancel_job, job_view, start_job, visible_job
from gridmap.jobs.work import COVERAGE_STEPS, partition_steps
from gridmap.partition.engine import Bounds
from gridmap.standards import GRID_BOUNDS

router = APIRouter(prefix="/jobs", tags=["Jobs"])
URBAN = GRID_BOUNDS["urban"]


class PartitionJob(BaseModel):
    """Re-partition a draft plan."""

    plan: int = Field(ge=1, le=MAX_ID)
    mode: str = Field(default="full", pattern="^(full|adjust)$")
    target: int = Field(default=URBAN.target_households, ge=1, le=100000)
    min: int = Field(default=URBAN.min_households, ge=1, le=100000)
    max: int = Field(default=URBAN.max_households, ge=1, le=100000)
    max_residents: int | None = Field(default=URBAN.max_residents, ge=1)
    radius: float | None = Field(default=None, gt=0, le=100000)
    radius_by: str = Field(default="straight", pattern="^(straight|walk)$")
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    region: str | None = Field(
        default=None,
        pattern=r"^\d{6}(\d{3}){0,2}$",
        description="Re-partition only this district, street or community (its code); "
        "every other grid stays as it is",
    )


class CoverageJob(BaseModel):
    """Compute 5-minute coverage and save it as a run."""

    minutes: float = walk_field("minutes")
    speed_m_per_min: float = walk_field("speed_m_per_min")
    max_snap_m: float = walk_field("max_snap_m")
    plan: int | None = Field(default=None, ge=1, le=MAX_ID)


def _queue(request: Request) -> JobQueue:
    return request.app.state.job_queue


def _accepted(request: Request, response: Response, view: dict[str, Any]) -> dict[str, Any]:
    response.headers["Location"] = str(request.url_for("job", job_id=view["id"]))
    return view


@router.post("/partition", name="partition_job", status_code=202, response_model=Job)
def partition_job(
    body: PartitionJob, request: Request, response: Response, engine: EngineDep, who: Planner
) -> dict[str, Any]:
    """Start a re-partition of a draft plan; follow it at the job's address.

    A plan that does not exist is a 404 and one that is not a draft, or that another job
    works on, a 409, at once.
    """
    Bounds(body.min, body.max, body.target, body.max_residents, body.radius, body.radius_by)
    if who.region_id is not None:
        raise Forbidden("a key held to a region cannot re-partition the city")
    parameters = body.model_dump(exclude={"plan"})
    job = NewJob("partition", body.plan, parameters, partition_steps(parameters))
    return _accepted(request, response, job_view(start_job(engine, _queue(request), job, who)))


@router.post("/coverage", name="coverage_job", status_code=202, response_model=Job)
def coverage_job(
    body: CoverageJob, request: Request, response: Response, engine: EngineDep, who: Planner
) -> dict[str, Any]:
    """Start a coverage run; follow it at the job's address."""
    CoverageParameters(body.minutes, body.speed_m_per_min, body.max_snap_m)
    if who.region_id is not None:
        raise Forbidden("a key held to a region cannot start a coverage run")
    parameters = body.model_dump(exclude={"plan"})
    job = NewJob("coverage", body.plan, parameters, COVERAGE_STEPS)
    return _accepted(request, response, job_view(start_job(engine, _queue(request), job, who)))


@router.get("/{job_id}", name="job", response_model=Job)
def job(job_id: JobId, engine: EngineDep, who: Viewer) -> dict[str, Any]:
    """Return a job: its status, progress and, when done, its result or error."""
    with engine.connect() as connection:
        return job_view(visible_job(connection, job_id, who))


@router.delete("/{job_id}", name="cancel_job", response_model=Job)
async def cancel(
    job_id: JobId, request: Request, engine: EngineDep, who: Planner
) -> dict[str, Any]:
    """Cancel a job: queued, it never starts; running, it stops at its next step (keeps nothing).

    Only the key that started it, or an admin, cancels a job.
    """
    found = await run_in_threadpool(cancel_job, engine, _queue(request), job_id, who)
    return job_view(found)
