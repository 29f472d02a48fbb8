"""The SQL of job rows: insert, claim, progress, finish, read, and who may see them.

Every function works in the caller's transaction (or on the caller's autocommit connection).
A job's status moves only forward: queued → running → succeeded, failed or cancelled, each
change guarded by the status it leaves, so two writers (a worker, a canceller, the sweeper
of stalled workers) never both win.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

from gridmap.errors import NotFound

COLUMNS = """
    j.id, j.kind, j.status, j.owner, j.owner_key_id, j.scope_region_id, j.plan_id,
    j.base_revision, j.parameters, j.step, j.total_steps, j.message, j.result, j.error,
    j.queue_job_id, j.cancel_requested, j.worker, j.created_at, j.started_at, j.finished_at
"""


@dataclass(frozen=True)
class JobRow:
    """A job as stored."""

    id: int
    kind: str
    status: str
    owner: str
    owner_key_id: int | None
    scope_region_id: int | None
    plan_id: int | None
    base_revision: int | None
    parameters: dict[str, Any]
    step: int
    total_steps: int
    message: str
    result: dict[str, Any] | None
    error: str | None
    queue_job_id: int | None
    cancel_requested: bool
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def active(self) -> bool:
        """Say whether the job is queued or running."""
        return self.status in ("queued", "running")


def insert_job(
    connection: Connection,
    *,
    kind: str,
    owner: str,
    owner_key_id: int | None,
    scope_region_id: int | None,
    plan_id: int | None,
    base_revision: int | None,
    parameters: dict[str, Any],
    total_steps: int,
) -> int:
    """Insert a queued job; return its id."""
    return int(
        connection.execute(
            text("""
        INSERT INTO job (kind, owner, owner_key_id, scope_region_id, plan_id, base_revision,
                         parameters, total_steps)
        VALUES (:kind, :owner, :key, :region, :plan, :revision, CAST(:parameters AS jsonb),
                :steps)
        RETURNING id
    """),
            {
                "kind": kind,
                "owner": owner,
                "key": owner_key_id,
                "region": scope_region_id,
                "plan": plan_id,
                "revision": base_revision,
                "parameters": json.dumps(parameters),
                "steps": total_steps,
            },
        ).scalar_one()
    )


def set_queue_job(connection: Connection, job_id: int, queue_job_id: int) -> None:
    """Record the queue's id of a job's work."""
    connection.execute(
        text("UPDATE job SET queue_job_id = :q WHERE id = :id"), {"q": queue_job_id, "id": job_id}
    )


def job_row(connection: Connection, job_id: int, *, lock: bool = False) -> JobRow:
    """Return job ``job_id`` (locked for the transaction when ``lock``).

    Raises
    ------
    NotFound
        When there is no such job.
    """
    row = (
        connection.execute(
            text(f"SELECT {COLUMNS} FROM job j WHERE j.id = :id" + (" FOR UPDATE" if lock else "")),
            {"id": job_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no job {job_id}")
    return JobRow(**row)


def active_partition_job(connection: Connection, plan_id: int) -> JobRow | None:
    """Return the re-partition job queued or running on plan ``plan_id``, if any."""
    row = (
        connection.execute(
            text(f"""
        SELECT {COLUMNS} FROM job j
        WHERE j.plan_id = :p AND j.kind = 'partition' AND j.status IN ('queued', 'running')
    """),
            {"p": plan_id},
        )
        .mappings()
        .first()
    )
    return None if row is None else JobRow(**row)


def claim_job(connection: Connection, job_id: int, worker: str) -> JobRow | None:
    """Mark a queued job running on ``worker``; None when it is not queued any more."""
    row = (
        connection.execute(
            text(f"""
        UPDATE job j SET status = 'running', started_at = now(), worker = :worker
        WHERE j.id = :id AND j.status = 'queued'
        RETURNING {COLUMNS}
    """),
            {"id": job_id, "worker": worker},
        )
        .mappings()
        .first()
    )
    return None if row is None else JobRow(**row)


def record_step(connection: Connection, job_id: int, message: str) -> bool:
    """Count one step of a running job; return whether a cancellation was asked for."""
    asked = connection.execute(
        text("""
        UPDATE job SET step = least(step + 1, total_steps), message = :m
        WHERE id = :id RETURNING cancel_requested OR status <> 'running'
    """),
        {"id": job_id, "m": message},
    ).scalar()
    return bool(asked) if asked is not None else True


def finish_job(
    connection: Connection,
    job_id: int,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
    only_from: tuple[str, ...] = ("queued", "running"),
    unless_cancelled: bool = False,
) -> bool:
    """End a job with ``status``; return False when it had ended already.

    ``unless_cancelled`` also leaves a job whose cancellation was asked for as it is (a job's
    own success, written in its work's transaction: the work is then rolled back).
    """
    done = connection.execute(
        text("""
        UPDATE job SET status = CAST(:status AS varchar), result = CAST(:result AS jsonb),
               error = :error, finished_at = clock_timestamp(),  -- not the transaction's start
               step = CASE WHEN :status = 'succeeded' THEN total_steps ELSE step END,
               message = CASE WHEN :status = 'succeeded' THEN 'done' ELSE message END
        WHERE id = :id AND status = ANY(:from) AND NOT (:unless AND cancel_requested)
    """),
        {
            "id": job_id,
            "status": status,
            "error": error,
            "from": list(only_from),
            "unless": unless_cancelled,
            "result": None if result is None else _json(result),
        },
    ).rowcount
    return bool(done)


def ask_to_cancel(connection: Connection, job_id: int) -> JobRow:
    """Cancel a queued job at once, or ask a running one to stop at its next step.

    Returns the job as it is after (an ended job is left as it was).
    """
    connection.execute(
        text("""
        UPDATE job SET cancel_requested = true,
               status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,
               error = CASE WHEN status = 'queued' THEN 'job ' || id || ' was cancelled'
                            ELSE error END,
               finished_at = CASE WHEN status = 'queued' THEN now() ELSE finished_at END
        WHERE id = :id AND status IN ('queued', 'running')
    """),
        {"id": job_id},
    )
    return job_row(connection, job_id)


def region_holds(connection: Connection, outer_id: int, inner_id: int | None) -> bool:
    """Say whether region ``outer_id`` is ``inner_id`` or one of its ancestors."""
    if inner_id is None:
        return False
    return bool(
        connection.execute(
            text("""
        WITH RECURSIVE up(id, parent_id) AS (
            SELECT id, parent_id FROM region WHERE id = :inner
            UNION ALL
            SELECT r.id, r.parent_id FROM region r JOIN up ON r.id = up.parent_id
        )
        SELECT EXISTS (SELECT 1 FROM up WHERE id = :outer)
    """),
            {"inner": inner_id, "outer": outer_id},
        ).scalar_one()
    )


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, default=_plain)


def _plain(value: Any) -> Any:
    """Return a numpy scalar as a plain number, anything else as its text (for JSON)."""
    return value.item() if hasattr(value, "item") else str(value)
