"""The SQL of plans: a plan row, its grids and assignments, grid figures, and audit rows.

Every function works in the caller's transaction.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy import Connection, text

from gridmap.db.bulk import copy_rows
from gridmap.db.city import next_ids


def insert_plan(
    connection: Connection, *, name: str, author: str, parameters: dict[str, Any]
) -> int:
    """Insert a draft plan; return its id."""
    return int(
        connection.execute(
            text("INSERT INTO plan (name, author, parameters) "
                 "VALUES (:name, :author, CAST(:parameters AS jsonb)) RETURNING id"),
            {"name": name, "author": author, "parameters": json.dumps(parameters)},
        ).scalar_one()
    )  # fmt: skip


def insert_grids(connection: Connection, plan_id: int, grids: pd.DataFrame) -> pd.Series:
    """Insert grids (code, name, kind, community_id) of a plan; return their ids in order."""
    ids = next_ids(connection, "grid", len(grids))
    copy_rows(
        connection,
        "grid",
        grids[["code", "name", "kind", "community_id"]].assign(id=ids, plan_id=plan_id),
    )
    return pd.Series(ids, index=grids.index)


def insert_assignments(
    connection: Connection, plan_id: int, unit_ids: pd.Series, grid_ids: pd.Series
) -> None:
    """Put each unit in its grid in plan ``plan_id``."""
    frame = pd.DataFrame(
        {"plan_id": plan_id, "unit_id": unit_ids.to_numpy(), "grid_id": grid_ids.to_numpy()}
    )
    copy_rows(connection, "assignment", frame)


def refresh_grid_figures(connection: Connection, plan_id: int) -> None:
    """Recompute each grid's sums, its geometry (the union of its units) and its area."""
    connection.execute(text("""
        UPDATE grid g SET
            households = s.households, residents = s.residents,
            governance_load = s.governance_load, geom = s.geom,
            area_m2 = ST_Area(s.geom::geography),
            polsby_popper = 4 * pi() * ST_Area(s.geom::geography)
                            / nullif(ST_Perimeter(s.geom::geography) ^ 2, 0)
        FROM (
            SELECT a.grid_id, sum(u.households) AS households, sum(u.residents) AS residents,
                   sum(u.governance_load) AS governance_load,
                   ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(u.geom)), 3)) AS geom
            FROM assignment a JOIN unit u ON u.id = a.unit_id
            WHERE a.plan_id = :plan
            GROUP BY a.grid_id
        ) s
        WHERE g.id = s.grid_id AND g.plan_id = :plan
    """), {"plan": plan_id})  # fmt: skip


def make_current(connection: Connection, plan_id: int) -> None:
    """Archive the current plan, if any, and make ``plan_id`` current."""
    connection.execute(
        text("UPDATE plan SET status = 'archived' WHERE status = 'current' AND id <> :plan"),
        {"plan": plan_id},
    )
    connection.execute(
        text("UPDATE plan SET status = 'current', accepted_at = now() WHERE id = :plan"),
        {"plan": plan_id},
    )


def add_audit(
    connection: Connection,
    *,
    actor: str,
    action: str,
    table: str,
    target_id: int | None,
    payload: dict[str, Any],
) -> None:
    """Record who did what to which record."""
    connection.execute(
        text("INSERT INTO audit (actor, action, target_table, target_id, payload) "
             "VALUES (:actor, :action, :table, :target, CAST(:payload AS jsonb))"),
        {"actor": actor, "action": action, "table": table, "target": target_id,
         "payload": json.dumps(payload, ensure_ascii=False)},
    )  # fmt: skip
