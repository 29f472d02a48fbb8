"""The work of each kind of job, run in a job's child process (see :mod:`gridmap.jobs.runner`).

Each function takes the work's connection (one transaction, committed by the runner with the
job's success), a step function for progress, and the job's row, and returns what the job
shows as its result (plain JSON).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from gridmap.coverage.engine import CoverageParameters
from gridmap.coverage.service import run_coverage
from gridmap.db.jobs import JobRow
from gridmap.partition.engine import Bounds
from gridmap.partition.service import partition_plan
from gridmap.plans.lifecycle import JobRef

Step = Callable[[str], None]


def partition_steps(parameters: dict[str, Any]) -> int:
    """Return how many steps a re-partition job reports (walks add one)."""
    walks = parameters.get("radius") is not None and parameters.get("radius_by") == "walk"
    return 5 if walks else 4


def partition(connection: Connection, step: Step, job: JobRow) -> dict[str, Any]:
    """Re-partition the job's draft plan, if it is still as the job found it."""
    p = job.parameters
    bounds = Bounds(
        p["min"], p["max"], p["target"], p["max_residents"], p["radius"], p["radius_by"]
    )
    assert job.plan_id is not None and job.base_revision is not None
    summary = partition_plan(
        connection,
        job.plan_id,
        mode=p["mode"],
        bounds=bounds,
        seed=p["seed"],
        author=job.owner,
        step=step,
        job=JobRef(job.id, job.base_revision),
        region=p.get("region"),
    )
    step("saving")
    return {
        "plan": summary.plan_id,
        "revision": summary.revision,
        "grids": summary.grids,
        "in_bounds": summary.in_bounds,
        "units_moved": summary.units_moved,
        "cases": [
            {"kind": c.kind, "message": c.message}
            | ({"reason": c.reason, "detail": c.detail} if c.reason else {})
            for c in summary.cases
        ],
        "check": {
            "ok": summary.check.ok,
            "errors": len(summary.check.errors),
            "warnings": len(summary.check.warnings),
            "counts": summary.check.counts(),
        },
    }


COVERAGE_STEPS = 6


def coverage(connection: Connection, step: Step, job: JobRow) -> dict[str, Any]:
    """Compute coverage and save it as a run."""
    p = job.parameters
    parameters = CoverageParameters(p["minutes"], p["speed_m_per_min"], p["max_snap_m"])
    summary = run_coverage(connection, parameters, plan_id=job.plan_id, step=step)
    step("saving")
    return {"run": summary.run_id, "figures": summary.figures}


WORK: dict[str, Callable[[Connection, Step, JobRow], dict[str, Any]]] = {
    "partition": partition,
    "coverage": coverage,
}
"""The work of each kind of job."""
