"""Workers: processes (or a thread of the API) that take jobs from the queue and run them.

``gridmap worker`` runs one in the foreground, on any host that reaches the database; plain
``gridmap serve`` runs one in a thread of its own (:class:`WorkerThread`), so that the demo
needs no extra step. Each worker beats its heart into procrastinate's table every
:data:`HEARTBEAT_SECONDS` and, every :data:`SWEEP_SECONDS`, fails the jobs of workers whose
heart stopped beating for :data:`STALLED_SECONDS` (killed, out of memory, their host gone):
such a job is marked failed with that reason, within a bounded time, and nothing it did was
kept (its work's transaction died with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable

from procrastinate import jobs as queue_jobs
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.pool import NullPool

from gridmap.db import jobs as job_rows
from gridmap.db.address import DatabaseAddress
from gridmap.db.engine import make_engine
from gridmap.errors import NotFound
from gridmap.jobs.queue import SESSION, worker_app
from gridmap.jobs.runner import worker_name

log = logging.getLogger(__name__)
# the pool's own word on each failed connection: an outage is said once, by the caller
logging.getLogger("psycopg.pool").setLevel(logging.ERROR)
HEARTBEAT_SECONDS = 2.0
STALLED_SECONDS = 30.0  # procrastinate's default; 10 s failed live jobs on a loaded machine
SWEEP_SECONDS = 3.0
PRUNE_EVERY = 200  # sweeps (10 minutes) between prunings of the queue's ended rows
QUEUE_KEEP_HOURS = 24  # gridmap's own job rows (the history clients see) are kept
GRACEFUL_SECONDS = 5.0  # a worker stopping waits this long for running jobs, then aborts them
RETRY_SECONDS = 2.0  # a worker that lost its database tries again after this long
CONNECT_SECONDS = 5.0
STALLED = (
    "the worker running job {id} stopped (no heartbeat for {seconds:.0f} s: killed, out of "
    "memory or its host gone); nothing was kept"
)


async def work(
    address: DatabaseAddress,
    *,
    concurrency: int = 1,
    name: str | None = None,
    install_signal_handlers: bool = False,
) -> None:
    """Run a worker until it is cancelled (or stopped by a signal), with its sweeper."""
    app = worker_app()
    pool = AsyncConnectionPool(
        address.libpq, kwargs=SESSION, min_size=1, max_size=concurrency + 4, open=False
    )
    await pool.open(wait=True, timeout=CONNECT_SECONDS)  # not the pool's 30 s: it says so fast
    try:
        await app.open_async(pool)
        sweeper = asyncio.create_task(_sweep_forever(app, address))
        try:
            await app.run_worker_async(
                name=name or worker_name(),
                concurrency=concurrency,
                additional_context={"address": address},
                install_signal_handlers=install_signal_handlers,
                update_heartbeat_interval=HEARTBEAT_SECONDS,
                stalled_worker_timeout=STALLED_SECONDS,
                shutdown_graceful_timeout=GRACEFUL_SECONDS,
                abort_job_polling_interval=1.0,
                fetch_job_polling_interval=5.0,
            )
        finally:
            sweeper.cancel()
            await asyncio.gather(sweeper, return_exceptions=True)
            await app.close_async()
    finally:
        await pool.close()


async def _sweep_forever(app: object, address: DatabaseAddress) -> None:
    rounds = 0
    while True:
        try:
            await sweep_stalled(app, address)
            if rounds % PRUNE_EVERY == 0:
                await prune_queue(app)
        except Exception as error:  # the database may be away: the next round tries again
            log.debug("sweeping stalled jobs failed: %s", error)
        rounds += 1
        await asyncio.sleep(SWEEP_SECONDS)


async def prune_queue(app: object) -> None:
    """Delete the queue's own rows of work that ended over a day ago (gridmap's stay)."""
    await app.job_manager.delete_old_jobs(  # type: ignore[attr-defined]
        nb_hours=QUEUE_KEEP_HOURS,
        include_failed=True,
        include_cancelled=True,
        include_aborted=True,
    )


async def sweep_stalled(app: object, address: DatabaseAddress) -> list[int]:
    """Fail the jobs of workers that stopped beating; return those jobs' ids."""
    manager = app.job_manager  # type: ignore[attr-defined]
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_SECONDS))
    failed: list[int] = []
    for queued in stalled:
        job_id = int(queued.task_kwargs["job_id"])
        verdict = await asyncio.to_thread(fail_stalled, address, job_id)
        if verdict == "alive":
            continue
        await manager.finish_job(queued, status=queue_jobs.Status.FAILED, delete_job=False)
        if verdict == "failed":
            log.warning("job %s failed: its worker stopped beating", job_id)
            failed.append(job_id)
    return failed


def fail_stalled(address: DatabaseAddress, job_id: int) -> str:
    """Fail job ``job_id``, whose worker's heart stopped, unless this very process runs it.

    Returns ``failed``; ``alive`` when this process is its worker (its own heartbeat was only
    late: a starved event loop, a slow database; the work goes on); ``ended`` when the job had
    ended already or has no row any more.
    """
    engine = make_engine(address.url(), poolclass=NullPool)
    try:
        with engine.begin() as connection:
            try:
                if job_rows.job_row(connection, job_id, lock=True).worker == worker_name():
                    return "alive"
            except NotFound:  # its row is gone: nothing to fail, the queue's row still ends
                return "ended"
            ended = not job_rows.finish_job(
                connection,
                job_id,
                "failed",
                error=STALLED.format(id=job_id, seconds=STALLED_SECONDS),
            )
            return "ended" if ended else "failed"
    finally:
        engine.dispose()


async def work_until_stopped(
    address: DatabaseAddress,
    *,
    concurrency: int,
    name: str | None = None,
    install_signal_handlers: bool = False,
    on_outage: Callable[[str], None] | None = None,
) -> None:
    """Run a worker; when its database goes away, start it again once the database is back."""
    said = False
    while True:
        try:
            await work(
                address,
                concurrency=concurrency,
                name=name,
                install_signal_handlers=install_signal_handlers,
            )
            return  # stopped by a signal
        except asyncio.CancelledError:
            raise
        except Exception as error:
            if not said:
                log.warning(
                    "job worker: lost the database (%s); trying again every %.0f s",
                    str(error).splitlines()[0] if str(error) else type(error).__name__,
                    RETRY_SECONDS,
                )
                said = True
            if on_outage is not None:
                on_outage(str(error))
        await asyncio.sleep(RETRY_SECONDS)


class WorkerThread:
    """A worker in a thread of the API's process, with an event loop of its own."""

    def __init__(self, address: DatabaseAddress, *, concurrency: int) -> None:
        self._address = address
        self._concurrency = concurrency
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gridmap-job-worker", daemon=True)

    def start(self) -> None:
        """Start the worker."""
        self._thread.start()
        self._started.wait(timeout=10)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            self._task = loop.create_task(
                work_until_stopped(self._address, concurrency=self._concurrency)
            )
            self._started.set()
            loop.run_until_complete(self._task)
        except (asyncio.CancelledError, Exception) as error:
            if not isinstance(error, asyncio.CancelledError):
                log.exception("job worker stopped")
        finally:  # nothing of the worker's may outlive its loop
            left = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in left:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the worker: running jobs get a moment to end, then are stopped."""
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(timeout=timeout)
