"""Fixtures shared by the whole suite: one real PostGIS per test session.

The cluster is started by the same code as ``gridmap db up`` (:class:`LocalCluster`), in a
temporary folder, and migrated to the newest revision once. Database tests get a session whose
work is rolled back at the end of the test.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import settings
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gridmap.config import DEFAULT_PG_BINDIR, get_settings
from gridmap.db import migrate
from gridmap.db.engine import make_engine
from gridmap.db.local import LocalCluster

settings.register_profile("fixed", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))
"""Property tests draw the same examples on every run (CI included): a failure is never luck.
``HYPOTHESIS_PROFILE=explore`` draws new ones each run, to look for what the fixed ones miss."""

_ENV_PREFIXES = ("GRIDMAP_",)
_ENV_NAMES = ("DATABASE_URL",)


def make_temp_root(prefix: str) -> Path:
    """Return a new folder the server's system user can reach (as root it is ``postgres``)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(0o755)
    return root


def start_cluster(root: Path) -> LocalCluster:
    """Start a throw-away cluster in ``root/pg``, as ``gridmap db up`` does."""
    cluster = LocalCluster(root / "pg", bindir=DEFAULT_PG_BINDIR, fast=True)
    cluster.up()
    return cluster


SLOW_FIXTURES = frozenset({"cluster", "browser", "live", "state_dir"})
"""A test that needs any of these (a PostgreSQL cluster, a browser, a served app) is slow."""
SLOW_CALLS = ("start_cluster(", "LocalCluster(", "subprocess.", "create_app(")
"""A test, or a fixture it uses, that starts a cluster, a process or the app is slow too."""


SLOW_ONLY_MODULES = frozenset(
    {
        "tests/api/test_exports.py",
        "tests/api/test_features.py",
        "tests/api/test_grid_edits.py",
        "tests/api/test_health.py",
        "tests/api/test_jobs.py",
        "tests/api/test_landing.py",
        "tests/api/test_outage.py",
        "tests/api/test_plans.py",
        "tests/api/test_processes.py",
        "tests/api/test_schemathesis.py",
        "tests/api/test_scope.py",
        "tests/api/test_stations.py",
        "tests/api/test_tickets.py",
        "tests/api/test_tile_store.py",
        "tests/api/test_tiles.py",
        "tests/api/test_tokens.py",
        "tests/api/test_warm_whatif.py",
        "tests/api/test_web_editor.py",
        "tests/api/test_web_map.py",
        "tests/api/test_whatif_map.py",
        "tests/gridmap/coverage/test_service.py",
        "tests/gridmap/coverage/test_station_planning.py",
        "tests/gridmap/db/test_local.py",
        "tests/gridmap/db/test_migrations.py",
        "tests/gridmap/db/test_schema.py",
        "tests/gridmap/io/test_file_import.py",
        "tests/gridmap/io/test_import_overlaps.py",
        "tests/gridmap/io/test_import_validation.py",
        "tests/gridmap/io/test_staff_import.py",
        "tests/gridmap/io/test_ticket_import.py",
        "tests/gridmap/plans/test_lineage.py",
        "tests/gridmap/plans/test_plan_rows.py",
        "tests/gridmap/test_layers.py",
        "tests/gridmap/test_revisions.py",
        "tests/gridmap/tickets/test_service.py",
    }
)
"""Test modules without a fast test: a ``-m fast`` run does not even import them (each would
cost its imports and the rewriting of its asserts). A run that collects one of them fails if it
holds a fast test (then take it off this list); a module left off the list only costs time."""


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave out :data:`SLOW_ONLY_MODULES` when only the fast tests are asked for."""
    if config.getoption("markexpr", "") != "fast":
        return None
    return True if _in_repository(collection_path, config) in SLOW_ONLY_MODULES else None


def _in_repository(path: Path, config: pytest.Config) -> str:
    """``path`` relative to the repository, as the list writes it ("" outside it)."""
    root = config.rootpath
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else ""


def pytest_configure(config: pytest.Config) -> None:
    """Declare the markers every test gets: ``fast`` (no database, no browser) or ``slow``."""
    config.addinivalue_line("markers", "fast: needs no database, browser or server (seconds)")
    config.addinivalue_line("markers", "slow: needs a database, a browser or a server")


def _makes_slow_calls(function: object, known: dict[object, bool]) -> bool:
    """Whether ``function``'s source makes one of :data:`SLOW_CALLS` (read once per function)."""
    import inspect

    if function not in known:
        try:
            source = inspect.getsource(function)  # type: ignore[arg-type]
        except (OSError, TypeError):
            source = ""
        known[function] = any(call in source for call in SLOW_CALLS)
    return known[function]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test ``fast`` or ``slow``, so that ``-m fast`` runs the quick ones alone."""
    known: dict[object, bool] = {}
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        info = getattr(item, "_fixtureinfo", None)
        functions = [getattr(item, "function", None)] + [
            definition.func
            for definitions in (info.name2fixturedefs.values() if info else ())
            for definition in definitions
        ]
        slow = bool(names & SLOW_FIXTURES) or any(
            _makes_slow_calls(f, known) for f in functions if f is not None
        )
        item.add_marker(pytest.mark.slow if slow else pytest.mark.fast)
        module = _in_repository(item.path, item.config)
        if not slow and module in SLOW_ONLY_MODULES:
            raise pytest.UsageError(
                f"{item.nodeid} is a fast test: take {module} off SLOW_ONLY_MODULES in "
                "tests/conftest.py, or -m fast will never run it"
            )


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep the developer's DATABASE_URL and GRIDMAP_* settings out of every test."""
    import os

    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES) or name in _ENV_NAMES:
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


