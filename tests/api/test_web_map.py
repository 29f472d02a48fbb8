"""The web map in a real browser: Playwright driving Debian's chromium against the served city.

Each step is saved as a screenshot under ``build/screenshots`` (or ``$GRIDMAP_SCREENSHOTS``).
"""

from __future__ import annotations

import datetime
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import mapbox_vector_tile
import openpyxl
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from sqlalchemy import text

from api.main import create_app
from tests.api.conftest import Live, serving
from tests.api.test_tickets import add_ticket, grid_with_households, tickets_removed
from tests.api.test_tiles import tile_of

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(os.environ.get("GRIDMAP_SCREENSHOTS", "build/screenshots"))
VIEWPORT = {"width": 1400, "height": 860}
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's chromium, headless, software WebGL (no GPU, no browser download)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def restored(live: Live) -> Iterator[None]:
    """Put the plan that was current back when the module is done (one test accepts a plan)."""
    engine = live.served.engine
    with engine.connect() as connection:
        current = connection.execute(text("SELECT id FROM plan WHERE status = 'current'")).scalar()
    yield
    with engine.begin() as connection:
        connection.execute(text("UPDATE plan SET status = 'archived' WHERE status = 'current'"))
        connection.execute(text("UPDATE plan SET status = 'current' WHERE id = :p"), {"p": current})


@pytest.fixture
def traffic() -> list[str]:
    """The addresses the page fetched, its workers' tiles included."""
    return []


def watch(page: Page, allowed: str | None = None) -> tuple[list[str], list[str]]:
    """The page's script errors and console errors (but those saying ``allowed``), and the
    responses that failed: the console names no address, so a failure is told with them."""
    errors: list[str] = []
    failed: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "console",
        lambda m: (
            errors.append(m.text)
            if m.type == "error" and (allowed is None or allowed not in m.text)
            else None
        ),
    )
    page.context.on(  # the context's: the map's workers fetch its tiles
        "response",
        lambda r: (
            failed.append(f"{r.status} {r.request.method} {r.url}") if r.status >= 400 else None
        ),
    )
    return errors, failed


@pytest.fixture
def page(browser: Browser, live: Live, restored: None, traffic: list[str]) -> Iterator[Page]:
    """The web map opened with the admin key, ready; no script error may happen on it."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")
    page = context.new_page()
    context.on("request", lambda request: traffic.append(request.url))
    errors, failed = watch(page, allowed="the server responded with a status of 412")
    page.goto(f"{live.base}/map/#key={live.served.keys['admin']}")
    page.wait_for_function(
        "window.gridmap && window.gridmap.ready && gridmap.map.loaded()", timeout=WAIT_MS
    )
    yield page
    context.close()
    assert not errors, (errors, failed)


def shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path)
    return path


def api(live: Live, method: str, path: str, role: str = "admin", **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {live.served.keys[role]}", **kwargs.pop("headers", {})}
    return httpx.request(method, live.base + path, headers=headers, timeout=60, **kwargs)


def households(live: Live, plan: int) -> dict[str, int]:
    """A plan's grids as the API gives them: code → households."""
    return {g["code"]: g["households"] for g in api(live, "GET", f"/plans/{plan}/grids").json()}


def wait_drawn(page: Page, figures: dict[str, int], among: str | None = None) -> None:
    """Wait until every grid the map draws from its tiles has the households ``figures`` say.

    With ``among``, that grid must be one of those drawn.
    """
    try:
        page.wait_for_function(
            """([figures, among]) => {
            const drawn = gridmap.map.queryRenderedFeatures({layers: ['grids-fill']});
            return drawn.length > 0
              && (among === null || drawn.some(f => f.properties.code === among))
              && drawn.every(f => figures[f.properties.code] === f.properties.households);
        }""",
            arg=[figures, among],
            timeout=WAIT_MS,
        )
    except PlaywrightTimeout:
        drawn = rendered_grids(page)
        wrong = {c: (h, figures.get(c)) for c, h in drawn.items() if figures.get(c) != h}
        tiles = page.evaluate("gridmap.map.getSource('gridmap').tiles")
        raise AssertionError(
            f"{len(drawn)} grids drawn; drawn, expected where they differ: {wrong}; tiles {tiles}; "
            f"the centre tile as the server gives it now: {served_centre_tile(page)}; "
            f"the tiles drawn, against the server's now: {drawn_tiles(page)}"
        ) from None


def drawn_tiles(page: Page) -> list[dict[str, Any]]:
    """Each tile of the gridmap source in view: its state and ETag, and the server's ETag now.

    Read from MapLibre's internals (a diagnostic only): a tile whose ETag is not the server's
    was never fetched again at the current address.
    """
    return page.evaluate("""async () => {
        const m = gridmap.map, manager = m.style.tileManagers?.gridmap;
        if (!manager || !manager._inViewTiles) return [];
        const key = localStorage.getItem('gridmap.key');
        const headers = key ? {Authorization: `Bearer ${key}`} : {};
        const out = [];
        for (const id of manager._inViewTiles.getAllIds()) {
            const tile = manager._inViewTiles.getTileById(id), c = tile.tileID.canonical;
            const url = m.getSource('gridmap').tiles[0]
              .replace('{z}', c.z).replace('{x}', c.x).replace('{y}', c.y);
            const r = await fetch(url, {cache: 'no-store', headers});
            out.push({tile: `${c.z}/${c.x}/${c.y}`, state: tile.state, etag: tile.etag,
                      server: r.headers.get('etag'), source: r.headers.get('server-timing')});
        }
        return out;
    }""")


