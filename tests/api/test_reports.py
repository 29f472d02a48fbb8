"""Coverage-rate reports: every figure equals the run it came from, in every format."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from gridmap.cli import app as cli
from gridmap.config import get_settings
from gridmap.coverage.engine import CoverageParameters
from gridmap.coverage.station_planning import suggest_sites
from gridmap.db.coverage import latest_run_id, region_rates
from gridmap.db.reports import run_row
from gridmap.plans.check import plan_bounds
from tests.api.conftest import Served


def regions(served: Served) -> dict[str, str]:
    """The demo's street and its community with the most grids."""
    with served.engine.connect() as connection:
        street = connection.execute(
            text("SELECT code FROM region WHERE level = 'street' ORDER BY code LIMIT 1")
        ).scalar_one()
        community = connection.execute(
            text(
                "SELECT r.code FROM region r JOIN grid g ON g.community_id = r.id JOIN plan p "
                "ON p.id = g.plan_id AND p.status = 'current' GROUP BY r.code "
                "ORDER BY count(*) DESC, r.code LIMIT 1"
            )
        ).scalar_one()
    return {"street": street, "community": community}


def run_figures(served: Served) -> tuple[int, pd.DataFrame]:
    with served.engine.connect() as connection:
        run = latest_run_id(connection)
        return run, region_rates(connection, run).set_index("code")


def test_the_csv_and_the_workbook_hold_the_run_s_figures(api: TestClient, served: Served) -> None:
    street = regions(served)["street"]
    run, figures = run_figures(served)
    reply = api.get(
        f"/reports/coverage?region={street}&format=csv", headers=served.headers("viewer")
    )
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/csv")
    assert f"coverage-{street}-run{run}.csv" in reply.headers["content-disposition"]
    table = pd.read_csv(io.BytesIO(reply.content), dtype={"编码": str})
    own = table.iloc[0]
    assert own["排名"] == 0 and own["编码"] == street
    for column, field in (
        ("人口", "residents"),
        ("覆盖人口", "covered_residents"),
        ("户数", "households"),
        ("覆盖户数", "covered_households"),
        ("居住单元", "units"),
        ("覆盖居住单元", "covered_units"),
    ):
        assert (
            table.set_index("编码")[column] == figures.loc[table["编码"], field].to_numpy()
        ).all()
    parts = table.iloc[1:]
    with served.engine.connect() as connection:
        children = set(
            connection.execute(
                text(
                    "SELECT c.code FROM region c JOIN region p ON p.id = c.parent_id WHERE p.code "
                    "= :s"
                ),
                {"s": street},
            ).scalars()
        )
    assert set(parts["编码"]) == children
    assert parts["人口覆盖率（%）"].is_monotonic_increasing  # ranked, lowest first
    assert parts["排名"].tolist() == list(range(1, len(parts) + 1))
    assert own["人口覆盖率（%）"] == round(100 * own["覆盖人口"] / own["人口"], 1)
    rate_text = reply.content.decode("utf-8-sig").splitlines()[1].split(",")[5]
    assert len(rate_text.split(".")[-1]) <= 1  # one decimal at most, as printed

    book = openpyxl.load_workbook(
        io.BytesIO(
            api.get(
                f"/reports/coverage?region={street}&format=xlsx", headers=served.headers("viewer")
            ).content
        )
    )
    assert book.sheetnames == ["概况", "排名", "盲区", "选址"]
    summary = {row[0]: row[1:] for row in book["概况"].iter_rows(min_row=5, values_only=True)}
    assert summary["人口"][:2] == (
        figures.loc[street, "covered_residents"],
        figures.loc[street, "residents"],
    )
    ranking = list(book["排名"].iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in ranking] == table["编码"].tolist()
    assert [r[3] for r in ranking] == table["人口"].tolist()


