"""Run one job's work in a child process and follow it to its end.

A worker (see :mod:`gridmap.jobs.worker`) hands each job it takes from the queue to
:func:`run_job`: the job's row is claimed (queued → running; a job cancelled meanwhile is left
alone), and its work runs in a child forked from a fork server that has the solvers imported
already, so a long solve holds neither the worker's interpreter lock nor its memory (in the
API's own process, tiles are answered at their usual speed while it runs).

The child does the work in one transaction and, in that same transaction, marks the job
succeeded with its result: the work and its record commit together or not at all. Each step
it reports counts in the job's row (on a connection of its own, so that every process sees
the progress at once) and is the point where a cancellation takes effect: asked through the
API (the row's flag) or by the queue (an abort), the work is rolled back. A child that does
not reach a step within :data:`GRACE_SECONDS` of being asked is killed, and a child that
dies fails its job. When the worker itself dies, the child's next step finds its pipe broken
and rolls back, and the sweeper of stalled workers fails the job (see the worker module).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import socket
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe
from typing import Any

from sqlalchemy.pool import NullPool

from gridmap.db import jobs as job_rows
from gridmap.db.engine import make_engine
from gridmap.errors import Cancelled, GridmapError

log = logging.getLogger(__name__)
PRELOAD = ["gridmap.partition.service", "gridmap.coverage.service", "gridmap.jobs.work"]
GRACE_SECONDS = 5.0  # how long a child asked to stop has to roll back before it is killed
INTERNAL = "the job stopped on an internal error (job {id}); the worker's log has the details"
"""What a client is told of an unexpected error: never its SQL or parameters."""
SHUTDOWN = "the worker stopped before job {id} ended (it was shut down); nothing was kept"

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


def worker_name() -> str:
    """Return this process's name as a worker: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_job(
    job_id: int,
    url: str,
    *,
    abort_reason: Callable[[], str | None] = lambda: None,
) -> str:
    """Run job ``job_id``'s work in a child process; return how it ended.

    Parameters
    ----------
    job_id
        The job's row.
    url
        The database's SQLAlchemy URL.
    abort_reason
        Says, when polled, why the job must stop now (``"user_request"``, ``"shutdown"``),
        or None.

    Returns
    -------
    str
        ``succeeded``, ``failed``, ``cancelled``, or ``skipped`` (the job was not queued any
        more: cancelled before it started).
    """
    engine = make_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            job = job_rows.claim_job(connection, job_id, worker_name())
        if job is None:
            return "skipped"
        status, error = _in_child(job_id, url, abort_reason)
        if status != "succeeded":
            with engine.begin() as connection:
                job_rows.finish_job(connection, job_id, status, error=error)
        return status
    finally:
        engine.dispose()


def _in_child(
    job_id: int, url: str, abort_reason: Callable[[], str | None]
) -> tuple[str, str | None]:
    receiving, sending = _context.Pipe(duplex=False)
    cancel = _context.Event()
    child = _context.Process(
        target=_child, args=(job_id, url, sending, cancel), name=f"gridmap-job-{job_id}"
    )
    try:
        child.start()
        sending.close()  # the child holds its end: end of file once it has gone
        return _follow(job_id, child, receiving, cancel, abort_reason)
    except Exception as error:  # starting the child failed: the job fails, not the worker
        log.exception("job %s: the child process could not start", job_id)
        return "failed", f"the job could not start: {type(error).__name__}"
    finally:
        receiving.close()


def _follow(
    job_id: int,
    child: Any,
    receiving: Pipe,
    cancel: Any,
    abort_reason: Callable[[], str | None],
) -> tuple[str, str | None]:
    """Wait for a child to report how it ended, asking it to stop when the job is aborted."""
    asked: tuple[float, str] | None = None
    while True:
        if asked is None:
            reason = abort_reason()
            if reason is not None:
                cancel.set()
                asked = (time.monotonic(), reason)
        if asked is not None and time.monotonic() - asked[0] > GRACE_SECONDS:
            child.kill()
            child.join()
            return _stopped(job_id, asked[1])
        if not receiving.poll(0.1):
            continue
        try:
            kind, payload = receiving.recv()
        except EOFError:  # gone without a word: killed, out of memory
            child.join()
            if asked is not None:
                return _stopped(job_id, asked[1])
            return "failed", f"the job's process ended unexpectedly (exit code {child.exitcode})"
        if kind == "step":
            continue
        child.join()
        if kind == "cancelled" and asked is not None:
            return _stopped(job_id, asked[1])
        return kind, payload


def _stopped(job_id: int, reason: str) -> tuple[str, str]:
    if reason == "shutdown":
        return "failed", SHUTDOWN.format(id=job_id)
    return "cancelled", f"job {job_id} was cancelled"


def _child(job_id: int, url: str, sending: Pipe, cancel: Any) -> None:
    """Do a job's work in the child process, sending its steps and how it ended."""
    from gridmap.jobs.work import WORK

    engine = make_engine(url, poolclass=NullPool)
    progress = engine.connect().execution_options(isolation_level="AUTOCOMMIT")

    def step(message: str) -> None:
        if cancel.is_set() or job_rows.record_step(progress, job_id, message):
            raise Cancelled(f"job {job_id} was cancelled")
        sending.send(("step", message))  # a worker gone: the pipe breaks, the work rolls back

    try:
        with engine.begin() as connection:
            job = job_rows.job_row(connection, job_id)
            result = WORK[job.kind](connection, step, job)
            if not job_rows.finish_job(
                connection,
                job_id,
                "succeeded",
                result=result,
                only_from=("running",),
                unless_cancelled=True,
            ):
                raise Cancelled(f"job {job_id} was cancelled")
        _send(sending, ("succeeded", result))
    except Cancelled as error:
        _send(sending, ("cancelled", str(error)))
    except GridmapError as error:
        _send(sending, ("failed", str(error)))
    except Exception:
        log.error("job %s failed:\n%s", job_id, traceback.format_exc())
        _send(sending, ("failed", INTERNAL.format(id=job_id)))
    finally:
        progress.close()
        engine.dispose()
        sending.close()


def _send(sending: Pipe, message: tuple[str, Any]) -> None:
    with contextlib.suppress(OSError):  # the worker has gone; the job's row tells the end
        sending.send(message)
