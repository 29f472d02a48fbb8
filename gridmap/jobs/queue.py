"""The queue jobs' work goes through: procrastinate, on gridmap's own PostgreSQL.

procrastinate keeps its tables and functions in the schema ``procrastinate`` (migration
0007); every connection it makes looks there first. The API defers work and cancels it through
a :class:`JobQueue` (synchronous, a connection only while it asks); workers run the queue's
one task, :func:`run`, which hands the job to :func:`gridmap.jobs.runner.run_job`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import procrastinate
from procrastinate.job_context import JobContext
from psycopg_pool import NullConnectionPool

from gridmap.jobs import runner

QUEUE_SCHEMA = "procrastinate"
SESSION = {"options": f"-c search_path={QUEUE_SCHEMA},public"}
TASK = "gridmap:run"


def run(context: JobContext, job_id: int) -> str:
    """Run job ``job_id`` (a row of ``job``) in a child process; return how it ended."""
    address = context.additional_context["address"]

    def abort_reason() -> str | None:
        reason = context.abort_reason()
        return None if reason is None else str(reason.value)

    return runner.run_job(job_id, address.url(), abort_reason=abort_reason)


def worker_app() -> procrastinate.App:
    """Return an (asynchronous) procrastinate app for a worker, to open on a pool of its own."""
    app = procrastinate.App(connector=procrastinate.PsycopgConnector())
    app.task(name=TASK, pass_context=True)(run)
    return app


class JobQueue:
    """Defers and cancels jobs' work from synchronous code (the API's routes, the CLI).

    It holds no connection between calls: each one takes a new connection, found where the
    database is now.
    """

    def __init__(self, conninfo: Callable[[], str]) -> None:
        self._conninfo = conninfo
        self._app: procrastinate.App | None = None
        self._pool: NullConnectionPool | None = None
        self._lock = threading.Lock()

    def _opened(self) -> procrastinate.App:
        with self._lock:
            if self._app is None:
                pool = NullConnectionPool(conninfo=self._conninfo, kwargs=SESSION, open=True)
                app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector())
                app.open(pool)
                self._app, self._pool = app, pool
            return self._app

    def defer(self, job_id: int) -> int:
        """Queue the work of job ``job_id``; return the queue's id of it."""
        return int(self._opened().configure_task(TASK).defer(job_id=job_id))

    def cancel(self, queue_job_id: int, *, running: bool) -> None:
        """Take queued work off the queue, or ask the worker running it to abort it."""
        self._opened().job_manager.cancel_job_by_id(queue_job_id, abort=running)

    def close(self) -> None:
        """Close the queue's connections."""
        with self._lock:
            if self._app is not None and self._pool is not None:
                self._app.close()
                self._pool.close()
                self._app = self._pool = None
