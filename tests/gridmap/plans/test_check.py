"""The plan integrity check: hand-made plans with one fault each, then the demo city's plans."""

from __future__ import annotations

import io

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely import box
from sqlalchemy import text

from gridmap.errors import Conflict
from gridmap.partition.service import partition_plan
from gridmap.plans.check import check_plan, count_pieces, find_problems, grid_pieces, plan_bounds
from gridmap.plans.lifecycle import accept_plan, new_plan
from gridmap.reports.plan import load_plan_report, render, summary, to_html
from tests.gridmap.conftest import City

COMMUNITY = "990101001001"


def units(*rows: tuple[str, int]) -> pd.DataFrame:
    return pd.DataFrame(
        [(code, COMMUNITY, n) for code, n in rows], columns=["code", "community", "grids"]
    )


def grid(code: str, households: int = 400, **figures: object) -> dict[str, object]:
    row = {
        "code": code,
        "kind": "urban",
        "community": COMMUNITY,
        "households": households,
        "units": 1,
        "communities": 1,
        "largest_unit": households,
        "community_households": 4000,
    }
    return {**row, **figures}


def grids(*rows: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


NO_PARTS = gpd.GeoDataFrame({"grid": []}, geometry=[])


def kinds(check: object) -> list[str]:
    return [f.kind for f in check.findings]  # type: ignore[attr-defined]


def test_a_sound_plan_has_no_finding() -> None:
    check = find_problems(1, units(("u1", 1)), grids(grid(COMMUNITY + "001")), NO_PARTS)
    assert check.ok and check.findings == []


@pytest.mark.parametrize(
    ("unit_rows", "grid_rows", "expected"),
    [
        ([("u1", 0)], [grid(COMMUNITY + "001")], ["unit without grid"]),
        ([("u1", 2)], [grid(COMMUNITY + "001")], ["unit in two grids"]),
        ([("u1", 1)], [grid(COMMUNITY + "001", communities=2)], ["grid across communities"]),
        (
            [("u1", 1)],
            [grid(COMMUNITY + "001"), grid(COMMUNITY + "002", 0, units=0)],
            ["empty grid"],
        ),
        ([("u1", 1)], [grid("99010100100101")], ["invalid code"]),  # 14 digits
        ([("u1", 1)], [grid("990101001002001")], ["invalid code"]),  # another community's
        ([("u1", 1)], [grid(COMMUNITY + "001"), grid(COMMUNITY + "001")], ["duplicate code"]),
        ([("u1", 1)], [grid(COMMUNITY + "001", 0)], ["no households"]),
    ],
)
def test_each_fault_is_found_once(
    unit_rows: list[tuple[str, int]], grid_rows: list[dict[str, object]], expected: list[str]
) -> None:
    check = find_problems(1, units(*unit_rows), grids(*grid_rows), NO_PARTS)
    assert kinds(check) == expected
    assert check.ok == all(k == "no households" for k in expected)


@pytest.mark.parametrize(
    ("households", "expected"), [(299, True), (300, False), (500, False), (501, True)]
)
def test_bounds_are_inclusive(households: int, expected: bool) -> None:
    check = find_problems(1, units(("u1", 1)), grids(grid(COMMUNITY + "001", households)), NO_PARTS)
    assert (kinds(check) == ["out of bounds"]) == expected
    assert check.ok  # out of bounds is a warning


def test_no_households_is_said_even_where_the_bounds_start_at_zero() -> None:
    bounds = {"urban": {"min_households": 0, "max_households": 500}}
    empty = grid(COMMUNITY + "001", 0, largest_unit=0)
    held = grid(COMMUNITY + "002", 0, largest_unit=0, units=0)  # no unit: "empty grid" alone
    one = grid(COMMUNITY + "003", 1)  # within 0–500: nothing to say
    check = find_problems(1, units(("u1", 1)), grids(empty, held, one), NO_PARTS, bounds)
    assert [(f.kind, f.grid) for f in check.findings] == [
        ("empty grid", COMMUNITY + "002"),
        ("no households", COMMUNITY + "001"),
    ]


def test_a_kind_without_bounds_is_never_out_of_them() -> None:
    odd = grid(COMMUNITY + "001", 9_999, kind="special")
    over = grid(COMMUNITY + "002", 501)  # after it, an urban grid over its maximum
    check = find_problems(1, units(("u1", 1)), grids(odd, over), NO_PARTS)
    assert [(f.kind, f.grid) for f in check.findings] == [("out of bounds", COMMUNITY + "002")]


def test_out_of_bounds_says_why_when_it_cannot_be_helped() -> None:
    big = grid(COMMUNITY + "001", 709, largest_unit=709)
    small = grid(COMMUNITY + "002", 250, community_households=250)
    avoidable = grid(COMMUNITY + "003", 650, largest_unit=400)
    check = find_problems(1, units(("u1", 1)), grids(big, small, avoidable), NO_PARTS)
    messages = [f.message for f in check.findings]
    assert messages == [
        f"grid {COMMUNITY}001 holds 709 households, outside 300–500: one of its units alone "
        "holds 709",
        f"grid {COMMUNITY}002 holds 250 households, outside 300–500: its whole community holds 250",
        f"grid {COMMUNITY}003 holds 650 households, outside 300–500",
    ]


def parts(*rows: tuple[str, object]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"grid": [g for g, _ in rows]}, geometry=[p for _, p in rows])


