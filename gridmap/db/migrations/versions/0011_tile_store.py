"""A tile store shared by every process and kept across restarts; a write drops only its tiles.

``tile_store`` holds built tiles (gzip-compressed, with their ETag) by tileset, z/x/y, plan,
run and region scope (0: the current plan, the latest run, no scope), each with the tables it
read and its buffered envelope. A write drops exactly the stored tiles it could change, in its
own transaction, so every process sees the same store:

- each statement on a table a tile reads notes, in ``tile_dirty``, the geometry of each row it
  changed, old and new (beyond 1,000 rows, their extent), per plan where rows belong to one
  (grids, assignments); an assignment notes its unit and both grids (a grid's figures follow its
  units), a station its circles;
- a write to a coverage run's rows notes the table alone: tiles reading it drop everywhere;
- a plan that becomes, or stops being, the current one notes it; at commit the current plan's
  tiles drop where the old and the new current plans differ (grids not the same in both, units
  whose grid code changed, and those units' grids);
- at commit, after the revisions are bumped (migration 0008: the rows of ``data_revision`` are
  locked for the commit), the tiles that read a noted table and whose buffered envelope comes
  within 3 m of a noted geometry (a simplified one may stray 2.4 m) are deleted. A tile is
  stored only if the revisions it was built at are still the current ones, read under a share
  lock on those rows: a tile built before a commit is either refused or stored before the
  commit deletes it.

A plan copied from another (a new draft) starts with the other's stored tiles, up to 4,096 of
the most recently used: a planner opening a draft sees it at once; and a plan made current
lends its own stored tiles to the current plan (the draft's tiles a planner just looked at are
the accepted plan's).

Low-zoom tiles of the current plan that a commit dropped go to ``tile_stale``, which the
serving processes rebuild in the background (an accepted plan's overview is ready when asked).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SIMPLIFIED_SLACK_M = 3
"""How far a simplified geometry (2.4 m, migration 0005) may stray from the row's own."""
COPIED_TILES = 4096
"""At most this many stored tiles (the most recently used) a copied plan starts with."""
STALE_MAX_ZOOM = 13
"""The highest zoom whose dropped current-plan tiles are rebuilt in the background."""

ROWS = 1000
"""Up to this many rows a statement notes each changed geometry; beyond, their extent per plan."""
BY_ROW = "SELECT NULL::integer, geom_3857 FROM %1$s"
NOTED = {  # table → a query over its transition rows (%1$s): (plan_id, geometry) per row
    "region": BY_ROW,
    "unit": BY_ROW,
    "building": BY_ROW,
    "street": BY_ROW,
    "water": BY_ROW,
    "grid": "SELECT plan_id, geom_3857 FROM %1$s",
    "assignment": (
        "SELECT r.plan_id, g.geom_3857 FROM %1$s r "
        "JOIN LATERAL (SELECT geom_3857 FROM unit WHERE id = r.unit_id "
        "UNION ALL SELECT geom_3857 FROM grid WHERE id = r.grid_id) g ON true"
    ),
    "station": (
        "SELECT NULL::integer, geom_3857 FROM %1$s UNION ALL "
        "SELECT NULL::integer, c.geom_3857 FROM station_circle c "
        "WHERE c.station_id IN (SELECT id FROM %1$s)"
    ),
}
WHOLE = ("coverage_run", "station_circle", "coverage_gap", "unit_coverage", "building_coverage")
"""Tables of coverage runs: a write drops the tiles reading them everywhere."""
EVENTS = {"INSERT": ("new_rows",), "UPDATE": ("old_rows", "new_rows"), "DELETE": ("old_rows",)}
REFERENCING = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
}