def served_centre_tile(page: Page) -> dict[str, Any]:
    """The tile at the map's centre, fetched again past the browser's cache: whence and grids.

    Says whether a stale drawing came from the server or from the browser.
    """
    got = page.evaluate("""async () => {
        const m = gridmap.map, z = Math.floor(m.getZoom()), c = m.getCenter(), n = 2 ** z;
        const x = Math.floor((c.lng + 180) / 360 * n);
        const y = Math.floor((1 - Math.asinh(Math.tan(c.lat * Math.PI / 180)) / Math.PI) / 2 * n);
        const url = m.getSource('gridmap').tiles[0]
          .replace('{z}', z).replace('{x}', x).replace('{y}', y);
        const key = localStorage.getItem('gridmap.key');  // the key the page keeps (api.js)
        const headers = key ? {Authorization: `Bearer ${key}`} : {};
        const r = await fetch(url, {cache: 'no-store', headers});
        const bytes = r.status === 200 ? Array.from(new Uint8Array(await r.arrayBuffer())) : [];
        return {url, status: r.status, source: r.headers.get('server-timing'), bytes};
    }""")
    grids = {}
    if got["bytes"]:
        layers = mapbox_vector_tile.decode(bytes(got.pop("bytes")))
        grids = {
            f["properties"]["code"]: f["properties"]["households"]
            for f in layers.get("grids", {}).get("features", [])
        }
    got.pop("bytes", None)
    return {**got, "grids": grids}


def rendered_grids(page: Page) -> dict[str, int]:
    """The grids the map draws now from its tiles: code → households."""
    return page.evaluate("""() => Object.fromEntries(gridmap.map.queryRenderedFeatures(
        {layers: ['grids-fill']}).map(f => [f.properties.code, f.properties.households]))""")


def point_on(page: Page, layer: str, code: str) -> tuple[float, float]:
    """A pixel of the page where ``layer`` draws the feature ``code`` on top."""
    found = page.evaluate(
        """([layer, code]) => {
        const canvas = gridmap.map.getCanvas().getBoundingClientRect();
        for (let y = 10; y < canvas.height - 10; y += 8)
          for (let x = 10; x < canvas.width - 10; x += 8) {
            const hit = gridmap.map.queryRenderedFeatures([x, y], {layers: [layer]});
            if (hit.length && hit[0].properties.code === code) return [canvas.x + x, canvas.y + y];
          }
        return null; }""",
        [layer, code],
    )
    assert found, f"{code} is not drawn on {layer}"
    return found[0], found[1]


def unit_pixel(page: Page, code: str) -> tuple[float, float]:
    """The pixel of a unit's inner point in the draft layers, with the map itself on top there.

    A panel over that point (the grid's figures) is closed first, so a click reaches the map.
    Waits until the map stands still and draws the unit there: a draft's units are drawn a
    moment after they are loaded, and a click before that finds nothing to pick.
    """
    where = """(code) => {
        const map = gridmap.map;
        const p = map.project(gridmap.draft.points.get(code));
        const c = map.getCanvas().getBoundingClientRect();
        const x = c.x + p.x, y = c.y + p.y;
        const hit = map.queryRenderedFeatures(p, {layers: ['draft-units-fill']})[0];
        return [x, y, document.elementFromPoint(x, y) === map.getCanvas(),
                !map.isMoving() && !!hit && hit.properties.code === code]; }"""
    x, y, on_map, _ = page.evaluate(where, code)
    if not on_map and page.is_visible("#grid-panel"):
        page.click("#grid-panel-close")
        x, y, on_map, _ = page.evaluate(where, code)
    assert on_map, f"unit {code} lies under a panel at ({x:.0f}, {y:.0f})"
    try:
        page.wait_for_function(f"(code) => ({where})(code)[3]", arg=code, timeout=WAIT_MS)
    except PlaywrightTimeout:
        raise AssertionError(f"unit {code} is not drawn at ({x:.0f}, {y:.0f})") from None
    x, y, _, _ = page.evaluate(where, code)
    return x, y


def open_new_draft(page: Page) -> int:
    page.click("button[data-mode=edit]")
    page.wait_for_function("document.querySelector('#plan-select').options.length > 0")
    page.click("#plan-new")  # a copy of the current plan, named with the time, by default
    page.wait_for_selector("#new-draft:not([hidden])")
    assert page.input_value("#new-draft-source") == "current"
    with page.expect_response(
        lambda r: r.url.endswith("/plans") and r.request.method == "POST"
    ) as made:
        page.click("#new-draft button[type=submit]")
    plan = int(made.value.json()["id"])
    page.wait_for_function(
        f"gridmap.draft.plan === {plan} && gridmap.draft.units.size > 0 && "
        "gridmap.draft.gridFeatures.features.length > 0"
    )
    page.wait_for_function("gridmap.map.loaded()")
    return plan


def neighbours(page: Page) -> dict[str, Any]:
    """Two units of one community in different grids, the second bordering the first's grid."""
    return page.evaluate("""() => {
        const d = gridmap.draft;
        const units = [...d.units.values()].map(f => f.properties)
          .sort((a, b) => a.code < b.code ? -1 : 1);
        for (const a of units) for (const b of units)
          if (a.community === b.community && a.grid !== b.grid && b.households > 0
              && [...d.units.values()].filter(f => f.properties.grid === b.grid).length > 1)
            return {target: a.code, grid: a.grid, unit: b.code, from: b.grid,
                    households: b.households};
        return null; }""")


