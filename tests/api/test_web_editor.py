"""A planner finishes a draft in the browser alone, at 1400 and at 390 px wide.

Open a draft from the current plan, split the oversize grid, merge a small one into a neighbour,
paint a unit and undo it, see the checks clear, lock a grid and run an adjust on the draft that
keeps it, review the before/after, and accept through the confirmation; a reload at the steps
returns to them, and Back returns to the mode before. Every figure is checked against the API
(or the database), and each step is saved as a screenshot under ``build/screenshots``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from playwright.sync_api import Browser, Page
from sqlalchemy import text

from tests.api.conftest import Live
from tests.api.test_web_map import (  # noqa: F401  (browser and restored are fixtures)
    WAIT_MS,
    api,
    browser,
    households,
    restored,
    shot,
    unit_pixel,
    wait_drawn,
    watch,
)

WIDTHS = {"wide": {"width": 1400, "height": 860}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=sorted(WIDTHS))
def width(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def planner_page(browser: Browser, live: Live, restored: None, width: str) -> Iterator[Page]:  # noqa: F811
    """The web map at ``width`` with the admin key; no script error may happen on it."""
    context = browser.new_context(viewport=WIDTHS[width], locale="zh-CN")
    page = context.new_page()
    errors, failed = watch(page)
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live.base}/map/#key={live.served.keys['admin']}")
    ready(page)
    yield page
    context.close()
    assert not errors, (errors, failed)


def ready(page: Page) -> None:
    page.wait_for_function(
        "window.gridmap && window.gridmap.ready && gridmap.map.loaded()", timeout=WAIT_MS
    )


def hash_state(page: Page) -> dict[str, str]:
    pairs = page.evaluate("location.hash.slice(1)").split("&")
    return dict(p.split("=", 1) for p in pairs if "=" in p)


def plan_grids(live: Live, plan: int) -> dict[str, dict[str, Any]]:
    return {g["code"]: g for g in api(live, "GET", f"/plans/{plan}/grids").json()}


def units_of(live: Live, plan: int) -> dict[str, str]:
    return api(live, "GET", f"/plans/{plan}/units").json()


def table_rows(page: Page) -> list[dict[str, str]]:
    return page.evaluate("""() => [...document.querySelectorAll('#grid-table tr[data-grid]')]
        .map(tr => ({grid: tr.dataset.grid, state: tr.dataset.state}))""")


def open_by_address(page: Page, live: Live, name: str) -> int:
    """Make a draft copied from the current plan and open it by a shared link; return its id."""
    plan = int(api(live, "POST", "/plans", json={"name": name, "source": "current"}).json()["id"])
    page.goto(f"{live.base}/map/#mode=edit&plan={plan}")
    ready(page)
    page.wait_for_function(f"gridmap.draft.plan === {plan} && gridmap.draft.units.size > 0")
    wait_revision(page, 1)
    return plan


def wait_revision(page: Page, revision: int) -> None:
    """Wait until the draft, its table and its checks all show ``revision`` of the plan."""
    page.wait_for_function(
        f"""gridmap.draft.revision === {revision}
        && document.querySelector('#grid-table').dataset.revision === '{revision}'
        && document.querySelector('#grid-table').dataset.plan === String(gridmap.draft.plan)""",
        timeout=WAIT_MS,
    )


def side(page: Page, width: str, open_: bool) -> None:
    """On a phone the side panel is a sheet over the map: fold it away to reach the map."""
    if width != "phone":
        return
    closed = page.evaluate("document.body.classList.contains('side-closed')")
    if closed == open_:
        page.click("#side-toggle")
        page.wait_for_timeout(300)


def test_a_planner_finishes_a_draft_in_the_browser(
    planner_page: Page, live: Live, width: str
) -> None:
    page = planner_page
    name = f"7-{width}"
    current = page.evaluate("gridmap.state.config.current_plan")
    if width == "phone":  # a full-width map; the panel folds away
        box = page.evaluate(
            "JSON.stringify(document.getElementById('map').getBoundingClientRect())"
        )
        assert '"width":390' in box
    # 1. a draft from the current plan; the address keeps it through a reload
    page.click("button[data-mode=edit]")
    page.wait_for_function("document.querySelector('#plan-select').options.length > 0")
    page.click("#plan-new")
    page.wait_for_selector("#new-draft:not([hidden])")
    page.fill("#new-draft-name", f"浏览器草案 {width}")
    with page.expect_response(
        lambda r: r.url.endswith("/plans") and r.request.method == "POST"
    ) as made:
        page.click("#new-draft button[type=submit]")
    plan = int(made.value.json()["id"])
    page.wait_for_function(f"gridmap.draft.plan === {plan} && gridmap.draft.units.size > 0")
    wait_revision(page, 1)
    page.wait_for_function(f"location.hash.includes('plan={plan}')")  # the address keeps it
    assert hash_state(page)["mode"] == "edit" and hash_state(page)["plan"] == str(plan)
    page.reload()
    ready(page)
    page.wait_for_function(f"gridmap.draft.plan === {plan}", timeout=WAIT_MS)
    assert page.evaluate("gridmap.state.mode") == "edit"
    shot(page, f"{name}-1-draft")

    # 2. the table: problems first, with a summary line; split the oversize grid into two
    before = plan_grids(live, plan)
    rows = table_rows(page)
    assert len(rows) == len(before)
    over = [r["grid"] for r in rows if r["state"] == "over"]
    assert over and rows[0]["state"] != "within", rows[:3]  # problems first
    bounds = api(live, "GET", "/map/config.json").json()["bounds"]
    n_out = sum(
        1
        for g in before.values()
        if not (
            (b := bounds.get(g["kind"], bounds["urban"]))["min_households"]
            <= g["households"]
            <= b["max_households"]
        )
    )
    assert page.inner_text("#grid-table-summary").startswith(
        f"{len(before)} 个网格中 {n_out} 个超出标准"
    )
    grid = over[0]
    page.click(f"#grid-table tr[data-grid='{grid}']")
    page.wait_for_function(f"gridmap.editor.target === '{grid}'")
    assert hash_state(page)["grid"] == grid
    page.reload()  # the targeted grid comes back with the draft
    ready(page)
    page.wait_for_function(f"gridmap.editor.target === '{grid}'", timeout=WAIT_MS)
    page.fill("#split-k", "2")
    page.click("#grid-split")
    page.wait_for_selector("#split-preview:not([hidden])")
    parts = page.locator("#split-parts li").all_inner_texts()
    assert len(parts) == 2 and parts[0].strip().startswith(grid)
    shot(page, f"{name}-2-split-preview")
    page.click("#split-apply")
    wait_revision(page, 2)
    after = plan_grids(live, plan)
    made_codes = sorted(set(after) - set(before))
    assert len(made_codes) == 1 and grid in after
    assert (
        after[grid]["households"] + after[made_codes[0]]["households"] == before[grid]["households"]
    )
    page.wait_for_function(
        "code => document.querySelector('#edit-message').textContent.includes('新网格：' + code)",
        arg=made_codes[0],
    )
    assert page.locator(f"#grid-table tr[data-grid='{made_codes[0]}']").count() == 1

    # 3. merge the smallest grid that shares a community with another into the nearest one
    split = {grid, *made_codes}  # a merge elsewhere: not the split's parts back together
    small = sorted(
        (
            g
            for g in after.values()
            if g["code"] not in split
            and sum(
                o["community"] == g["community"] and o["code"] not in split for o in after.values()
            )
            > 1
        ),
        key=lambda g: (g["households"], g["code"]),
    )[0]
    page.click(f"#grid-table tr[data-grid='{small['code']}']")
    page.wait_for_function(f"gridmap.editor.target === '{small['code']}'")
    choices = page.locator("#merge-with option").evaluate_all("os => os.map(o => o.value)")
    other = next(c for c in choices if c not in split)  # the nearest first
    page.select_option("#merge-with", other)
    assert after[other]["community"] == small["community"]
    page.click("#grid-merge")
    wait_revision(page, 3)
    merged = plan_grids(live, plan)
    assert other not in merged
    assert merged[small["code"]]["households"] == small["households"] + after[other]["households"]
    page.wait_for_function(  # a retired grid cannot be undone into: the history is cleared
        "document.querySelector('#edit-message').textContent.includes('不能撤销')"
    )
    assert page.is_disabled("#undo")
    shot(page, f"{name}-3-merged")

    # 4. paint a unit of a neighbouring grid with the brush, then undo it
    units = units_of(live, plan)
    pair = page.evaluate(
        """(target) => {
        const d = gridmap.draft;
        const mine = [...d.units.values()].map(f => f.properties).filter(u => u.grid === target);
        const community = mine[0].community;
        const others = [...d.units.values()].map(f => f.properties)
          .filter(u => u.community === community && u.grid !== target && u.households > 0);
        const near = others.map(u => {
          const [x, y] = d.points.get(u.code);
          const best = Math.min(...mine.map(m => { const [a, b] = d.points.get(m.code);
            return Math.hypot(a - x, b - y); }));
          return [best, u.code]; }).sort((a, b) => a[0] - b[0]);
        return near.length ? near[0][1] : null; }""",
        small["code"],
    )
    assert pair, "a unit of another grid of the community"
    side(page, width, open_=False)
    page.evaluate(
        f"""gridmap.map.jumpTo({{center: gridmap.draft.points.get('{pair}'), zoom: 16}})"""
    )
    page.wait_for_function("gridmap.map.loaded()")
    page.keyboard.press("b")  # the brush, by its shortcut
    assert page.evaluate("gridmap.editor.tool") == "brush"
    x, y = unit_pixel(page, pair)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 2, y + 1, steps=3)
    page.mouse.up()
    wait_revision(page, 4)
    assert units_of(live, plan)[pair] == small["code"] != units[pair]
    shot(page, f"{name}-4-painted")
    page.keyboard.press("Control+z")
    wait_revision(page, 5)
    assert units_of(live, plan)[pair] == units[pair]
    page.wait_for_function(  # it says the move was undone, not that a unit was moved
        "document.querySelector('#edit-message').textContent === '已撤销：1 个单元移回原网格'"
    )
    side(page, width, open_=True)

    # 5. the checks clear (as the API says), each finding with a zoom-to
    check = api(live, "GET", f"/plans/{plan}/check").json()
    page.wait_for_function(
        "gridmap.draft.revision === 5 && document.querySelector('#checks-summary').className !== ''"
    )
    summary = page.inner_text("#checks-summary")
    assert summary.startswith("通过") if check["ok"] else summary.startswith("未通过")
    assert page.locator("#checks-list li").count() == len(check["findings"])
    assert check["ok"], check["findings"][:3]
    shot(page, f"{name}-5-checks")

    # 6. lock the split grid in the table; an adjust on this draft keeps it
    page.check(f"#grid-table tr[data-grid='{grid}'] input[type=checkbox]")
    page.wait_for_function("gridmap.draft.revision === 6")
    assert plan_grids(live, plan)[grid]["locked"] is True
    kept_units = {u for u, g in units_of(live, plan).items() if g == grid}
    page.click("button[data-mode=repartition]")
    page.wait_for_function(f"document.querySelector('#partition-plan').value === '{plan}'")
    page.select_option("select[name=mode]", "adjust")
    page.click("#partition-form button[type=submit]")
    page.wait_for_selector("#preview:not([hidden])", timeout=120_000)
    assert {u for u, g in units_of(live, plan).items() if g == grid} == kept_units
    diff = api(live, "GET", f"/plans/{plan}/diff").json()
    assert page.inner_text("#preview-lists dd[data-list=retired]") == (
        "、".join(diff["retired"]) or "—"
    )
    assert other in diff["retired"]
    assert page.evaluate("gridmap.map.getLayoutProperty('grids-line', 'visibility')") == "visible"
    if not diff["units_moved"]:
        assert "没有单元被调整" in page.inner_text("#repartition-message")
    steps = page.inner_text("#preview")
    assert "loading" not in steps and "partitioning" not in steps  # in Chinese
    assert hash_state(page) == {**hash_state(page), "mode": "repartition", "plan": str(plan)}
    shot(page, f"{name}-6-adjust-preview")
    page.reload()  # the preview comes back
    ready(page)
    page.wait_for_selector("#preview:not([hidden])", timeout=WAIT_MS)
    assert page.evaluate("gridmap.repartition.plan") == plan
    page.go_back()  # Back: the edit mode before it
    page.wait_for_function("gridmap.state.mode === 'edit'", timeout=WAIT_MS)
    page.go_forward()
    page.wait_for_function("gridmap.state.mode === 'repartition'", timeout=WAIT_MS)
    page.wait_for_selector("#preview:not([hidden])", timeout=WAIT_MS)

    # 7. accept through the confirmation: what changes, who is left without a grid
    page.click("#plan-accept")
    page.wait_for_selector("#accept-dialog[open]")
    assert page.inner_text("#accept-diff dd[data-list=retired]").startswith(diff["retired"][0])
    staffed = {s["grid"] for s in diff["staff_without_grid"]}
    shown = set(
        page.locator("#accept-staff li").evaluate_all("els => els.map(e => e.dataset.grid)")
    )
    assert shown == staffed
    shot(page, f"{name}-7-confirm")
    page.click("#accept-confirm")
    page.wait_for_selector("#repartition-message.ok", timeout=WAIT_MS)
    assert api(live, "GET", f"/plans/{plan}").json()["status"] == "current"
    assert api(live, "GET", f"/plans/{current}").json()["status"] == "archived"
    page.click("button[data-mode=browse]")
    figures = households(live, plan)
    wait_drawn(page, figures)
    shot(page, f"{name}-8-accepted")
    with live.served.engine.begin() as connection:  # the next width starts from the same plan
        connection.execute(text("UPDATE plan SET status = 'archived' WHERE id = :p"), {"p": plan})
        connection.execute(text("UPDATE plan SET status = 'current' WHERE id = :p"), {"p": current})


@pytest.fixture
def wide_page(browser: Browser, live: Live, restored: None) -> Iterator[Page]:  # noqa: F811
    """The web map at 1400 px with the admin key (a 409 is expected: a locked grid's unit)."""
    context = browser.new_context(viewport=WIDTHS["wide"], locale="zh-CN")
    page = context.new_page()
    errors, failed = watch(page, allowed="status of 409")
    page.goto(f"{live.base}/map/#key={live.served.keys['admin']}")
    ready(page)
    yield page
    context.close()
    assert not errors, (errors, failed)


def test_search_ignores_case_and_names_streets_as_streets(wide_page: Page, live: Live) -> None:
    page = wide_page
    regions = api(live, "GET", "/collections/regions/items?limit=1000").json()["features"]
    street = next(f["properties"] for f in regions if f["properties"]["level"] == "street")
    piece = street["name"][:4].swapcase()
    page.fill("#search-input", piece)
    hit = f"#search-results li[data-collection=regions][data-id='{street['code']}']"
    page.wait_for_selector(hit)
    assert page.get_attribute(hit, "data-level") == "street"
    assert page.inner_text(hit).startswith("街道 · ")
    shot(page, "7c-search")


def test_a_server_refusal_is_said_in_chinese(wide_page: Page, live: Live) -> None:
    page = wide_page
    plan = open_by_address(page, live, "锁定测试")
    pair = page.evaluate("""() => {
        const units = [...gridmap.draft.units.values()].map(f => f.properties);
        for (const a of units) for (const b of units)
          if (a.community === b.community && a.grid !== b.grid)
            return {target: a.grid, unit: b.code, from: b.grid};
        return null; }""")
    page.check(f"#grid-table tr[data-grid='{pair['from']}'] input[type=checkbox]")  # lock it
    page.wait_for_function("gridmap.draft.revision === 2")
    page.click(f"#grid-table tr[data-grid='{pair['target']}']")
    page.wait_for_function(f"gridmap.editor.target === '{pair['target']}'")
    page.evaluate(f"import('./src/editor.js').then(m => m.moveIntoTarget(['{pair['unit']}']))")
    page.wait_for_selector("#edit-message.error")
    assert page.inner_text("#edit-message") == "出错了：涉及的网格已锁定，请先解锁"
    assert api(live, "GET", f"/plans/{plan}/units").json()[pair["unit"]] == pair["from"]


def test_the_coverage_ramp_separates_the_city_s_grids(wide_page: Page, live: Live) -> None:
    page = wide_page
    rates = sorted(
        f["properties"]["coverage"]
        for f in api(live, "GET", "/collections/grids/items?limit=1000").json()["features"]
        if f["properties"]["coverage"] is not None
    )
    stops = page.evaluate("gridmap.state.stops.map(s => s[0])")
    quartiles = sorted({float(np.percentile(rates, q)) for q in (0, 25, 50, 75, 100)})
    assert stops == pytest.approx(quartiles)  # the city's own quartiles, not fixed 50/80/90%
    page.check("#colour-by input[value=coverage]")
    page.wait_for_function("gridmap.map.loaded()")
    colours = page.evaluate("""() => new Set(gridmap.map.queryRenderedFeatures(
        {layers: ['grids-fill']}).map(f => JSON.stringify(f.layer.paint['fill-color']))).size""")
    assert colours >= 3
    legend = page.inner_text("#legend-items")
    assert f"{quartiles[0] * 100:.1f}%" in legend and f"{quartiles[-1] * 100:.1f}%" in legend
    shot(page, "7d-coverage-ramp")


def test_the_block_brush_moves_a_unit_and_the_units_that_share_its_boundary(
    wide_page: Page, live: Live
) -> None:
    page = wide_page
    plan = open_by_address(page, live, "街区画笔")
    with live.served.engine.connect() as connection:  # neighbours by shared boundary, in PostGIS
        rows = connection.execute(
            text("""
            SELECT a.code, array_agg(b.code ORDER BY b.code) FILTER (WHERE b.code IS NOT NULL),
                   min(ga.code), r.code
            FROM unit a JOIN assignment x ON x.unit_id = a.id AND x.plan_id = :p
            JOIN grid ga ON ga.id = x.grid_id JOIN region r ON r.id = a.community_id
            LEFT JOIN unit b ON b.id <> a.id AND b.community_id = a.community_id
                 AND ST_Length(ST_Intersection(ST_Boundary(a.geom), ST_Boundary(b.geom))) > 0
            GROUP BY a.code, r.code ORDER BY count(b.id) DESC, a.code LIMIT 1
        """),
            {"p": plan},
        ).one()
    unit, neighbours, grid, community = rows[0], list(rows[1] or []), rows[2], rows[3]
    units = api(live, "GET", f"/plans/{plan}/units").json()
    target = next(  # a grid of the community other than the unit's
        g for u, g in sorted(units.items()) if g != grid and u[:12] == community
    )
    page.click(f"#grid-table tr[data-grid='{target}']")
    page.wait_for_function(f"gridmap.editor.target === '{target}'")
    page.keyboard.press("b")  # the brush shows its sizes
    page.select_option("#brush-size", "block")
    page.evaluate(f"gridmap.map.jumpTo({{center: gridmap.draft.points.get('{unit}'), zoom: 17}})")
    page.wait_for_function("gridmap.map.loaded()")
    x, y = unit_pixel(page, unit)
    grids_read: list[str] = []
    page.on("request", lambda r: grids_read.append(r.url) if "/grids/items?" in r.url else 0)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.up()
    wait_revision(page, 2)
    after = api(live, "GET", f"/plans/{plan}/units").json()
    moved = {u for u in after if after[u] != units[u]}
    assert moved == ({unit, *neighbours} - {u for u in units if units[u] == target})
    assert all(after[u] == target for u in moved)
    # the map read again only the grids the move touched, and draws every grid as the server has it
    touched = sorted({target} | {units[u] for u in moved})
    filters = [parse_qs(urlsplit(u).query).get("filter") for u in grids_read]
    assert filters == [["code IN (" + ", ".join(f"'{c}'" for c in touched) + ")"]], grids_read
    served = api(live, "GET", f"/collections/grids/items?plan={plan}&limit=10000").json()
    drawn = page.evaluate(
        """Object.fromEntries(gridmap.draft.gridFeatures.features.map(
            (f) => [f.properties.code, [f.properties.households, f.geometry,
                                        gridmap.draft.grids.get(f.properties.code).households]]))"""
    )
    assert drawn == {
        (p := f["properties"])["code"]: [p["households"], f["geometry"], p["households"]]
        for f in served["features"]
    }


def test_a_long_table_lists_the_first_rows_of_its_order_and_the_grid_picked(
    wide_page: Page, live: Live
) -> None:
    """A city of many grids lists the first ``limit`` rows of the table's order, says so, and
    lists the grid picked on the map even when it falls beyond them."""
    page = wide_page
    plan = open_by_address(page, live, "长表")
    codes = sorted(plan_grids(live, plan))
    assert len(codes) > 4
    page.evaluate("gridmap.gridTable.limit = 3")
    page.click("#grid-table th[data-key=code]")  # by code, ascending: drawn again
    listed = lambda: [r["grid"] for r in table_rows(page)]  # noqa: E731
    assert listed() == codes[:3]
    assert page.inner_text("#grid-table-summary").endswith("按当前排序列出前 3 个")
    last = codes[-1]
    units = units_of(live, plan)
    unit = next(u for u, g in sorted(units.items()) if g == last)
    page.evaluate(f"gridmap.map.jumpTo({{center: gridmap.draft.points.get('{unit}'), zoom: 16}})")
    page.wait_for_function("gridmap.map.loaded()")
    page.mouse.click(*unit_pixel(page, unit))  # the pick tool: the unit's grid is the target
    page.wait_for_function(f"gridmap.editor.target === '{last}'")
    assert listed() == [*codes[:3], last]
    selected = page.locator("#grid-table tr.selected").evaluate_all(
        "rs => rs.map(r => r.dataset.grid)"
    )
    assert selected == [last]
    # the checks likewise: the first findings (errors first), all counted in the summary
    check = api(live, "GET", f"/plans/{plan}/check").json()
    assert len(check["findings"]) > 1
    page.evaluate("gridmap.checks.limit = 1")
    page.click("#lang")  # drawn again, in English
    assert page.locator("#checks-list li").count() == 1
    summary = page.inner_text("#checks-summary")
    assert summary.endswith("; the first 1 listed") and f"{check['warnings']} warnings" in summary
    page.click("#lang")


def test_a_new_grid_starts_from_the_unit_clicked_with_the_next_code(
    wide_page: Page, live: Live
) -> None:
    page = wide_page
    plan = open_by_address(page, live, "新网格")
    units = api(live, "GET", f"/plans/{plan}/units").json()
    grids = plan_grids(live, plan)
    # a unit of a grid with several units, so that its grid stays
    unit = next(u for u, g in sorted(units.items()) if sum(x == g for x in units.values()) > 2)
    community = grids[units[unit]]["community"]
    with live.served.engine.connect() as connection:
        codes = connection.execute(text("SELECT code FROM grid")).scalars().all()
    serials = [
        int(c[-3:]) for c in codes if c.startswith(community) and len(c) == len(community) + 3
    ]
    expected = f"{community}{max(serials) + 1:03d}"
    page.keyboard.press("n")  # "new grid", then the unit it starts from
    assert page.evaluate("gridmap.editor.tool") == "seed"
    assert "起点" in page.inner_text("#edit-message")
    page.evaluate(f"gridmap.map.jumpTo({{center: gridmap.draft.points.get('{unit}'), zoom: 17}})")
    page.wait_for_function("gridmap.map.loaded()")
    page.mouse.click(*unit_pixel(page, unit))
    wait_revision(page, 2)
    assert api(live, "GET", f"/plans/{plan}/units").json()[unit] == expected
    assert page.evaluate("gridmap.editor.target") == expected  # the new grid is the target
    assert page.locator(f"#grid-table tr[data-grid='{expected}']").count() == 1
    page.wait_for_function(
        "code => document.querySelector('#edit-message').textContent.includes(code)", arg=expected
    )
    shot(page, "7e-new-grid")
    page.click("#lang")  # the editor in English too
    assert page.inner_text("#grid-table th[data-key=households]") == "Households"
    assert page.inner_text("#checks-summary").startswith(("Passed", "Failed"))
    assert page.inner_text("#plan-rename") == "Rename"
    shot(page, "7f-editor-english")
    page.click("#lang")


def test_a_draft_is_renamed_exported_and_deleted_from_the_browser(
    wide_page: Page, live: Live
) -> None:
    page = wide_page
    plan = open_by_address(page, live, "待删草案")
    page.once("dialog", lambda dialog: dialog.accept("改名后的草案"))
    page.click("#plan-rename")
    page.wait_for_function("gridmap.draft.revision === 2")
    assert api(live, "GET", f"/plans/{plan}").json()["name"] == "改名后的草案"
    assert "改名后的草案" in page.inner_text("#plan-select")
    with page.expect_download() as saved:
        page.click("#draft-files button[data-export=csv]")
    rows = saved.value.path().read_text(encoding="utf-8-sig").strip().splitlines()
    units = api(live, "GET", f"/plans/{plan}/units").json()
    assert rows[0] == "unit,grid,name,kind" and len(rows) - 1 == len(units)
    page.once("dialog", lambda dialog: dialog.accept())  # "delete draft …?"
    page.click("#plan-delete")
    page.wait_for_function(f"gridmap.draft.plan !== {plan}")
    assert api(live, "GET", f"/plans/{plan}").status_code == 404
    listed = page.input_value("#plan-select")  # the draft listed is the draft shown
    page.wait_for_function("v => String(gridmap.draft.plan || '') === v", arg=listed)
