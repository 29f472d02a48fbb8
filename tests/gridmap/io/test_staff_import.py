"""Grid staff from a roster: checked as a whole, written per grid, kept with the grid's code."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.config import get_settings
from gridmap.db.local import LocalCluster
from gridmap.demo import sample_roster
from gridmap.errors import InvalidInput
from gridmap.io.staff_import import import_staff
from gridmap.partition.engine import Bounds
from gridmap.partition.service import partition_plan
from gridmap.plans.lifecycle import accept_plan, new_plan
from tests.gridmap.conftest import City


@pytest.fixture
def city(helsinki: City):
    savepoint = helsinki.connection.begin_nested()
    try:
        plan = new_plan(helsinki.connection, name="现状", source=None, author="test")
        partition_plan(helsinki.connection, plan, seed=0)
        accept_plan(helsinki.connection, plan, actor="test")
        yield helsinki
    finally:
        savepoint.rollback()


def staff(city: City, plan: int | None = None) -> dict[str, dict]:
    where = "p.status = 'current'" if plan is None else f"p.id = {int(plan)}"
    rows = city.connection.execute(
        text(f"SELECT g.code, g.staff FROM grid g JOIN plan p ON p.id = g.plan_id WHERE {where}")
    ).all()
    return dict(rows)


def test_a_roster_gives_each_grid_its_people(city: City, tmp_path: Path) -> None:
    codes = sorted(staff(city))
    roster = tmp_path / "网格人员.csv"
    pd.DataFrame(
        {
            "网格编码": [codes[0], codes[0], codes[0], codes[1]],
            "职务": ["网格长", "专职网格员", "兼职网格员", "worker"],
            "姓名": ["王红", "李明", "张强", "赵丽"],
            "电话": ["13800000001", None, "028-8888 1234", None],
            "职责": ["统筹", "巡查走访", None, "信息采集"],
        }
    ).to_csv(roster, index=False, encoding="gb18030")  # as office software saves it

    result = import_staff(city.connection, roster)

    assert (result.grids, result.people) == (2, 4)
    first, second = staff(city)[codes[0]], staff(city)[codes[1]]
    assert first["leader"] == {"name": "王红", "phone": "13800000001", "duties": "统筹"}
    assert [(w["name"], w["role"]) for w in first["workers"]] == [
        ("李明", "worker"),
        ("张强", "part_time"),
    ]
    assert second == {
        "leader": None,
        "instructors": [],
        "workers": [{"name": "赵丽", "phone": None, "duties": "信息采集", "role": "worker"}],
    }
    assert all(not v for c, v in staff(city).items() if c not in codes[:2])  # others untouched


def test_every_problem_of_a_roster_is_named_and_nothing_is_written(
    city: City, tmp_path: Path
) -> None:
    code = sorted(staff(city))[0]
    roster = tmp_path / "bad.csv"
    pd.DataFrame(
        {
            "grid": [code, "990101999999999", code, code, code, None],
            "role": ["leader", "worker", "chief", "worker", "网格长", "worker"],
            "name": ["甲", "乙", "丙", None, "丁", "戊"],
            "phone": [None, None, None, "call me", None, None],
        }
    ).to_csv(roster, index=False)

    with pytest.raises(InvalidInput) as raised:
        import_staff(city.connection, roster)

    message = str(raised.value)
    assert "bad.csv: 6 problems, nothing was imported" in message
    for expected in (
        "row 3: no grid 990101999999999 in the plan",
        "row 4: role 'chief'",
        "row 5: name is empty",
        "row 5: phone 'call me'",
        f"row 6: grid {code} has a leader already",
        "row 7: grid is empty",
    ):
        assert expected in message
    assert not any(staff(city).values())
    (tmp_path / "no_role.csv").write_text("grid,name\n1,2\n")
    with pytest.raises(InvalidInput, match="no role column"):
        import_staff(city.connection, tmp_path / "no_role.csv")


def test_staff_stay_with_a_grid_that_keeps_its_code(city: City, tmp_path: Path) -> None:
    roster = tmp_path / "staff.csv"
    sample_roster(city.connection).to_csv(roster, index=False)
    import_staff(city.connection, roster)
    before = staff(city)
    draft = new_plan(
        city.connection,
        name="调整",
        source=int(city.value("SELECT id FROM plan WHERE status = 'current'")),
        author="test",
    )
    assert staff(city, draft) == before  # a copy keeps everyone
    partition_plan(city.connection, draft, mode="adjust", bounds=Bounds(300, 450, 380))
    after = staff(city, draft)
    kept = set(before) & set(after)
    assert kept and all(after[c] == before[c] for c in kept)
    assert all(not after[c] for c in set(after) - kept)  # a new grid waits for its people


def test_the_command_reports_a_bad_roster_without_a_traceback(
    cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", cluster.url(driver=None))
    get_settings.cache_clear()
    roster = tmp_path / "roster.geojson"
    roster.write_text('{"type": "FeatureCollection", "features": []}')
    try:
        result = CliRunner().invoke(app, ["import", "staff", str(roster)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "give a CSV or XLSX table" in result.output
    assert "Traceback" not in result.output
