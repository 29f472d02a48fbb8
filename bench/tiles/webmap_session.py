"""Benchmark: a planner's session in the web map itself, on the 1M city.

What the page asks for and what the planner waits for.

``session.py`` replays a client that draws a draft from tiles. The web map (static/) does not:
it draws the draft it edits from GeoJSON (the units once when the draft opens, the two grids an
edit touched after each edit) and keeps asking for the current plan's tiles (buildings, stations,
labels) as the planner pans. This benchmark drives that page in Debian's chromium (Playwright,
as the browser tests do) through the same session as ``session.py``, on the same city (built
by bench/jobs' ``build_city``) and the same moves in the street with the most units:

1. *before* (not counted): the current plan viewed along the camera's path of the edits (the
   same viewports at the same zooms, in browse mode: a replayed session, its tiles asked before);
2. *open*: edit mode, a new draft of the current plan made and opened through the form;
3. *edit*: for each move, a pan to the unit (zoom 15, every fifth step out to 14 and in to
   16, then back), the neighbouring grid picked (the pick tool, a click on its unit nearest
   the moved one) and the unit clicked into it; undone with the undo button when the answer
   says it cut a grid in pieces (as session.py does);
4. *accept*: the draft accepted through its dialog; then the browse mode over every fifth
   viewport and the street at zooms 12 and 13.

The server is ``gridmap serve``'s app wrapped by ``recorded_app.py``, which notes each tile it
answers (its source: memory, store or built, and its time in the server); what the browser's
own cache answers never reaches it. Contenders, alternated ``--rounds`` times (the first of the
pair alternating too), load printed: **store** (the tile store, migration 0011) and **memory**
(``GRIDMAP_TILE_STORE_MB=0``). Printed for each phase: the tile requests the server answered,
their hit ratio (memory or store), the tiles built, the server's p50/p99 and the browser's
p50/p99 for the tiles (request to last byte, its cache's answers included); and what the
planner waited for: the draft's opening, each edit (click to the editor idle: saved, the two
grids read again, the checks and the table redrawn), each pan (to the map idle), the accept.

    python bench/tiles/webmap_session.py [--state /tmp/gridmap-bench-jobs] [--rounds 2]
"""

from __future__ import annotations

import math
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
from playwright.sync_api import Page, Response, sync_playwright

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import free_port, load  # noqa: E402  (bench/tiles/run.py)
from session import EDITS, JOBS, Move, city_and_contenders, session_plan  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1400, "height": 860}
TILE = re.compile(r"/tiles/[^/]+/\d+/\d+/\d+")  # a tile's address (not a TileJSON)
WAIT_MS = 600_000  # the whole city's draft is read in one go


def views(step: int) -> tuple[int, ...]:
    """Return the zooms the planner views a move's unit at, step ``step`` of the session.

    Zoom 15, and every fifth step out to 14, in to 16 and back to 15 (as session.py). The
    *before* pass and the *edit* pass both follow it over the same ``moves * 2``, so the
    replay asks for the tiles the session will ask for (the second pass over the moves zooms
    at other moves than the first when their number is not a multiple of five).
    """
    return (15, 14, 16, 15) if step % 5 == 0 else (15,)