def test_the_map_loads_and_draws_the_city_from_its_own_tiles(
    page: Page, live: Live, traffic: list[str]
) -> None:
    page.wait_for_function("gridmap.map.queryRenderedFeatures({layers: ['grids-fill']}).length > 0")
    drawn = rendered_grids(page)
    current = page.evaluate("gridmap.state.config.current_plan")
    figures = households(live, current)
    assert drawn and all(figures[code] == households for code, households in drawn.items())
    centre = served_centre_tile(page)  # what a failing wait_drawn reports, checked here
    assert centre["status"] == 200 and centre["grids"], centre
    assert all(figures[code] == households for code, households in centre["grids"].items())
    tiles = [url for url in traffic if "/tiles/" in url]
    assert any("/tiles/gridmap/" in t for t in tiles) and any("/tiles/basemap/" in t for t in tiles)
    assert all(url.startswith((live.base, "data:", "blob:")) for url in traffic), traffic
    picture = Image.open(io.BytesIO(page.screenshot())).convert("RGB").crop((340, 60, 1380, 850))
    colours = picture.getcolors(maxcolors=1 << 24) or []
    assert len(colours) > 200  # drawn, not a blank canvas
    assert page.inner_text("#legend-items").count("户") == 0  # bounds, stations: in words
    assert "符合标准" in page.inner_text("#legend-items")
    shot(page, "1-map-loaded")
    page.click("#lang")  # English, and back
    assert "Within bounds" in page.inner_text("#legend-items")
    assert page.inner_text("button[data-mode=edit]") == "Edit plan"
    page.click("#lang")
    assert page.inner_text("button[data-mode=edit]") == "编辑方案"


def test_clicking_a_grid_shows_its_figures(page: Page, live: Live) -> None:
    page.wait_for_function("gridmap.map.queryRenderedFeatures({layers: ['grids-fill']}).length > 0")
    code = sorted(rendered_grids(page))[0]
    page.mouse.click(*point_on(page, "grids-fill", code))
    page.wait_for_selector("#grid-panel:not([hidden])")
    grid = api(live, "GET", f"/collections/grids/items/{code}").json()["properties"]
    field = lambda name: page.inner_text(f"#grid-figures dd[data-field={name}]")  # noqa: E731
    assert field("code") == code
    assert field("households") == f"{grid['households']:,}"
    assert field("residents") == f"{grid['residents']:,}"
    coverage = grid["coverage"]
    assert field("coverage") == ("—" if coverage is None else f"{coverage * 100:.1f}%")
    assert field("compactness") == f"{grid['polsby_popper']:.3f}"
    assert field("radius") == f"{int(grid['radius_m'] + 0.5):,} 米"
    assert grid["community"] in field("community")
    assert page.get_attribute("#grid-card", "href") == f"/cards/{code}"  # its duty card
    if grid["workers"]:  # staff from the roster: leader, workers, residents per worker
        assert field("leader") == grid["leader"] and field("workers") == str(grid["workers"])
        per_worker = int(grid["residents_per_worker"] + 0.5)  # the browser rounds half up
        assert field("per_worker") == f"{per_worker:,}"
    else:
        assert field("workers") == "未配备" and field("per_worker") == "—"
    station = grid["station"]
    assert field("station") == "—" if station is None else station in field("station")
    shot(page, "2-grid-panel")

    page.click("#grid-panel-close")  # search: by a piece of the code, then a click opens it
    page.fill("#search-input", code[-6:])
    page.wait_for_selector(f"#search-results li[data-collection=grids][data-id='{code}']")
    page.click(f"#search-results li[data-collection=grids][data-id='{code}']")
    page.wait_for_selector("#grid-panel:not([hidden])")
    assert field("code") == code
    shot(page, "2b-search")


def test_moving_units_changes_the_two_grids_households(page: Page, live: Live) -> None:
    plan = open_new_draft(page)
    pair = neighbours(page)
    before = households(live, plan)
    page.mouse.click(*unit_pixel(page, pair["target"]))  # picks the target grid
    page.wait_for_function(f"gridmap.editor.target === '{pair['grid']}'")
    page.mouse.click(*unit_pixel(page, pair["unit"]))  # moves the unit into it
    page.wait_for_function(
        "gridmap.draft.revision === 2 && document.querySelector("
        "'#edit-message').classList.contains('ok')"
    )
    after = households(live, plan)
    moved = pair["households"]
    assert after[pair["grid"]] == before[pair["grid"]] + moved
    assert after[pair["from"]] == before[pair["from"]] - moved
    shown = {
        row.get_attribute("data-grid"): int(
            row.locator(".balance-figures").get_attribute("data-households")
        )
        for row in page.locator("#balance .balance-row").all()
    }
    assert shown == {pair["grid"]: after[pair["grid"]], pair["from"]: after[pair["from"]]}
    shot(page, "3-unit-moved")

    page.click("#undo")  # back where it was, on the server too
    page.wait_for_function("gridmap.draft.revision === 3")
    assert households(live, plan) == before
    page.click("#redo")
    page.wait_for_function("gridmap.draft.revision === 4")
    assert households(live, plan) == after

    # the lasso: a small ring drawn around another unit's inner point moves it too
    other = page.evaluate(
        """([grid, community]) => [...gridmap.draft.units.values()]
        .map(f => f.properties).filter(u => u.grid !== grid && u.community === community)
        .map(u => u.code).sort()[0]""",
        [
            pair["grid"],
            page.evaluate(f"gridmap.draft.units.get('{pair['target']}').properties.community"),
        ],
    )
    if other is not None:
        page.click("#edit-tools button[data-tool=lasso]")
        x, y = unit_pixel(page, other)
        page.mouse.move(x - 4, y - 4)
        page.mouse.down()
        for dx, dy in ((4, -4), (4, 4), (-4, 4), (-4, -4)):
            page.mouse.move(x + dx, y + dy, steps=3)
        page.mouse.up()
        page.wait_for_function("gridmap.draft.revision === 5")
        codes = api(live, "GET", f"/plans/{plan}/units").json()
        assert codes[other] == pair["grid"]
        shot(page, "3b-lasso")


