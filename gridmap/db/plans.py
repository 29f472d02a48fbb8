"""The SQL of plans: a plan row, its grids and assignments, grid figures, and audit rows.

Every function works in the caller's transaction.
"""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import Connection, text

from gridmap.db.bulk import copy_rows, read_geoframe, rows_frame
from gridmap.db.city import next_ids
from gridmap.errors import NotFound

PLAN_OR_CURRENT = "coalesce(CAST(:plan AS integer), (SELECT id FROM plan WHERE status = 'current'))"
"""SQL for the plan ``:plan`` asks for, or the current one when it is NULL."""
GRID_WORKERS = (
    "CASE jsonb_typeof(g.staff -> 'workers') "
    "WHEN 'array' THEN jsonb_array_length(g.staff -> 'workers') ELSE 0 END"
)
"""How many grid workers grid ``g`` has (its staff roster's ``workers``; none when not a list)."""


def insert_plan(
    connection: Connection, *, name: str, author: str, parameters: dict[str, Any]
) -> int:
    """Insert a draft plan; return its id."""
    return int(
        connection.execute(
            text(
                "INSERT INTO plan (name, author, parameters) "
                "VALUES (:name, :author, CAST(:parameters AS jsonb)) RETURNING id"
            ),
            {"name": name, "author": author, "parameters": json.dumps(parameters)},
        ).scalar_one()
    )


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


def refresh_grid_figures(
    connection: Connection, plan_id: int, grid_ids: list[int] | None = None
) -> None:
    """Recompute each grid's sums, its geometry (the union of its units) and its area.

    Only the grids ``grid_ids`` when given.
    """
    # the unions are computed once (MATERIALIZED), then written by grid id: a fresh draft's
    # grids have no statistics yet, and PostgreSQL planned a nested loop that unioned the
    # touched grids once for each of the plan's 28,421 grids (0.6-1.2 s an edit on the 1M
    # city); and two statements, not one with "grids IS NULL OR ...", which was planned for
    # every grid of the plan (9 s to refresh a street's hundred grids)
    only = "AND a.grid_id = ANY(:grids)" if grid_ids is not None else ""
    connection.execute(
        text(f"""
        WITH s AS MATERIALIZED (
            SELECT a.grid_id, sum(u.households) AS households, sum(u.residents) AS residents,
                   sum(u.governance_load) AS governance_load,
                   ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_Union(u.geom)), 3)) AS geom
            FROM assignment a JOIN unit u ON u.id = a.unit_id
            WHERE a.plan_id = :plan {only}
            GROUP BY a.grid_id
        )
        UPDATE grid g SET
            households = s.households, residents = s.residents,
            governance_load = s.governance_load, geom = s.geom,
            area_m2 = ST_Area(s.geom::geography),
            polsby_popper = 4 * pi() * ST_Area(s.geom::geography)
                            / nullif(ST_Perimeter(s.geom::geography) ^ 2, 0)
        FROM s
        WHERE g.id = s.grid_id AND g.plan_id = :plan
    """),
        {"plan": plan_id, "grids": grid_ids},
    )


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
        text(
            "INSERT INTO audit (actor, action, target_table, target_id, payload) "
            "VALUES (:actor, :action, :table, :target, CAST(:payload AS jsonb))"
        ),
        {
            "actor": actor,
            "action": action,
            "table": table,
            "target": target_id,
            "payload": json.dumps(payload, ensure_ascii=False),
        },
    )