def percentile(values: list[float], share: float) -> float:
    """Return the value at ``share`` of the sorted values (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0.0


@dataclass
class Phase:
    """What the server and the browser saw of a phase's tiles, and what the planner waited for."""

    name: str
    sources: Counter[str] = field(default_factory=Counter)
    cold: int = 0  # built at their first request in the session (no cache could hold them)
    server_ms: list[float] = field(default_factory=list)
    browser_ms: list[float] = field(default_factory=list)
    waits: dict[str, list[float]] = field(default_factory=dict)

    def add(self, other: Phase) -> None:
        """Add ``other``'s figures to this phase's."""
        self.sources += other.sources
        self.cold += other.cold
        self.server_ms += other.server_ms
        self.browser_ms += other.browser_ms
        for what, seconds in other.waits.items():
            self.waits.setdefault(what, []).extend(seconds)

    def lines(self) -> list[str]:
        """Return the phase's figures, a line each."""
        n = sum(self.sources.values())
        hits = self.sources["memory"] + self.sources["store"]
        out = [
            f"{self.name:>7}: {n:5d} tiles at the server, hit ratio {hits / n if n else 0:6.1%} "
            f"(memory {self.sources['memory']}, store {self.sources['store']}, "
            f"built {self.sources['built']}: {self.cold} never asked before); "
            f"server p50 {percentile(self.server_ms, 0.5):.1f} / "
            f"p99 {percentile(self.server_ms, 0.99):.1f} ms; "
            f"browser ({len(self.browser_ms)} tiles) p50 {percentile(self.browser_ms, 0.5):.1f}"
            f" / p99 {percentile(self.browser_ms, 0.99):.1f} ms"
        ]
        for what, seconds in self.waits.items():
            median = statistics.median(seconds) * 1000
            out.append(
                f"{'':>9}{what}: {len(seconds)}, median {median:.0f} ms, "
                f"p95 {percentile(seconds, 0.95) * 1000:.0f} ms, worst {max(seconds) * 1000:.0f} ms"
            )
        return out


class Server:
    """The API (``recorded_app``) on the city, the tile store on or off."""

    def __init__(self, env: dict[str, str], store: bool) -> None:
        env = {
            **env,
            "GRIDMAP_TILE_STORE_MB": "2048" if store else "0",
            "GRIDMAP_JOB_WORKERS": "0",
            "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parents[1])]),
        }
        env.pop("GRIDMAP_TILE_CACHE_MB", None)  # the default memory cache in both
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.child = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "--factory", "recorded_app:create_app"),
                *("--port", str(port), "--proxy-headers"),
            ],
            env=env,
            cwd=HERE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        JOBS.wait_healthy(self.base)  # type: ignore[attr-defined]
        self.read = 0

    def notes(self) -> list[dict[str, Any]]:
        """Return the tiles answered since the last call."""
        notes = httpx.get(self.base + "/_bench/tiles", timeout=60).json()
        fresh, self.read = notes[self.read :], len(notes)
        return list(fresh)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.child.terminate()
        self.child.wait(timeout=60)


