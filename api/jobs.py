"""Long work (a re-partition, a coverage run) as jobs: queued, run in a process of its own.

A job's work is a :class:`Task`: a module-level function and its arguments, run in a child
process, so a long solve holds neither the server's interpreter lock nor its memory: tiles and
features are answered at their usual speed while it runs, and what the solve used is given
back when its process ends. Children are forked from a fork server that has the solvers
imported already, so a job starts in milliseconds.

The work runs in one transaction; each step it reports moves its progress (sent back over a
pipe) and is the point where a cancellation takes effect (the transaction is rolled back,
nothing is kept). A child that dies (killed, out of memory) fails its job. The jobs' list lives
in this process: a restart forgets it (their work was either committed or not).
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from gridmap.errors import Cancelled, GridmapError, NotFound

Step = Callable[[str], None]
PRELOAD = ["gridmap.partition.service", "gridmap.coverage.service", "api.job_tasks"]
GRACE_SECONDS = 10.0  # how long a cancelled child has to roll back before it is killed


@dataclass(frozen=True)
class Task:
    """Work for a job: ``function(step, **arguments)``, a dict back; all of it picklable."""

    function: Callable[..., dict[str, Any]]
    arguments: dict[str, Any] = field(default_factory=dict)


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
    """The jobs of this server, run one or two at a time, each in a child process."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gridmap-job")
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(PRELOAD)

    def submit(self, kind: str, owner: str, total_steps: int, task: Task) -> Job:
        """Queue ``task``; its function gets a step function to report progress through."""
        with self._lock:
            job = Job(next(self._ids), kind, owner, total_steps)
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, task)
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
                job.finished_at = datetime.now(UTC)
        return job

    def _run(self, job: Job, task: Task) -> None:
        """Run ``task`` in a child process and follow it (on one of the pool's threads)."""
        if job.cancel_requested.is_set():
            return
        job.status = "running"
        receiving, sending = self._context.Pipe(duplex=False)
        cancel = self._context.Event()
        child = self._context.Process(target=_child, args=(task, sending, cancel, job.id),
                                      name=f"gridmap-job-{job.id}", daemon=True)  # fmt: skip
        try:
            child.start()
            sending.close()  # the child holds its end: end of file once it has gone
            outcome = _follow(job, child, receiving, cancel)
        except Exception as error:  # starting the child failed: the job fails, not the server
            traceback.print_exc()
            outcome = ("failed", f"the job could not start: {type(error).__name__}: {error}")
        finally:
            receiving.close()
        kind, payload = outcome
        if kind == "done":
            job.result = payload
            job.step, job.status, job.message = job.total_steps, "succeeded", "done"
        else:
            job.status, job.error = kind, payload
        job.finished_at = datetime.now(UTC)

    def shutdown(self) -> None:
        """Cancel what is queued and running, and wait for the children to roll back."""
        for job in list(self._jobs.values()):
            job.cancel_requested.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _follow(job: Job, child: Any, receiving: Connection, cancel: Any) -> tuple[str, Any]:
    """Pass a child's steps on to its job until it reports how it ended, or dies."""
    cancelled_at: float | None = None
    while True:
        if job.cancel_requested.is_set() and cancelled_at is None:
            cancel.set()
            cancelled_at = time.monotonic()
        if cancelled_at is not None and time.monotonic() - cancelled_at > GRACE_SECONDS:
            child.kill()
            child.join()
            return "cancelled", f"job {job.id} was cancelled (stopped after {GRACE_SECONDS:.0f} s)"
        if not receiving.poll(0.1):
            continue
        try:
            kind, payload = receiving.recv()
        except EOFError:  # gone without a word: killed, out of memory
            child.join()
            return "failed", f"the job's process ended unexpectedly (exit code {child.exitcode})"
        if kind == "step":
            job.step += 1
            job.message = payload
            continue
        child.join()
        return kind, payload


def _child(task: Task, sending: Connection, cancel: Any, job_id: int) -> None:
    """Run a task in the child process, sending its steps and how it ended."""

    def step(message: str) -> None:
        if cancel.is_set():
            raise Cancelled(f"job {job_id} was cancelled")
        sending.send(("step", message))

    try:
        sending.send(("done", task.function(step, **task.arguments)))
    except Cancelled as error:
        sending.send(("cancelled", str(error)))
    except GridmapError as error:
        sending.send(("failed", str(error)))
    except Exception as error:
        traceback.print_exc()
        sending.send(("failed", f"{type(error).__name__}: {error}"))
    finally:
        sending.close()