ATTACH_VARIABLE = "GRIDMAP_TEST_ATTACH"
"""A running cluster's folder: test sessions share it, each in databases of its own, copied
from templates the first session builds (bench/mutation runs hundreds of short sessions)."""
ATTACH_DIR = os.environ.get(ATTACH_VARIABLE)


class AttachedCluster(LocalCluster):
    """A running cluster shared by several test sessions; this session's database by default.

    Tests that stop or restart the cluster cannot run on it.
    """

    def __init__(self, cluster_dir: Path, own: str) -> None:
        super().__init__(cluster_dir, bindir=DEFAULT_PG_BINDIR)
        self.own = own

    def url(self, *, driver: str | None = "psycopg", database: str | None = None) -> str:
        return super().url(driver=driver, database=database or self.own)

    def copy(self, name: str, template: str, build: Callable[[str], None]) -> None:
        """Make database ``name`` a copy of ``template``, built by ``build(url)`` if missing.

        One session builds a template while the others wait on an advisory lock; a template
        must have no connection open while it is copied, so ``build`` closes its own.
        """
        admin = self.url(driver=None, database="postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (template,))
            try:
                found = conn.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", (template,)
                ).fetchone()
                if not found:
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
                    try:
                        build(self.url(database=template))
                    except BaseException:
                        conn.execute(
                            sql.SQL("DROP DATABASE {} WITH (FORCE)").format(
                                sql.Identifier(template)
                            )
                        )
                        raise
                self.drop(name)
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (template,))

    def drop(self, name: str) -> None:
        """Drop database ``name`` if it exists, closing its connections."""
        with psycopg.connect(self.url(driver=None, database="postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """The session's PostGIS cluster (or, under ``GRIDMAP_TEST_ATTACH``, a shared one)."""
    if ATTACH_DIR:
        attached = AttachedCluster(Path(ATTACH_DIR), f"gridmap_test_{os.getpid()}")
        attached.copy(attached.own, "gridmap_test_template", _migrate)
        try:
            yield attached
        finally:
            attached.drop(attached.own)
        return
    root = make_temp_root("gridmap-test-")
    cluster = start_cluster(root)
    try:
        yield cluster
    finally:
        cluster.down()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def engine(cluster: LocalCluster) -> Iterator[Engine]:
    """An engine on the session's database, migrated to the newest revision."""
    engine = make_engine(cluster.url())
    migrate.upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose work, flushed or committed, is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()
