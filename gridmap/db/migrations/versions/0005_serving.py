"""Serving: web-mercator geometries kept beside the stored ones, and data revisions.

Every layer a tile draws gets ``geom_3857``, a stored generated column (the geometry in
EPSG:3857, so no tile transforms a row), and the polygon and line layers drawn at low zooms
get ``geom_3857_s``, simplified once to the size of a tile unit at zoom 12 (2.4 m). Both follow
every write without application code.

``data_revision`` counts the writes of each served table (a statement-level trigger bumps it
and notifies ``gridmap_revision``), so a tile cache keyed by those counts sees an accepted
plan, an edit or a new coverage run at once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# frozen copies of gridmap.db.models' lists as they were at this revision
MERCATOR = (
    "region",
    "unit",
    "building",
    "grid",
    "station",
    "street",
    "water",
    "station_circle",
    "coverage_gap",
    "overlay",
    "event",
)
SIMPLIFIED = (
    "region",
    "unit",
    "grid",
    "street",
    "water",
    "station_circle",
    "coverage_gap",
    "overlay",
)
SIMPLIFY_M = 2.4
REVISED = (
    "region",
    "unit",
    "building",
    "plan",
    "grid",
    "assignment",
    "station",
    "street",
    "water",
    "walk_edge",
    "coverage_run",
    "station_circle",
    "coverage_gap",
    "unit_coverage",
    "building_coverage",
    "overlay",
    "event",
)


def upgrade() -> None:
    for table in MERCATOR:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN geom_3857 geometry(Geometry, 3857) "
            "GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED"
        )
        op.execute(f"CREATE INDEX ix_{table}_geom_3857 ON {table} USING gist (geom_3857)")
    for table in SIMPLIFIED:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN geom_3857_s geometry(Geometry, 3857) "
            "GENERATED ALWAYS AS "
            f"(ST_SimplifyPreserveTopology(ST_Transform(geom, 3857), {SIMPLIFY_M})) STORED"
        )
        op.execute(f"CREATE INDEX ix_{table}_geom_3857_s ON {table} USING gist (geom_3857_s)")
    op.execute("""
        CREATE TABLE data_revision (
            table_name text PRIMARY KEY,
            revision bigint NOT NULL DEFAULT 1,
            changed_at timestamptz NOT NULL DEFAULT now()
        )
    """)
    op.execute(
        "INSERT INTO data_revision (table_name) SELECT unnest(ARRAY["
        + ", ".join(f"'{t}'" for t in REVISED)
        + "])"
    )
    op.execute("""
        CREATE FUNCTION gridmap_bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE data_revision SET revision = revision + 1, changed_at = now()
            WHERE table_name = TG_TABLE_NAME;
            PERFORM pg_notify('gridmap_revision', TG_TABLE_NAME);  -- delivered on commit
            RETURN NULL;
        END $$
    """)
    for table in REVISED:
        op.execute(
            f"CREATE TRIGGER tr_{table}_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION gridmap_bump_revision()"
        )


def downgrade() -> None:
    for table in REVISED:
        op.execute(f"DROP TRIGGER tr_{table}_revision ON {table}")
    op.execute("DROP FUNCTION gridmap_bump_revision()")
    op.execute("DROP TABLE data_revision")
    for table in SIMPLIFIED:
        op.execute(f"ALTER TABLE {table} DROP COLUMN geom_3857_s")
    for table in MERCATOR:
        op.execute(f"ALTER TABLE {table} DROP COLUMN geom_3857")