def test_a_click_picks_the_grid_of_the_draft_open_even_before_its_drawing_catches_up(
    page: Page, live: Live
) -> None:
    """After another draft is opened the map draws the one before for a moment; a click then
    must pick the grid the open draft gives the unit, not the one the old drawing names (which
    may not exist in the open draft: a 404 and a wrong target, as once seen in CI)."""
    made = api(live, "POST", "/plans", json={"name": "后开", "source": "current"})
    other = int(made.json()["id"])
    plan = open_new_draft(page)
    pair = neighbours(page)
    moved = api(  # in the other draft the unit lies in the target's grid
        live,
        "PATCH",
        f"/plans/{other}",
        headers={"If-Match": '"1"'},
        json={"moves": [{"unit": pair["unit"], "grid": pair["grid"]}]},
    )
    assert moved.status_code == 200, moved.text
    x, y = unit_pixel(page, pair["unit"])  # drawn in this draft's grid
    unit = f"gridmap.draft.units.get('{pair['unit']}')"
    assert page.evaluate(f"{unit}.properties.grid") == pair["from"]
    page.evaluate("""() => {  // the drawing stops here: what a slow worker shows for a moment
        const source = gridmap.map.getSource('draft-units');
        source.setData = () => source; }""")
    page.select_option("#plan-select", str(other))
    assert page.evaluate("gridmap.editor.busy.then(() => gridmap.draft.plan)") == other
    assert page.evaluate("gridmap.editor.tool") == "pick"
    page.mouse.click(x, y)
    page.wait_for_function("gridmap.editor.target !== null")
    assert page.evaluate("gridmap.editor.target") == pair["grid"]  # not pair["from"], drawn
    assert plan != other


def test_a_stale_edit_shows_the_conflict_and_the_fresh_plan(page: Page, live: Live) -> None:
    plan = open_new_draft(page)
    pair = neighbours(page)
    page.mouse.click(*unit_pixel(page, pair["target"]))
    page.wait_for_function(f"gridmap.editor.target === '{pair['grid']}'")
    # another planner moves the unit first
    theirs = api(
        live,
        "PATCH",
        f"/plans/{plan}",
        role="planner",
        headers={"If-Match": '"1"'},
        json={"moves": [{"unit": pair["unit"], "grid": pair["grid"]}]},
    )
    assert theirs.status_code == 200
    page.mouse.click(*unit_pixel(page, pair["unit"]))
    page.wait_for_selector("#edit-message.conflict")
    assert "另一位规划人员" in page.inner_text("#edit-message")
    page.wait_for_function("gridmap.draft.revision === 2")  # the fresh plan is loaded
    unit = f"gridmap.draft.units.get('{pair['unit']}')"
    assert page.evaluate(f"{unit}.properties.grid") == pair["grid"]
    assert page.evaluate("gridmap.editor.undo.length") == 0
    shot(page, "4-stale-edit")


def test_a_re_partition_previews_and_accepting_changes_the_map(page: Page, live: Live) -> None:
    page.wait_for_function("gridmap.map.queryRenderedFeatures({layers: ['grids-fill']}).length > 0")
    before = rendered_grids(page)
    page.click("button[data-mode=repartition]")
    # a whole new plan under bounds no other test uses, so that units move whatever came before
    page.select_option("select[name=mode]", "full")
    page.fill("input[name=target]", "350")
    page.fill("input[name=min]", "250")
    page.fill("input[name=max]", "450")
    page.click("#partition-form button[type=submit]")
    page.wait_for_selector("#preview:not([hidden])", timeout=120_000)
    plan = int(page.evaluate("gridmap.repartition.plan"))
    diff = api(live, "GET", f"/plans/{plan}/diff").json()
    moved = page.inner_text("#preview-figures tr[data-figure=moved] td:last-child")
    assert int(moved.replace(",", "")) == diff["units_moved"] > 0
    marked = sorted(page.evaluate("gridmap.draft.moved"))
    assert marked == sorted(m["unit"] for m in diff["moved_units"])
    assert page.inner_text("#preview-figures tr[data-figure=grids] td:last-child") == str(
        len(diff["after"])
    )
    listed = {
        key: page.inner_text(f"#preview-lists dd[data-list={key}]")
        for key in ("new", "retired", "split", "merged")
    }
    for key, words in listed.items():  # the grids by what happens to them, as the diff says
        assert words == ("、".join(diff[key]) or "—"), key
    assert page.evaluate("gridmap.map.getLayoutProperty('grids-line', 'visibility')") == "visible"
    shot(page, "5-re-partition-preview")
    page.click("#plan-accept")  # a confirmation with what changes for the city, then the accept
    page.wait_for_selector("#accept-dialog[open]")
    assert page.inner_text("#accept-diff dd[data-list=retired]") == (
        "、".join(diff["retired"][:40])
        + (f" … +{len(diff['retired']) - 40}" if len(diff["retired"]) > 40 else "")
        or "—"
    )
    shot(page, "5b-accept-confirmation")
    page.click("#accept-confirm")
    page.wait_for_selector("#repartition-message.ok")
    assert api(live, "GET", f"/plans/{plan}").json()["status"] == "current"
    page.click("button[data-mode=browse]")
    figures = households(live, plan)
    wait_drawn(page, figures)
    after = rendered_grids(page)
    assert after != before and all(figures[c] == h for c, h in after.items())
    shot(page, "6-plan-accepted")


ADD_HOUSEHOLDS = text(
    "UPDATE grid SET households = households + :n WHERE plan_id = :p AND code = :c"
)


