"""What a database runs: PostgreSQL and PostGIS versions and the schema revision."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from gridmap.db.migrate import current_revision, head_revision


@dataclass(frozen=True)
class ServerInfo:
    """Versions of a server and the revision of gridmap's schema in it."""

    postgresql_version: str
    postgis_version: str | None
    schema_revision: str | None
    head_revision: str

    @property
    def schema_current(self) -> bool:
        """Say whether the schema is at the newest revision the code knows."""
        return self.schema_revision == self.head_revision


def server_info(connection: Connection) -> ServerInfo:
    """Read the server's versions and schema revision over ``connection``."""
    postgresql = connection.execute(text("SHOW server_version")).scalar_one()
    try:
        with connection.begin_nested():
            postgis = connection.execute(text("SELECT postgis_lib_version()")).scalar_one()
    except DBAPIError:  # the extension is not installed in this database
        postgis = None
    return ServerInfo(
        postgresql_version=str(postgresql),
        postgis_version=postgis,
        schema_revision=current_revision(connection),
        head_revision=head_revision(),
    )
