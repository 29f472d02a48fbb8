"""Alembic environment: runs gridmap's migrations on the URL in the Alembic config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from gridmap.db.models import Base

target_metadata = Base.metadata

# Tables PostGIS owns; they are not gridmap's to create or drop.
_POSTGIS_TABLES = {"spatial_ref_sys"}


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Leave PostGIS's own tables out of autogenerate."""
    return not (type_ == "table" and name in _POSTGIS_TABLES)


def run_migrations_online() -> None:
    """Run the migrations on a live connection (the only mode gridmap uses)."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        from gridmap.config import get_settings
        from gridmap.db.engine import database_url

        url = database_url(get_settings())
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("gridmap runs its migrations online: use `gridmap db migrate`")
run_migrations_online()
