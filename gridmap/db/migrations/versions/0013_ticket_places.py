"""Tickets keep their address, and a ticket without coordinates is kept, not dropped.

Hotline (12345) exports carry an address (地址) with every ticket and coordinates with most: a
ticket without them still counts in its month's and its city's totals and is listed for
geocoding, so ``event.geom`` may be NULL (its validity CHECK and generated web-mercator column
pass NULL through).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE event ADD COLUMN address text")
    op.execute("ALTER TABLE event ALTER COLUMN geom DROP NOT NULL")


def downgrade() -> None:
    op.execute("DELETE FROM event WHERE geom IS NULL")
    op.execute("ALTER TABLE event ALTER COLUMN geom SET NOT NULL")
    op.execute("ALTER TABLE event DROP COLUMN address")