def days_ago(days: int) -> datetime.datetime:
    """The time ``days`` days before now."""
    return datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=days)


TICKETS_BY_MONTH = text("""
    SELECT to_char(e.occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS month, count(*)
    FROM event e JOIN grid g ON ST_Intersects(g.geom, e.geom)
    JOIN plan p ON p.id = g.plan_id AND p.status = 'current'
    WHERE g.code = :c GROUP BY 1
""")


def test_the_grid_panel_shows_the_grids_tickets_of_the_last_twelve_months(
    page: Page, live: Live
) -> None:
    engine = live.served.engine
    with engine.begin() as connection:  # three tickets in a unit of the first grid
        code, _, unit = grid_with_households(connection)
        for k, (kind, days) in enumerate((("噪音扰民", 2), ("噪音扰民", 3), ("占道经营", 62))):
            add_ticket(connection, unit, kind, days_ago(days), f"panel-{k}")
        by_month = dict(connection.execute(TICKETS_BY_MONTH, {"c": code}).all())
    with tickets_removed(engine, "panel-"):
        page.fill("#search-input", code)
        page.wait_for_selector(f"#search-results li[data-collection=grids][data-id='{code}']")
        page.click(f"#search-results li[data-collection=grids][data-id='{code}']")
        page.wait_for_selector("#grid-tickets:not([hidden]) .ticket-bars span")
        bars = page.locator("#grid-tickets .ticket-bars span").evaluate_all(
            "els => els.map(e => [e.dataset.month, Number(e.dataset.tickets)])"
        )
        assert len(bars) == 12 and bars == sorted(bars)  # a year, oldest first
        assert bars == [[m, int(by_month.get(m, 0))] for m, _ in bars]  # counted by SQL here
        shown = sum(n for _, n in bars)
        assert shown >= 3
        summary = page.locator("#grid-tickets .ticket-summary")
        assert summary.get_attribute("data-tickets") == str(shown)
        kinds = dict(
            page.locator("#grid-tickets .ticket-kinds li").evaluate_all(
                "els => els.map(e => [e.dataset.kind, Number(e.dataset.tickets)])"
            )
        )
        assert kinds["噪音扰民"] >= 2 and kinds["占道经营"] >= 1
        assert page.inner_text("#grid-tickets h3") == "12345 工单（近12个月）"
        # before and after a change two months ago: the 3 whole months on either side
        today = datetime.date.today()
        centre = (today.year * 12 + today.month - 1) - 2
        day = datetime.date(centre // 12, centre % 12 + 1, 1)
        months = [f"{(centre + k) // 12}-{(centre + k) % 12 + 1:02d}" for k in range(-3, 4)]
        page.fill(".ticket-compare input[name=date]", day.isoformat())
        page.select_option(".ticket-compare select[name=months]", "3")
        page.click(".ticket-compare button")
        page.wait_for_selector(".ticket-compare-result[data-before]")
        result = page.locator(".ticket-compare-result")
        before = sum(int(by_month.get(m, 0)) for m in months[:3])
        after = sum(int(by_month.get(m, 0)) for m in months[4:])
        assert (result.get_attribute("data-before"), result.get_attribute("data-after")) == (
            str(before),
            str(after),
        )
        assert result.inner_text().startswith(f"前3个月 {before} 件 → 后3个月 {after} 件")
        shot(page, "2b-grid-tickets")


def test_colouring_by_tickets_shows_the_grids_that_stand_out(page: Page, live: Live) -> None:
    engine = live.served.engine
    with engine.begin() as connection:  # tickets in one grid only: it alone stands out
        code, households, unit = grid_with_households(connection, last=True)
        for k in range(4):
            add_ticket(connection, unit, "噪音扰民", days_ago(5), f"hot-{k}")
    with tickets_removed(engine, "hot-"):
        page.click("#colour-by input[value=tickets]")
        page.wait_for_selector("#hotspot-list li[data-grid]")
        listed = page.locator("#hotspot-list li").evaluate_all(
            "els => els.map(e => [e.dataset.grid, Number(e.dataset.tickets)])"
        )
        assert listed == [[code, 4]]
        rate = f"{4000 / households:.1f}"
        assert f"每千户 {rate} 件" in page.inner_text("#hotspot-list li")
        assert "全市第90百分位" in page.inner_text("#hotspot-caption")
        colours = page.evaluate("""() => Object.fromEntries(gridmap.map.queryRenderedFeatures(
            {layers: ['grids-fill']}).map(f => [f.properties.code,
              gridmap.map.getPaintProperty('grids-fill', 'fill-color')]))""")
        assert colours, "grids drawn"
        paint = next(iter(colours.values()))
        assert paint[:3] == ["match", ["get", "code"], [code]]  # the hot grid, and only it
        assert "工单热点" in page.inner_text("#legend-items")
        page.click(f"#hotspot-list li[data-grid='{code}']")  # to the grid and its panel
        page.wait_for_function(
            "code => document.querySelector('#grid-figures dd[data-field=code]')"
            "?.textContent === code",
            arg=code,
        )
        shot(page, "2c-ticket-hotspots")


def test_tickets_on_the_map_filtered_by_window_and_kind(page: Page, live: Live) -> None:
    engine = live.served.engine
    with engine.begin() as connection:  # two recent tickets of one kind, an older one of another
        unit, lon, lat = connection.execute(
            text(
                "SELECT id, ST_X(p), ST_Y(p) FROM (SELECT id, ST_Transform(ST_PointOnSurface("
                "geom), 4326) AS p FROM unit ORDER BY households DESC, code LIMIT 1) u"
            )
        ).one()
        for k, (kind, days) in enumerate((("噪音扰民", 5), ("噪音扰民", 6), ("占道经营", 200))):
            add_ticket(connection, unit, kind, days_ago(days), f"map-{k}")
    drawn = """() => gridmap.map.queryRenderedFeatures({layers: ['events']})
        .map(f => f.properties.kind).sort().join(',')"""
    with tickets_removed(engine, "map-"):
        held: list[Any] = []

        def hold_first(route: Any) -> None:  # the first window's kinds are asked for last
            if held:
                route.continue_()
            else:
                held.append(route)  # marked at once: a second request may come meanwhile

        page.route("**/tickets/kinds?*", hold_first)
        page.select_option("#ticket-months", "3")  # the kinds are read again for each window:
        page.select_option("#ticket-months", "12")  # the later one's answer wins
        page.wait_for_function(
            "document.querySelectorAll('#ticket-kind option').length === 3", timeout=WAIT_MS
        )
        with page.expect_response("**/tickets/kinds?*"):
            held[0].continue_()  # the first window's answer comes now, after the second's
        page.unroute("**/tickets/kinds?*")
        page.wait_for_timeout(300)  # the late answer, ignored: nothing happens to await
        options = page.locator("#ticket-kind option").all_inner_texts()
        assert options == ["全部类型", "噪音扰民（2）", "占道经营（1）"]
        page.check("#layer-list input[data-group=events]")
        page.evaluate("([x, y]) => gridmap.map.jumpTo({center: [x, y], zoom: 16})", [lon, lat])
        page.wait_for_function(f"({drawn})() === '占道经营,噪音扰民,噪音扰民'", timeout=WAIT_MS)
        page.select_option("#ticket-months", "1")  # the last month: the older one goes
        page.wait_for_function(f"({drawn})() === '噪音扰民,噪音扰民'", timeout=WAIT_MS)
        assert page.inner_text("#ticket-kind").count("占道经营") == 0  # none of it this month
        page.select_option("#ticket-months", "12")
        page.wait_for_function(
            "document.querySelectorAll('#ticket-kind option').length === 3", timeout=WAIT_MS
        )
        page.select_option("#ticket-kind", "占道经营")
        page.wait_for_function(f"({drawn})() === '占道经营'", timeout=WAIT_MS)
        shot(page, "2d-tickets-on-the-map")
        # farther out, the tickets are counted in hexagons, of the same kind and window
        hexagons = "() => document.getElementById('map').dataset.ticketHexagons"
        page.evaluate("([x, y]) => gridmap.map.jumpTo({center: [x, y], zoom: 13.5})", [lon, lat])
        page.wait_for_function(f"({hexagons})() === '13:1'", timeout=WAIT_MS)
        page.select_option("#ticket-kind", "")
        page.wait_for_function(f"({hexagons})() === '13:3'", timeout=WAIT_MS)
        page.select_option("#ticket-months", "1")
        page.wait_for_function(f"({hexagons})() === '13:2'", timeout=WAIT_MS)
        counted = """() => gridmap.map.queryRenderedFeatures({layers: ['events-hexagons']})
            .map(f => f.properties.tickets)"""
        page.wait_for_function(f"({counted})().includes(2)", timeout=WAIT_MS)
        assert page.evaluate(f"({drawn})()") == ""  # no points at this zoom
        page.uncheck("#layer-list input[data-group=events]")
        page.wait_for_function(f"({counted})().length === 0", timeout=WAIT_MS)
        assert "六边形内工单数" not in page.inner_text("#legend-items")
        page.evaluate("gridmap.map.jumpTo({zoom: 12.5})")  # moved while hidden: read when shown
        page.check("#layer-list input[data-group=events]")
        page.wait_for_function(f"({hexagons})() === '12:2'", timeout=WAIT_MS)
        assert "六边形内工单数" in page.inner_text("#legend-items")  # the legend says what it is
        page.wait_for_function(f"({counted})().includes(2)", timeout=WAIT_MS)
        shot(page, "2e-ticket-hexagons")


def test_tiles_on_their_way_when_the_data_changes_are_fetched_from_the_new_address(
    page: Page, live: Live
) -> None:
    """A tile still loading when the tile URLs change (a plan accepted) is fetched anew.

    MapLibre 6.17 would parse the old answer again and draw it for good (static/src/tilesource.js);
    the old answers are held back here, as on a slow network, until the map has the new URLs.
    """
    engine = live.served.engine
    with engine.connect() as connection:
        plan = connection.execute(text("SELECT id FROM plan WHERE status = 'current'")).scalar()
        code, lon, lat = connection.execute(
            text(
                "SELECT code, ST_X(p), ST_Y(p) FROM (SELECT code, ST_Transform("
                "ST_PointOnSurface(geom), 4326) AS p FROM grid WHERE plan_id = :p "
                "ORDER BY households DESC, code LIMIT 1) g"
            ),
            {"p": plan},
        ).one()
    figures = households(live, plan)
    held: list[tuple[Any, Any]] = []
    passing: list[bool] = []

    def hold(route: Any) -> None:  # the old answers are fetched now and given later
        if passing:
            route.continue_()
        else:
            held.append((route, route.fetch()))

    page.route("**/tiles/gridmap/**", hold)
    before = page.evaluate("gridmap.map.getSource('gridmap').tiles")
    page.evaluate("([x, y]) => gridmap.map.jumpTo({center: [x, y], zoom: 16.5})", [lon, lat])
    centre = "/tiles/gridmap/{}/{}/{}.mvt".format(*tile_of(lon, lat, 16))  # at the zoom drawn
    for _ in range(400):  # until the map has asked for it (and it is held)
        if any(centre in route.request.url for route, _ in held):
            break
        page.wait_for_timeout(25)
    assert any(centre in route.request.url for route, _ in held), [r.request.url for r, _ in held]
    assert not page.evaluate("gridmap.map.isSourceLoaded('gridmap')")
    try:
        with engine.begin() as connection:
            connection.execute(ADD_HOUSEHOLDS, {"p": plan, "c": code, "n": 1000})
        passing.append(True)
        page.evaluate("gridmap.showCurrent()")
        assert page.evaluate("gridmap.map.getSource('gridmap').tiles") != before
        for route, answer in held:  # the answers of the data before, arriving late
            route.fulfill(response=answer)
        wait_drawn(page, {**figures, code: figures[code] + 1000}, among=code)
    finally:
        with engine.begin() as connection:
            connection.execute(ADD_HOUSEHOLDS, {"p": plan, "c": code, "n": -1000})


def test_a_what_if_move_changes_the_coverage_rate(page: Page, live: Live) -> None:
    page.click("button[data-mode=coverage]")
    page.wait_for_selector("#rate-before b")
    now = float(page.get_attribute("#rate-before b", "data-rate"))
    marker = page.locator(".station-marker.existing").first
    code = marker.get_attribute("data-code")
    box = marker.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 90, y + 60, steps=12)  # along the streets, not out of reach
    page.mouse.up()
    page.wait_for_selector("#rate-after b")
    shown = float(page.get_attribute("#rate-after b", "data-rate"))
    lon, lat = page.evaluate(f"gridmap.coverage.moved.get('{code}')")
    answer = api(
        live, "POST", "/coverage/whatif", json={"move": [{"code": code, "lon": lon, "lat": lat}]}
    ).json()
    assert answer["before"]["rate"] == pytest.approx(now)
    assert answer["after"]["rate"] == pytest.approx(shown) and shown != now
    page.wait_for_function(  # the moved station's circle and the buildings it won and lost
        "gridmap.coverage.answer && gridmap.coverage.answer.circles.features.length === 1"
    )
    drawn = page.evaluate("""async () => {
        const circles = await gridmap.map.getSource('whatif-circles').getData();
        const buildings = await gridmap.map.getSource('whatif-buildings').getData();
        return {circle: circles.features[0].properties.station,
                buildings: buildings.features.length}; }""")
    assert drawn == {"circle": code, "buildings": len(answer["buildings"]["features"])}
    changed = [c for c in answer["communities"] if c["covered_after"] != c["covered_before"]]
    listed = page.locator("#whatif-communities li").evaluate_all(
        "els => els.map(e => e.dataset.community)"
    )
    assert sorted(listed) == sorted(c["community"] for c in changed) and listed
    assert page.is_hidden("#grid-panel")  # coverage mode never opens the grid panel
    shot(page, "7-what-if-move")

    page.click("#whatif-reset")
    page.wait_for_selector("#rate-after", state="detached")
    page.click("#siting-run")  # suggestions, and one added with a click
    page.wait_for_selector("#sites li button")
    site = api(live, "POST", "/coverage/siting", json={"k": 3}).json()["sites"][0]
    page.click("#sites li:first-child button")
    page.wait_for_selector("#rate-after b")
    added = float(page.get_attribute("#rate-after b", "data-rate"))
    expected = api(
        live, "POST", "/coverage/whatif", json={"add": [{"lon": site["lon"], "lat": site["lat"]}]}
    ).json()
    assert added == pytest.approx(expected["after"]["rate"]) and added > now
    shot(page, "8-siting-added")

    assert page.is_visible("#coverage-zoom")  # buildings come with zoom 14: closer, they show
    page.evaluate(f"gridmap.map.jumpTo({{center: [{site['lon']}, {site['lat']}], zoom: 15.5}})")
    drawn = "gridmap.map.queryRenderedFeatures({layers: ['buildings-coverage']}).length > 0"
    page.wait_for_function(f"gridmap.map.loaded() && {drawn}", timeout=WAIT_MS)
    covered = page.evaluate("""() => [...new Set(gridmap.map.queryRenderedFeatures(
        {layers: ['buildings-coverage']}).map(f => f.properties.covered))]""")
    assert False in covered and page.is_hidden("#coverage-zoom")
    shot(page, "9-coverage-buildings")


