"""Where each region came from: derived by clustering units, imported from a file, or OSM.

A rebuild of units replaces derived regions and keeps imported ones.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "region",
        sa.Column("source", sa.String(16), server_default="derived", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_region_source_allowed"), "region", "source IN ('derived', 'imported', 'osm')"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_region_source_allowed"), "region", type_="check")
    op.drop_column("region", "source")