def test_pieces_across_a_street_hang_together_and_a_corner_does_not() -> None:
    found = count_pieces(
        parts(
            ("street", box(0, 0, 100, 100)),
            ("street", box(110, 0, 210, 100)),  # 10 m street
            ("corner", box(0, 0, 100, 100)),
            ("corner", box(100, 100, 200, 200)),
            ("apart", box(0, 0, 100, 100)),
            ("apart", box(140, 0, 240, 100)),  # 40 m apart
            ("one", box(0, 0, 100, 100)),
        )
    )
    assert found.to_dict() == {"apart": 2, "corner": 2, "one": 1, "street": 1}


def test_a_grid_in_pieces_is_an_error() -> None:
    code = COMMUNITY + "001"
    check = find_problems(
        1,
        units(("u1", 1)),
        grids(grid(code)),
        parts((code, box(0, 0, 100, 100)), (code, box(100, 100, 200, 200))),
    )
    assert kinds(check) == ["grid in pieces"] and not check.ok
    assert "drawn as 2 separate pieces" in check.findings[0].message


# --- on the demo city -------------------------------------------------------------------------


def test_a_partitioned_draft_passes_and_a_broken_one_cannot_be_accepted(city: City) -> None:
    connection = city.connection
    plan = new_plan(connection, name="p", source=None, author="t")
    summary = partition_plan(connection, plan, seed=1)
    assert summary.check.ok and summary.check == check_plan(connection, plan)

    # a unit taken out of its grid: the wall-to-wall rule broken behind the lifecycle's back
    unit = connection.execute(
        text(
            f"DELETE FROM assignment WHERE plan_id = {plan} AND unit_id = "
            f"(SELECT min(unit_id) FROM assignment WHERE plan_id = {plan}) RETURNING unit_id"
        )
    ).scalar_one()
    code = connection.execute(text(f"SELECT code FROM unit WHERE id = {unit}")).scalar_one()
    check = check_plan(connection, plan)
    assert [f.kind for f in check.errors] == ["unit without grid"]
    assert check.errors[0].unit == code

    with pytest.raises(Conflict, match=f"fails its integrity check with 1 errors: unit {code}"):
        accept_plan(connection, plan, actor="admin")


def test_the_plan_report_shows_the_check_in_every_format(city: City) -> None:
    connection = city.connection
    plan = new_plan(connection, name="p", source=None, author="t")
    partition_plan(connection, plan, seed=1)
    first = f"(SELECT min(unit_id) FROM assignment WHERE plan_id = {plan})"
    connection.execute(text(f"DELETE FROM assignment WHERE plan_id = {plan} AND unit_id = {first}"))
    report = load_plan_report(connection, plan)

    html = to_html(report)
    assert '<tr class="out" data-kind="unit without grid"><td>单元未划入网格</td>' in html
    assert "单元未划入网格：单元 " in html and "未划入任何网格<" in html
    book = openpyxl.load_workbook(io.BytesIO(render(report, "xlsx", chromium=None)))
    rows = list(book["检查"].iter_rows(values_only=True))
    assert rows[0] == ("类别", "级别", "网格", "单元", "说明")
    assert rows[1][:2] == ("单元未划入网格", "错误")
    assert summary(report)["check_errors"] == 1


