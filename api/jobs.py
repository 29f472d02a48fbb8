"""Long work (a re-partition, a coverage run) as jobs: queued, run in a thread, followed.

A job runs its work in one transaction; each step the work reports moves its progress and is
the point where a cancellation takes effect (the transaction is rolled back, nothing is kept).
Jobs live in this process: a restart forgets them (their work is either committed or not).
"""

from __future__ import annotations

import itertools
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gridmap.errors import Cancelled, GridmapError, NotFound

Step = Callable[[str], None]
Work = Callable[[Step], dict[str, Any]]


@dataclass
class Job:
    """One piece of long work and how far it got."""

    id: int
    kind: str
    owner: str
    total_steps: int
    status: str = "queued"  # queued, running, succeeded, failed, cancelled
    step: int = 0
    message: str = ""
    result: dict[str, Any] | None = None
    error: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    finished_at: datetime | None = None
    cancel_requested: threading.Event = field(default_factory=threading.Event)

    def view(self) -> dict[str, Any]:
        """Return what a client sees of the job."""
        return {
            "id": self.id, "kind": self.kind, "status": self.status, "owner": self.owner,
            "progress": {"step": self.step, "steps": self.total_steps, "message": self.message,
                         "fraction": round(min(self.step / max(self.total_steps, 1), 1.0), 3)},
            "result": self.result, "error": self.error,
            "created_at": self.created_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }  # fmt: skip


class Jobs:
    """The jobs of this process, run one or two at a time."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gridmap-job")
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def submit(self, kind: str, owner: str, total_steps: int, work: Work) -> Job:
        """Queue ``work``; it gets a step function to report progress through."""
        with self._lock:
            job = Job(next(self._ids), kind, owner, total_steps)
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, work)
        return job

    def get(self, job_id: int) -> Job:
        """Return job ``job_id``.

        Raises
        ------
        NotFound
            When there is no such job.
        """
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(f"no job {job_id}")
        return job

    def cancel(self, job_id: int) -> Job:
        """Ask job ``job_id`` to stop at its next step (a queued job never starts)."""
        job = self.get(job_id)
        if job.status in ("queued", "running"):
            job.cancel_requested.set()
            if job.status == "queued":
                job.status = "cancelled"
        return job

    def _run(self, job: Job, work: Work) -> None:
        if job.cancel_requested.is_set():
            return

        def step(message: str) -> None:
            if job.cancel_requested.is_set():
                raise Cancelled(f"job {job.id} was cancelled")
            job.step += 1
            job.message = message

        job.status = "running"
        try:
            job.result = work(step)
            job.step, job.status, job.message = job.total_steps, "succeeded", "done"
        except Cancelled as error:
            job.status, job.error = "cancelled", str(error)
        except GridmapError as error:
            job.status, job.error = "failed", str(error)
        except Exception as error:
            job.status = "failed"
            job.error = f"{type(error).__name__}: {error}"
            traceback.print_exc()
        finally:
            job.finished_at = datetime.now(UTC)

    def shutdown(self) -> None:
        """Cancel what is queued and running, and wait for the threads."""
        for job in list(self._jobs.values()):
            job.cancel_requested.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
