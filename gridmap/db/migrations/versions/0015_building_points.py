"""Each building keeps its inner point, the point a coverage run, a what-if and siting walk from.

``ST_PointOnSurface`` of a million footprints took about 1 s of every whole-city coverage run
(and of every warm what-if load); a stored generated column computes it once, when the
footprint is written.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE building ADD COLUMN inner_point geometry(Point, 4326) "
        "GENERATED ALWAYS AS (ST_PointOnSurface(geom)) STORED"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE building DROP COLUMN inner_point")