def test_every_fault_at_once_in_full_errors_first_then_by_kind_and_code() -> None:
    """Each finding whole (kind, severity, message, grid or unit, figures), in the order a
    planner reads them, and the counts; the expected JSON written out by hand."""
    c = COMMUNITY
    plan_units = units(("u2", 0), ("u1", 0), ("u3", 3), ("u4", 1))
    plan_grids = grids(
        grid(c + "009", 0),  # no households (a warning), listed before later grids' findings
        grid(c + "001", 450, kind="special"),  # a kind without bounds: never out of bounds
        grid(c + "002", 400),  # within bounds
        grid(c + "003", 501, largest_unit=500),  # over, though no unit alone is
        grid(c + "004", 299, community_households=299, communities=2),
        grid(c + "005", 0, units=0),  # empty
        grid("99010100100200", 400, community="990101001002"),  # 14 digits
        grid(c + "006", 600, largest_unit=501),
        grid(c + "006", 280, community_households=300),  # a duplicate, under the minimum
    )
    drawn = parts(
        (c + "002", box(0, 0, 100, 100)),
        (c + "002", box(200, 0, 300, 100)),
        (c + "002", box(400, 0, 500, 100)),
    )
    found = find_problems(7, plan_units, plan_grids, drawn).as_dict()
    findings = [
        (f["kind"], f["severity"], f["message"], f["grid"], f["unit"], f["detail"])
        for f in found.pop("findings")
    ]
    e, w = "error", "warning"
    assert findings == [
        ("unit without grid", e, "unit u1 is in no grid", None, "u1", {}),
        ("unit without grid", e, "unit u2 is in no grid", None, "u2", {}),
        ("unit in two grids", e, "unit u3 is in 3 grids", None, "u3", {"grids": 3}),
        (
            "grid across communities",
            e,
            f"grid {c}004 holds units of 2 communities; a grid lies in one",
            c + "004",
            None,
            {"communities": 2},
        ),
        ("empty grid", e, f"grid {c}005 holds no unit", c + "005", None, {}),
        (
            "invalid code",
            e,
            "grid code '99010100100200' is not its community's code 990101001002 and a 3-digit "
            "serial",
            "99010100100200",
            None,
            {"community": "990101001002"},
        ),
        ("duplicate code", e, f"grid code {c}006 is used twice", c + "006", None, {}),
        (
            "grid in pieces",
            e,
            f"grid {c}002 is drawn as 3 separate pieces (no street-wide contact between them; a "
            "corner does not join)",
            c + "002",
            None,
            {"pieces": 3},
        ),
        (
            "out of bounds",
            w,
            f"grid {c}003 holds 501 households, outside 300–500",
            c + "003",
            None,
            {"households": 501, "low": 300, "high": 500},
        ),
        (
            "out of bounds",
            w,
            f"grid {c}004 holds 299 households, outside 300–500: its whole community holds 299",
            c + "004",
            None,
            {"households": 299, "low": 300, "high": 500, "community_households": 299},
        ),
        (
            "out of bounds",
            w,
            f"grid {c}006 holds 600 households, outside 300–500: one of its units alone holds 501",
            c + "006",
            None,
            {"households": 600, "low": 300, "high": 500, "largest_unit": 501},
        ),
        (
            "out of bounds",
            w,
            f"grid {c}006 holds 280 households, outside 300–500",
            c + "006",
            None,
            {"households": 280, "low": 300, "high": 500},
        ),
        ("no households", w, f"grid {c}009 has no households", c + "009", None, {}),
    ]
    assert found == {
        "plan": 7,
        "ok": False,
        "grids": 9,
        "units": 4,
        "errors": 8,
        "warnings": 5,
        "counts": {
            "unit without grid": 2,
            "unit in two grids": 1,
            "grid across communities": 1,
            "empty grid": 1,
            "invalid code": 1,
            "duplicate code": 1,
            "grid in pieces": 1,
            "out of bounds": 4,
            "no households": 1,
        },
    }


