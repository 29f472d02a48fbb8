"""Station contacts: the address, opening hours and phone a resident needs to go there.

A duty card names the grid's station; a resident scanning it wants to know where it is, when
it is open and whom to call. The three fields are free text, as stations' own notices write
them (``周一至周五 9:00-17:00``, ``028-8888 6666``), imported with the stations
(地址, 开放时间, 电话) and editable one station at a time.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

FIELDS = ("address", "opening_hours", "phone")


def upgrade() -> None:
    for name in FIELDS:
        op.add_column("station", sa.Column(name, sa.Text(), nullable=True))


def downgrade() -> None:
    for name in reversed(FIELDS):
        op.drop_column("station", name)
