"""Grid duty cards: public pages and A5 PDFs whose QR codes lead back to them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image
from playwright.sync_api import Browser
from sqlalchemy import text
from typer.testing import CliRunner

from api.main import create_app
from gridmap.cli import app as cli
from gridmap.config import get_settings
from tests.api.conftest import Live, Served
from tests.api.test_web_map import browser  # noqa: F401  (the fixture)


def current_grid(served: Served) -> tuple[str, dict, int, int]:
    """A staffed grid of the current plan: code, staff, households, residents."""
    with served.engine.connect() as connection:
        row = connection.execute(text(
            "SELECT g.code, g.staff, g.households, g.residents FROM grid g JOIN plan p "
            "ON p.id = g.plan_id AND p.status = 'current' WHERE g.staff <> '{}'::jsonb "
            "ORDER BY g.code LIMIT 1")).one()  # fmt: skip
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
    assert "http" not in html.split("<footer>")[0].replace("http://www.w3.org/2000/svg", "")
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
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf),
                    str(tmp_path / "page")], check=True)  # fmt: skip
    assert qr_texts(tmp_path / "page.png") == [f"https://gridmap.example.cn/cards/{code}"]


def test_cards_are_written_from_the_command_line(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = current_grid(served)[0]
    monkeypatch.setenv("DATABASE_URL", served.url)
    monkeypatch.setenv("GRIDMAP_PUBLIC_URL", "https://gridmap.example.cn")
    get_settings.cache_clear()
    try:
        done = CliRunner().invoke(cli, ["cards", code, "--format", "html",
                                        "--output", str(tmp_path)])  # fmt: skip
        bad = CliRunner().invoke(cli, ["cards", "--format", "doc"])
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 0, done.output
    html = (tmp_path / f"grid-{code}.html").read_text()
    assert f"https://gridmap.example.cn/cards/{code}" in html
    assert bad.exit_code == 1 and "--format must be one of html, pdf" in bad.output
    assert "Traceback" not in bad.output
