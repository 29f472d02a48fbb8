"""Grids made by hand in a draft: a new grid from some units, or several (a split's parts).

A new grid takes the next serial of its community (never a retired code) and the kind of the
grid its units leave (a comprehensive grid's kind by its community when they leave a dedicated
one). Like every write to a plan it goes through :func:`gridmap.plans.lifecycle.guard` (the
plan's lock, its status, jobs, the revision the caller saw) and is one audited revision.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection

from gridmap.db import plan_grids
from gridmap.db import plans as plan_rows
from gridmap.errors import Conflict, InvalidInput
from gridmap.plans.lifecycle import MAX_MOVES, EditResult, guard, reassign
from gridmap.standards import community_kind

MAX_NEW_GRIDS = 20
"""Grids one edit may make (a split into k makes k - 1)."""


def carve_grids(
    connection: Connection,
    plan_id: int,
    parts: list[list[str]],
    *,
    expected_revision: int,
    author: str,
    action: str = "new grid",
    detail: dict[str, Any] | None = None,
) -> tuple[list[str], EditResult]:
    """Make one new grid of each part (unit codes, all of one community) in a draft.

    Returns
    -------
    tuple
        The new grids' codes (in the order of ``parts``) and the edit's result: the plan's
        revision, the touched grids' figures (``pieces_before`` beside ``pieces``), warnings.

    Raises
    ------
    InvalidInput
        When a part is empty, a unit is unknown, named twice, or in another community than
        the rest of its part, or there are too many units or parts.
    Conflict
        When a unit's grid is locked (and as :func:`gridmap.plans.lifecycle.guard` says).
    """
    units = [u for part in parts for u in part]
    if not parts or any(not part for part in parts):
        raise InvalidInput("units: give at least one unit for each new grid")
    if len(parts) > MAX_NEW_GRIDS:
        raise InvalidInput(f"at most {MAX_NEW_GRIDS} new grids in one edit (got {len(parts)})")
    if len(units) > MAX_MOVES:
        raise InvalidInput(f"units: at most {MAX_MOVES} in one edit (got {len(units)})")
    twice = [u for u, n in Counter(units).items() if n > 1]
    if twice:
        raise InvalidInput(f"units: unit {twice[0]!r} is named twice; name each unit once")
    guard(connection, plan_id, "move units", expected_revision=expected_revision)
    found = plan_rows.lookup_moves(connection, plan_id, units, [""] * len(units))
    at = 0
    codes: list[str] = []
    targets: list[int] = []
    for part in parts:
        rows = found[at : at + len(part)]
        at += len(part)
        for unit, row in zip(part, rows, strict=True):
            if row["unit_id"] is None:
                raise InvalidInput(f"units: no unit {unit!r}")
            if row["source_locked"]:
                raise Conflict(f"units: unit {unit} lies in a locked grid; unlock it first")
            if row["unit_community"] != rows[0]["unit_community"]:
                raise InvalidInput(
                    f"units: unit {unit} lies in another community than unit {part[0]}; "
                    "a grid stays inside its community"
                )
        community_id = int(rows[0]["unit_community"])
        community = plan_grids.community_code(connection, community_id)
        code = plan_grids.next_grid_codes(connection, community, 1)[0]
        kind = _kind_left(connection, [r["source"] for r in rows], community)
        (grid_id,) = plan_grids.insert_new_grids(connection, plan_id, [code], kind, community_id)
        codes.append(code)
        targets += [grid_id] * len(part)
    result = reassign(
        connection,
        plan_id,
        [int(r["unit_id"]) for r in found],
        targets,
        [r["source"] for r in found],
        author=author,
        action=action,
        payload={"grids": codes, "units": parts, **(detail or {})},
    )
    return codes, result


def _kind_left(connection: Connection, source_ids: list[Any], community: str) -> str:
    """Return the kind of the grid most units leave, unless dedicated (then the community's)."""
    kinds = plan_grids.grid_kinds(connection, [int(s) for s in source_ids if s is not None])
    comprehensive = [k for k in kinds if k != "dedicated"]
    if comprehensive:
        return Counter(comprehensive).most_common(1)[0][0]
    return community_kind(community)