PLAN_CHANGES = """
    CREATE FUNCTION gridmap_plan_changes(old_plan integer, new_plan integer) RETURNS SETOF geometry
    LANGUAGE sql STABLE AS $$
        SELECT g.geom_3857 FROM grid g
        WHERE g.plan_id IN (old_plan, new_plan) AND NOT EXISTS (
            SELECT 1 FROM grid h
            WHERE h.plan_id = CASE WHEN g.plan_id = old_plan THEN new_plan ELSE old_plan END
              AND h.code = g.code AND h.geom_3857 = g.geom_3857
              AND (h.name, h.kind, h.households, h.residents, h.governance_load, h.locked,
                   h.polsby_popper)
                  IS NOT DISTINCT FROM
                  (g.name, g.kind, g.households, g.residents, g.governance_load, g.locked,
                   g.polsby_popper))
        UNION ALL
        SELECT x.geom FROM (
            SELECT coalesce(a.unit_id, b.unit_id) AS unit_id, a.grid_id AS a_grid,
                   b.grid_id AS b_grid
            FROM (SELECT s.unit_id, s.grid_id, g.code FROM assignment s
                  JOIN grid g ON g.id = s.grid_id WHERE s.plan_id = old_plan) a
            FULL JOIN (SELECT s.unit_id, s.grid_id, g.code FROM assignment s
                       JOIN grid g ON g.id = s.grid_id WHERE s.plan_id = new_plan) b
              ON a.unit_id = b.unit_id
            WHERE a.code IS DISTINCT FROM b.code
        ) d
        CROSS JOIN LATERAL (
            SELECT geom_3857 FROM unit WHERE id = d.unit_id
            UNION ALL SELECT geom_3857 FROM grid WHERE id IN (d.a_grid, d.b_grid)
        ) x (geom)
    $$
"""

NOTE = f"""
    CREATE FUNCTION gridmap_note_tiles() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        relation text;
    BEGIN
        IF TG_NARGS = 0 OR TG_OP = 'TRUNCATE' THEN  -- everywhere
            INSERT INTO tile_dirty (txid, table_name) VALUES (txid_current(), TG_TABLE_NAME);
            RETURN NULL;
        END IF;
        FOREACH relation IN ARRAY TG_ARGV[1:] LOOP
            EXECUTE 'WITH r (plan_id, g) AS (' || format(TG_ARGV[0], relation) || '), '
                    'n AS (SELECT count(*) AS n FROM r) '
                    'INSERT INTO tile_dirty (txid, table_name, plan_id, box) '
                    'SELECT txid_current(), $1, plan_id, g FROM r, n '
                    'WHERE n.n <= {ROWS} AND g IS NOT NULL '
                    'UNION ALL '
                    'SELECT txid_current(), $1, plan_id, '
                    '       ST_SetSRID(ST_Extent(g)::geometry, 3857) FROM r, n '
                    'WHERE n.n > {ROWS} GROUP BY plan_id'
            USING TG_TABLE_NAME;
        END LOOP;
        RETURN NULL;
    END $$
"""

NOTE_PLAN = """
    CREATE FUNCTION gridmap_note_plans() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            INSERT INTO tile_dirty (txid, table_name, plan_id)
            SELECT txid_current(), 'plan/was', id FROM old_rows WHERE status = 'current';
        ELSE
            INSERT INTO tile_dirty (txid, table_name, plan_id)
            SELECT txid_current(),
                   CASE WHEN o.status = 'current' THEN 'plan/was' ELSE 'plan/now' END, o.id
            FROM old_rows o JOIN new_rows n ON n.id = o.id
            WHERE (o.status = 'current') <> (n.status = 'current');
        END IF;
        RETURN NULL;
    END $$
"""