def test_a_community_ranks_its_grids_and_marks_the_bottom_five(
    api: TestClient, served: Served
) -> None:
    community = regions(served)["community"]
    reply = api.get(
        f"/reports/coverage?region={community}&format=csv", headers=served.headers("viewer")
    )
    table = pd.read_csv(io.BytesIO(reply.content), dtype={"编码": str}).iloc[1:]
    assert len(table) > 5 and all(code.startswith(community) for code in table["编码"])
    rated = table.loc[table["人口覆盖率（%）"].notna()]
    assert rated["后五名"].tolist() == [True] * 5 + [False] * (len(rated) - 5)


def test_the_html_report_shows_rates_map_ranking_gaps_and_the_site(
    api: TestClient, served: Served
) -> None:
    street = regions(served)["street"]
    _, figures = run_figures(served)
    html = api.get(f"/reports/coverage?region={street}", headers=served.headers("viewer")).text
    rate = figures.loc[street, "covered_residents"] / figures.loc[street, "residents"]
    assert f"<b>{rate * 100:.1f}%</b>" in html
    assert "<svg" in html and "srcdoc=" in html and "服务盲区" in html
    for host in (
        "cdn.jsdelivr.net",
        "cdnjs.cloudflare.com",
        "unpkg.com",
        "code.jquery.com",
        "bootstrapcdn",
        "tile.openstreetmap",
    ):  # Leaflet inlined: no CDN, no tiles
        assert host not in html
    with served.engine.connect() as connection:
        street_id = connection.execute(
            text("SELECT id FROM region WHERE code = :c"), {"c": street}
        ).scalar_one()
        run = run_row(connection, None)  # the report's run, whatever ran before this test
        asked = CoverageParameters(run["minutes"], run["speed_m_per_min"], run["max_snap_m"])
        site = suggest_sites(connection, asked, k=1, within=street_id).sites.iloc[0]
    assert f'<b id="site-gain">{int(site["gain"]):,}</b>' in html


def test_the_report_states_what_it_counts(api: TestClient, served: Served) -> None:
    street = regions(served)["street"]
    html = api.get(f"/reports/coverage?region={street}", headers=served.headers("viewer")).text
    assert 'id="definitions"' in html and "居住单元指有居民的单元" in html
    assert "<th>居住单元覆盖率</th>" in html and "<th>单元覆盖率</th>" not in html