class Planner:
    """The web map in chromium, its tile responses noted."""

    def __init__(self, page: Page, server: Server) -> None:
        self.page = page
        self.server = server
        self.responses: list[Response] = []
        self.asked: set[str] = set()  # the tiles asked of the server in this session
        page.context.on(  # the context's: the map's workers fetch its tiles
            "response", lambda r: self.responses.append(r) if TILE.search(r.url) else None
        )

    def settle(self, phase: Phase) -> None:
        """Count the tiles asked since the last call into ``phase``."""
        for note in self.server.notes():
            phase.sources[note.get("source") or "?"] += 1
            phase.server_ms.append(note["ms"])
            tile = note["path"] + "?" + note["query"]
            phase.cold += note.get("source") == "built" and tile not in self.asked
            self.asked.add(tile)
            if os.environ.get("BENCH_SHOW_BUILT") and note.get("source") == "built":
                print(f"      built {phase.name}: {tile}", flush=True)
        for response in self.responses:
            response.finished()
            timing = response.request.timing
            if timing["responseEnd"] >= 0:
                phase.browser_ms.append(timing["responseEnd"])
        self.responses.clear()

    def wait(self, phase: Phase, what: str, started: float) -> None:
        """Note in ``phase`` that the planner waited for ``what`` since ``started``."""
        phase.waits.setdefault(what, []).append(time.perf_counter() - started)

    def go(self, lon: float, lat: float, zoom: float, phase: Phase) -> None:
        """Pan (or zoom) the map and wait until it is idle: every tile in view drawn."""
        started = time.perf_counter()
        idle = self.page.evaluate(
            """([lon, lat, zoom]) => new Promise((done) => {
                const map = gridmap.map;
                const late = setTimeout(() => done(false), 60000);
                map.once('idle', () => { clearTimeout(late); done(true); });
                map.jumpTo({center: [lon, lat], zoom});
                map.triggerRepaint(); })""",
            [lon, lat, zoom],
        )
        if not idle:
            print(f"    not idle after 60 s at {zoom}/{lat:.5f}/{lon:.5f}", flush=True)
        self.wait(phase, "pan or zoom to the map idle", started)

    def click_unit(self, code: str) -> None:
        """Click the unit ``code`` where the map draws it (a panel over it closed first)."""
        where = """(code) => {
            const map = gridmap.map, p = map.project(gridmap.draft.points.get(code));
            const c = map.getCanvas().getBoundingClientRect();
            const hit = map.queryRenderedFeatures(p, {layers: ['draft-units-fill']})[0];
            return [c.x + p.x, c.y + p.y,
                    document.elementFromPoint(c.x + p.x, c.y + p.y) === map.getCanvas(),
                    !!hit && hit.properties.code === code]; }"""
        x, y, on_map, drawn = self.page.evaluate(where, code)
        if not on_map and self.page.is_visible("#grid-panel"):
            self.page.click("#grid-panel-close")
            x, y, on_map, drawn = self.page.evaluate(where, code)
        if not (on_map and drawn):
            self.page.wait_for_function(
                f"(code) => ({where})(code)[2] && ({where})(code)[3]", arg=code, timeout=WAIT_MS
            )
            x, y, _, _ = self.page.evaluate(where, code)
        self.page.mouse.click(x, y)

    def neighbour_in(self, unit: str, grid: str) -> str:
        """Return the unit of ``grid`` nearest ``unit`` (the moved unit touches that grid)."""
        return str(
            self.page.evaluate(
                """([unit, grid]) => {
                const d = gridmap.draft, [x, y] = d.points.get(unit);
                let best = null, far = Infinity;
                for (const [code, f] of d.units) {
                    if (f.properties.grid !== grid) continue;
                    const [u, v] = d.points.get(code), r = (u - x) ** 2 + (v - y) ** 2;
                    if (r < far) { far = r; best = code; }
                }
                return best; }""",
                [unit, grid],
            )
        )

    def idle_editor(self) -> int:
        """Wait until the editor has done all it queued; return the draft's revision (0: none)."""
        idle = "gridmap.editor.busy.then(() => gridmap.draft.revision || 0)"
        return int(self.page.evaluate(idle))

    def edit(self, move: Move, phase: Phase) -> int:
        """Pick the other grid of ``move`` and click the unit into it; undo a cut; return edits.

        The other grid is ``move.away`` while the unit is at home, else its home (a second
        pass over the moves takes them back).
        """
        now = self.page.evaluate(f"gridmap.draft.units.get('{move.unit}').properties.grid")
        target = move.away if now == move.home else move.home
        self.page.click("#edit-tools button[data-tool=pick]")
        self.click_unit(self.neighbour_in(move.unit, target))
        self.page.wait_for_function(f"gridmap.editor.target === '{target}'", timeout=WAIT_MS)
        revision = self.idle_editor()
        started = time.perf_counter()
        with self.page.expect_response(
            lambda r: r.request.method == "PATCH", timeout=WAIT_MS
        ) as edited:
            self.click_unit(move.unit)
        assert self.idle_editor() == revision + 1, "the edit was not saved"
        self.wait(phase, "edit (click to the editor idle)", started)
        answer = edited.value.json()
        cut = [
            g
            for g in answer["grids"]
            if g.get("pieces", 1) > 1 and (g.get("pieces_before") or 1) <= 1
        ]
        if not cut:
            return 1
        started = time.perf_counter()
        self.page.click("#undo")
        assert self.idle_editor() == revision + 2, "the undo was not saved"
        self.wait(phase, "undo (click to the editor idle)", started)
        return 2


