"""Fixtures shared by the whole suite: one real PostGIS per test session.

The cluster is started by the same code as ``gridmap db up`` (:class:`LocalCluster`), in a
temporary folder, and migrated to the newest revision once. Database tests get a session whose
work is rolled back at the end of the test.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gridmap.config import DEFAULT_PG_BINDIR, get_settings
from gridmap.db import migrate
from gridmap.db.engine import make_engine
from gridmap.db.local import LocalCluster

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


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """The session's PostGIS cluster."""
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
