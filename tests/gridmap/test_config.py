"""Settings from the environment, and database URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridmap.config import DEFAULT_PG_BINDIR, Settings, get_settings
from gridmap.db.engine import database_url, normalise_url
from gridmap.errors import StoreError


def test_defaults_use_the_embedded_cluster_under_dot_gridmap() -> None:
    settings = Settings()
    assert settings.database_url is None
    assert settings.cluster_dir == Path.cwd() / ".gridmap" / "pg"
    assert settings.pg_bindir == DEFAULT_PG_BINDIR
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)


def test_database_url_is_read_from_the_conventional_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.example:5433/city")
    assert get_settings().database_url == "postgresql://u:p@db.example:5433/city"
    assert database_url(get_settings()) == "postgresql+psycopg://u:p@db.example:5433/city"


def test_a_blank_database_url_means_the_embedded_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "")
    assert Settings().database_url is None


def test_state_dir_is_made_absolute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GRIDMAP_STATE_DIR", "state")
    assert Settings().cluster_dir == tmp_path / "state" / "pg"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql://u:p@h:1/d", "postgresql+psycopg://u:p@h:1/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
    ],
)
def test_urls_get_the_psycopg_driver(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_a_database_other_than_postgresql_is_refused() -> None:
    with pytest.raises(StoreError, match="needs PostgreSQL with PostGIS, not mysql"):
        normalise_url("mysql://u@h/d")


def test_the_package_says_it_is_typed() -> None:
    from importlib.resources import files

    assert files("gridmap").joinpath("py.typed").is_file()  # declared in pyproject.toml
