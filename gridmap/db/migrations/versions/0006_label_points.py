"""Label points: where the map writes a grid's or a region's name, kept beside its geometry.

A polygon split over several tiles would otherwise be labelled once in each, and every tile
would compute a point inside it again. ``label_3857`` is ``ST_PointOnSurface`` of the
geometry in EPSG:3857, a stored generated column with its GiST index, so each grid and region
has one label point that follows every write.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

LABELLED = ("region", "grid")  # a frozen copy of gridmap.db.models.LABELLED


def upgrade() -> None:
    for table in LABELLED:
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN label_3857 geometry(Geometry, 3857) "
            "GENERATED ALWAYS AS (ST_PointOnSurface(ST_Transform(geom, 3857))) STORED"
        )
        op.execute(f"CREATE INDEX ix_{table}_label_3857 ON {table} USING gist (label_3857)")


def downgrade() -> None:
    for table in LABELLED:
        op.execute(f"ALTER TABLE {table} DROP COLUMN label_3857")
