"""The ranking report over the API: one set of figures in its four formats, the bottom five
named, the weights stated; expected figures from the features API and the bounds, not from the
ranking code."""

from __future__ import annotations

import io
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gridmap.reports.ranking import load_ranking
from gridmap.standards import GRID_BOUNDS
from gridmap.tickets.service import ticket_filter
from tests.api.conftest import Served
from tests.api.test_tickets import add_ticket, grid_with_households, tickets_removed


def city(served: Served) -> str:
    with served.engine.connect() as connection:
        return str(
            connection.execute(
                text("SELECT code FROM region WHERE parent_id IS NULL ORDER BY code LIMIT 1")
            ).scalar_one()
        )


def grids(api: TestClient, served: Served) -> dict[str, dict]:
    got = api.get("/collections/grids/items?limit=1000", headers=served.headers("viewer"))
    return {f["properties"]["code"]: f["properties"] for f in got.json()["features"]}


@pytest.fixture
def ticketed(served: Served) -> Iterator[tuple[str, int]]:
    """Three tickets of 2031 in one grid (removed afterwards): its code and households."""
    with served.engine.begin() as connection:
        code, households, unit = grid_with_households(connection)
        for k in range(3):
            add_ticket(connection, unit, "噪音扰民", "2031-05-01T10:00+08", f"rank-{k}")
    with tickets_removed(served.engine, "rank-"):
        yield code, households


def test_the_grids_ranked_alike_in_csv_xlsx_and_html(
    api: TestClient, served: Served, ticketed: tuple[str, int]
) -> None:
    region = city(served)
    ask = f"/reports/ranking?region={region}&level=grid&since=2031-01-01"
    viewer = served.headers("viewer")
    csv = api.get(f"{ask}&format=csv", headers=viewer)
    assert csv.status_code == 200, csv.text
    assert f"ranking-{region}-grid.csv" in csv.headers["content-disposition"]
    table = pd.read_csv(io.BytesIO(csv.content), dtype={"编码": str})
    known = grids(api, served)
    assert set(table["编码"]) == set(known)
    assert table["排名"].tolist() == list(range(1, len(known) + 1))
    assert (table["综合得分"].diff().dropna() <= 0).all()  # highest first
    for row in table.itertuples():
        g = known[row.编码]
        b = GRID_BOUNDS[g["kind"]]
        within = b.min_households <= g["households"] <= b.max_households
        assert row.规模得分 == (100.0 if within else 0.0), row
        assert row._5 == (  # 覆盖率（%）
            round(g["coverage"] * 100, 1) if g["coverage"] is not None else row._5
        )
        if row.编码 == ticketed[0]:  # the only tickets since 2031: the most, scoring 0
            assert (row.工单数, row.工单得分) == (3, 0.0)
            assert row.每千户工单 == round(3000 / ticketed[1], 1)
        else:
            assert (row.工单数, row.工单得分) == (0, 100.0)
    bottom = table.loc[table["后五名"], "编码"].tolist()
    assert len(bottom) == 5 and bottom == table["编码"].tolist()[-5:]

    book = openpyxl.load_workbook(io.BytesIO(api.get(f"{ask}&format=xlsx", headers=viewer).content))
    assert book.sheetnames == ["排名", "说明"]
    rows = list(book["排名"].iter_rows(values_only=True))
    assert [str(r[1]) for r in rows[1:]] == table["编码"].tolist()
    assert [r[3] for r in rows[1:]] == table["综合得分"].tolist()
    notes = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True)}
    assert notes["权重"] == "5分钟覆盖率 40%、每千户工单 30%、每名网格员服务人口 15%、户数达标 15%"

    html = api.get(ask, headers=viewer).text
    names = [known[c]["name"] or c for c in bottom]
    assert f"后五名：{'、'.join(names)}" in html
    assert "权重：5分钟覆盖率 40%" in html
    shown = re.findall(r'<tr(?: class="bottom")? data-code="(\d+)"><td>(\d+)</td>', html)
    assert [c for c, _ in shown] == table["编码"].tolist()
    assert re.findall(r'<tr class="bottom" data-code="(\d+)"', html) == bottom


def test_the_ranking_counts_the_kinds_asked_for(
    api: TestClient, served: Served, ticketed: tuple[str, int]
) -> None:
    region, viewer = city(served), served.headers("viewer")
    with served.engine.begin() as connection:  # one more, of another kind, in the same grid
        unit = grid_with_households(connection)[2]
        add_ticket(connection, unit, "占道经营", "2031-05-02T10:00+08", "rank-other")

    def counted(query: str) -> int:
        got = api.get(
            f"/reports/ranking?region={region}&level=grid&format=csv{query}", headers=viewer
        )
        assert got.status_code == 200, got.text
        table = pd.read_csv(io.BytesIO(got.content), dtype={"编码": str}).set_index("编码")
        return int(table.loc[ticketed[0], "工单数"])

    assert counted("&since=2031-01-01") == 4
    assert counted("&since=2031-01-01&kind=噪音扰民") == 3
    assert counted("&since=2031-01-01&kind=占道经营") == 1
    assert counted("&since=2031-01-01&kind=噪音扰民&kind=占道经营") == 4
    html = api.get(
        f"/reports/ranking?region={region}&since=2031-01-01&kind=占道经营", headers=viewer
    ).text
    assert "占道经营" in html  # the report says which kinds it counts


