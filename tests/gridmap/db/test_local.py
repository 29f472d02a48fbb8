"""The embedded store: a private cluster made, started, reported and stopped by gridmap."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from gridmap.config import DEFAULT_PG_BINDIR
from gridmap.db.local import LocalCluster
from gridmap.errors import MissingBinaries
from tests.conftest import make_temp_root


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[LocalCluster]:
    """A cluster of this module's own, which its tests stop and start."""
    root = make_temp_root("gridmap-local-")
    cluster = LocalCluster(root / "pg", bindir=DEFAULT_PG_BINDIR, fast=True)
    try:
        yield cluster
    finally:
        cluster.down()
        shutil.rmtree(root, ignore_errors=True)


def _query(cluster: LocalCluster, statement: str) -> object:
    with psycopg.connect(cluster.url(driver=None), autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchone()[0] if cursor.description else None  # type: ignore[index]


def test_up_makes_a_cluster_with_postgis(own_cluster: LocalCluster) -> None:
    result = own_cluster.up()
    assert result.action == "started"
    assert result.status.running and result.status.pid
    assert _query(own_cluster, "SELECT postgis_lib_version()") is not None
    assert _query(own_cluster, "SHOW server_version_num").startswith("15")  # type: ignore[union-attr]


def test_up_twice_is_harmless(own_cluster: LocalCluster) -> None:
    first = own_cluster.up()
    _query(own_cluster, "CREATE TABLE IF NOT EXISTS kept (n int); INSERT INTO kept VALUES (1)")
    second = own_cluster.up()
    assert second.action == "running"
    assert (second.status.pid, second.status.port, second.url) == (
        first.status.pid,
        first.status.port,
        first.url,
    )
    assert _query(own_cluster, "SELECT count(*) FROM kept") == 1


def test_only_the_local_user_may_connect(own_cluster: LocalCluster) -> None:
    own_cluster.up()
    assert _query(own_cluster, "SHOW listen_addresses") == "127.0.0.1"
    assert stat.S_IMODE(own_cluster.state_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(own_cluster.socket_dir.stat().st_mode) == 0o700
    socket_file = own_cluster.socket_dir / f".s.PGSQL.{own_cluster.status().port}"
    assert socket_file.is_socket()
    wrong = own_cluster.url(driver=None).replace(
        json.loads(own_cluster.state_file.read_text())["password"], "guess"
    )
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong).close()


def test_the_server_runs_unprivileged(own_cluster: LocalCluster) -> None:
    own_cluster.up()
    owner = own_cluster.data_dir.stat().st_uid
    pid = own_cluster.status().pid
    server_uid = Path(f"/proc/{pid}").stat().st_uid
    expected = pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else os.geteuid()
    assert owner == server_uid == expected
    assert server_uid != 0


def test_down_stops_the_server_and_up_brings_the_data_back(own_cluster: LocalCluster) -> None:
    own_cluster.up()
    _query(own_cluster, "CREATE TABLE IF NOT EXISTS kept (n int); INSERT INTO kept VALUES (2)")
    url = own_cluster.url(driver=None)

    assert own_cluster.down() is True
    assert own_cluster.status().running is False
    assert not (own_cluster.data_dir / "postmaster.pid").exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3).close()
    assert own_cluster.down() is False  # stopping a stopped cluster is harmless too

    assert own_cluster.up().action == "started"
    assert _query(own_cluster, "SELECT max(n) FROM kept") == 2


def test_a_cluster_whose_binaries_changed_is_restarted(own_cluster: LocalCluster) -> None:
    before = own_cluster.up().status.pid
    state = json.loads(own_cluster.state_file.read_text())
    state["fingerprint"] = {path: [0, 0, 0] for path in state["fingerprint"]}  # as after apt
    own_cluster.state_file.write_text(json.dumps(state))

    result = own_cluster.up()
    assert result.action == "restarted"
    assert result.status.pid != before
    assert _query(own_cluster, "SELECT postgis_lib_version()") is not None
    assert own_cluster.up().action == "running"  # the new fingerprint is remembered


def test_missing_binaries_name_the_debian_packages(tmp_path: Path) -> None:
    cluster = LocalCluster(tmp_path / "pg", bindir=tmp_path / "no-postgres")
    with pytest.raises(
        MissingBinaries, match="apt-get install postgresql-15 postgresql-15-postgis-3"
    ):
        cluster.up()
    assert not (tmp_path / "pg").exists()  # nothing written


def test_a_long_folder_puts_the_socket_in_a_short_private_place(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60) / "pg"
    cluster = LocalCluster(deep, bindir=DEFAULT_PG_BINDIR)
    assert cluster.socket_dir != deep
    assert len(str(cluster.socket_dir / ".s.PGSQL.65535")) < 107
    short = LocalCluster(tmp_path / "pg", bindir=DEFAULT_PG_BINDIR)
    assert short.socket_dir == tmp_path / "pg"
