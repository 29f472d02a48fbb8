"""A grid's change noted where its shape changed: a move drops only the tiles where its unit lies.

Migration 0011 notes, for every statement on ``grid``, each changed row's whole geometry, old
and new, and for ``assignment`` its unit and both grids (a grid's figures follow its units): a
move drops every stored tile that draws either grid, since the tiles carry the grids' figures.
A tileset that draws grids by shape and code alone (the ``plan`` tileset,
gridmap.tiles.tilesets) need not drop them: a move changes the two grids' shapes only where the
unit lies. Two more changes are noted, each under a name of its own, which the stored tiles that
follow it list among their ``tables``:

- ``grid/shape``, per plan: for a grid updated without a change of code, name, kind, lock or
  plan, the symmetric difference of its old and new geometry (both whole, where GEOS cannot
  compute it) and its old and new label points where they moved; for any other write, the
  whole geometry and label points, old and new. A statement of over 1,000 rows notes the extent
  of the rows whose shape, label or identity changed, with no overlay (a whole plan's figures
  refreshed: 26,121 grids, 0.3 s over the statement's 1.6 s; the overlays would cost 2 s).
  Only the full geometry is drawn this way: the simplified one (below zoom 14) follows
  ``grid``, since a ring simplified anew may move anywhere along it;
- ``assignment/grid``, per plan: both grids of each assignment written, what a layer summing a
  grid's units (its coverage) follows. ``assignment`` itself now notes the unit alone.

A plan made current (accept) notes both names where the two plans differ, as it notes
``grid``. The stored tiles are dropped: those stored before this migration list the
tables they read under the old names.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from __future__ import annotations

import importlib

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_0011 = importlib.import_module("gridmap.db.migrations.versions.0011_tile_store")

GRID_SHAPE = "grid/shape"
GRID_UNITS = "assignment/grid"

NOTE_AS = f"""
    CREATE FUNCTION gridmap_note_tiles_as() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        relation text;
    BEGIN
        IF TG_NARGS = 1 OR TG_OP = 'TRUNCATE' THEN  -- everywhere
            INSERT INTO tile_dirty (txid, table_name) VALUES (txid_current(), TG_ARGV[0]);
            RETURN NULL;
        END IF;
        FOREACH relation IN ARRAY TG_ARGV[2:] LOOP
            EXECUTE 'WITH r (plan_id, g) AS (' || format(TG_ARGV[1], relation) || '), '
                    'n AS (SELECT count(*) AS n FROM r) '
                    'INSERT INTO tile_dirty (txid, table_name, plan_id, box) '
                    'SELECT txid_current(), $1, plan_id, g FROM r, n '
                    'WHERE n.n <= {_0011.ROWS} AND g IS NOT NULL AND NOT ST_IsEmpty(g) '
                    'UNION ALL '
                    'SELECT txid_current(), $1, plan_id, '
                    '       ST_SetSRID(ST_Extent(g)::geometry, 3857) FROM r, n '
                    'WHERE n.n > {_0011.ROWS} GROUP BY plan_id'
            USING TG_ARGV[0];
        END LOOP;
        RETURN NULL;
    END $$
"""
"""Note a change under the name ``TG_ARGV[0]``, as ``gridmap_note_tiles`` notes its table's:
``TG_ARGV[1]`` a query over each transition table of ``TG_ARGV[2:]`` (none: everywhere)."""

CHANGED_SHAPE = """
    CREATE FUNCTION gridmap_changed_shape(old geometry, new geometry) RETURNS geometry
    LANGUAGE plpgsql IMMUTABLE AS $$
    BEGIN
        IF old IS NULL OR new IS NULL THEN  -- a grid's first units, or its last gone: all of it
            RETURN ST_Collect(old, new);
        END IF;
        RETURN ST_SymDifference(old, new);
    EXCEPTION WHEN OTHERS THEN  -- a shape GEOS cannot overlay: both, whole
        RETURN ST_Collect(old, new);
    END $$