def test_an_embed_in_an_iframe_shows_only_its_key_s_region(
    browser: Browser, live: Live, traffic: list[str]
) -> None:
    community = live.served.community
    portal = browser.new_context(viewport={"width": 900, "height": 640}, locale="zh-CN")
    page = portal.new_page()
    portal.on("request", lambda request: traffic.append(request.url))
    key = live.served.keys["embed"]  # the portal's server makes a token; the iframe carries it
    token = api(live, "POST", "/tokens", role="embed", json={"minutes": 10}).json()["token"]
    page.set_content(f"""<!doctype html><html><body style="margin:0">
        <h1 style="font:16px sans-serif">区级门户</h1>
        <iframe id="gridmap" src="{live.base}/embed?layers=grids,stations,gaps&token={token}"
                width="860" height="560" style="border:0"></iframe></body></html>""")
    frame = page.frame_locator("#gridmap")
    frame.locator("canvas.maplibregl-canvas").wait_for()
    inner = next(f for f in page.frames if f.url.startswith(f"{live.base}/embed"))
    inner.wait_for_function(
        "window.gridmap && gridmap.ready && gridmap.map.loaded() && "
        "gridmap.map.queryRenderedFeatures({layers: ['grids-fill']}).length"
    )
    drawn = inner.evaluate("""() => gridmap.map.queryRenderedFeatures({layers: ['grids-fill']})
        .map(f => f.properties.code)""")
    assert drawn and all(code.startswith(community) for code in drawn)
    hidden = inner.evaluate("gridmap.map.getLayoutProperty('units-line', 'visibility')")
    assert hidden == "none"  # only the layers asked for
    tiles = [url for url in traffic if "/tiles/gridmap/" in url]
    assert tiles and all(url.startswith(live.base) for url in tiles)
    assert not any(key in url for url in traffic)  # the key itself never travelled
    code = drawn[0]  # a click shows the grid's figures, and nothing can be changed
    box = inner.evaluate(  # the grid's middle pixel: its edges may lie under the controls
        """(code) => { const c = gridmap.map.getCanvas(); const hits = [];
        for (let y = 5; y < c.clientHeight; y += 6) for (let x = 5; x < c.clientWidth; x += 6) {
          const h = gridmap.map.queryRenderedFeatures([x, y], {layers: ['grids-fill']});
          if (h.length && h[0].properties.code === code) hits.push([x, y]); }
        return hits[Math.floor(hits.length / 2)]; }""",
        code,
    )
    frame.locator("canvas.maplibregl-canvas").click(position={"x": box[0], "y": box[1]})
    frame.locator(".maplibregl-popup-content").wait_for()
    assert "户数" in frame.locator(".maplibregl-popup-content").inner_text()
    shot(page, "10-embed-in-a-portal")
    # beyond the key's region there is nothing to see, whatever the page asks for
    other = api(live, "GET", "/collections/grids/items?limit=1000", role="embed").json()
    assert other["features"] and all(
        f["properties"]["community"] == community for f in other["features"]
    )
    portal.close()