def test_only_warnings_leave_a_plan_ok() -> None:
    whole = parts((COMMUNITY + "001", box(0, 0, 100, 100)))  # one piece: no finding
    check = find_problems(1, units(("u1", 1)), grids(grid(COMMUNITY + "001", 0)), whole)
    assert check.ok and check.errors == [] and [f.kind for f in check.warnings] == ["no households"]
    assert check.counts() == {kind: int(kind == "no households") for kind in check.counts()}
    assert len(check.counts()) == 9  # every kind, zeros included


def test_a_plans_own_bounds_override_the_defaults_kind_by_kind() -> None:
    own = plan_bounds({"bounds": {"urban": {"min_households": 250, "max_households": 450}}})
    assert own["urban"] == {"min_households": 250, "max_households": 450}
    assert own["rural"] == plan_bounds({})["rural"]  # a kind not given keeps its defaults
    half = plan_bounds({"bounds": {"urban": {"max_households": 450}}})
    assert half["urban"] == {"min_households": 300, "max_households": 450}
    check = find_problems(
        1, units(("u1", 1)), grids(grid(COMMUNITY + "001", 460, largest_unit=300)), NO_PARTS, own
    )
    assert [f.detail for f in check.findings] == [{"households": 460, "low": 250, "high": 450}]


def test_a_plan_is_checked_against_its_own_bounds_not_the_defaults(city: City) -> None:
    """A draft whose parameters narrow the urban bounds below its largest grid: the check names
    exactly the grids outside the plan's own bounds (read here with SQL), under the plan's id."""
    connection = city.connection
    plan = new_plan(connection, name="p", source=None, author="t")
    partition_plan(connection, plan, seed=1)
    assert check_plan(connection, plan).ok  # within the defaults
    urban = pd.read_sql(
        text(f"SELECT code, households FROM grid WHERE plan_id = {plan} AND kind = 'urban'"),
        connection,
    )
    high = int(urban["households"].median())
    low = int(urban["households"].min())
    connection.execute(
        text("UPDATE plan SET parameters = CAST(:p AS jsonb) WHERE id = :id").bindparams(
            p=f'{{"bounds": {{"urban": {{"min_households": {low}, "max_households": {high}}}}}}}',
            id=plan,
        )
    )
    check = check_plan(connection, plan)
    outside = sorted(urban.loc[urban["households"] > high, "code"])
    assert outside and check.plan_id == plan and check.as_dict()["plan"] == plan
    found = [f for f in check.findings if f.kind == "out of bounds"]
    assert sorted(f.grid for f in found) == outside
    assert {(f.detail["low"], f.detail["high"]) for f in found} == {(low, high)}


def test_an_edit_counts_the_pieces_of_the_grids_it_names_in_metres(city: City) -> None:
    """A grid given a copy of itself 0.05° away (about 3 km at Helsinki, but 0.05 in degrees: one
    piece unless measured in metres) is in two pieces; another grid named is in one; a grid
    not named, or of another plan, is not counted."""
    connection = city.connection
    plan = new_plan(connection, name="p", source=None, author="t")
    partition_plan(connection, plan, seed=1)
    first, second, third = connection.execute(
        text(f"SELECT id, code FROM grid WHERE plan_id = {plan} ORDER BY code LIMIT 3")
    ).all()
    connection.execute(
        text(
            "UPDATE grid SET geom = ST_Multi(ST_CollectionExtract(ST_Collect(geom, "
            "ST_Translate(geom, 0.05, 0)), 3)) WHERE id = :id"
        ),
        {"id": first.id},
    )
    assert grid_pieces(connection, plan, [first.id, second.id]) == {first.code: 2, second.code: 1}
    assert grid_pieces(connection, plan, [third.id]) == {third.code: 1}
    other = new_plan(connection, name="q", source=None, author="t")
    assert grid_pieces(connection, other, [first.id]) == {}
