"""Hotline tickets in the tiles: a write to ``event`` drops the stored tiles it touches.

The gridmap tileset draws tickets as points from zoom 15 (gridmap.tiles.tilesets); like every
table a tile reads, each statement on ``event`` notes the web-mercator point of each row it
changed, old and new (migration 0011's ``gridmap_note_tiles``), so a commit drops exactly the
stored tiles near them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BY_ROW = "SELECT NULL::integer, geom_3857 FROM %1$s"
REFERENCING = {
    "insert": ("NEW TABLE AS new_rows", ("new_rows",)),
    "update": ("OLD TABLE AS old_rows NEW TABLE AS new_rows", ("old_rows", "new_rows")),
    "delete": ("OLD TABLE AS old_rows", ("old_rows",)),
}


def upgrade() -> None:
    for event, (referencing, relations) in REFERENCING.items():
        arguments = ", ".join(f"'{a}'" for a in (BY_ROW, *relations))
        op.execute(
            f"CREATE TRIGGER tr_event_tiles_{event} AFTER {event.upper()} ON event "
            f"REFERENCING {referencing} FOR EACH STATEMENT "
            f"EXECUTE FUNCTION gridmap_note_tiles({arguments})"
        )
    op.execute(
        "CREATE TRIGGER tr_event_tiles_truncate AFTER TRUNCATE ON event "
        "FOR EACH STATEMENT EXECUTE FUNCTION gridmap_note_tiles()"
    )


def downgrade() -> None:
    for event in (*REFERENCING, "truncate"):
        op.execute(f"DROP TRIGGER tr_event_tiles_{event} ON event")
