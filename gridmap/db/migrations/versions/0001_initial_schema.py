"""The initial schema (docs/architecture.md, Data model).

Every geometry column is ``geom`` in EPSG:4326 with a GiST index and an ``ST_IsValid`` CHECK.
Only one plan may be current (a partial unique index).

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Tables in the order they are created; downgrade drops them in reverse.
TABLES = (
    "region",
    "plan",
    "station",
    "walk_node",
    "overlay",
    "event",
    "audit",
    "api_key",
    "unit",
    "building",
    "grid",
    "assignment",
    "walk_edge",
    "coverage_run",
    "station_circle",
    "unit_coverage",
)


def geom(geometry_type: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(
        "geom", Geometry(geometry_type, srid=4326, spatial_index=False), nullable=nullable
    )


def valid(table: str) -> sa.CheckConstraint:
    return sa.CheckConstraint("ST_IsValid(geom)", name=f"ck_{table}_geom_valid")


def gist(table: str) -> None:
    op.create_index(f"ix_{table}_geom", table, ["geom"], postgresql_using="gist")


def one_of(table: str, column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    listed = ", ".join(f"'{v}'" for v in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=f"ck_{table}_{column}_allowed")


def fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def now() -> sa.TextClause:
    return sa.text("now()")


def jsonb_empty() -> sa.TextClause:
    return sa.text("'{}'::jsonb")


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "region",
        sa.Column("id", sa.Integer),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.Integer),
        geom("MULTIPOLYGON"),
        sa.PrimaryKeyConstraint("id", name="pk_region"),
        sa.UniqueConstraint("code", name="uq_region_code"),
        fk("region", "parent_id", "region", "RESTRICT"),
        valid("region"),
        one_of("region", "level", ("city", "district", "street", "community")),
        sa.CheckConstraint("code ~ '^[0-9]{6}([0-9]{3}){0,2}$'", name="ck_region_code_format"),
    )
    gist("region")
    op.create_index("ix_region_parent_id", "region", ["parent_id"])

    op.create_table(
        "plan",
        sa.Column("id", sa.Integer),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), server_default="draft", nullable=False),
        sa.Column("parent_id", sa.Integer),
        sa.Column("parameters", JSONB, server_default=jsonb_empty(), nullable=False),
        sa.Column("revision", sa.Integer, server_default="1", nullable=False),
        sa.Column("author", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=now(), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_plan"),
        fk("plan", "parent_id", "plan", "SET NULL"),
        one_of("plan", "status", ("draft", "current", "archived")),
        sa.CheckConstraint("revision >= 1", name="ck_plan_revision_positive"),
    )
    op.create_index(
        "uq_plan_single_current",
        "plan",
        ["status"],
        unique=True,
        postgresql_where=sa.text("status = 'current'"),
    )

    op.create_table(
        "station",
        sa.Column("id", sa.Integer),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(32), server_default="station", nullable=False),
        sa.Column(
            "services", ARRAY(sa.Text), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.Column("capacity_residents", sa.Integer),
        geom("POINT"),
        sa.PrimaryKeyConstraint("id", name="pk_station"),
        sa.UniqueConstraint("code", name="uq_station_code"),
        valid("station"),
    )
    gist("station")

    op.create_table(
        "walk_node",
        sa.Column("id", sa.BigInteger),
        sa.Column("osm_id", sa.BigInteger),
        geom("POINT"),
        sa.PrimaryKeyConstraint("id", name="pk_walk_node"),
        valid("walk_node"),
    )
    gist("walk_node")

    op.create_table(
        "overlay",
        sa.Column("id", sa.Integer),
        sa.Column("net", sa.String(32), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        geom("MULTIPOLYGON"),
        sa.PrimaryKeyConstraint("id", name="pk_overlay"),
        sa.UniqueConstraint("net", "code", name="uq_overlay_net_code"),
        valid("overlay"),
    )
    gist("overlay")

    op.create_table(
        "event",
        sa.Column("id", sa.Integer),
        sa.Column("external_id", sa.Text),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(32), server_default="open", nullable=False),
        geom("POINT"),
        sa.PrimaryKeyConstraint("id", name="pk_event"),
        sa.UniqueConstraint("external_id", name="uq_event_external_id"),
        valid("event"),
    )
    gist("event")
    op.create_index("ix_event_occurred_at", "event", ["occurred_at"])

    op.create_table(
        "audit",
        sa.Column("id", sa.BigInteger),
        sa.Column("at", sa.DateTime(timezone=True), server_default=now(), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_table", sa.String(64), nullable=False),
        sa.Column("target_id", sa.BigInteger),
        sa.Column("payload", JSONB, server_default=jsonb_empty(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_target", "audit", ["target_table", "target_id"])

    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("region_id", sa.Integer),
        sa.Column("embed", sa.Boolean, server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_api_key"),
        sa.UniqueConstraint("key_hash", name="uq_api_key_key_hash"),
        fk("api_key", "region_id", "region", "CASCADE"),
        one_of("api_key", "role", ("viewer", "planner", "admin")),
    )

    op.create_table(
        "unit",
        sa.Column("id", sa.Integer),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("community_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), server_default="residential", nullable=False),
        sa.Column("residents", sa.Integer, server_default="0", nullable=False),
        sa.Column("households", sa.Integer, server_default="0", nullable=False),
        sa.Column("governance_load", sa.Double, server_default="0", nullable=False),
        geom("MULTIPOLYGON"),
        sa.PrimaryKeyConstraint("id", name="pk_unit"),
        sa.UniqueConstraint("code", name="uq_unit_code"),
        fk("unit", "community_id", "region", "RESTRICT"),
        valid("unit"),
        sa.CheckConstraint("code ~ '^[0-9]{16}$'", name="ck_unit_code_format"),
        sa.CheckConstraint(
            "residents >= 0 AND households >= 0 AND governance_load >= 0", name="ck_unit_figures"
        ),
    )
    gist("unit")
    op.create_index("ix_unit_community_id", "unit", ["community_id"])

    op.create_table(
        "building",
        sa.Column("id", sa.Integer),
        sa.Column("osm_id", sa.BigInteger),
        sa.Column("unit_id", sa.Integer),
        sa.Column("building_type", sa.String(64)),
        sa.Column("levels", sa.Integer),
        sa.Column("residents", sa.Integer, server_default="0", nullable=False),
        sa.Column("households", sa.Integer, server_default="0", nullable=False),
        sa.Column("source", sa.String(16), server_default="estimated", nullable=False),
        geom("MULTIPOLYGON"),
        sa.PrimaryKeyConstraint("id", name="pk_building"),
        sa.UniqueConstraint("osm_id", name="uq_building_osm_id"),
        fk("building", "unit_id", "unit", "SET NULL"),
        valid("building"),
        one_of("building", "source", ("estimated", "imported")),
        sa.CheckConstraint("residents >= 0 AND households >= 0", name="ck_building_figures"),
        sa.CheckConstraint("levels IS NULL OR levels > 0", name="ck_building_levels_positive"),
    )
    gist("building")
    op.create_index("ix_building_unit_id", "building", ["unit_id"])

    op.create_table(
        "grid",
        sa.Column("id", sa.Integer),
        sa.Column("plan_id", sa.Integer, nullable=False),
        sa.Column("code", sa.String(15), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("kind", sa.String(16), server_default="urban", nullable=False),
        sa.Column("community_id", sa.Integer, nullable=False),
        sa.Column("locked", sa.Boolean, server_default=sa.text("false"), nullable=False),
        sa.Column("staff", JSONB, server_default=jsonb_empty(), nullable=False),
        sa.Column("households", sa.Integer, server_default="0", nullable=False),
        sa.Column("residents", sa.Integer, server_default="0", nullable=False),
        sa.Column("governance_load", sa.Double, server_default="0", nullable=False),
        sa.Column("area_m2", sa.Double),
        sa.Column("radius_m", sa.Double),
        sa.Column("polsby_popper", sa.Double),
        geom("MULTIPOLYGON", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_grid"),
        sa.UniqueConstraint("plan_id", "code", name="uq_grid_plan_id_code"),
        sa.UniqueConstraint("plan_id", "id", name="uq_grid_plan_id_id"),
        fk("grid", "plan_id", "plan", "CASCADE"),
        fk("grid", "community_id", "region", "RESTRICT"),
        valid("grid"),
        one_of("grid", "kind", ("urban", "suburban", "rural", "dedicated")),
        sa.CheckConstraint("code ~ '^[0-9]{15}$'", name="ck_grid_code_format"),
        sa.CheckConstraint("households >= 0 AND residents >= 0", name="ck_grid_figures"),
    )
    gist("grid")
    op.create_index("ix_grid_community_id", "grid", ["community_id"])

    op.create_table(
        "assignment",
        sa.Column("plan_id", sa.Integer, nullable=False),
        sa.Column("unit_id", sa.Integer, nullable=False),
        sa.Column("grid_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "unit_id", name="pk_assignment"),
        fk("assignment", "plan_id", "plan", "CASCADE"),
        fk("assignment", "unit_id", "unit", "CASCADE"),
        sa.ForeignKeyConstraint(
            ["plan_id", "grid_id"],
            ["grid.plan_id", "grid.id"],
            name="fk_assignment_grid_same_plan",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_assignment_grid_id", "assignment", ["grid_id"])

    op.create_table(
        "walk_edge",
        sa.Column("id", sa.BigInteger),
        sa.Column("source", sa.BigInteger, nullable=False),
        sa.Column("target", sa.BigInteger, nullable=False),
        sa.Column("length_m", sa.Double, nullable=False),
        sa.Column("highway", sa.String(32)),
        sa.Column("osm_id", sa.BigInteger),
        geom("LINESTRING"),
        sa.PrimaryKeyConstraint("id", name="pk_walk_edge"),
        fk("walk_edge", "source", "walk_node", "CASCADE"),
        fk("walk_edge", "target", "walk_node", "CASCADE"),
        valid("walk_edge"),
        sa.CheckConstraint("length_m >= 0", name="ck_walk_edge_length_nonnegative"),
    )
    gist("walk_edge")
    op.create_index("ix_walk_edge_source", "walk_edge", ["source"])
    op.create_index("ix_walk_edge_target", "walk_edge", ["target"])

    op.create_table(
        "coverage_run",
        sa.Column("id", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=now(), nullable=False),
        sa.Column("minutes", sa.Double, nullable=False),
        sa.Column("speed_m_per_min", sa.Double, nullable=False),
        sa.Column("budget_m", sa.Double, nullable=False),
        sa.Column("max_snap_m", sa.Double),
        sa.Column("plan_id", sa.Integer),
        sa.Column("parameters", JSONB, server_default=jsonb_empty(), nullable=False),
        sa.Column("figures", JSONB, server_default=jsonb_empty(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_coverage_run"),
        fk("coverage_run", "plan_id", "plan", "SET NULL"),
        sa.CheckConstraint(
            "minutes > 0 AND speed_m_per_min > 0", name="ck_coverage_run_parameters_positive"
        ),
    )

    op.create_table(
        "station_circle",
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("station_id", sa.Integer, nullable=False),
        sa.Column("method", sa.String(16), server_default="network", nullable=False),
        sa.Column("area_m2", sa.Double),
        geom("MULTIPOLYGON"),
        sa.PrimaryKeyConstraint("run_id", "station_id", "method", name="pk_station_circle"),
        fk("station_circle", "run_id", "coverage_run", "CASCADE"),
        fk("station_circle", "station_id", "station", "CASCADE"),
        valid("station_circle"),
        one_of("station_circle", "method", ("network", "euclidean")),
    )
    gist("station_circle")

    op.create_table(
        "unit_coverage",
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("unit_id", sa.Integer, nullable=False),
        sa.Column("residents", sa.Integer, nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("covered_residents", sa.Integer, nullable=False),
        sa.Column("covered_households", sa.Integer, nullable=False),
        sa.Column("walk_m", sa.Double),
        sa.Column("nearest_station_id", sa.Integer),
        sa.PrimaryKeyConstraint("run_id", "unit_id", name="pk_unit_coverage"),
        fk("unit_coverage", "run_id", "coverage_run", "CASCADE"),
        fk("unit_coverage", "unit_id", "unit", "CASCADE"),
        fk("unit_coverage", "nearest_station_id", "station", "SET NULL"),
        sa.CheckConstraint(
            "covered_residents BETWEEN 0 AND residents "
            "AND covered_households BETWEEN 0 AND households",
            name="ck_unit_coverage_covered_within_totals",
        ),
    )


def downgrade() -> None:
    # Indexes and constraints go with their tables; the PostGIS extension stays, since other
    # databases' objects may use it.
    for table in reversed(TABLES):
        op.drop_table(table)
