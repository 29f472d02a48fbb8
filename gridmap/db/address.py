"""Where the database is now: the external URL, or the embedded cluster wherever it listens.

The embedded cluster records its port in ``cluster.json``; when ``gridmap db up`` had to
start it on another port (its old one really taken), every process that reaches it through a
:class:`DatabaseAddress` follows: each new connection reads the address again (the file is
read only when it changed).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from gridmap.config import Settings
from gridmap.db.engine import local_cluster, normalise_url


class DatabaseAddress:
    """The database of ``settings``: a fixed URL, or the embedded cluster's current one."""

    def __init__(self, settings: Settings) -> None:
        self._external = normalise_url(settings.database_url) if settings.database_url else None
        self._cluster = None if self._external else local_cluster(settings)
        self._lock = threading.Lock()
        self._seen: tuple[float, str] | None = None

    @property
    def state_file(self) -> Path | None:
        """The file the embedded cluster keeps its port in (None: an external database)."""
        return None if self._cluster is None else self._cluster.state_file

    def url(self) -> str:
        """Return the SQLAlchemy URL (psycopg driver) of the database as it is now."""
        if self._external is not None:
            return self._external
        assert self._cluster is not None and self.state_file is not None
        try:
            stamp = self.state_file.stat().st_mtime
        except OSError:
            stamp = -1.0
        with self._lock:
            if self._seen is not None and self._seen[0] == stamp:
                return self._seen[1]
        url = self._cluster.url()
        with self._lock:
            self._seen = (stamp, url)
        return url

    def libpq(self) -> str:
        """Return the plain libpq URL (for psycopg, psql, GDAL) of the database as it is now."""
        return (
            make_url(self.url()).set(drivername="postgresql").render_as_string(hide_password=False)
        )

    def connect_arguments(self) -> dict[str, Any]:
        """Return psycopg's connection arguments for the database as it is now."""
        arguments = make_url(self.url()).translate_connect_args(username="user", database="dbname")
        return {k: v for k, v in arguments.items() if v is not None}