def test_reports_are_fetched_from_the_map_with_the_key(page: Page, live: Live) -> None:
    page.wait_for_function("document.querySelectorAll('#report-region option').length > 1")
    community = live.served.community
    page.select_option("#report-region", community)
    with page.expect_download() as saved:
        page.click("#reports [data-report=coverage] button[data-format=xlsx]")
    assert saved.value.suggested_filename.startswith(f"coverage-{community}-run")
    assert saved.value.suggested_filename.endswith(".xlsx")
    workbook = openpyxl.load_workbook(io.BytesIO(Path(saved.value.path()).read_bytes()))
    assert community in workbook["概况"]["B1"].value
    with page.expect_popup() as opened:
        page.click("#reports [data-report=plan] button[data-format=html]")
    report = opened.value
    report.wait_for_load_state()
    current = page.evaluate("gridmap.state.config.current_plan")
    assert f"网格方案 {current}" in report.inner_text("h1")
    assert page.is_visible("#report-message.ok")
    with page.expect_download() as ranked:  # a community's grids, ranked; the bottom five
        page.click("#reports [data-report=ranking] button[data-format=csv]")
    assert ranked.value.suggested_filename == f"ranking-{community}-grid.csv"
    table = Path(ranked.value.path()).read_text(encoding="utf-8-sig")
    assert table.startswith("排名,编码,名称,综合得分") and community in table
    shot(page, "11-reports")