DROP_TILES = f"""
    CREATE FUNCTION gridmap_drop_tiles() RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
        tx bigint := txid_current();
        now_current integer := (SELECT id FROM plan WHERE status = 'current');
        was_current integer;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM tile_dirty WHERE txid = tx) THEN
            RETURN;
        END IF;
        -- a plan copied in this transaction (gridmap.db.plans.copy_plan) starts with its
        -- source's stored tiles (the most recently used), unless the source changed too
        INSERT INTO tile_store (tileset, z, x, y, plan, run, scope, tables, bounds, data, etag,
                                bytes, used_at)
        SELECT * FROM (
            SELECT DISTINCT ON (s.tileset, s.z, s.x, s.y, c.plan_id, s.run, s.scope)
                   s.tileset, s.z, s.x, s.y, c.plan_id, s.run, s.scope, s.tables, s.bounds,
                   s.data, s.etag, s.bytes, s.used_at
            FROM tile_dirty c
            JOIN tile_store s ON s.plan = c.copy_of OR (s.plan = 0 AND c.copy_of = now_current)
            WHERE c.txid = tx AND c.table_name = 'plan/copy' AND 'plan' = ANY (s.tables)
              AND NOT EXISTS (SELECT 1 FROM tile_dirty d WHERE d.txid = tx
                              AND d.plan_id = c.copy_of AND d.table_name NOT LIKE 'plan/%')
            ORDER BY s.tileset, s.z, s.x, s.y, c.plan_id, s.run, s.scope, s.plan DESC
        ) copied
        ORDER BY used_at DESC LIMIT {COPIED_TILES}
        ON CONFLICT DO NOTHING;
        IF EXISTS (SELECT 1 FROM tile_dirty
                   WHERE txid = tx AND table_name IN ('plan/was', 'plan/now')) THEN
            was_current := (SELECT min(plan_id) FROM tile_dirty
                            WHERE txid = tx AND table_name = 'plan/was'
                              AND plan_id IS DISTINCT FROM now_current);
            IF was_current IS NULL OR now_current IS NULL THEN  -- none before, or none now
                INSERT INTO tile_dirty (txid, table_name, plan_id)
                SELECT tx, t, 0 FROM unnest(ARRAY['grid', 'assignment']) t;
            ELSE
                INSERT INTO tile_dirty (txid, table_name, plan_id, box)
                SELECT tx, 'grid', 0, b FROM gridmap_plan_changes(was_current, now_current) b;
            END IF;
        END IF;
        WITH dirt AS (
            SELECT * FROM tile_dirty WHERE txid = tx AND table_name NOT LIKE 'plan/%'
        ), gone AS (
            DELETE FROM tile_store s USING dirt d
            WHERE d.table_name = ANY (s.tables)
              AND (d.box IS NULL OR ST_DWithin(s.bounds, d.box, {SIMPLIFIED_SLACK_M}))
              AND (d.plan_id IS NULL OR s.plan = d.plan_id
                   OR (s.plan = 0 AND (d.plan_id = now_current OR d.plan_id IN (
                       SELECT plan_id FROM tile_dirty WHERE txid = tx AND table_name = 'plan/was')
                       OR NOT EXISTS (SELECT 1 FROM plan WHERE id = d.plan_id))))
            RETURNING s.tileset, s.z, s.x, s.y, s.plan, s.run, s.scope
        )
        INSERT INTO tile_stale (tileset, z, x, y, run)
        SELECT DISTINCT tileset, z, x, y, run FROM gone
        WHERE z <= {STALE_MAX_ZOOM} AND plan = 0 AND scope = 0
        ON CONFLICT DO NOTHING;
        IF EXISTS (SELECT 1 FROM tile_dirty
                   WHERE txid = tx AND table_name = 'plan/now' AND plan_id = now_current) THEN
            -- the new current plan's own stored tiles are the current plan's tiles now
            INSERT INTO tile_store (tileset, z, x, y, plan, run, scope, tables, bounds, data,
                                    etag, bytes, used_at)
            SELECT tileset, z, x, y, 0, run, scope, tables, bounds, data, etag, bytes, used_at
            FROM tile_store WHERE plan = now_current AND 'plan' = ANY (tables)
            ORDER BY used_at DESC LIMIT {COPIED_TILES}
            ON CONFLICT DO NOTHING;
        END IF;
        DELETE FROM tile_dirty WHERE txid = tx;
    END $$
"""

