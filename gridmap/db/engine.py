"""Where the database is and how to connect to it: the external URL or the embedded cluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from gridmap.config import Settings
from gridmap.db.local import LocalCluster
from gridmap.errors import StoreError

_DRIVERLESS = {"postgres", "postgresql"}


def normalise_url(url: str) -> str:
    """Return ``url`` with the psycopg 3 driver, as SQLAlchemy needs it.

    >>> normalise_url("postgresql://u:p@db:5432/city")
    'postgresql+psycopg://u:p@db:5432/city'
    """
    parsed = make_url(url)
    if parsed.drivername in _DRIVERLESS:
        parsed = parsed.set(drivername="postgresql+psycopg")
    if not parsed.drivername.startswith("postgresql"):
        raise StoreError(f"gridmap needs PostgreSQL with PostGIS, not {parsed.drivername}")
    return parsed.render_as_string(hide_password=False)


def local_cluster(settings: Settings, *, fast: bool = False) -> LocalCluster:
    """Return the embedded cluster the settings describe."""
    return LocalCluster(
        settings.cluster_dir,
        bindir=settings.pg_bindir,
        system_user=settings.pg_system_user,
        database=settings.database_name,
        fast=fast,
    )


def uses_external_database(settings: Settings) -> bool:
    """Say whether ``DATABASE_URL`` points gridmap at a server of its own choosing."""
    return settings.database_url is not None


def database_url(settings: Settings) -> str:
    """Return the SQLAlchemy URL of the database gridmap works on.

    Raises
    ------
    StoreError
        When the embedded cluster is used and has not been made yet.
    """
    if settings.database_url:
        return normalise_url(settings.database_url)
    return local_cluster(settings).url()


def make_engine(
    url: str, *, follow: Callable[[], dict[str, Any]] | None = None, **options: object
) -> Engine:
    """Return an engine for ``url`` that checks connections before handing them out.

    ``pool_pre_ping=False`` skips the check (a round trip per checkout) for callers that
    retry a statement on a dropped connection instead. ``follow`` gives the connection
    arguments afresh for each new connection (host, port: the embedded cluster may move).
    """
    options.setdefault("pool_pre_ping", True)
    engine = create_engine(normalise_url(url), **options)
    if follow is not None:

        @event.listens_for(engine, "do_connect")
        def _where_it_is_now(dialect: Any, record: Any, cargs: Any, cparams: dict) -> None:
            cparams.update(follow())

    return engine
