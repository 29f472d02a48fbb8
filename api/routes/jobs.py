"""Jobs: a re-partition or a coverage run in the background, with progress; cancellable."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from api import job_tasks
from api.auth import Planner, Viewer
from api.deps import MAX_ID, EngineDep, JobId
from api.jobs import Jobs, Task
from gridmap.coverage.engine import CoverageParameters
from gridmap.errors import Forbidden
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


class CoverageJob(BaseModel):
    """Compute 5-minute coverage and save it as a run."""

    minutes: float = Field(default=5.0, gt=0, le=60)
    speed_m_per_min: float = Field(default=60.0, gt=0, le=300)
    max_snap_m: float = Field(default=200.0, gt=0, le=5000)
    plan: int | None = Field(default=None, ge=1, le=MAX_ID)


def _jobs(request: Request) -> Jobs:
    return request.app.state.jobs  # type: ignore[no-any-return]


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _accepted(request: Request, response: Response, view: dict[str, Any]) -> dict[str, Any]:
    response.headers["Location"] = str(request.url_for("job", job_id=view["id"]))
    return view


@router.post("/partition", name="partition_job", status_code=202)
def partition_job(
    body: PartitionJob, request: Request, response: Response, engine: EngineDep, who: Planner
) -> dict[str, Any]:
    """Start a re-partition of a draft plan; follow it at the job's address."""
    bounds = Bounds(body.min, body.max, body.target, body.max_residents, body.radius,
                    body.radius_by)  # fmt: skip
    steps = 4 if body.radius is not None and body.radius_by == "walk" else 3
    if who.region_id is not None:
        raise Forbidden("a key held to a region cannot re-partition the city")
    task = Task(
        job_tasks.partition,
        {
            "url": _url(engine),
            "plan": body.plan,
            "mode": body.mode,
            "bounds": bounds,
            "seed": body.seed,
            "author": who.name,
        },
    )
    job = _jobs(request).submit("partition", who.name, steps + 1, task)
    return _accepted(request, response, job.view())


@router.post("/coverage", name="coverage_job", status_code=202)
def coverage_job(
    body: CoverageJob, request: Request, response: Response, engine: EngineDep, who: Planner
) -> dict[str, Any]:
    """Start a coverage run; follow it at the job's address."""
    parameters = CoverageParameters(body.minutes, body.speed_m_per_min, body.max_snap_m)
    if who.region_id is not None:
        raise Forbidden("a key held to a region cannot start a coverage run")
    task = Task(
        job_tasks.coverage, {"url": _url(engine), "parameters": parameters, "plan": body.plan}
    )
    job = _jobs(request).submit("coverage", who.name, 5, task)
    return _accepted(request, response, job.view())


@router.get("/{job_id}", name="job")
def job(job_id: JobId, request: Request, who: Viewer) -> dict[str, Any]:
    """Return a job: its status, progress and, when done, its result or error."""
    return _jobs(request).get(job_id).view()


@router.delete("/{job_id}", name="cancel_job")
def cancel_job(job_id: JobId, request: Request, who: Planner) -> dict[str, Any]:
    """Cancel a job: it stops at its next step and keeps nothing."""
    return _jobs(request).cancel(job_id).view()