"""

IDENTITY = "(o.plan_id, o.code, o.name, o.kind, o.locked) IS {} " + (
    "(n.plan_id, n.code, n.name, n.kind, n.locked)"
)
SHAPES_UPDATED = f"""
    SELECT w.plan_id, w.g FROM old_rows o JOIN new_rows n ON n.id = o.id
    CROSS JOIN LATERAL (VALUES (o.plan_id, o.geom_3857), (o.plan_id, o.label_3857),
                               (n.plan_id, n.geom_3857), (n.plan_id, n.label_3857)) w (plan_id, g)
    WHERE {IDENTITY.format("DISTINCT FROM")}
    UNION ALL
    SELECT n.plan_id, gridmap_changed_shape(o.geom_3857, n.geom_3857)
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE {IDENTITY.format("NOT DISTINCT FROM")} AND o.geom_3857 IS DISTINCT FROM n.geom_3857
    UNION ALL
    SELECT n.plan_id, ST_Collect(o.label_3857, n.label_3857)
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE {IDENTITY.format("NOT DISTINCT FROM")} AND o.label_3857 IS DISTINCT FROM n.label_3857
"""
"""Where an update of grids changed what a shape-only layer draws (both transition tables)."""

NOTE_SHAPES = f"""
    CREATE FUNCTION gridmap_note_grid_shapes() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT count(*) FROM new_rows) <= {_0011.ROWS} THEN
            INSERT INTO tile_dirty (txid, table_name, plan_id, box)
            SELECT txid_current(), '{GRID_SHAPE}', plan_id, g FROM ({SHAPES_UPDATED}) r (plan_id, g)
            WHERE g IS NOT NULL AND NOT ST_IsEmpty(g);
        ELSE  -- many rows (a whole plan's figures): the extent of those that changed, no overlay
            INSERT INTO tile_dirty (txid, table_name, plan_id, box)
            SELECT txid_current(), '{GRID_SHAPE}', w.plan_id,
                   ST_SetSRID(ST_Extent(w.g)::geometry, 3857)
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            CROSS JOIN LATERAL (VALUES (o.plan_id, o.geom_3857), (o.plan_id, o.label_3857),
                                       (n.plan_id, n.geom_3857), (n.plan_id, n.label_3857))
                 w (plan_id, g)
            WHERE {IDENTITY.format("DISTINCT FROM")} OR o.geom_3857 IS DISTINCT FROM n.geom_3857
               OR o.label_3857 IS DISTINCT FROM n.label_3857
            GROUP BY w.plan_id;
        END IF;
        RETURN NULL;
    END $$
"""
"""Note where an update of grids changed what a shape-only layer draws: each changed shape's
symmetric difference, computed only for a statement of up to 1,000 rows (beyond, as every note
does, the extent: 26,121 overlays would cost about 2 s)."""
SHAPES_WRITTEN = (
    "SELECT plan_id, geom_3857 FROM %1$s UNION ALL SELECT plan_id, label_3857 FROM %1$s"
)
"""A grid inserted or deleted: its whole shape and label point."""
UNIT_ONLY = "SELECT r.plan_id, u.geom_3857 FROM %1$s r JOIN unit u ON u.id = r.unit_id"
BOTH_GRIDS = "SELECT r.plan_id, g.geom_3857 FROM %1$s r JOIN grid g ON g.id = r.grid_id"

EVENTS = {
    "insert": ("NEW TABLE AS new_rows", ("new_rows",)),
    "update": ("OLD TABLE AS old_rows NEW TABLE AS new_rows", ("old_rows", "new_rows")),
    "delete": ("OLD TABLE AS old_rows", ("old_rows",)),
}

ON_PLAN_CHANGE = (
    "SELECT tx, t, 0 FROM unnest(ARRAY['grid', 'assignment']) t;",
    "SELECT tx, 'grid', 0, b FROM gridmap_plan_changes(was_current, now_current) b;",
)
ON_PLAN_CHANGE_NOW = (
    f"SELECT tx, t, 0 FROM unnest(ARRAY['grid', 'assignment', '{GRID_SHAPE}', '{GRID_UNITS}']) t;",
    f"SELECT tx, t, 0, b FROM gridmap_plan_changes(was_current, now_current) b, "
    f"unnest(ARRAY['grid', '{GRID_SHAPE}', '{GRID_UNITS}']) t;",
)


def _drop_tiles(before: tuple[str, str], after: tuple[str, str]) -> str:
    """Migration 0011's ``gridmap_drop_tiles`` with a current plan's changes noted as ``after``."""
    body = _0011.DROP_TILES.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION")
    for old, new in zip(before, after, strict=True):
        assert body.count(old) == 1, old  # the statement this migration rewrites is there
        body = body.replace(old, new)
    return body


def _trigger(name: str, table: str, event: str, noted: str, query: str) -> None:
    referencing, relations = EVENTS[event]
    arguments = ", ".join("'" + a.replace("'", "''") + "'" for a in (noted, query, *relations))
    op.execute(
        f"CREATE TRIGGER {name}_{event} AFTER {event.upper()} ON {table} "
        f"REFERENCING {referencing} FOR EACH STATEMENT "
        f"EXECUTE FUNCTION gridmap_note_tiles_as({arguments})"
    )


def _assignment_triggers(query: str) -> None:
    for event in EVENTS:
        op.execute(f"DROP TRIGGER tr_assignment_tiles_{event} ON assignment")
        _trigger("tr_assignment_tiles", "assignment", event, "assignment", query)


def upgrade() -> None:
    op.execute(NOTE_AS)
    op.execute(CHANGED_SHAPE)
    op.execute(NOTE_SHAPES)
    _assignment_triggers(UNIT_ONLY)
    for event in EVENTS:
        _trigger("tr_assignment_grids", "assignment", event, GRID_UNITS, BOTH_GRIDS)
        if event != "update":
            _trigger("tr_grid_shapes", "grid", event, GRID_SHAPE, SHAPES_WRITTEN)
    op.execute(
        "CREATE TRIGGER tr_grid_shapes_update AFTER UPDATE ON grid "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
        "EXECUTE FUNCTION gridmap_note_grid_shapes()"
    )
    for table, noted in (("assignment", GRID_UNITS), ("grid", GRID_SHAPE)):
        prefix = "tr_assignment_grids" if table == "assignment" else "tr_grid_shapes"
        op.execute(
            f"CREATE TRIGGER {prefix}_truncate AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION gridmap_note_tiles_as('{noted}')"
        )
    op.execute(_drop_tiles(ON_PLAN_CHANGE, ON_PLAN_CHANGE_NOW))
    op.execute("DELETE FROM tile_store")  # stored under the old names: built again when asked


def downgrade() -> None:
    op.execute(_drop_tiles(ON_PLAN_CHANGE, ON_PLAN_CHANGE))
    for prefix, table in (("tr_assignment_grids", "assignment"), ("tr_grid_shapes", "grid")):
        for event in (*EVENTS, "truncate"):
            op.execute(f"DROP TRIGGER {prefix}_{event} ON {table}")
    for event in EVENTS:
        op.execute(f"DROP TRIGGER tr_assignment_tiles_{event} ON assignment")
        referencing, relations = EVENTS[event]
        arguments = ", ".join(
            "'" + a.replace("'", "''") + "'" for a in (_0011.NOTED["assignment"], *relations)
        )
        op.execute(
            f"CREATE TRIGGER tr_assignment_tiles_{event} AFTER {event.upper()} ON assignment "
            f"REFERENCING {referencing} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION gridmap_note_tiles({arguments})"
        )
    op.execute("DROP FUNCTION gridmap_note_grid_shapes()")
    op.execute("DROP FUNCTION gridmap_changed_shape(geometry, geometry)")
    op.execute("DROP FUNCTION gridmap_note_tiles_as()")
    op.execute("DELETE FROM tile_store")
