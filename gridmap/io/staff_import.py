"""Grid staff from a roster (CSV or XLSX): each grid's leader, workers and instructors.

One row per person: the grid's code (``grid``, ``code`` or 网格编码), the role (``role``,
职务 or 岗位: leader/网格长, worker/专职网格员/网格员, part_time/兼职网格员, instructor/网格指导员),
the name (姓名), and optionally a phone (电话) and duties (职责). The grids named get exactly the
staff the roster lists; other grids keep theirs. A grid keeps its staff when a plan is copied,
and when a re-partition keeps its code. Every problem of the file is gathered and reported
together; nothing is written then.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from gridmap.db import plans as plan_rows
from gridmap.errors import InvalidInput
from gridmap.io.problems import Problems
from gridmap.io.read import read_rows

ROLES = {
    "leader": "leader",
    "网格长": "leader",
    "worker": "worker",
    "专职网格员": "worker",
    "网格员": "worker",
    "part_time": "part_time",
    "兼职网格员": "part_time",
    "instructor": "instructor",
    "网格指导员": "instructor",
}
"""The roles a roster names, in English or as grid centres write them, and gridmap's word."""
PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,19}$")


@dataclass(frozen=True)
class StaffImport:
    """What a roster import changed."""

    plan_id: int
    grids: int
    people: int


def staff_of(rows: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Group checked roster rows into each grid's staff document.

    >>> rows = pd.DataFrame({"grid": ["g1", "g1"], "role": ["leader", "worker"],
    ...                      "name": ["王", "李"], "phone": [None, "13800000000"],
    ...                      "duties": [None, "巡查"]})
    >>> staff_of(rows)["g1"]["workers"]
    [{'name': '李', 'phone': '13800000000', 'duties': '巡查', 'role': 'worker'}]
    """
    staff: dict[str, dict[str, Any]] = {}
    for row in rows.itertuples(index=False):  # a roster: hundreds of rows, not a hot path
        person = {"name": row.name, "phone": row.phone, "duties": row.duties}
        entry = staff.setdefault(row.grid, {"leader": None, "workers": [], "instructors": []})
        if row.role == "leader":
            entry["leader"] = person
        elif row.role == "instructor":
            entry["instructors"].append(person)
        else:
            entry["workers"].append({**person, "role": row.role})
    return staff


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    values = frame[column].astype("string").str.strip()
    return pd.Series(
        [None if pd.isna(v) or v == "" else str(v) for v in values], index=frame.index, dtype=object
    )


def check_roster(frame: pd.DataFrame, grid_codes: set[str], problems: Problems) -> pd.DataFrame:
    """Return the roster's rows as grid, role, name, phone, duties; problems are gathered."""
    if "grid" not in frame.columns and "code" in frame.columns:
        frame = frame.rename(columns={"code": "grid"})
    for column in ("grid", "role", "name"):
        if column not in frame.columns:
            problems.add("file", f"no {column} column (found {', '.join(frame.columns[:-1])})")
    if len(problems):
        return frame.iloc[0:0]
    rows = pd.DataFrame({c: _text(frame, c) for c in ("grid", "role", "name", "phone", "duties")})
    labels = frame["label"].to_numpy()
    role = rows["role"].map(lambda r: ROLES.get(str(r).lower()) if r is not None else None)
    problems.add_where(labels, rows["grid"].isna(), "grid is empty")
    unknown = rows["grid"].notna() & ~rows["grid"].isin(grid_codes)
    problems.add_where(labels, unknown, [f"no grid {g} in the plan" for g in rows["grid"][unknown]])
    bad_role = role.isna()
    problems.add_where(
        labels,
        bad_role,
        [
            f"role {r!r} is not one of {', '.join(sorted(set(ROLES.values())))} (or 网格长, "
            "专职网格员, 兼职网格员, 网格指导员)"
            for r in rows["role"][bad_role]
        ],
    )
    problems.add_where(labels, rows["name"].isna(), "name is empty")
    phone = rows["phone"]
    bad_phone = phone.notna() & ~phone.fillna("").str.match(PHONE)
    problems.add_where(
        labels, bad_phone, [f"phone {p!r} is not a phone number" for p in phone[bad_phone]]
    )
    rows["role"] = role
    leaders = rows[(role == "leader") & rows["grid"].notna()]
    twice = leaders["grid"].duplicated(keep="first")
    problems.add_where(
        labels[leaders.index[twice]],
        np.ones(int(twice.sum()), dtype=bool),
        [f"grid {g} has a leader already (a grid has one 网格长)" for g in leaders["grid"][twice]],
    )
    return rows


def import_staff(
    connection: Connection,
    path: Path,
    *,
    plan_id: int | None = None,
    field_map: Mapping[str, str] | None = None,
) -> StaffImport:
    """Give the grids of a plan (the current one by default) the staff of the roster ``path``.

    Raises
    ------
    InvalidInput
        Listing the first 20 problems of the file; nothing is written then.
    NotFound
        When the plan does not exist.
    """
    problems = Problems(path.name)
    frame = read_rows(path, problems=problems, field_map=field_map)
    plan = plan_id if plan_id is not None else plan_rows.current_plan_id(connection)
    if plan is None:
        raise InvalidInput("--plan: there is no current plan; name one")
    plan_rows.plan_row(connection, plan)
    codes = set(plan_rows.grid_figures(connection, plan)["code"])
    rows = check_roster(frame, codes, problems)
    problems.raise_if_any()
    staff = staff_of(rows)
    plan_rows.set_staff(connection, plan, staff)
    return StaffImport(plan, len(staff), len(rows))
