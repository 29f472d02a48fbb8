"""A plan's whole life, one state machine: draft → current → archived.

Every write to a plan goes through here: create (empty or a copy), rename, delete, move units,
lock and unlock grids, save a partition's result, and accept (which archives the plan that was
current). Each takes the plan's row lock (:func:`guard`), checks that the action is allowed
from the plan's status, that no job is working on the plan (unless the writer is that job),
and that the plan is still at the revision the caller saw; then it writes, bumps the revision
and records an audit row (:func:`record`), all in the caller's one transaction.

A job is a writer like any other: it names itself (``job_id``) and the revision it started
from, and when the plan changed anyway its result is refused (:class:`PlanChanged`) and
nothing is written. The SQL lives in :mod:`gridmap.db.plans` and :mod:`gridmap.db.jobs`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from gridmap.db import jobs as job_rows
from gridmap.db import plans as plan_rows
from gridmap.errors import Conflict, InvalidInput, JobRunning, PlanChanged, Stale
from gridmap.plans.check import check_plan, grid_pieces
from gridmap.standards import GRID_BOUNDS

DRAFT_ONLY = ("draft",)
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "rename": ("draft", "current", "archived"),
    "delete": DRAFT_ONLY,
    "move units": DRAFT_ONLY,
    "lock": DRAFT_ONLY,
    "unlock": DRAFT_ONLY,
    "partition": DRAFT_ONLY,
    "accept": DRAFT_ONLY,
}
"""Each write and the statuses a plan may have for it: everything but a rename is a draft's."""
VERBS = {
    "move units": "edited",
    "lock": "locked",
    "unlock": "unlocked",
    "partition": "re-partitioned",
    "accept": "accepted",
    "delete": "deleted",
    "rename": "renamed",
}
MAX_MOVES = 5000
ACCEPT_LOCK = 0x67726964  # a transaction-level advisory lock: one accept at a time


@dataclass(frozen=True)
class JobRef:
    """A job writing to a plan: its id and the plan's revision when it started."""

    id: int
    base_revision: int


@dataclass(frozen=True)
class Move:
    """One unit into one grid, both by code."""

    unit: str
    grid: str


@dataclass(frozen=True)
class EditResult:
    """The plan after an edit: its revision, the touched grids' figures, and warnings."""

    revision: int
    grids: list[dict[str, Any]]
    warnings: list[str]


def guard(
    connection: Connection,
    plan_id: int,
    action: str,
    *,
    expected_revision: int | None = None,
    job: JobRef | None = None,
) -> dict[str, Any]:
    """Lock plan ``plan_id`` for ``action`` and check that it may happen; return its row.

    Raises
    ------
    NotFound
        When the plan does not exist.
    Conflict
        When the plan's status does not allow the action.
    JobRunning
        When a job (other than ``job``) is working on the plan.
    Stale
        When the plan is not at ``expected_revision`` any more.
    PlanChanged
        When ``job`` is given and the plan is not at the revision the job started from.
    """
    row = plan_rows.lock_plan(connection, plan_id)
    _check_allowed(connection, row, action, job)
    if job is not None and row["revision"] != job.base_revision:
        raise PlanChanged(
            f"the plan changed while the job ran: plan {plan_id} is at revision "
            f"{row['revision']}, the job started from {job.base_revision}; nothing was kept"
        )
    if expected_revision is not None and row["revision"] != expected_revision:
        raise Stale(
            f"plan {plan_id} is at revision {row['revision']}, not {expected_revision}: "
            "someone changed it; reload it and try again"
        )
    return row


def record(
    connection: Connection, plan_id: int, *, actor: str, action: str, payload: dict[str, Any]
) -> int:
    """Bump the plan's revision and write the audit row of ``action``; return the revision."""
    revision = plan_rows.bump_revision(connection, plan_id)
    plan_rows.add_audit(
        connection,
        actor=actor,
        action=action,
        table="plan",
        target_id=plan_id,
        payload={"revision": revision, **payload},
    )
    return revision


def check_writable(
    connection: Connection, plan_id: int, action: str, job: JobRef | None
) -> dict[str, Any]:
    """Check, without locking, that ``action`` may start on the plan; return its row.

    Long work checks early, before its work; the same checks run again under the lock when
    it writes (:func:`guard`).
    """
    row = plan_rows.plan_row(connection, plan_id)
    _check_allowed(connection, row, action, job)
    return row


def _check_allowed(
    connection: Connection, row: dict[str, Any], action: str, job: JobRef | None
) -> None:
    """Refuse ``action`` when the plan's status forbids it or another job works on it."""
    if row["status"] not in ALLOWED_FROM[action]:
        raise Conflict(
            f"plan {row['id']} is {row['status']}: only a draft can be {VERBS.get(action, action)}"
        )
    running = job_rows.active_partition_job(connection, row["id"])
    if running is not None and (job is None or running.id != job.id):
        raise JobRunning(
            f"plan {row['id']} is being re-partitioned by job {running.id} ({running.status}); "
            f"wait for it to end or cancel it (DELETE /jobs/{running.id})",
            job_id=running.id,
        )