def test_communities_ranked_and_the_report_in_english(api: TestClient, served: Served) -> None:
    region = city(served)
    got = api.get(
        f"/reports/ranking?region={region}&format=csv&lang=en", headers=served.headers("viewer")
    )
    table = pd.read_csv(io.BytesIO(got.content), dtype={"code": str})
    households = pd.Series({c: g["households"] for c, g in grids(api, served).items()})
    by_community = households.groupby(households.index.str[:12]).sum()
    assert sorted(table["code"]) == sorted(by_community.index)
    assert "score" in table.columns and "bottom five" in table.columns
    # each community's rate from its units' rows of the latest run, summed here in SQL
    with served.engine.connect() as connection:
        expected = pd.read_sql(
            text("""
            SELECT c.code, 100 * sum(uc.covered_residents)::float8 / sum(uc.residents) AS rate
            FROM unit_coverage uc JOIN unit u ON u.id = uc.unit_id
            JOIN region c ON c.id = u.community_id
            JOIN assignment a ON a.unit_id = u.id
            JOIN plan p ON p.id = a.plan_id AND p.status = 'current'
            WHERE uc.run_id = (SELECT max(id) FROM coverage_run)
            GROUP BY c.code
            """),
            connection,
        ).set_index("code")["rate"]
    rates = table.set_index("code").filter(like="coverage").iloc[:, 0]
    assert expected.between(1, 99).any()  # rates that a product or a 0/1 would change
    pd.testing.assert_series_equal(
        rates.sort_index(), expected.round(1).sort_index(), check_names=False, check_dtype=False
    )


def test_the_report_names_the_run_and_the_level_it_ranks(api: TestClient, served: Served) -> None:
    region, viewer = city(served), served.headers("viewer")
    with served.engine.connect() as connection:
        latest = connection.execute(text("SELECT max(id) FROM coverage_run")).scalar_one()
    ask = f"/reports/ranking?region={region}"
    book = openpyxl.load_workbook(
        io.BytesIO(api.get(f"{ask}&level=grid&format=xlsx", headers=viewer).content)
    )
    notes = {r[0]: r[1] for r in book["说明"].iter_rows(values_only=True)}
    assert notes["覆盖测算"] == latest
    assert "按网格排名" in api.get(f"{ask}&level=grid", headers=viewer).text
    assert "按社区排名" in api.get(f"{ask}&level=community", headers=viewer).text


def test_without_a_coverage_run_every_grid_is_ranked_its_coverage_unknown(
    served: Served,
) -> None:
    region = city(served)
    with served.engine.connect() as connection, connection.begin() as change:
        grid_count = connection.execute(
            text(
                "SELECT count(*) FROM grid g JOIN plan p ON p.id = g.plan_id "
                "WHERE p.status = 'current'"
            )
        ).scalar_one()
        connection.execute(text("DELETE FROM coverage_run"))
        ranked = load_ranking(connection, region, "grid", ticket_filter(None, None, None))
        change.rollback()
    assert ranked.run is None and len(ranked.parts) == grid_count
    assert ranked.parts["coverage"].isna().all()


def test_a_level_not_ranked_is_named_in_the_refusal() -> None:
    with pytest.raises(ValueError, match=r"level must be one of .*'street'"):
        load_ranking(None, "1", "street", ticket_filter(None, None, None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("role", "query", "status", "words"),
    [
        ("embed", "region={city}", 403, "held to another region"),
        ("viewer", "region={city}&level=street", 400, "level"),
        ("viewer", "region={city}&format=docx", 400, "format"),
        ("viewer", "region={city}&since=2026-05-01&until=2026-04-01", 400, "until"),
        ("viewer", "region={city}&kind=", 400, "kind"),
        ("viewer", "region=999999", 404, "999999"),
    ],
)
def test_bad_ranking_requests(
    api: TestClient, served: Served, role: str, query: str, status: int, words: str
) -> None:
    got = api.get(
        "/reports/ranking?" + query.format(city=city(served)), headers=served.headers(role)
    )
    assert got.status_code == status, got.text
    assert words in got.text


def test_the_pdf_names_the_bottom_five(api: TestClient, served: Served, tmp_path: Path) -> None:
    ask = f"/reports/ranking?region={city(served)}&level=grid"
    table = pd.read_csv(
        io.BytesIO(api.get(f"{ask}&format=csv", headers=served.headers("viewer")).content),
        dtype={"编码": str},
    )
    reply = api.get(f"{ask}&format=pdf", headers=served.headers("viewer"))
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "ranking.pdf"
    pdf.write_bytes(reply.content)
    words = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "后五名：" in words and "权重：" in words
    for code in table.loc[table["后五名"], "编码"]:
        assert code in words