def plan_row(connection: Connection, plan_id: int) -> dict[str, Any]:
    """Return a plan's id, name, status, parent, revision and parameters."""
    row = (
        connection.execute(
            text(
                "SELECT id, name, status, parent_id, revision, parameters FROM plan WHERE id = :p"
            ),
            {"p": plan_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no plan {plan_id}")
    return dict(row)


def list_plans(connection: Connection) -> pd.DataFrame:
    """Return every plan with its grid count, newest first."""
    return pd.read_sql(
        text("""
        SELECT p.id, p.name, p.status, p.parent_id, p.revision, p.created_at,
               count(g.id) AS grids
        FROM plan p LEFT JOIN grid g ON g.plan_id = p.id
        GROUP BY p.id ORDER BY p.id DESC
    """),
        connection,
    )


def current_plan_id(connection: Connection) -> int | None:
    """Return the current plan's id, if any."""
    return connection.execute(text("SELECT id FROM plan WHERE status = 'current'")).scalar()


def the_current_plan(connection: Connection) -> int:
    """Return the current plan's id.

    Raises
    ------
    NotFound
        When no plan is current.
    """
    plan = current_plan_id(connection)
    if plan is None:
        raise NotFound("there is no current plan: accept one first")
    return plan


def plan_content(connection: Connection, plan_id: int) -> pd.DataFrame:
    """Return the plan's assignment: unit id → grid id, code, kind and lock."""
    return pd.read_sql(
        text("""
        SELECT a.unit_id, g.id AS grid_id, g.code, g.name, g.kind, g.locked
        FROM assignment a JOIN grid g ON g.id = a.grid_id
        WHERE a.plan_id = :p
        ORDER BY a.unit_id
    """),
        connection,
        params={"p": plan_id},
    )


def analyze_plans(connection: Connection) -> None:
    """Refresh the planner's statistics of which plan rows belong to, after a bulk write.

    A new plan's tens of thousands of grids and assignments are invisible to the statistics
    until autovacuum comes by; meanwhile PostgreSQL takes the plan for one row and joins its
    grids to its assignments by nested loops, and listing a fresh draft of the 1M city took
    over two minutes. The plan columns alone: 0.2 s there (the whole tables: 0.9 s).
    """
    connection.execute(text("ANALYZE grid (plan_id), assignment (plan_id, grid_id)"))


def copy_plan(connection: Connection, source_id: int, *, name: str, author: str) -> int:
    """Make a draft holding the same grids and assignment as plan ``source_id``."""
    new_id = int(
        connection.execute(
            text(
                "INSERT INTO plan (name, author, parent_id, parameters) "
                "SELECT :name, :author, id, parameters FROM plan WHERE id = :s RETURNING id"
            ),
            {"name": name, "author": author, "s": source_id},
        ).scalar_one()
    )
    # one statement: the new grids' ids come back from their insert and are joined by code
    # (a join against the grid table would be planned for the new plan's 0 rows seen so far,
    # and took minutes on a city of 28,000 grids)
    connection.execute(
        text("""
        WITH old AS (SELECT id, code FROM grid WHERE plan_id = :s),
        new AS (
            INSERT INTO grid (plan_id, code, name, kind, community_id, locked, staff,
                              households, residents, governance_load, area_m2, radius_m,
                              polsby_popper, geom)
            SELECT :n, code, name, kind, community_id, locked, staff, households, residents,
                   governance_load, area_m2, radius_m, polsby_popper, geom
            FROM grid WHERE plan_id = :s
            RETURNING id, code
        )
        INSERT INTO assignment (plan_id, unit_id, grid_id)
        SELECT :n, a.unit_id, new.id
        FROM assignment a JOIN old ON old.id = a.grid_id JOIN new ON new.code = old.code
        WHERE a.plan_id = :s
    """),
        {"n": new_id, "s": source_id},
    )
    # the copy's stored tiles are its source's (taken at commit, migration 0011), not dropped
    # for the rows just written
    connection.execute(
        text("DELETE FROM tile_dirty WHERE txid = txid_current() AND plan_id = :n"),
        {"n": new_id},
    )
    connection.execute(
        text(
            "INSERT INTO tile_dirty (txid, table_name, plan_id, copy_of) "
            "VALUES (txid_current(), 'plan/copy', :n, :s)"
        ),
        {"n": new_id, "s": source_id},
    )
    analyze_plans(connection)
    return new_id


def clear_plan(connection: Connection, plan_id: int, *, within: str | None = None) -> None:
    """Remove a plan's grids and assignment (the plan row stays).

    With ``within`` (a region's code), only the grids of that region's communities.
    """
    connection.execute(
        text("""
        DELETE FROM grid g WHERE g.plan_id = :p AND (CAST(:within AS text) IS NULL OR EXISTS (
            SELECT 1 FROM region r WHERE r.id = g.community_id AND starts_with(r.code, :within)))
    """),
        {"p": plan_id, "within": within},
    )


def units_without_grid(connection: Connection, plan_id: int, *, outside: str) -> int:
    """Count the units outside region ``outside`` (a code) that are in no grid of the plan."""
    return int(
        connection.execute(
            text("""
        SELECT count(*) FROM unit u JOIN region r ON r.id = u.community_id
        WHERE NOT starts_with(r.code, :outside) AND NOT EXISTS (
            SELECT 1 FROM assignment a WHERE a.plan_id = :p AND a.unit_id = u.id)
    """),
            {"p": plan_id, "outside": outside},
        ).scalar_one()
    )


def delete_plan(connection: Connection, plan_id: int) -> None:
    """Delete a plan with its grids and assignment (the caller checks it is a draft)."""
    connection.execute(text("DELETE FROM plan WHERE id = :p"), {"p": plan_id})


def set_radius(connection: Connection, grid_ids: pd.Series, radius_m: pd.Series) -> None:
    """Store each grid's radius (metres)."""
    connection.execute(
        text("CREATE TEMP TABLE grid_radius (id int, radius_m float8) ON COMMIT DROP")
    )
    copy_rows(
        connection,
        "grid",
        pd.DataFrame({"id": grid_ids.to_numpy(), "radius_m": radius_m.to_numpy()}),
        into="grid_radius",
    )
    connection.execute(
        text("UPDATE grid g SET radius_m = r.radius_m FROM grid_radius r WHERE g.id = r.id")
    )
    connection.execute(text("DROP TABLE grid_radius"))


def grid_staff(
    connection: Connection, plan_id: int, codes: list[str] | None = None
) -> dict[str, dict[str, Any]]:
    """Return the staff of each grid of a plan that has any (or of ``codes``), by grid code."""
    rows = connection.execute(
        text(
            "SELECT code, staff FROM grid WHERE plan_id = :p AND staff <> '{}'::jsonb "
            "AND (CAST(:codes AS text[]) IS NULL OR code = ANY(:codes))"
        ),
        {"p": plan_id, "codes": codes},
    ).all()
    return {r.code: r.staff for r in rows}


def set_staff(connection: Connection, plan_id: int, staff: dict[str, dict[str, Any]]) -> int:
    """Give grids of a plan their staff, by grid code; return how many grids changed."""
    if not staff:
        return 0
    documents = [json.dumps(v, ensure_ascii=False) for v in staff.values()]
    return connection.execute(
        text("""
        UPDATE grid g SET staff = s.staff
        FROM unnest(CAST(:codes AS text[]), CAST(:staff AS jsonb[])) AS s(code, staff)
        WHERE g.plan_id = :p AND g.code = s.code
    """),
        {"p": plan_id, "codes": list(staff), "staff": documents},
    ).rowcount


def set_locked(connection: Connection, plan_id: int, codes: list[str], locked: bool) -> int:
    """Lock or unlock grids of a plan by code; return how many changed (not those already so)."""
    return connection.execute(
        text(
            "UPDATE grid SET locked = :l "
            "WHERE plan_id = :p AND code = ANY(:codes) AND locked IS DISTINCT FROM :l"
        ),
        {"l": locked, "p": plan_id, "codes": codes},
    ).rowcount


def grid_figures(connection: Connection, plan_id: int) -> pd.DataFrame:
    """Return a plan's grids with their figures."""
    return pd.read_sql(
        text("""
        SELECT g.code, g.name, g.kind, r.code AS community, g.locked, g.households, g.residents,
               g.governance_load, g.area_m2, g.radius_m, g.polsby_popper,
               coalesce(n.units, 0) AS units
        FROM grid g JOIN region r ON r.id = g.community_id
        LEFT JOIN (SELECT grid_id, count(*) AS units FROM assignment WHERE plan_id = :p
                   GROUP BY grid_id) n ON n.grid_id = g.id
        WHERE g.plan_id = :p ORDER BY g.code
    """),
        connection,
        params={"p": plan_id},
    )


def households_of_units(connection: Connection, unit_ids: list[int]) -> int:
    """Return the households of the given units."""
    if not unit_ids:
        return 0
    return int(
        connection.execute(
            text("SELECT coalesce(sum(households), 0) FROM unit WHERE id = ANY(:ids)"),
            {"ids": [int(i) for i in unit_ids]},
        ).scalar_one()
    )


def unit_grid_codes(connection: Connection, plan_id: int) -> dict[str, str]:
    """Return each unit's grid in a plan, by code."""
    rows = connection.execute(
        text(
            "SELECT u.code AS unit, g.code AS grid FROM assignment a JOIN unit u ON u.id = "
            "a.unit_id "
            "JOIN grid g ON g.id = a.grid_id WHERE a.plan_id = :p"
        ),
        {"p": plan_id},
    ).all()
    return {r.unit: r.grid for r in rows}


def moved_units(connection: Connection, a: int, b: int) -> list[dict[str, str]]:
    """Return the units whose grid code differs between plans ``a`` and ``b``."""
    rows = (
        connection.execute(
            text("""
        SELECT u.code AS unit, ga.code AS before, gb.code AS after
        FROM assignment x JOIN assignment y ON y.unit_id = x.unit_id AND y.plan_id = :b
        JOIN grid ga ON ga.id = x.grid_id JOIN grid gb ON gb.id = y.grid_id
        JOIN unit u ON u.id = x.unit_id
        WHERE x.plan_id = :a AND ga.code <> gb.code ORDER BY u.code
    """),
            {"a": a, "b": b},
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


def lock_plan(connection: Connection, plan_id: int) -> dict[str, Any]:
    """Lock plan ``plan_id``'s row for the transaction; return the row.

    Raises
    ------
    NotFound
        When there is no such plan.
    """
    row = (
        connection.execute(
            text(
                "SELECT id, name, status, parent_id, revision, parameters FROM plan WHERE id = :p "
                "FOR UPDATE"
            ),
            {"p": plan_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"no plan {plan_id}")
    return dict(row)


def bump_revision(connection: Connection, plan_id: int) -> int:
    """Count one more write of the plan; return its new revision."""
    return int(
        connection.execute(
            text(
                "UPDATE plan SET revision = revision + 1, updated_at = now() WHERE id = :p "
                "RETURNING revision"
            ),
            {"p": plan_id},
        ).scalar_one()
    )


def set_parameters(connection: Connection, plan_id: int, parameters: dict[str, Any]) -> None:
    """Record the parameters a plan was partitioned with."""
    connection.execute(
        text("UPDATE plan SET parameters = CAST(:params AS jsonb) WHERE id = :p"),
        {"p": plan_id, "params": json.dumps(parameters)},
    )


def rename_plan(connection: Connection, plan_id: int, name: str) -> None:
    """Give a plan a new name."""
    connection.execute(text("UPDATE plan SET name = :n WHERE id = :p"), {"n": name, "p": plan_id})


def try_lock(connection: Connection, key: int) -> bool:
    """Take a transaction-level advisory lock if it is free; say whether it was."""
    return bool(
        connection.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": key}).scalar_one()
    )


def has_content(connection: Connection, plan_id: int) -> bool:
    """Say whether a plan assigns any unit to a grid."""
    return bool(
        connection.execute(
            text("SELECT EXISTS (SELECT 1 FROM assignment WHERE plan_id = :p)"), {"p": plan_id}
        ).scalar_one()
    )


def unknown_grid_codes(connection: Connection, plan_id: int, codes: list[str]) -> list[str]:
    """Return the codes among ``codes`` that are no grid of the plan, in their order."""
    return list(
        connection.execute(
            text("""
        SELECT c.code FROM unnest(CAST(:codes AS text[])) WITH ORDINALITY AS c(code, i)
        WHERE NOT EXISTS (SELECT 1 FROM grid g WHERE g.plan_id = :p AND g.code = c.code)
        ORDER BY c.i
    """),
            {"p": plan_id, "codes": codes},
        ).scalars()
    )


def lookup_moves(
    connection: Connection, plan_id: int, units: list[str], grids: list[str]
) -> list[dict[str, Any]]:
    """Return, for each (unit code, grid code), the unit, its grid now, the target, locks."""
    rows = (
        connection.execute(
            text("""
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
    """),
            {"units": units, "grids": grids, "p": plan_id},
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


def assign_units(
    connection: Connection, plan_id: int, unit_ids: list[int], grid_ids: list[int]
) -> None:
    """Put each unit in its grid in plan ``plan_id`` (each unit named once)."""
    connection.execute(
        text("""
        INSERT INTO assignment (plan_id, unit_id, grid_id)
        SELECT :p, u, g FROM unnest(CAST(:units AS integer[]), CAST(:grids AS integer[])) AS m(u, g)
        ON CONFLICT (plan_id, unit_id) DO UPDATE SET grid_id = excluded.grid_id
    """),
        {"p": plan_id, "units": unit_ids, "grids": grid_ids},
    )


def drop_empty_grids(connection: Connection, plan_id: int, grid_ids: list[int]) -> list[str]:
    """Delete the grids among ``grid_ids`` that hold no unit; return their codes."""
    return list(
        connection.execute(
            text("""
        DELETE FROM grid g WHERE g.id = ANY(:ids) AND NOT EXISTS (
            SELECT 1 FROM assignment a WHERE a.plan_id = :p AND a.grid_id = g.id)
        RETURNING g.code
    """),
            {"ids": grid_ids, "p": plan_id},
        ).scalars()
    )


def touched_figures(connection: Connection, plan_id: int, ids: list[int]) -> list[dict[str, Any]]:
    """Return the figures of grids ``ids``, with how many pieces each is in."""
    rows = (
        connection.execute(
            text("""
        SELECT g.code, g.kind, g.households, g.residents, g.governance_load, g.area_m2,
               g.polsby_popper, ST_NumGeometries(g.geom) AS pieces
        FROM grid g WHERE g.plan_id = :p AND g.id = ANY(:ids) ORDER BY g.code
    """),
            {"p": plan_id, "ids": ids},
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


def check_inputs(
    connection: Connection, plan_id: int
) -> tuple[pd.DataFrame, pd.DataFrame, gpd.GeoDataFrame]:
    """Return what a plan's integrity check reads: units, grids, and grids drawn in pieces.

    The polygons are those of each grid drawn as more than one: a grid of one polygon is one
    piece (on a city's plan, almost every grid), and its outline need not be read.

    Raises
    ------
    NotFound
        When there is no such plan.
    """
    plan_row(connection, plan_id)
    units = rows_frame(
        connection.execute(
            text("""
        SELECT u.code, r.code AS community, count(a.grid_id) AS grids
        FROM unit u JOIN region r ON r.id = u.community_id
        LEFT JOIN assignment a ON a.unit_id = u.id AND a.plan_id = :plan
        GROUP BY u.code, r.code ORDER BY u.code
    """),
            {"plan": plan_id},
        ),
        ["code", "community", "grids"],
    )
    grid_columns = [
        "code",
        "kind",
        "community",
        "households",
        "units",
        "communities",
        "largest_unit",
        "community_households",
    ]
    grids = rows_frame(
        connection.execute(
            text("""
        WITH community AS (
            SELECT community_id, sum(households) AS households FROM unit GROUP BY community_id
        )
        SELECT g.code, g.kind, r.code AS community, g.households,
               count(u.id) AS units, count(DISTINCT u.community_id) AS communities,
               coalesce(max(u.households), 0) AS largest_unit,
               coalesce(min(c.households), 0) AS community_households
        FROM grid g JOIN region r ON r.id = g.community_id
        LEFT JOIN community c ON c.community_id = g.community_id
        LEFT JOIN assignment a ON a.grid_id = g.id AND a.plan_id = g.plan_id
        LEFT JOIN unit u ON u.id = a.unit_id
        WHERE g.plan_id = :plan
        GROUP BY g.id, r.code ORDER BY g.code
    """),
            {"plan": plan_id},
        ),
        grid_columns,
    )
    parts = read_geoframe(
        connection,
        """
        SELECT g.code AS grid, (ST_Dump(g.geom)).geom AS geom
        FROM grid g WHERE g.plan_id = :plan AND ST_NumGeometries(g.geom) > 1 ORDER BY g.code
    """,
        {"plan": plan_id},
    )
    return units, grids, parts


def grid_lineage(connection: Connection, code: str) -> list[dict[str, Any]]:
    """Return where the units of retired grid ``code`` are in the current plan.

    The grid is taken from the archived plan accepted last that has it; each row is a grid of
    the current plan (``code``, ``name``) and how many of those units it holds, most first.
    Empty when no archived plan had the code, or there is no current plan.
    """
    return [
        dict(r)
        for r in connection.execute(
            text("""
        WITH old AS (
            SELECT g.id FROM grid g JOIN plan p ON p.id = g.plan_id
            WHERE g.code = :code AND p.status = 'archived'
            ORDER BY p.accepted_at DESC NULLS LAST, p.id DESC LIMIT 1
        )
        SELECT cg.code, cg.name, count(*) AS units
        FROM old JOIN assignment a ON a.grid_id = old.id
        JOIN assignment ca ON ca.unit_id = a.unit_id
         AND ca.plan_id = (SELECT id FROM plan WHERE status = 'current')
        JOIN grid cg ON cg.id = ca.grid_id
        GROUP BY cg.code, cg.name ORDER BY count(*) DESC, cg.code
    """),
            {"code": code},
        )
        .mappings()
        .all()
    ]
