"""The ``gridmap`` command line, run as a user would."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from gridmap.cli import STOPPED_EXIT_CODE, app
from gridmap.config import get_settings
from gridmap.db.local import LocalCluster
from gridmap.db.migrate import head_revision
from tests.conftest import make_temp_root

runner = CliRunner()


@pytest.fixture
def state_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A state folder of the test's own, as GRIDMAP_STATE_DIR."""
    root = make_temp_root("gridmap-cli-")
    monkeypatch.setenv("GRIDMAP_STATE_DIR", str(root))
    try:
        yield root
    finally:
        runner.invoke(app, ["db", "down"])
        shutil.rmtree(root, ignore_errors=True)


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_the_database_lifecycle_from_the_command_line(state_dir: Path) -> None:
    code, out = _run("db", "up")
    assert code == 0, out
    assert "Embedded PostGIS started" in out
    assert "PostGIS 3." in out
    assert "schema revision: empty" in out
    assert (state_dir / "pg" / "data" / "PG_VERSION").is_file()

    code, out = _run("db", "up")
    assert (code, "Embedded PostGIS already running" in out) == (0, True)

    code, out = _run("db", "migrate")
    assert (code, f"Schema at revision {head_revision()}." in out) == (0, True), out

    code, out = _run("db", "status")
    assert code == 0
    assert "running" in out and f"schema revision: {head_revision()}" in out

    code, url = _run("db", "url")
    assert code == 0 and url.startswith("postgresql://gridmap:")
    with psycopg.connect(url.strip()) as conn:
        assert conn.execute("SELECT count(*) FROM region").fetchone() == (0,)
    code, sqlalchemy_url = _run("db", "url", "--sqlalchemy")
    assert sqlalchemy_url.startswith("postgresql+psycopg://")

    code, out = _run("db", "down")
    assert (code, "Embedded PostGIS stopped." in out) == (0, True)
    code, out = _run("db", "status")
    assert code == STOPPED_EXIT_CODE and "stopped" in out
    code, out = _run("db", "down")
    assert (code, "was not running" in out) == (0, True)


def test_missing_binaries_are_a_clear_error_without_a_traceback(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDMAP_PG_BINDIR", str(state_dir / "nowhere"))
    code, out = _run("db", "up")
    assert code == 1
    assert "error:" in out
    assert "apt-get install postgresql-15 postgresql-15-postgis-3" in out
    assert "Traceback" not in out


def test_commands_before_db_up_say_what_to_do(state_dir: Path) -> None:
    code, out = _run("db", "migrate")
    assert code == 1
    assert "run `gridmap db up`" in out


def test_with_database_url_every_command_uses_that_server(
    cluster: LocalCluster, state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", cluster.url(driver=None))
    get_settings.cache_clear()

    code, out = _run("db", "up")
    assert code == 0, out
    assert "DATABASE_URL is set: using the PostGIS at postgresql+psycopg://gridmap:***@" in out
    assert "PostgreSQL 15" in out
    assert not (state_dir / "pg").exists()  # no embedded cluster was made

    code, url = _run("db", "url")
    assert url.strip() == cluster.url(driver=None)

    code, out = _run("db", "down")
    assert (code, "does not stop a server it did not start" in out) == (0, True)
    assert cluster.status().running


def test_an_unreachable_database_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:9/nowhere")
    code, out = _run("db", "status")
    assert code == 1
    assert "cannot connect to postgresql+psycopg://nobody:***@127.0.0.1:9/nowhere" in out
    assert "secret" not in out and "Traceback" not in out


def test_a_writing_command_on_a_fresh_database_migrates_it_first(state_dir: Path) -> None:
    code, out = _run("db", "up")
    assert code == 0, out
    code, out = _run("synth", "--buildings", "300", "--seed", "3")
    assert code == 0, out
    assert f"schema created at revision {head_revision()}" in out
    assert "300 buildings" in out
    code, out = _run("db", "status")
    assert f"schema revision: {head_revision()}" in out


def test_a_database_at_an_older_revision_says_what_to_run(state_dir: Path) -> None:
    assert _run("db", "up")[0] == 0
    assert _run("db", "migrate", "--revision", "0001")[0] == 0
    code, out = _run("stations", "seed")
    assert code == 1
    assert "is at revision 0001" in out and "run `gridmap db migrate` first" in out
    assert "Traceback" not in out
