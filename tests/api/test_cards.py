"""Grid duty cards: public pages and A5 PDFs whose QR codes lead back to them."""

from __future__ import annotations

import re
import subprocess
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import Browser
from shapely import box
from sqlalchemy import text
from typer.testing import CliRunner

from api.main import create_app
from gridmap.cli import app as cli
from gridmap.config import get_settings
from gridmap.reports.cards import Card, render_card
from tests.api.conftest import Live, Served
from tests.api.test_web_map import browser  # noqa: F401  (the fixture)


def current_grid(served: Served) -> tuple[str, dict, int, int]:
    """A staffed grid of the current plan: code, staff, households, residents."""
    with served.engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT g.code, g.staff, g.households, g.residents FROM grid g JOIN plan p "
                "ON p.id = g.plan_id AND p.status = 'current' WHERE g.staff <> '{}'::jsonb "
                "ORDER BY g.code LIMIT 1"
            )
        ).one()
    return row.code, row.staff, row.households, row.residents


def qr_texts(picture: Path) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(picture))]


def test_a_card_is_public_and_shows_the_grid_s_people_and_figures(
    api: TestClient, served: Served
) -> None:
    code, staff, households, residents = current_grid(served)
    page = api.get(f"/cards/{code}")  # no key: residents scan it from a notice board
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert code in html and "扫码便知" in html and "<svg" in html
    assert f'id="households">{households:,}<' in html and f'id="residents">{residents:,}<' in html
    assert staff["leader"]["name"] in html
    assert all(worker["name"] in html and worker["duties"] in html for worker in staff["workers"])
    assert f'id="workers">{len(staff["workers"])}<' in html
    grid = api.get(f"/collections/grids/items/{code}", headers=served.headers("viewer")).json()
    station = grid["properties"]["station"]
    assert (station in html) if station else "暂无服务站" in html
    body = html.split("<footer>")[0].replace("http://www.w3.org/2000/svg", "")
    body = re.sub(r'<a class="nav" id="navigate" href="https://uri\.amap\.com/[^"]*"', "", body)
    assert "http" not in body  # nothing loads from elsewhere; only the route link leaves
    assert api.get("/cards/990101999999999").status_code == 404
    assert api.get("/cards/not-a-code").status_code in (400, 404)


def test_a_card_s_qr_code_leads_to_the_card(
    browser: Browser,  # noqa: F811
    live: Live,
    tmp_path: Path,
) -> None:
    code = current_grid(live.served)[0]
    page = browser.new_page(viewport={"width": 600, "height": 900}, device_scale_factor=2)
    page.goto(f"{live.base}/cards/{code}")
    picture = tmp_path / "card.png"
    page.screenshot(path=picture, full_page=True)
    page.close()
    assert qr_texts(picture) == [f"{live.base}/cards/{code}"]


def test_a_printed_card_is_one_a5_page_whose_qr_code_uses_the_public_address(
    served: Served, tmp_path: Path
) -> None:
    code = current_grid(served)[0]
    settings = served.settings(public_url="https://gridmap.example.cn/")
    with TestClient(create_app(settings)) as client:
        reply = client.get(f"/cards/{code}.pdf")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "card.pdf"
    pdf.write_bytes(reply.content)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert "Pages:           1" in info.stdout and "(A5)" in info.stdout
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    assert qr_texts(tmp_path / "page.png") == [f"https://gridmap.example.cn/cards/{code}"]