# -- the writes ----------------------------------------------------------------------------
def new_plan(connection: Connection, *, name: str, source: int | None, author: str) -> int:
    """Make a draft plan: a copy of plan ``source`` (its grids, staff and locks), or empty."""
    name = _checked_name(name)
    if source is None:
        plan_id = plan_rows.insert_plan(connection, name=name, author=author, parameters={})
    else:
        plan_rows.plan_row(connection, source)
        plan_id = plan_rows.copy_plan(connection, source, name=name, author=author)
    plan_rows.add_audit(
        connection,
        actor=author,
        action="create",
        table="plan",
        target_id=plan_id,
        payload={"name": name, "source": source, "revision": 1},
    )
    return plan_id


def rename_plan(
    connection: Connection,
    plan_id: int,
    name: str,
    *,
    actor: str,
    expected_revision: int | None = None,
) -> int:
    """Rename a plan; return its new revision."""
    name = _checked_name(name)
    row = guard(connection, plan_id, "rename", expected_revision=expected_revision)
    plan_rows.rename_plan(connection, plan_id, name)
    return record(
        connection, plan_id, actor=actor, action="rename", payload={"from": row["name"], "to": name}
    )


def discard_plan(
    connection: Connection, plan_id: int, *, actor: str, expected_revision: int | None = None
) -> None:
    """Delete a draft with its grids; the current and archived plans are kept.

    Raises
    ------
    Conflict
        When the plan is current or archived, or a job works on it.
    """
    row = guard(connection, plan_id, "delete", expected_revision=expected_revision)
    plan_rows.delete_plan(connection, plan_id)
    plan_rows.add_audit(
        connection,
        actor=actor,
        action="discard",
        table="plan",
        target_id=plan_id,
        payload={"name": row["name"], "revision": row["revision"]},
    )


def accept_plan(
    connection: Connection, plan_id: int, *, actor: str, expected_revision: int | None = None
) -> int:
    """Make a draft the current plan and archive the old one; return the draft's revision.

    One accept runs at a time: a second one sent meanwhile is refused (:class:`Conflict`)
    rather than made to wait and then replace a plan its sender never saw.

    Raises
    ------
    Conflict
        When the plan is not a draft, a job works on it, another accept is under way, or the
        plan fails its integrity check (:func:`gridmap.plans.check.check_plan`) with errors.
    InvalidInput
        When the plan has no grids.
    """
    if not plan_rows.try_lock(connection, ACCEPT_LOCK):
        raise Conflict(
            "another plan is being accepted right now; reload the plans and decide again"
        )
    row = guard(connection, plan_id, "accept", expected_revision=expected_revision)
    if not plan_rows.has_content(connection, plan_id):
        raise InvalidInput(f"plan {plan_id} has no grids: partition it first")
    checked = check_plan(connection, plan_id)
    if not checked.ok:
        listed = "; ".join(f.message for f in checked.errors[:5])
        more = f" and {len(checked.errors) - 5} more" if len(checked.errors) > 5 else ""
        raise Conflict(
            f"plan {plan_id} fails its integrity check with {len(checked.errors)} errors: "
            f"{listed}{more} (GET /plans/{plan_id}/check or `gridmap plan check {plan_id}`)"
        )
    previous = plan_rows.current_plan_id(connection)
    plan_rows.make_current(connection, plan_id)
    plan_rows.add_audit(
        connection,
        actor=actor,
        action="accept",
        table="plan",
        target_id=plan_id,
        payload={"archived": previous, "revision": row["revision"]},
    )
    return int(row["revision"])


def set_locks(
    connection: Connection,
    plan_id: int,
    codes: list[str],
    locked: bool,
    *,
    actor: str,
    expected_revision: int | None = None,
) -> tuple[int, int]:
    """Lock (a partition never changes them) or unlock grids of a draft by code.

    Returns
    -------
    tuple of int
        How many grids changed, and the plan's revision after.

    Raises
    ------
    InvalidInput
        When a code is not a grid of the plan.
    """
    action = "lock" if locked else "unlock"
    guard(connection, plan_id, action, expected_revision=expected_revision)
    codes = list(dict.fromkeys(codes))
    unknown = plan_rows.unknown_grid_codes(connection, plan_id, codes)
    if unknown:
        raise InvalidInput(
            f"grids: plan {plan_id} has no grid {unknown[0]!r}"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
        )
    changed = plan_rows.set_locked(connection, plan_id, codes, locked)
    revision = record(
        connection,
        plan_id,
        actor=actor,
        action=action,
        payload={"grids": codes, "changed": changed},
    )
    return changed, revision