def one_session(env: dict[str, str], key: str, url: str, store: bool) -> dict[str, Phase]:
    """Drive the session on a fresh server, the store on or off; return its phases."""
    moves, bbox = session_plan(url)
    centre = ((bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2)
    phases = {name: Phase(name) for name in ("before", "open", "edit", "accept")}
    with Server(env, store) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
        )
        page = browser.new_context(viewport=VIEWPORT, locale="zh-CN").new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        first = moves[0]
        page.goto(f"{server.base}/map/#key={key}&map=15/{first.lat}/{first.lon}")
        page.wait_for_function(
            "window.gridmap && window.gridmap.ready && gridmap.map.loaded()", timeout=WAIT_MS
        )
        planner = Planner(page, server)
        before = phases["before"]
        for k, move in enumerate(moves * 2):  # the camera's path of the edits, as it will be
            for zoom in views(k):
                planner.go(move.lon, move.lat, zoom, before)
        for zoom in (12, 13):
            planner.go(*centre, zoom, before)
        planner.go(first.lon, first.lat, 15, before)
        planner.settle(before)
        print(f"    before: {sum(before.sources.values())} tiles", flush=True)

        opened = phases["open"]  # a new draft of the current plan, through the form
        page.click("button[data-mode=edit]")
        planner.idle_editor()
        page.click("#plan-new")
        page.wait_for_selector("#new-draft:not([hidden])")
        started = time.perf_counter()
        with page.expect_response(
            lambda r: r.url.endswith("/plans") and r.request.method == "POST", timeout=WAIT_MS
        ) as made:
            page.click("#new-draft button[type=submit]")
        plan = int(made.value.json()["id"])
        page.wait_for_function(f"gridmap.draft.plan === {plan}", timeout=WAIT_MS)
        planner.idle_editor()
        planner.wait(opened, "open a new draft (submit to the editor idle)", started)
        planner.settle(opened)
        print(f"    open: draft {plan}", flush=True)

        edit, edits = phases["edit"], 0
        for k, move in enumerate(moves * 2):
            if edits >= EDITS:
                break
            for zoom in views(k):
                planner.go(move.lon, move.lat, zoom, edit)
            edits += planner.edit(move, edit)
            print(f"    edits: {edits}", end="\r", flush=True)
        planner.settle(edit)

        accept = phases["accept"]
        page.click("#plan-accept-open")
        page.wait_for_selector("#accept-dialog[open]", timeout=WAIT_MS)
        started = time.perf_counter()
        with page.expect_response(
            lambda r: r.url.endswith(f"/plans/{plan}/accept"), timeout=WAIT_MS
        ) as accepted:
            page.click("#accept-confirm")
        assert accepted.value.status == 200, accepted.value.text()
        page.wait_for_selector("#edit-message.ok", timeout=WAIT_MS)
        planner.wait(accept, "accept (confirm to the answer said)", started)
        page.click("button[data-mode=browse]")
        for move in moves[::5]:
            planner.go(move.lon, move.lat, 15, accept)
        for zoom in (12, 13):
            planner.go(*centre, zoom, accept)
        planner.settle(accept)
        browser.close()
    return phases


def main() -> None:
    """Run the contenders in turn and print their figures."""
    env, key, url, order, _ = city_and_contenders(__doc__.splitlines()[0])
    totals: dict[str, Phase] = {}
    for store in order:
        name = "store" if store else "memory"
        print(f"{name} ({load()}):", flush=True)
        phases = one_session(env, key, url, store)
        for phase in phases.values():
            for line in phase.lines():
                print("  " + line, flush=True)
        both = Phase("session")
        both.add(phases["edit"])
        both.add(phases["accept"])
        for line in both.lines():
            print("  " + line, flush=True)
        totals.setdefault(name, Phase(name)).add(both)
    print("all rounds, phases 3 and 4:")
    for total in totals.values():
        for line in total.lines():
            print("  " + line)


if __name__ == "__main__":
    main()