def test_an_embed_speaks_as_its_own_address_says_never_as_an_earlier_one(
    browser: Browser, live: Live
) -> None:
    portal = browser.new_context(viewport={"width": 700, "height": 500}, locale="zh-CN")
    page = portal.new_page()
    key = live.served.keys["embed"]
    legend = page.locator("#embed-legend")
    page.goto(f"{live.base}/embed?layers=grids&lang=en&key={key}")
    page.wait_for_function("window.gridmap && gridmap.ready")
    assert "Station" in legend.inner_text()
    page.goto(f"{live.base}/embed?layers=grids&key={key}")  # the same browser, no lang
    page.wait_for_function("window.gridmap && gridmap.ready")
    assert "服务站" in legend.inner_text() and "Station" not in legend.inner_text()
    portal.close()


def test_a_portal_on_another_origin_reads_the_map_with_the_documented_cors_setting(
    browser: Browser, live: Live
) -> None:
    portal = FastAPI()
    portal.get("/", response_class=HTMLResponse)(lambda: "<!doctype html><title>门户</title>")
    served, key = live.served, live.served.keys["embed"]
    ask = """async ([base, key]) => {
        try {
            const reply = await fetch(`${base}/collections/grids/items?limit=2`,
                                      {headers: {Authorization: `Bearer ${key}`}});
            return [reply.status, (await reply.json()).numberReturned];
        } catch (error) { return ['blocked', String(error)]; }
    }"""
    with serving(portal) as origin:
        allowed = create_app(served.settings(cors_origins=[origin]))
        with serving(allowed) as gridmap, serving(create_app(served.settings())) as closed:
            page = browser.new_page()
            page.goto(origin + "/")
            assert page.evaluate(ask, [gridmap, key]) == [200, 2]
            assert page.evaluate(ask, [closed, key])[0] == "blocked"  # no CORS setting
            page.close()


def test_a_case_out_of_bounds_says_why_in_chinese(page: Page) -> None:
    said = page.evaluate("""async () => {
        const { caseText } = await import('/map/src/repartition.js');
        const grid = '990101001001009';
        const message = `grid ${grid}: 501 households, 600 residents, outside the bounds`;
        return [
          caseText({kind: 'out_of_bounds', message, reason: 'unit_too_big',
                    detail: {largest: 501}}),
          caseText({kind: 'out_of_bounds', message}),
          caseText({kind: 'out_of_bounds', message, reason: 'no_such_reason', detail: {}}),
        ]; }""")
    assert said == [
        "网格 990101001001009 户数超出标准：其中一个单元独有 501 户，超过上限，需先拆分该单元",
        "网格 990101001001009 户数超出标准",
        "网格 990101001001009 户数超出标准",
    ]