def move_units(
    connection: Connection,
    plan_id: int,
    moves: list[Move],
    *,
    expected_revision: int,
    author: str,
) -> EditResult:
    """Move units between grids of a draft plan, if it is still at ``expected_revision``.

    Raises
    ------
    NotFound
        When the plan does not exist.
    Stale
        When the plan's revision is not ``expected_revision`` any more.
    Conflict
        When the plan is not a draft, a job works on it, or a grid involved is locked.
    InvalidInput
        When a unit or grid code is unknown, a unit is named twice, a grid is in another
        community, or there are too many moves.
    """
    if not moves:
        raise InvalidInput("moves: give at least one {unit, grid}")
    if len(moves) > MAX_MOVES:
        raise InvalidInput(f"moves: at most {MAX_MOVES} in one edit (got {len(moves)})")
    twice = [unit for unit, n in Counter(m.unit for m in moves).items() if n > 1]
    if twice:
        at = [i for i, m in enumerate(moves) if m.unit == twice[0]]
        raise InvalidInput(
            f"moves[{at[1]}].unit: unit {twice[0]!r} is moved twice in one "
            f"edit (also moves[{at[0]}]); name each unit once"
        )
    guard(connection, plan_id, "move units", expected_revision=expected_revision)
    found = plan_rows.lookup_moves(
        connection, plan_id, [m.unit for m in moves], [m.grid for m in moves]
    )
    for i, (move, hit) in enumerate(zip(moves, found, strict=True)):
        where = f"moves[{i}]"
        if hit["unit_id"] is None:
            raise InvalidInput(f"{where}.unit: no unit {move.unit!r}")
        if hit["target"] is None:
            raise InvalidInput(f"{where}.grid: plan {plan_id} has no grid {move.grid!r}")
        if hit["unit_community"] != hit["grid_community"]:
            raise InvalidInput(
                f"{where}: unit {move.unit} lies in another community than "
                f"grid {move.grid}; a grid stays inside its community"
            )
        if hit["source_locked"] or hit["target_locked"]:
            raise Conflict(
                f"{where}: grid {move.grid if hit['target_locked'] else 'of the unit'}"
                " is locked; unlock it first"
            )
    return reassign(
        connection,
        plan_id,
        [h["unit_id"] for h in found],
        [h["target"] for h in found],
        [h["source"] for h in found],
        author=author,
        action="move units",
        payload={"moves": [m.__dict__ for m in moves]},
    )


def reassign(
    connection: Connection,
    plan_id: int,
    unit_ids: list[int],
    grid_ids: list[int],
    source_ids: list[int | None],
    *,
    author: str,
    action: str,
    payload: dict[str, Any],
) -> EditResult:
    """Put units into grids of a draft already guarded, and record it as one revision.

    The grids touched (``grid_ids`` and the units' ``source_ids``) get their figures again, the
    emptied ones are dropped, and each carries ``pieces`` now and ``pieces_before``, as the
    check counts them.
    """
    touched = sorted({int(g) for g in grid_ids} | {int(s) for s in source_ids if s is not None})
    before = grid_pieces(connection, plan_id, touched)  # the grids as they are drawn now
    plan_rows.assign_units(connection, plan_id, unit_ids, grid_ids)
    plan_rows.refresh_grid_figures(connection, plan_id, touched)
    emptied = plan_rows.drop_empty_grids(connection, plan_id, touched)
    revision = record(connection, plan_id, actor=author, action=action, payload=payload)
    after = grid_pieces(connection, plan_id, touched)
    grids = plan_rows.touched_figures(connection, plan_id, touched)
    for g in grids:
        g["pieces"] = after.get(g["code"], 1)
        g["pieces_before"] = before.get(g["code"])
    return EditResult(revision, grids, edit_warnings(grids, emptied, before))


def edit_warnings(
    grids: list[dict[str, Any]], emptied: list[str], pieces_before: dict[str, int] | None = None
) -> list[str]:
    """Say which touched grids were emptied, are in pieces, or hold households out of bounds."""
    said = [f"grid {code} has no unit left and was removed" for code in emptied]
    before = pieces_before or {}
    for g in grids:
        bounds = GRID_BOUNDS.get(g["kind"])
        pieces = g["pieces"] or 1
        if pieces > 1:
            was = before.get(g["code"]) or 1
            if was > 1:
                said.append(f"grid {g['code']} is in {pieces} pieces (it was in {was} already)")
            else:
                said.append(f"grid {g['code']} is now in {pieces} pieces")
        if bounds is not None and not (
            bounds.min_households <= g["households"] <= bounds.max_households
        ):
            said.append(
                f"grid {g['code']} holds {g['households']} households, outside "
                f"{bounds.min_households}–{bounds.max_households}"
            )
    return said


def _checked_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("name: give a plan name of 1 to 200 characters")
    return name