def test_cards_are_written_from_the_command_line(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = current_grid(served)[0]
    monkeypatch.setenv("DATABASE_URL", served.url)
    monkeypatch.setenv("GRIDMAP_PUBLIC_URL", "https://gridmap.example.cn")
    get_settings.cache_clear()
    try:
        done = CliRunner().invoke(
            cli, ["cards", code, "--format", "html", "--output", str(tmp_path)]
        )
        bad = CliRunner().invoke(cli, ["cards", "--format", "doc"])
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    html = (tmp_path / f"grid-{code}.html").read_text()
    assert f"https://gridmap.example.cn/cards/{code}" in html
    assert bad.exit_code == 1 and "--format must be one of html, pdf" in bad.output
    assert "Traceback" not in bad.output


def test_a_card_s_phones_are_tap_to_call() -> None:
    grid = {
        "code": "990101001001001",
        "name": None,
        "community": "990101001001",
        "community_name": "示例社区",
        "households": 400,
        "residents": 1048,
        "coverage": 0.5,
    }
    staff = {
        "leader": {"name": "张三", "phone": "028-8888 6666"},
        "workers": [{"name": "李四", "phone": "+86 138 0013 8000", "role": "worker"}],
    }
    card = Card(grid, box(0, 0, 0.001, 0.001), [box(0, 0, 0.001, 0.001)], staff, None, None)

    html = render_card(card, "https://grid.example.cn/cards/990101001001001")

    assert '<a class="tel" href="tel:02888886666">028-8888 6666</a>' in html
    assert '<a class="tel" href="tel:+8613800138000">+86 138 0013 8000</a>' in html
    assert 'id="loopback"' not in html
    assert 'id="loopback"' in render_card(card, "http://127.0.0.1:8000/cards/1")


def test_a_card_printed_with_a_loopback_address_says_so_on_its_face(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = current_grid(served)[0]
    monkeypatch.setenv("DATABASE_URL", served.url)
    get_settings.cache_clear()
    try:
        done = CliRunner().invoke(
            cli, ["cards", code, "--format", "html", "--output", str(tmp_path)]
        )
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    assert "this machine's own address" in done.output and "GRIDMAP_PUBLIC_URL" in done.output
    html = (tmp_path / f"grid-{code}.html").read_text()
    assert 'id="loopback"' in html and "手机扫码无法打开" in html


def test_an_unknown_code_shows_a_resident_a_page_not_json(api: TestClient) -> None:
    for code in ("990101999999999", "not-a-code"):
        page = api.get(f"/cards/{code}", headers={"Accept": "text/html,*/*;q=0.8"})
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert f'未找到网格 <span id="missing-code">{code}</span>' in page.text
        assert "核对二维码" in page.text
    assert (
        api.get("/cards/990101999999999")
        .headers["content-type"]
        .startswith("application/problem+json")
    )


def test_a_card_s_map_shows_the_streets_around_the_grid_with_names(
    api: TestClient, served: Served
) -> None:
    code = current_grid(served)[0]
    with served.engine.connect() as connection:
        streets = connection.execute(
            text("""
            SELECT count(*) FROM street s, grid g JOIN plan p ON p.id = g.plan_id
            WHERE p.status = 'current' AND g.code = :c AND s.kind <> 'rail'
              AND ST_DWithin(s.geom::geography, g.geom::geography, 60)
        """),
            {"c": code},
        ).scalar()
        named = (
            connection.execute(
                text("""
            SELECT DISTINCT s.name FROM street s, grid g JOIN plan p ON p.id = g.plan_id
            WHERE p.status = 'current' AND g.code = :c AND s.name IS NOT NULL
              AND s.kind <> 'rail' AND ST_Length(ST_Intersection(s.geom, g.geom)) > 0
        """),
                {"c": code},
            )
            .scalars()
            .all()
        )
    html = api.get(f"/cards/{code}").text
    drawn = html.split("<svg", 1)[1].split("</svg>")[0]
    assert drawn.count('stroke="#9ca3af"') == streets > 0
    labels = [name for name in named if f">{name}</text>" in drawn]
    assert len(labels) == min(4, len(named)) > 0


def test_a_card_shows_the_station_s_contacts_and_a_walking_route_to_it() -> None:
    grid = {
        "code": "110101001001001",
        "name": None,
        "community": "110101001001",
        "community_name": "示例社区",
        "households": 400,
        "residents": 1048,
        "coverage": 0.5,
    }
    station = {
        "code": "S1",
        "name": "天安门党群服务站",
        "services": "图书阅览;血压测量",
        "address": "东长安街1号",
        "opening_hours": "周一至周五 9:00-17:00",
        "phone": "010-6511 0000",
    }
    wgs84 = shapely.Point(116.404, 39.915)  # the published GCJ-02 pair of tests/gridmap/io
    card = Card(grid, box(116.40, 39.91, 116.41, 39.92), [], {}, station, wgs84)

    html = render_card(card, "https://grid.example.cn/cards/110101001001001")

    assert '<td id="station-address">东长安街1号</td>' in html
    assert '<td id="station-hours">周一至周五 9:00-17:00</td>' in html
    assert 'href="tel:01065110000">010-6511 0000</a>' in html
    route = re.search(r'id="navigate" href="([^"]+)"', html)
    assert route is not None
    query = parse_qs(urlsplit(unescape(route.group(1))).query)
    assert urlsplit(unescape(route.group(1))).netloc == "uri.amap.com"
    lon, lat, name = query["to"][0].split(",")
    assert (lon, lat, name) == ("116.410244", "39.916404", "天安门党群服务站")  # GCJ-02
    assert query["mode"] == ["walk"]
    geo = re.search(r'id="geo" href="([^"]+)"', html)
    assert geo is not None and geo.group(1).startswith("geo:39.915000,116.404000?q=")  # WGS 84
    bare = Card(grid, card.geometry, [], {}, {"code": "S2", "name": "站", "services": ""}, wgs84)
    plain = render_card(bare, "https://grid.example.cn/cards/110101001001001")
    assert "station-address" not in plain and "station-phone" not in plain
    assert 'id="navigate"' in plain