FLUSH = """
    CREATE OR REPLACE FUNCTION gridmap_flush_revisions() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        touched text := coalesce(current_setting('gridmap.touched', true), '');
        name text;
    BEGIN
        PERFORM 1 FROM data_revision
        WHERE position(',' || table_name || ',' IN touched) > 0
        ORDER BY table_name FOR UPDATE;  -- one order for every transaction
        FOR name IN
            UPDATE data_revision SET revision = revision + 1, changed_at = now()
            WHERE position(',' || table_name || ',' IN touched) > 0
            RETURNING table_name
        LOOP
            PERFORM pg_notify('gridmap_revision', name);  -- delivered on commit
        END LOOP;
        %s
        PERFORM set_config('gridmap.touched', '', true);
        DELETE FROM revision_flush WHERE txid = NEW.txid;
        RETURN NULL;
    END $$
"""


def upgrade() -> None:
    op.execute("""
        CREATE TABLE tile_store (
            tileset text NOT NULL,
            z smallint NOT NULL,
            x integer NOT NULL,
            y integer NOT NULL,
            plan integer NOT NULL,
            run integer NOT NULL,
            scope integer NOT NULL,
            tables text[] NOT NULL,
            bounds geometry(Polygon, 3857) NOT NULL,
            data bytea NOT NULL,
            etag text NOT NULL,
            bytes integer NOT NULL,
            used_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT pk_tile_store PRIMARY KEY (tileset, z, x, y, plan, run, scope)
        )
    """)
    op.execute("CREATE INDEX ix_tile_store_bounds ON tile_store USING gist (bounds)")
    op.execute("""
        CREATE UNLOGGED TABLE tile_dirty (
            txid bigint NOT NULL,
            table_name text NOT NULL,
            plan_id integer,
            box geometry,
            copy_of integer
        )
    """)
    op.execute("CREATE INDEX ix_tile_dirty_txid ON tile_dirty (txid)")
    op.execute("""
        CREATE TABLE tile_stale (
            tileset text NOT NULL,
            z smallint NOT NULL,
            x integer NOT NULL,
            y integer NOT NULL,
            run integer NOT NULL,
            CONSTRAINT pk_tile_stale PRIMARY KEY (tileset, z, x, y, run)
        )
    """)
    op.execute(PLAN_CHANGES)
    op.execute(NOTE)
    op.execute(NOTE_PLAN)
    op.execute(DROP_TILES)
    op.execute(FLUSH % "PERFORM gridmap_drop_tiles();")
    for table, query in NOTED.items():
        for event, relations in EVENTS.items():
            arguments = ", ".join(f"'{a}'" for a in (query.replace("'", "''"), *relations))
            op.execute(
                f"CREATE TRIGGER tr_{table}_tiles_{event.lower()} AFTER {event} ON {table} "
                f"REFERENCING {REFERENCING[event]} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION gridmap_note_tiles({arguments})"
            )
        op.execute(
            f"CREATE TRIGGER tr_{table}_tiles_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION gridmap_note_tiles()"
        )
    for table in WHOLE:
        op.execute(
            f"CREATE TRIGGER tr_{table}_tiles AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION gridmap_note_tiles()"
        )
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER tr_plan_tiles_{event.lower()} AFTER {event} ON plan "
            f"REFERENCING {REFERENCING[event]} FOR EACH STATEMENT "
            "EXECUTE FUNCTION gridmap_note_plans()"
        )


def downgrade() -> None:
    for event in ("UPDATE", "DELETE"):
        op.execute(f"DROP TRIGGER tr_plan_tiles_{event.lower()} ON plan")
    for table in WHOLE:
        op.execute(f"DROP TRIGGER tr_{table}_tiles ON {table}")
    for table in NOTED:
        for event in (*EVENTS, "TRUNCATE"):
            op.execute(f"DROP TRIGGER tr_{table}_tiles_{event.lower()} ON {table}")
    op.execute(FLUSH % "")
    op.execute("DROP FUNCTION gridmap_drop_tiles()")
    op.execute("DROP FUNCTION gridmap_note_plans()")
    op.execute("DROP FUNCTION gridmap_note_tiles()")
    op.execute("DROP FUNCTION gridmap_plan_changes(integer, integer)")
    op.execute("DROP TABLE tile_stale")
    op.execute("DROP TABLE tile_dirty")
    op.execute("DROP TABLE tile_store")
