"""Hand edits of a draft plan: units moved between grids, guarded by the plan's revision.

A planner's edit names the revision it was made against; when the plan has changed since,
the edit is refused whole (:class:`~gridmap.errors.Stale`) and the planner sees the fresh plan.
The plan's row is locked for the edit, so concurrent editors are served one at a time and no
update is lost. Each edit is one transaction with an audit row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from gridmap.db import plans as db
from gridmap.errors import Conflict, InvalidInput, NotFound, Stale
from gridmap.standards import GRID_BOUNDS

MAX_MOVES = 5000


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


def move_units(
    connection: Connection, plan_id: int, moves: list[Move], *, expected_revision: int,
    author: str,
) -> EditResult:  # fmt: skip
    """Move units between grids of a draft plan, if it is still at ``expected_revision``.

    Raises
    ------
    NotFound
        When the plan does not exist.
    Stale
        When the plan's revision is not ``expected_revision`` any more.
    Conflict
        When the plan is not a draft, or a grid involved is locked.
    InvalidInput
        When a unit or grid code is unknown, a grid is in another community, or there are
        too many moves.
    """
    if not moves:
        raise InvalidInput("moves: give at least one {unit, grid}")
    if len(moves) > MAX_MOVES:
        raise InvalidInput(f"moves: at most {MAX_MOVES} in one edit (got {len(moves)})")
    row = connection.execute(text(
        "SELECT status, revision FROM plan WHERE id = :p FOR UPDATE"), {"p": plan_id}
    ).first()  # fmt: skip
    if row is None:
        raise NotFound(f"no plan {plan_id}")
    if row.revision != expected_revision:
        raise Stale(f"plan {plan_id} is at revision {row.revision}, not {expected_revision}: "
                    "someone changed it; reload it and redo the edit")  # fmt: skip
    if row.status != "draft":
        raise Conflict(f"plan {plan_id} is {row.status}: only a draft can be edited")
    found = connection.execute(text("""
        SELECT m.i, u.id AS unit_id, u.community_id AS unit_community, src.id AS source,
               src.locked AS source_locked, g.id AS target, g.community_id AS grid_community,
               g.locked AS target_locked
        FROM unnest(CAST(:units AS text[]), CAST(:grids AS text[])) WITH ORDINALITY
             AS m(unit, grid, i)
        LEFT JOIN unit u ON u.code = m.unit
        LEFT JOIN assignment a ON a.unit_id = u.id AND a.plan_id = :p
        LEFT JOIN grid src ON src.id = a.grid_id
        LEFT JOIN grid g ON g.code = m.grid AND g.plan_id = :p
        ORDER BY m.i
    """), {"units": [m.unit for m in moves], "grids": [m.grid for m in moves],
           "p": plan_id}).all()  # fmt: skip
    for move, hit in zip(moves, found, strict=True):
        where = f"moves[{hit.i - 1}]"
        if hit.unit_id is None:
            raise InvalidInput(f"{where}.unit: no unit {move.unit!r}")
        if hit.target is None:
            raise InvalidInput(f"{where}.grid: plan {plan_id} has no grid {move.grid!r}")
        if hit.unit_community != hit.grid_community:
            raise InvalidInput(f"{where}: unit {move.unit} lies in another community than "
                               f"grid {move.grid}; a grid stays inside its community")  # fmt: skip
        if hit.source_locked or hit.target_locked:
            raise Conflict(f"{where}: grid {move.grid if hit.target_locked else 'of the unit'} "
                           "is locked; unlock it first")  # fmt: skip
    connection.execute(text("""
        INSERT INTO assignment (plan_id, unit_id, grid_id)
        SELECT :p, u, g FROM unnest(CAST(:units AS integer[]), CAST(:grids AS integer[])) AS m(u, g)
        ON CONFLICT (plan_id, unit_id) DO UPDATE SET grid_id = excluded.grid_id
    """), {"p": plan_id, "units": [h.unit_id for h in found],
           "grids": [h.target for h in found]})  # fmt: skip
    touched = sorted({h.target for h in found} | {h.source for h in found if h.source})
    db.refresh_grid_figures(connection, plan_id, touched)
    emptied = connection.execute(text("""
        DELETE FROM grid g WHERE g.id = ANY(:ids) AND NOT EXISTS (
            SELECT 1 FROM assignment a WHERE a.plan_id = :p AND a.grid_id = g.id)
        RETURNING g.code
    """), {"ids": touched, "p": plan_id}).scalars().all()  # fmt: skip
    revision = int(connection.execute(text(
        "UPDATE plan SET revision = revision + 1, updated_at = now() WHERE id = :p "
        "RETURNING revision"), {"p": plan_id}).scalar_one())  # fmt: skip
    db.add_audit(connection, actor=author, action="move units", table="plan", target_id=plan_id,
                 payload={"revision": revision, "moves": [m.__dict__ for m in moves]})  # fmt: skip
    grids = touched_figures(connection, plan_id, touched)
    return EditResult(revision, grids, _warnings(grids, emptied))


def touched_figures(connection: Connection, plan_id: int, ids: list[int]) -> list[dict[str, Any]]:
    """Return the figures of grids ``ids``, with how many pieces each is in."""
    rows = connection.execute(text("""
        SELECT g.code, g.kind, g.households, g.residents, g.governance_load, g.area_m2,
               g.polsby_popper, ST_NumGeometries(g.geom) AS pieces
        FROM grid g WHERE g.plan_id = :p AND g.id = ANY(:ids) ORDER BY g.code
    """), {"p": plan_id, "ids": ids}).mappings().all()  # fmt: skip
    return [dict(r) for r in rows]


def _warnings(grids: list[dict[str, Any]], emptied: list[str]) -> list[str]:
    said = [f"grid {code} has no unit left and was removed" for code in emptied]
    for g in grids:
        bounds = GRID_BOUNDS.get(g["kind"])
        if (g["pieces"] or 1) > 1:
            said.append(f"grid {g['code']} is now in {g['pieces']} pieces")
        if bounds is not None and not (
            bounds.min_households <= g["households"] <= bounds.max_households
        ):
            said.append(f"grid {g['code']} holds {g['households']} households, outside "
                        f"{bounds.min_households}–{bounds.max_households}")  # fmt: skip
    return said
