"""The Alembic migration: from empty to head and back, and in step with the models."""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from psycopg import sql
from sqlalchemy import Engine, inspect, text

from gridmap.db import migrate
from gridmap.db.engine import make_engine
from gridmap.db.local import LocalCluster
from gridmap.db.models import Base

SCRATCH = "gridmap_migrations"


@pytest.fixture
def empty_database(cluster: LocalCluster) -> Iterator[Engine]:
    """A new database with PostGIS and nothing else, dropped after the test."""
    admin_url = cluster.url(driver=None, database="postgres")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(SCRATCH)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SCRATCH)))
    engine = make_engine(cluster.url(database=SCRATCH))
    try:
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(SCRATCH)))


def _tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(inspect(connection).get_table_names())


def _queue_tables(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        if not inspect(connection).has_schema("procrastinate"):
            return set()
        return set(inspect(connection).get_table_names(schema="procrastinate"))


def test_upgrade_from_empty_then_downgrade_cleanly_then_upgrade_again(
    empty_database: Engine,
) -> None:
    assert _tables(empty_database) == set()  # not even PostGIS: the migration installs it

    migrate.upgrade(empty_database, "0001")
    assert len(_tables(empty_database) - {"spatial_ref_sys", "alembic_version"}) == 16
    migrate.upgrade(empty_database)
    with empty_database.connect() as connection:
        assert migrate.current_revision(connection) == migrate.head_revision() == "0016"
    assert len(_tables(empty_database) - {"spatial_ref_sys", "alembic_version"}) == 27
    assert _queue_tables(empty_database) == {
        "procrastinate_jobs",
        "procrastinate_events",
        "procrastinate_periodic_defers",
        "procrastinate_workers",
    }

    migrate.downgrade(empty_database, "base")
    with empty_database.connect() as connection:
        assert migrate.current_revision(connection) is None
        leftovers = connection.execute(
            text(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i', 'S') "
                "AND c.relname NOT LIKE 'spatial_ref_sys%' AND c.relname NOT LIKE "
                "'alembic_version%'"
            )
        ).scalar_one()
    assert _tables(empty_database) == {"spatial_ref_sys", "alembic_version"}
    assert leftovers == 0  # no index or sequence left behind
    assert _queue_tables(empty_database) == set()  # the queue's schema went whole

    migrate.upgrade(empty_database)
    assert len(_tables(empty_database) - {"spatial_ref_sys", "alembic_version"}) == 27


def test_the_models_and_the_migrations_describe_the_same_schema(engine: Engine) -> None:
    def include(obj: object, name: str | None, type_: str, reflected: bool, other: object) -> bool:
        return not (type_ == "table" and name == "spatial_ref_sys")

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include}
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def _bare(expression: str) -> str:
    """An SQL expression without casts, brackets, spaces or case, as both sides write it."""
    expression = re.sub(r"::[a-z ]+", "", expression.lower())
    return re.sub(r"[()\s]", "", expression)


def test_every_generated_column_computes_what_its_model_says(engine: Engine) -> None:
    with engine.connect() as connection:
        stored = {
            (table, column): _bare(expression)
            for table, column, expression in connection.execute(
                text(
                    "SELECT c.relname, a.attname, pg_get_expr(d.adbin, d.adrelid) "
                    "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public' "
                    "JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                    "WHERE a.attgenerated = 's'"
                )
            )
        }
    modelled = {
        (table.name, column.name): _bare(str(column.computed.sqltext))
        for table in Base.metadata.tables.values()
        for column in table.columns
        if column.computed is not None
    }
    assert stored == modelled
    assert "st_simplifypreservetopology" not in stored["coverage_gap", "geom_3857_s"]
    assert "st_simplifypreservetopology" in stored["grid", "geom_3857_s"]
