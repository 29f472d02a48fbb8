"""Coverage detail: each building's walk in a run, the run's gaps, and each station's load.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "building_coverage",
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("building_id", sa.Integer, nullable=False),
        sa.Column("reachable", sa.Boolean, nullable=False),
        sa.Column("covered", sa.Boolean, nullable=False),
        sa.Column("snap_m", sa.Double),
        sa.Column("walk_m", sa.Double),
        sa.Column("station_id", sa.Integer),
        sa.PrimaryKeyConstraint("run_id", "building_id", name="pk_building_coverage"),
        _fk("building_coverage", "run_id", "coverage_run", "CASCADE"),
        _fk("building_coverage", "building_id", "building", "CASCADE"),
        _fk("building_coverage", "station_id", "station", "SET NULL"),
    )
    op.create_table(
        "coverage_gap",
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("residents", sa.Integer, nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("buildings", sa.Integer, nullable=False),
        sa.Column("area_m2", sa.Double),
        sa.Column("geom", Geometry("MULTIPOLYGON", srid=4326, spatial_index=False), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "rank", name="pk_coverage_gap"),
        _fk("coverage_gap", "run_id", "coverage_run", "CASCADE"),
        sa.CheckConstraint("ST_IsValid(geom)", name="ck_coverage_gap_geom_valid"),
    )
    op.create_index("ix_coverage_gap_geom", "coverage_gap", ["geom"], postgresql_using="gist")
    op.add_column("station_circle", sa.Column("residents", sa.Integer))
    op.add_column("station_circle", sa.Column("households", sa.Integer))


def downgrade() -> None:
    op.drop_column("station_circle", "households")
    op.drop_column("station_circle", "residents")
    op.drop_table("coverage_gap")
    op.drop_table("building_coverage")
