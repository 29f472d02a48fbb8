"""The work of the API's jobs, run in a job's own process (see :mod:`api.jobs`).

Each task is a module-level function of picklable arguments: it opens its own connection from
the database URL, does its work in one transaction, and returns what the job shows as its
result.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.pool import NullPool

from gridmap.coverage.engine import CoverageParameters
from gridmap.coverage.service import run_coverage
from gridmap.db.engine import make_engine
from gridmap.partition.engine import Bounds
from gridmap.partition.service import partition_plan

Step = Any  # Callable[[str], None]


def partition(
    step: Step, *, url: str, plan: int, mode: str, bounds: Bounds, seed: int, author: str
) -> dict[str, Any]:
    """Re-partition a draft plan; return its new figures."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            summary = partition_plan(connection, plan, mode=mode, bounds=bounds, seed=seed,
                                     author=author, step=step)  # fmt: skip
            step("saving")
    finally:
        engine.dispose()
    return {"plan": summary.plan_id, "revision": summary.revision, "grids": summary.grids,
            "in_bounds": summary.in_bounds, "units_moved": summary.units_moved,
            "cases": [{"kind": c.kind, "message": c.message}
                      for c in summary.cases]}  # fmt: skip


def coverage(
    step: Step, *, url: str, parameters: CoverageParameters, plan: int | None
) -> dict[str, Any]:
    """Compute coverage and save it as a run; return the run and its figures."""
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            summary = run_coverage(connection, parameters, plan_id=plan, step=step)
            step("saving")
    finally:
        engine.dispose()
    return {"run": summary.run_id, "figures": summary.figures}