def test_the_pdf_prints_the_rates(api: TestClient, served: Served, tmp_path: Path) -> None:
    street = regions(served)["street"]
    _, figures = run_figures(served)
    reply = api.get(
        f"/reports/coverage?region={street}&format=pdf", headers=served.headers("viewer")
    )
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(reply.content)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "(A4)" in info.stdout
    pages = int(info.stdout.split("Pages:")[1].split()[0])
    subprocess.run(["pdftoppm", "-png", "-r", "40", str(pdf), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page*.png"))) == pages >= 1
    words = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    rate = figures.loc[street, "covered_residents"] / figures.loc[street, "residents"]
    assert f"{rate * 100:.1f}%" in words and street in words


def test_a_scoped_key_reads_only_its_region_s_report(api: TestClient, served: Served) -> None:
    street = regions(served)["street"]
    own = api.get(
        f"/reports/coverage?region={served.community}&format=csv", headers=served.headers("embed")
    )
    assert own.status_code == 200
    other = api.get(
        f"/reports/coverage?region={street}&format=csv", headers=served.headers("embed")
    )
    assert other.status_code == 403 and "region" in other.json()["detail"]
    bad = api.get(f"/reports/coverage?region={street}&format=doc", headers=served.headers("viewer"))
    assert bad.status_code == 400 and "format must be one of" in bad.json()["detail"]
    assert (
        api.get("/reports/coverage?region=999999999", headers=served.headers("viewer")).status_code
        == 404
    )


def test_the_command_writes_the_report(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    street = regions(served)["street"]
    monkeypatch.setenv("DATABASE_URL", served.url)
    get_settings.cache_clear()
    try:
        target = tmp_path / "report.xlsx"
        done = CliRunner().invoke(
            cli,
            ["report", "coverage", "--region", street, "--format", "xlsx", "--output", str(target)],
        )
        missing = CliRunner().invoke(cli, ["report", "coverage", "--region", "990199"])
        english = CliRunner().invoke(
            cli,
            [
                "report",
                "coverage",
                "--region",
                street,
                "--lang",
                "en",
                "--output",
                str(tmp_path / "en.html"),
            ],
        )
        french = CliRunner().invoke(cli, ["report", "plan", "--plan", "1", "--lang", "fr"])
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    assert "% of residents covered" in done.output and target.stat().st_size > 0
    assert openpyxl.load_workbook(target).sheetnames == ["概况", "排名", "盲区", "选址"]
    assert english.exit_code == 0, english.output
    assert '<html lang="en">' in (tmp_path / "en.html").read_text()
    assert french.exit_code == 1 and "--lang must be one of zh, en" in french.output
    assert missing.exit_code == 1 and "no region '990199'" in missing.output
    assert "Traceback" not in missing.output


def test_a_plan_report_holds_the_plan_s_grids_and_its_difference(
    api: TestClient, served: Served, tmp_path: Path
) -> None:
    made = api.post(
        "/plans", json={"name": "报告", "source": "current"}, headers=served.headers("planner")
    ).json()
    plan = made["id"]
    job = api.post(
        "/jobs/partition",
        json={"plan": plan, "mode": "adjust", "max": 420},
        headers=served.headers("planner"),
    )
    from tests.api.test_plans import wait

    assert wait(api, served, job.headers["location"])["status"] == "succeeded"
    reply = api.get(f"/reports/plan?plan={plan}&format=csv", headers=served.headers("viewer"))
    table = pd.read_csv(io.BytesIO(reply.content), dtype={"编码": str})
    figures = api.get(f"/plans/{plan}/grids", headers=served.headers("viewer")).json()
    assert dict(zip(table["编码"], table["户数"], strict=True)) == {
        g["code"]: g["households"] for g in figures
    }
    inside = table["户数"].between(300, 420)  # the bounds the partition was given
    assert (table["符合户数标准"] == inside).all()
    assert table["符合户数标准"].tolist() == sorted(table["符合户数标准"].tolist())  # out first
    html = api.get(f"/reports/plan?plan={plan}", headers=served.headers("viewer")).text
    diff = api.get(f"/plans/{plan}/diff", headers=served.headers("viewer")).json()
    assert f'<td id="units-moved">{diff["units_moved"]}</td>' in html and "<svg" in html
    assert f'<b id="in-bounds">{int(inside.sum())}</b>' in html
    pdf = tmp_path / "plan.pdf"
    pdf.write_bytes(
        api.get(f"/reports/plan?plan={plan}&format=pdf", headers=served.headers("viewer")).content
    )
    words = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"网格方案 {plan}" in words
    book = openpyxl.load_workbook(
        io.BytesIO(
            api.get(
                f"/reports/plan?plan={plan}&format=xlsx", headers=served.headers("viewer")
            ).content
        )
    )
    assert book.sheetnames == ["概况", "网格", "检查", "变化"]
    labels = [row[0] for row in book["概况"].iter_rows(values_only=True)]
    assert labels[:2] == ["网格数", "符合户数标准的网格"]
    assert not any(str(label).isascii() for label in labels)  # every label in Chinese
    assert api.get(f"/reports/plan?plan={plan}", headers=served.headers("embed")).status_code == 403
    api.delete(f"/plans/{plan}", headers=served.headers("planner"))


def test_the_alignment_report_names_the_zones_that_cut_grids(
    api: TestClient, served: Served, tmp_path: Path
) -> None:
    reply = api.get("/reports/alignment?format=csv", headers=served.headers("viewer"))
    assert reply.status_code == 200, reply.text
    table = pd.read_csv(io.BytesIO(reply.content), dtype=str, keep_default_na=False)
    assert set(table["专项网"]) == {"示例治安网"} and len(table) > 3
    cut = table.loc[table["切割网格"].astype(int) > 0]
    assert len(cut) > 0 and (cut["切割面积（平方米）"].astype(float) > 0).all()
    with served.engine.connect() as connection:
        grids = set(
            connection.execute(
                text(
                    "SELECT g.code FROM grid g JOIN plan p ON p.id = g.plan_id AND p.status = "
                    "'current'"
                )
            ).scalars()
        )
    snapped = [c for cell in table["建议对齐网格"] for c in cell.split("、") if c]
    assert len(snapped) == len(set(snapped)) and set(snapped) <= grids  # each grid to one zone
    html = api.get("/reports/alignment", headers=served.headers("viewer")).text
    assert "示例治安网" in html and "<svg" in html
    book = openpyxl.load_workbook(
        io.BytesIO(
            api.get("/reports/alignment?format=xlsx", headers=served.headers("viewer")).content
        )
    )
    assert book.sheetnames == ["示例治安网"] and book["示例治安网"].max_row == len(table) + 1
    pdf = tmp_path / "alignment.pdf"
    pdf.write_bytes(
        api.get("/reports/alignment?format=pdf", headers=served.headers("viewer")).content
    )
    words = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "多网合一对齐报告" in words
    missing = api.get("/reports/alignment?net=消防网", headers=served.headers("viewer"))
    assert missing.status_code == 400 and "消防网" in missing.json()["detail"]


def test_a_printed_report_names_its_issuer_and_numbers_its_pages(
    api: TestClient, served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    street = regions(served)["street"]
    ask = f"/reports/coverage?region={street}&format="
    unset = api.get(ask + "html", headers=served.headers("viewer")).text
    assert "发文单位未设置（GRIDMAP_ISSUER）" in unset
    monkeypatch.setenv("GRIDMAP_ISSUER", "示例区网格化服务管理中心")
    get_settings.cache_clear()
    try:
        html = api.get(ask + "html", headers=served.headers("viewer")).text
        reply = api.get(ask + "pdf", headers=served.headers("viewer"))
    finally:
        monkeypatch.delenv("GRIDMAP_ISSUER")
        get_settings.cache_clear()
    assert '<span id="issuer">示例区网格化服务管理中心</span>' in html
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(reply.content)
    pages = int(
        subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
        .stdout.split("Pages:")[1]
        .split()[0]
    )
    for page in range(1, pages + 1):
        words = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert f"第 {page} 页，共 {pages} 页" in words
        assert "示例区网格化服务管理中心" in words


def test_the_plan_report_maps_its_grids_by_status(api: TestClient, served: Served) -> None:
    with served.engine.connect() as connection:
        current, parameters = connection.execute(
            text("SELECT id, parameters FROM plan WHERE status = 'current'")
        ).one()
        rows = connection.execute(
            text("SELECT kind, households FROM grid WHERE plan_id = :p"), {"p": current}
        ).all()
    bounds = plan_bounds(parameters or {})  # the bounds the plan was partitioned with
    grids = len(rows)
    out = sum(
        not bounds[k]["min_households"] <= h <= bounds[k]["max_households"]
        for k, h in rows
        if k in bounds
    )
    html = api.get(f"/reports/plan?plan={current}", headers=served.headers("viewer")).text
    plan_map = html.split('id="plan-map">')[1].split("</svg>")[0]
    assert plan_map.count("<path") == grids + 1 + 1 + 1  # the grids, the outline, bar, arrow
    coloured = plan_map.count('fill="#9ecae1"') + plan_map.count('fill="#fb6a4a"')
    assert coloured == out and plan_map.count('fill="#74c476"') == grids - out
    assert ">北</text>" in plan_map and " m</text>" in plan_map


def test_gaps_are_located_by_street_community_and_grid(api: TestClient, served: Served) -> None:
    street = regions(served)["street"]
    with served.engine.connect() as connection:  # independently: the largest gap's inner point
        where = connection.execute(
            text("""
            SELECT s.name, c.name, g.code
            FROM coverage_gap cg, LATERAL (SELECT ST_PointOnSurface(cg.geom) AS at) i
            JOIN region s ON s.level = 'street' AND ST_Intersects(s.geom, i.at)
            JOIN region c ON c.level = 'community' AND ST_Intersects(c.geom, i.at)
            JOIN grid g ON ST_Intersects(g.geom, i.at)
            JOIN plan p ON p.id = g.plan_id AND p.status = 'current'
            WHERE cg.run_id = (SELECT max(id) FROM coverage_run) AND cg.rank = 0
        """)
        ).one()
    html = api.get(f"/reports/coverage?region={street}", headers=served.headers("viewer")).text
    first = html.split('<tr data-rank="1">')[1].split("</tr>")[0]
    assert f"{where[0]} / {where[1]}" in first and where[2] in first
    book = openpyxl.load_workbook(
        io.BytesIO(
            api.get(
                f"/reports/coverage?region={street}&format=xlsx", headers=served.headers("viewer")
            ).content
        )
    )
    rows = list(book["盲区"].iter_rows(values_only=True))
    assert rows[0][:4] == ("序号", "街道", "社区", "网格")
    assert rows[1][1:4] == tuple(where)


def test_the_report_map_draws_the_city_s_own_streets_and_names_its_parts(
    api: TestClient, served: Served
) -> None:
    street = regions(served)["street"]
    with served.engine.connect() as connection:
        streets = connection.execute(
            text(
                "SELECT count(*) FROM street s JOIN region r ON r.code = :c "
                "AND ST_Intersects(s.geom, r.geom)"
            ),
            {"c": street},
        ).scalar()
        names = (
            connection.execute(
                text(
                    "SELECT c.name FROM region c JOIN region p ON p.id = c.parent_id WHERE p.code "
                    "= :c"
                ),
                {"c": street},
            )
            .scalars()
            .all()
        )
    html = api.get(f"/reports/coverage?region={street}", headers=served.headers("viewer")).text
    drawn = html.split('<div class="map">')[1].split("</svg>")[0]
    assert drawn.count('stroke="#d1d5db"') == streets > 0  # every street, the city's own
    assert all(f">{name}</text>" in drawn for name in names)
    assert ">北</text>" in drawn and "leaflet" not in drawn.lower()


def test_the_interactive_map_credits_no_one_and_measures_in_metres(
    api: TestClient, served: Served
) -> None:
    street = regions(served)["street"]
    html = api.get(f"/reports/coverage?region={street}", headers=served.headers("viewer")).text
    page = html.split('srcdoc="')[1].split('"', 1)[0]
    assert "imperial: false" in page and "L.control.scale().addTo" not in page
    assert "attributionControl&#34;: false" in page or "attributionControl&quot;: false" in page


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]+")


def data_names(served: Served) -> set[str]:
    """Every name the data itself holds (regions, stations, nets, streets): printed as they are."""
    with served.engine.connect() as connection:
        return set(
            connection.execute(
                text(
                    "SELECT name FROM region UNION SELECT name FROM station UNION SELECT net FROM "
                    "overlay "
                    "UNION SELECT name FROM overlay UNION SELECT name FROM street UNION SELECT "
                    "name "
                    "FROM plan UNION SELECT name FROM amenity"
                )
            ).scalars()
        ) - {None}


def foreign_words(page: str, names: set[str]) -> list[str]:
    """The Chinese runs of ``page`` that are not part of a name the data holds."""
    return [w for w in CJK.findall(page) if not any(w in n for n in names)]


def test_every_phrase_a_report_prints_has_its_english() -> None:
    from gridmap.reports import alignment_report, coverage_render, plan, ranking_render, words
    from gridmap.reports.coverage_report import LEVEL_NAMES

    folder = Path(words.__file__).parent
    used = set()
    for source in [*folder.glob("templates/*.html"), *folder.glob("*.py")]:
        if source.name.startswith("card"):
            continue  # cards are for residents: Chinese only
        used |= set(re.findall(r"""_\(\s*(?:"([^"]+)"|'([^']+)')\s*\)""", source.read_text()))
    phrases = {a or b for a, b in used}
    phrases |= {
        *coverage_render.MEASURE_NAMES.values(),
        *coverage_render.PART_HEADERS,
        *coverage_render.RATE_HEADERS,
        *LEVEL_NAMES.values(),
        *plan.COLUMNS.values(),
        *plan.SUMMARY_LABELS.values(),
        *plan.CHECK_WORDS.values(),
        *plan.DIFF_LABELS.values(),
        *alignment_report.HEADERS.values(),
        *ranking_render.COLUMNS.values(),
        *ranking_render.WEIGHT_NAMES.values(),
    }
    assert len(phrases) > 120
    missing = sorted(p for p in phrases if CJK.search(p) and p not in words.ENGLISH)
    assert missing == []
    untranslated = sorted(k for k, v in words.ENGLISH.items() if CJK.search(v))
    assert untranslated == []


def test_reports_in_english_say_every_label_in_english(
    api: TestClient, served: Served, tmp_path: Path
) -> None:
    street = regions(served)["street"]
    names = data_names(served)
    viewer = served.headers("viewer")
    draft = api.post(
        "/plans", json={"name": "draft", "source": "current"}, headers=served.headers("planner")
    ).json()["id"]
    asks = [
        f"/reports/coverage?region={street}",
        f"/reports/plan?plan={draft}",
        "/reports/alignment",
    ]
    for ask in asks:
        html = api.get(ask + "&lang=en" if "?" in ask else ask + "?lang=en", headers=viewer)
        assert html.status_code == 200, html.text
        assert '<html lang="en">' in html.text
        body = html.text.split("<body>")[1]
        assert foreign_words(body, names) == [], ask
        chinese = api.get(ask, headers=viewer).text.split("<body>")[1]
        assert len(foreign_words(chinese, names)) > 20  # the default is still Chinese
    coverage = api.get(asks[0] + "&lang=en", headers=viewer).text
    assert "Coverage rates" in coverage and ">N</text>" in coverage
    assert "Page " not in coverage.split("<body>")[1]  # page numbers live in @page
    assert '"Page " counter(page) " of " counter(pages)' in coverage

    ask = f"/reports/coverage?region={street}&format=xlsx&lang=en"
    book = openpyxl.load_workbook(io.BytesIO(api.get(ask, headers=viewer).content))
    assert book.sheetnames == ["summary", "rank", "gaps", "siting"]
    for sheet in book.worksheets:
        cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
        assert foreign_words(" ".join(cells), names) == [], sheet.title
    csv = pd.read_csv(
        io.BytesIO(
            api.get(f"/reports/coverage?region={street}&format=csv&lang=en", headers=viewer).content
        )
    )
    chinese = pd.read_csv(
        io.BytesIO(api.get(f"/reports/coverage?region={street}&format=csv", headers=viewer).content)
    )
    assert "coverage by residents (%)" in csv.columns
    assert csv["coverage by residents (%)"].tolist() == chinese["人口覆盖率（%）"].tolist()

    plan_book = openpyxl.load_workbook(
        io.BytesIO(
            api.get(f"/reports/plan?plan={draft}&format=xlsx&lang=en", headers=viewer).content
        )
    )
    assert plan_book.sheetnames == ["summary", "grid", "check", "changes"]
    for sheet in plan_book.worksheets:
        cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
        assert foreign_words(" ".join(cells), names) == [], sheet.title

    pdf = tmp_path / "en.pdf"
    pdf.write_bytes(api.get(asks[0] + "&format=pdf&lang=en", headers=viewer).content)
    words = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Page 1 of " in words and "Coverage rates" in words
    bad = api.get(asks[0] + "&lang=fr", headers=viewer)
    assert bad.status_code == 400 and "lang" in bad.text
    api.delete(f"/plans/{draft}", headers=served.headers("planner"))


def test_a_chinese_plan_report_words_its_findings_in_chinese(
    api: TestClient, served: Served
) -> None:
    with served.engine.connect() as connection:
        current = connection.execute(text("SELECT id FROM plan WHERE status = 'current'")).scalar()
    html = api.get(f"/reports/plan?plan={current}", headers=served.headers("viewer")).text
    findings = html.split('<ul id="findings">')[1].split("</ul>")[0]
    assert findings.count("<li>") > 0
    assert "households" not in findings and "grid " not in findings
    assert "户，超出" in findings
