"""The city's own base layers: streets (and railways), water, and station-capable amenities.

They draw the offline basemap, cut blocks into units, and are the candidates for new stations.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _geom(geometry_type: str) -> sa.Column:
    return sa.Column(
        "geom", Geometry(geometry_type, srid=4326, spatial_index=False), nullable=False
    )


def _valid(table: str) -> sa.CheckConstraint:
    return sa.CheckConstraint("ST_IsValid(geom)", name=f"ck_{table}_geom_valid")


def upgrade() -> None:
    op.create_table(
        "street",
        sa.Column("id", sa.BigInteger),
        sa.Column("osm_id", sa.BigInteger),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text),
        _geom("LINESTRING"),
        sa.PrimaryKeyConstraint("id", name="pk_street"),
        _valid("street"),
    )
    op.create_index("ix_street_geom", "street", ["geom"], postgresql_using="gist")
    op.create_index("ix_street_kind", "street", ["kind"])

    op.create_table(
        "water",
        sa.Column("id", sa.Integer),
        sa.Column("osm_id", sa.BigInteger),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text),
        _geom("MULTIPOLYGON"),
        sa.PrimaryKeyConstraint("id", name="pk_water"),
        _valid("water"),
    )
    op.create_index("ix_water_geom", "water", ["geom"], postgresql_using="gist")

    op.create_table(
        "amenity",
        sa.Column("id", sa.Integer),
        sa.Column("osm_type", sa.String(8), nullable=False),
        sa.Column("osm_id", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.Text),
        _geom("POINT"),
        sa.PrimaryKeyConstraint("id", name="pk_amenity"),
        sa.UniqueConstraint("osm_type", "osm_id", name="uq_amenity_osm_type_osm_id"),
        _valid("amenity"),
    )
    op.create_index("ix_amenity_geom", "amenity", ["geom"], postgresql_using="gist")


def downgrade() -> None:
    for table in ("amenity", "water", "street"):
        op.drop_table(table)
