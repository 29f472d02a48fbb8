"""Exports for other portals: a PMTiles archive and a self-contained folium map of a region."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser
from pmtiles.reader import MmapSource, Reader
from pmtiles.tile import Compression, TileType
from typer.testing import CliRunner

from gridmap.cli import app as cli
from gridmap.config import get_settings
from gridmap.reports.web_exports import export_folium, export_pmtiles, tile_range
from tests.api.conftest import Served
from tests.api.test_web_map import browser  # noqa: F401  (the fixture)


def test_a_pmtiles_archive_holds_the_region_s_tiles_and_nothing_beyond(
    served: Served, tmp_path: Path
) -> None:
    target = tmp_path / "community.pmtiles"
    with served.engine.connect() as connection:
        done = export_pmtiles(connection, served.community, target, minzoom=13, maxzoom=15)
    assert done.tiles > 0 and done.visited >= done.tiles and target.stat().st_size == done.bytes
    with target.open("rb") as f:
        reader = Reader(MmapSource(f))
        header, metadata = reader.header(), reader.metadata()
        assert header["tile_type"] == TileType.MVT
        assert header["tile_compression"] == Compression.GZIP
        assert (header["min_zoom"], header["max_zoom"]) == (13, 15)
        assert {layer["id"] for layer in metadata["vector_layers"]} >= {"grids", "stations"}
        codes: set[str] = set()
        bounds = (
            header["min_lon_e7"] / 1e7,
            header["min_lat_e7"] / 1e7,
            header["max_lon_e7"] / 1e7,
            header["max_lat_e7"] / 1e7,
        )
        found = 0
        for z in (13, 14, 15):
            xs, ys = tile_range(bounds, z)
            for x, y in zip(xs, ys, strict=True):
                data = reader.get(z, int(x), int(y))
                if data is None:
                    continue
                found += 1
                layers = mapbox_vector_tile.decode(gzip.decompress(data))
                codes |= {
                    f["properties"]["code"] for f in layers.get("grids", {}).get("features", [])
                }
        assert found == done.tiles
    assert codes and all(code.startswith(served.community) for code in codes)


@pytest.mark.parametrize("name", ["basemap", "buildings", "gridmap"])
def test_an_archive_names_each_vector_layer_once_as_the_tilejson_does(
    api: TestClient, served: Served, tmp_path: Path, name: str
) -> None:
    target = tmp_path / f"{name}.pmtiles"
    with served.engine.connect() as connection:
        export_pmtiles(
            connection, served.community, target, minzoom=14, maxzoom=14, tileset_name=name
        )
    with target.open("rb") as f:
        archived = Reader(MmapSource(f)).metadata()["vector_layers"]
    ids = [layer["id"] for layer in archived]
    assert len(ids) == len(set(ids))  # the basemap's two streets layers are one, as are buildings
    served_layers = api.get(f"/tiles/{name}.json", headers=served.headers("viewer")).json()
    assert archived == served_layers["vector_layers"]
    if name == "basemap":
        streets = next(layer for layer in archived if layer["id"] == "streets")
        assert (streets["minzoom"], streets["maxzoom"]) == (11, 22)


def test_a_folium_map_opens_with_no_network(
    served: Served,
    browser: Browser,  # noqa: F811
    tmp_path: Path,
) -> None:
    with served.engine.connect() as connection:
        page = export_folium(connection, served.community)
    assert not re.search(r'<(?:script|link)[^>]+(?:src|href)="https?://', page)
    target = tmp_path / "map.html"
    target.write_text(page, encoding="utf-8")
    context = browser.new_context()
    fetched: list[str] = []
    context.on("request", lambda request: fetched.append(request.url))
    view = context.new_page()
    view.goto(target.as_uri())
    view.wait_for_selector("path.leaflet-interactive")
    assert view.locator("path.leaflet-interactive").count() > 3  # grids, circles, gaps drawn
    assert all(url.startswith(("file:", "data:")) for url in fetched), fetched
    context.close()


def test_exports_from_the_command_line(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", served.url)
    get_settings.cache_clear()
    try:
        tiles = CliRunner().invoke(
            cli,
            [
                "export",
                "pmtiles",
                "--region",
                served.community,
                "--output",
                str(tmp_path / "a.pmtiles"),
                "--minzoom",
                "14",
                "--maxzoom",
                "14",
            ],
        )
        page = CliRunner().invoke(
            cli,
            [
                "export",
                "folium",
                "--region",
                served.community,
                "--output",
                str(tmp_path / "a.html"),
            ],
        )
        bad = CliRunner().invoke(
            cli,
            [
                "export",
                "pmtiles",
                "--region",
                served.community,
                "--minzoom",
                "16",
                "--maxzoom",
                "12",
            ],
        )
    finally:
        get_settings.cache_clear()
    assert tiles.exit_code == 0, tiles.output
    assert page.exit_code == 0, page.output
    assert (tmp_path / "a.pmtiles").stat().st_size > 0 and (tmp_path / "a.html").stat().st_size > 0
    assert bad.exit_code == 1 and "minzoom <= maxzoom" in bad.output
    assert "Traceback" not in bad.output
