"""Plans, jobs and coverage questions over the API, on the demo city."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from typing import Any

import httpx2 as httpx
import mapbox_vector_tile
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.api.conftest import Live, Served
from tests.api.test_tiles import CENTRE, tile_of


def wait(api: TestClient, served: Served, location: str, seconds: float = 120) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        job = api.get(location.replace("http://testserver", ""), headers=served.headers("viewer"))
        assert job.status_code == 200
        body = job.json()
        if body["status"] not in ("queued", "running"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.1)


def draft(api: TestClient, served: Served, name: str = "草案") -> tuple[int, str]:
    made = api.post(
        "/plans", json={"name": name, "source": "current"}, headers=served.headers("planner")
    )
    assert made.status_code == 201, made.text
    return made.json()["id"], made.headers["etag"]


def assignment(served: Served, plan: int) -> dict[str, str]:
    with served.engine.connect() as connection:
        return dict(
            connection.execute(
                text(
                    "SELECT u.code, g.code FROM assignment a JOIN unit u ON u.id = a.unit_id "
                    "JOIN grid g ON g.id = a.grid_id WHERE a.plan_id = :p"
                ),
                {"p": plan},
            ).all()
        )


def test_a_re_partition_runs_as_a_job_and_an_admin_accepts_it(
    api: TestClient, served: Served
) -> None:
    plan, _ = draft(api, served)
    started = api.post(
        "/jobs/partition",
        json={"plan": plan, "mode": "adjust", "max": 450, "target": 380},
        headers=served.headers("planner"),
    )
    assert started.status_code == 202 and started.json()["status"] in ("queued", "running")
    done = wait(api, served, started.headers["location"])
    assert done["status"] == "succeeded", done
    assert done["progress"]["fraction"] == 1 and done["result"]["plan"] == plan
    diff = api.get(f"/plans/{plan}/diff", headers=served.headers("viewer")).json()
    assert diff["units_moved"] == len(diff["moved_units"]) > 0
    assert {m["unit"] for m in diff["moved_units"]} <= set(assignment(served, plan))
    refused = api.post(f"/plans/{plan}/accept", headers=served.headers("planner"))
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    admin = served.headers("admin")
    assert api.post(f"/plans/{plan}/accept", headers=admin).status_code == 428
    revision = done["result"]["revision"]
    stale = api.post(f"/plans/{plan}/accept", headers={**admin, "If-Match": f'"{revision - 1}"'})
    assert stale.status_code == 412 and "revision" in stale.json()["detail"]
    accepted = api.post(f"/plans/{plan}/accept", headers={**admin, "If-Match": f'"{revision}"'})
    assert accepted.status_code == 200 and accepted.json()["status"] == "current"
    z, x, y = tile_of(*CENTRE, 14)  # the map shows the accepted plan's grids at once
    tile = api.get(f"/tiles/gridmap/{z}/{x}/{y}.mvt", headers=served.headers("viewer"))
    shown = {
        f["properties"]["code"]
        for f in mapbox_vector_tile.decode(tile.content)["grids"]["features"]
    }
    assert shown <= set(assignment(served, plan).values()) and shown


def test_a_coverage_run_as_a_job_is_served_at_once(api: TestClient, served: Served) -> None:
    started = api.post("/jobs/coverage", json={"minutes": 4}, headers=served.headers("planner"))
    assert started.status_code == 202
    done = wait(api, served, started.headers["location"])
    assert done["status"] == "succeeded", done
    run = done["result"]["run"]
    circles = api.get("/collections/circles/items", headers=served.headers("viewer")).json()
    assert {f["properties"]["run"] for f in circles["features"]} == {run}
    assert 0 <= done["result"]["figures"]["rate_residents"] <= 1
    bad = api.post("/jobs/coverage", json={"minutes": -1}, headers=served.headers("planner"))
    assert bad.status_code == 400 and "minutes" in bad.json()["detail"]


def test_moving_units_needs_the_revision_and_updates_the_grids(
    api: TestClient, served: Served
) -> None:
    plan, etag = draft(api, served, "手工")
    grids = {
        g["code"]: g
        for g in api.get(f"/plans/{plan}/grids", headers=served.headers("viewer")).json()
    }
    units = assignment(served, plan)
    unit, source = next(iter(sorted(units.items())))
    target = next(c for c in sorted(grids) if c != source and c[:12] == source[:12])
    move = {"moves": [{"unit": unit, "grid": target}]}
    h = served.headers("planner")
    assert api.patch(f"/plans/{plan}", json=move, headers=h).status_code == 428
    assert (
        api.patch(f"/plans/{plan}", json=move, headers={**h, "If-Match": '"999"'}).status_code
        == 412
    )
    assert (
        api.patch(f"/plans/{plan}", json=move, headers=served.headers("viewer")).status_code == 403
    )
    done = api.patch(f"/plans/{plan}", json=move, headers={**h, "If-Match": etag})
    assert done.status_code == 200, done.text
    assert done.headers["etag"] == f'"{int(etag.strip(chr(34))) + 1}"'
    after = {g["code"]: g for g in done.json()["grids"]}
    with served.engine.connect() as connection:
        moved = connection.execute(
            text("SELECT households FROM unit WHERE code = :c"), {"c": unit}
        ).scalar_one()
    assert after[target]["households"] == grids[target]["households"] + moved
    assert after.get(source, {"households": 0})["households"] == grids[source]["households"] - moved
    stale = api.patch(f"/plans/{plan}", json=move, headers={**h, "If-Match": etag})
    assert stale.status_code == 412 and "revision" in stale.json()["detail"]
    for bad, field in [
        ({"moves": [{"unit": "no", "grid": target}]}, "moves[0].unit"),
        ({"moves": [{"unit": unit, "grid": "nope"}]}, "moves[0].grid"),
        ({"moves": []}, "moves"),
    ]:
        reply = api.patch(
            f"/plans/{plan}", json=bad, headers={**h, "If-Match": done.headers["etag"]}
        )
        assert reply.status_code == 400 and field in reply.json()["detail"], reply.json()
    twice = {"moves": [{"unit": unit, "grid": target}, {"unit": unit, "grid": source}]}
    reply = api.patch(f"/plans/{plan}", json=twice, headers={**h, "If-Match": done.headers["etag"]})
    assert reply.status_code == 400 and f"unit {unit!r} is moved twice" in reply.json()["detail"]
    assert "moves[1].unit" in reply.json()["detail"]
    embed = {"Authorization": f"Bearer {served.keys['embed']}"}
    assert api.get("/plans", headers=embed).status_code == 403


def test_eight_editors_lose_no_update(live: Live) -> None:
    served = live.served
    with httpx.Client(base_url=live.base, timeout=60) as client:
        made = client.post(
            "/plans", json={"name": "并发", "source": "current"}, headers=served.headers("planner")
        )
        assert made.status_code == 201, made.text
    plan, start = made.json()["id"], made.json()["revision"]
    initial = assignment(served, plan)
    by_community = defaultdict(list)
    for code in set(initial.values()):
        by_community[code[:12]].append(code)
    results: list[tuple[int, str, str]] = []  # (revision, unit, grid) of each 200
    stale = []
    lock = threading.Lock()

    def editor(seed: int) -> None:
        rng = random.Random(seed)
        units = sorted(initial)
        with httpx.Client(
            base_url=live.base, timeout=60, headers=served.headers("planner")
        ) as client:
            for _ in range(50):
                revision = client.get(f"/plans/{plan}").headers["etag"]
                unit = rng.choice(units)
                grid = rng.choice(by_community[initial[unit][:12]])
                reply = client.patch(
                    f"/plans/{plan}",
                    headers={"If-Match": revision},
                    json={"moves": [{"unit": unit, "grid": grid}]},
                )
                with lock:
                    if reply.status_code == 200:
                        results.append((reply.json()["revision"], unit, grid))
                    else:  # stale, or (rarely) a grid another editor emptied away
                        assert reply.status_code == 412 or (
                            reply.status_code == 400 and "has no grid" in reply.text
                        ), reply.text
                        stale.append(reply.status_code)

    threads = [threading.Thread(target=editor, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = dict(initial)
    for _, unit, grid in sorted(results):
        expected[unit] = grid
    final = assignment(served, plan)
    with served.engine.connect() as connection:
        revision = connection.execute(
            text("SELECT revision FROM plan WHERE id = :p"), {"p": plan}
        ).scalar_one()
    assert len(results) + len(stale) == 400 and 412 in stale and results
    assert sorted(r for r, _, _ in results) == list(range(start + 1, revision + 1))
    assert final == expected  # every move that got 200 is there, in revision order


def test_what_if_and_siting_answer_at_once(api: TestClient, served: Served) -> None:
    h = served.headers("planner")
    stations = api.get("/collections/stations/items", headers=h).json()["features"]
    code = stations[0]["properties"]["code"]
    gaps = api.get("/collections/gaps/items?limit=1&sortby=-residents", headers=h).json()
    gap = gaps["features"][0]["geometry"]
    import shapely

    inside = shapely.point_on_surface(shapely.geometry.shape(gap))
    answer = api.post(
        "/coverage/whatif",
        headers=h,
        json={
            "add": [{"lon": inside.x, "lat": inside.y}],
            "remove": [],
            "move": [{"code": code, "lon": 24.93, "lat": 60.18}],
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["before"]["residents"] == body["after"]["residents"] > 0
    assert body["before"]["rate"] != body["after"]["rate"]
    assert sum(c["residents"] for c in body["communities"]) == body["after"]["residents"]
    missing = api.post("/coverage/whatif", headers=h, json={"remove": ["NOPE"]})
    assert missing.status_code == 404 and "NOPE" in missing.json()["detail"]
    sites = api.post("/coverage/siting", headers=h, json={"k": 2, "candidates": "units"})
    assert sites.status_code == 200, sites.text
    found = sites.json()
    assert len(found["sites"]) == 2 and found["after_rate"] >= found["before_rate"]
    assert found["after_rate"] == pytest.approx(
        found["before_rate"] + sum(s["gain"] for s in found["sites"]) / body["before"]["residents"],
        abs=1e-9,
    )
    assert (
        api.post("/coverage/siting", headers=served.headers("viewer"), json={"k": 1}).status_code
        == 403
    )


def test_two_admins_accepting_at_once_get_one_current_plan_and_no_500(live: Live) -> None:
    served = live.served
    admin = served.headers("admin")

    def accept(
        client: httpx.Client,
        plan: int,
        etag: str,
        barrier: threading.Barrier,
        answers: list[httpx.Response],
    ) -> None:
        barrier.wait()
        answers.append(client.post(f"/plans/{plan}/accept", headers={**admin, "If-Match": etag}))

    with httpx.Client(base_url=live.base, timeout=120) as client:
        for round_ in range(4):
            drafts = []
            for k in range(2):
                made = client.post(
                    "/plans",
                    json={"name": f"竞争{round_}-{k}", "source": "current"},
                    headers=served.headers("planner"),
                )
                drafts.append((made.json()["id"], made.headers["etag"]))
            answers: list[httpx.Response] = []
            barrier = threading.Barrier(2)
            threads = [
                threading.Thread(target=accept, args=(client, *d, barrier, answers)) for d in drafts
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            codes = sorted(a.status_code for a in answers)
            assert codes in ([200, 200], [200, 409]), [a.text for a in answers]
            for a in answers:
                if a.status_code == 409:
                    assert a.headers["content-type"] == "application/problem+json"
                    assert "being accepted" in a.json()["detail"]
            with served.engine.connect() as connection:
                current = connection.execute(
                    text("SELECT count(*) FROM plan WHERE status = 'current'")
                ).scalar_one()
            assert current == 1


def test_an_accept_while_another_is_under_way_is_a_409(api: TestClient, served: Served) -> None:
    from gridmap.plans.lifecycle import ACCEPT_LOCK

    plan, etag = draft(api, served, "等待")
    with served.engine.connect() as holder:
        transaction = holder.begin()
        holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ACCEPT_LOCK})
        refused = api.post(
            f"/plans/{plan}/accept", headers={**served.headers("admin"), "If-Match": etag}
        )
        transaction.rollback()
    assert refused.status_code == 409 and "being accepted" in refused.json()["detail"]
    with served.engine.connect() as connection:
        assert (
            connection.execute(
                text("SELECT status FROM plan WHERE id = :p"), {"p": plan}
            ).scalar_one()
            == "draft"
        )


def test_a_plans_check_is_served_to_whoever_may_read_plans(api: TestClient, served: Served) -> None:
    with served.engine.connect() as connection:
        current = connection.execute(text("SELECT id FROM plan WHERE status = 'current'")).scalar()
        grids = connection.execute(
            text("SELECT count(*) FROM grid WHERE plan_id = :p"), {"p": current}
        ).scalar()
    got = api.get(f"/plans/{current}/check", headers=served.headers("viewer"))
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["plan"] == current and body["ok"] is True and body["grids"] == grids
    assert body["counts"]["grid in pieces"] == 0 and body["errors"] == 0
    assert body["warnings"] == len(body["findings"])  # the demo's: out-of-bounds grids only
    assert {f["kind"] for f in body["findings"]} <= {"out of bounds"}

    embed = {"Authorization": f"Bearer {served.keys['embed']}"}
    assert api.get(f"/plans/{current}/check", headers=embed).status_code == 403
    missing = api.get("/plans/999999/check", headers=served.headers("viewer"))
    assert missing.status_code == 404 and "no plan 999999" in missing.json()["detail"]


def _audit(served: Served, plan: int, action: str) -> list[dict[str, Any]]:
    with served.engine.connect() as connection:
        return list(
            connection.execute(
                text(
                    "SELECT payload FROM audit WHERE target_table = 'plan' AND target_id = :p "
                    "AND action = :a ORDER BY id"
                ),
                {"p": plan, "a": action},
            ).scalars()
        )


def test_a_draft_is_renamed_at_its_revision_and_discarded_at_its_revision(
    api: TestClient, served: Served
) -> None:
    plan, etag = draft(api, served, "旧名")
    planner = served.headers("planner")

    def patch(body: dict[str, Any], tag: str) -> Any:
        return api.patch(f"/plans/{plan}", json=body, headers={**planner, "If-Match": tag})

    renamed = patch({"name": "  新名  "}, etag)
    assert renamed.status_code == 200 and renamed.headers["etag"] == '"2"'
    assert api.get(f"/plans/{plan}", headers=planner).json()["name"] == "新名"
    assert _audit(served, plan, "rename") == [{"from": "旧名", "to": "新名", "revision": 2}]
    assert patch({"name": "x"}, '"1"').status_code == 412  # stale: nothing written
    blank = patch({"name": "   "}, '"2"')
    assert blank.status_code == 400 and "name: give a plan name of 1 to 200" in blank.text
    longest = patch({"name": "名" * 200}, '"2"')
    assert longest.status_code == 200 and longest.headers["etag"] == '"3"'
    assert patch({"name": "名" * 201}, '"3"').status_code == 400
    unit, grid = sorted(assignment(served, plan).items())[0]
    other = next(g for g in sorted(set(assignment(served, plan).values())) if g != grid)
    both = patch({"name": "新名", "moves": [{"unit": unit, "grid": other}]}, '"3"')
    assert both.status_code == 200 and both.headers["etag"] == '"5"'  # a rename, then a move
    assert assignment(served, plan)[unit] == other
    assert api.get(f"/plans/{plan}", headers=planner).json()["name"] == "新名"
    assert len(_audit(served, plan, "rename")) == 3

    stale = api.delete(f"/plans/{plan}", headers={**planner, "If-Match": '"4"'})
    assert (
        stale.status_code == 412 and api.get(f"/plans/{plan}", headers=planner).status_code == 200
    )
    gone = api.delete(f"/plans/{plan}", headers={**planner, "If-Match": '"5"'})
    assert gone.status_code == 204
    assert api.get(f"/plans/{plan}", headers=planner).status_code == 404
    assert _audit(served, plan, "discard") == [{"name": "新名", "revision": 5}]
    assert assignment(served, plan) == {}
    assert api.delete(f"/plans/{plan}", headers=planner).status_code == 404


def test_plans_are_listed_newest_first_with_their_grids_and_units(
    api: TestClient, served: Served
) -> None:
    plan, etag = draft(api, served, "列表")
    planner, viewer = served.headers("planner"), served.headers("viewer")
    empty = api.post("/plans", json={"name": "空白", "source": None}, headers=planner)
    assert empty.status_code == 201, empty.text
    unit, grid = sorted(assignment(served, plan).items())[0]
    other = next(g for g in sorted(set(assignment(served, plan).values())) if g != grid)
    move = {"moves": [{"unit": unit, "grid": other}]}  # the draft now differs from its source
    assert api.patch(f"/plans/{plan}", json=move, headers={**planner, "If-Match": etag}).is_success
    listed = api.get("/plans", headers=viewer).json()
    with served.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT p.id, p.name, p.status, p.revision, "
                "(SELECT count(*) FROM grid g WHERE g.plan_id = p.id) FROM plan p"
            )
        ).all()
    expected = sorted(rows, key=lambda r: -r[0])
    assert [(p["id"], p["name"], p["status"], p["revision"], p["grids"]) for p in listed] == [
        tuple(r) for r in expected
    ]
    assert listed[0]["id"] == empty.json()["id"] and listed[0]["grids"] == 0
    assert listed[1]["id"] == plan and listed[1]["grids"] > 0
    units = api.get(f"/plans/{plan}/units", headers=viewer)
    assert units.status_code == 200 and units.json() == assignment(served, plan)
    assert units.json()[unit] == other
    current = next(p["id"] for p in listed if p["status"] == "current")  # the draft's source
    source = api.get(f"/plans/{current}/units", headers=viewer).json()
    assert source == assignment(served, current) and source[unit] == grid  # not moved there
    assert api.get("/plans/999999/units", headers=viewer).status_code == 404
    for made in (plan, empty.json()["id"]):
        api.delete(f"/plans/{made}", headers=planner)


def test_moves_are_refused_at_their_limit_and_at_a_locked_grid_on_either_side(
    served: Served,
) -> None:
    """The library call behind PATCH, in a transaction rolled back."""
    from gridmap.db.plans import current_plan_id
    from gridmap.errors import Conflict, InvalidInput
    from gridmap.plans.lifecycle import MAX_MOVES, Move, move_units, new_plan

    with served.engine.connect() as connection:
        transaction = connection.begin()
        try:
            plan = new_plan(connection, name="锁", source=current_plan_id(connection), author="t")

            def refused(moves: list[Move]) -> str:
                savepoint = connection.begin_nested()
                try:
                    move_units(connection, plan, moves, expected_revision=1, author="t")
                except (InvalidInput, Conflict) as error:
                    return f"{type(error).__name__}: {error}"
                finally:
                    savepoint.rollback()
                return ""

            most = [Move(f"U{i}", "G") for i in range(MAX_MOVES)]
            assert refused(most) == "InvalidInput: moves[0].unit: no unit 'U0'"  # counted in
            assert refused([*most, Move("U-last", "G")]) == (
                f"InvalidInput: moves: at most {MAX_MOVES} in one edit (got 5001)"
            )
            rows = connection.execute(
                text(
                    "SELECT u.code, g.code, g.community_id FROM assignment a "
                    "JOIN unit u ON u.id = a.unit_id JOIN grid g ON g.id = a.grid_id "
                    "WHERE a.plan_id = :p ORDER BY g.community_id, g.code, u.code"
                ),
                {"p": plan},
            ).all()
            unit, source, community = rows[0]
            target = next(r[1] for r in rows if r[2] == community and r[1] != source)

            def lock(code: str, locked: bool) -> None:
                connection.execute(
                    text("UPDATE grid SET locked = :l WHERE plan_id = :p AND code = :c"),
                    {"l": locked, "p": plan, "c": code},
                )

            lock(target, True)
            assert refused([Move(unit, target)]) == (
                f"Conflict: moves[0]: grid {target} is locked; unlock it first"
            )
            lock(target, False)
            lock(source, True)
            assert refused([Move(unit, target)]) == (
                "Conflict: moves[0]: grid of the unit is locked; unlock it first"
            )
            lock(source, False)
            assert refused([Move(unit, target)]) == ""  # both free: the move is made
        finally:
            transaction.rollback()


def test_a_move_is_audited_and_its_warnings_tell_new_pieces_from_old(served: Served) -> None:
    """The library call behind PATCH, in a transaction rolled back: two far units moved into
    a grid one edit at a time; the first cuts it in two pieces, the second finds it so."""
    from gridmap.db.plans import current_plan_id
    from gridmap.errors import InvalidInput
    from gridmap.plans.lifecycle import Move, move_units, new_plan

    with served.engine.connect() as connection:
        transaction = connection.begin()
        try:
            plan = new_plan(connection, name="远", source=current_plan_id(connection), author="t")
            target, community = connection.execute(
                text(
                    "SELECT g.code, g.community_id FROM grid g JOIN assignment a "
                    "ON a.grid_id = g.id WHERE g.plan_id = :p GROUP BY g.id "
                    "HAVING count(*) >= 3 ORDER BY g.code LIMIT 1"
                ),
                {"p": plan},
            ).one()
            far = connection.execute(  # the units of the community farthest from the grid
                text(
                    "SELECT u.code, s.code FROM unit u JOIN assignment a ON a.unit_id = u.id "
                    "AND a.plan_id = :p JOIN grid s ON s.id = a.grid_id, grid t "
                    "WHERE t.plan_id = :p AND t.code = :t AND s.code <> :t "
                    "AND u.community_id = :c ORDER BY ST_Distance(u.geom, t.geom) DESC, u.code"
                ),
                {"p": plan, "t": target, "c": community},
            ).all()
            (first, first_source), (second, second_source) = far[0], far[1]
            assert first_source != target and second_source != target

            one = move_units(
                connection, plan, [Move(first, target)], expected_revision=1, author="t"
            )

            assert one.revision == 2
            assert f"grid {target} is now in 2 pieces" in one.warnings
            emptied = [w for w in one.warnings if "has no unit left" in w]
            assert emptied in ([], [f"grid {first_source} has no unit left and was removed"])
            audit = connection.execute(
                text(
                    "SELECT action, payload FROM audit WHERE target_table = 'plan' "
                    "AND target_id = :p ORDER BY id DESC LIMIT 1"
                ),
                {"p": plan},
            ).one()
            assert tuple(audit) == (
                "move units",
                {"moves": [{"unit": first, "grid": target}], "revision": 2},
            )

            two = move_units(
                connection, plan, [Move(second, target)], expected_revision=2, author="t"
            )

            said = [w for w in two.warnings if w.startswith(f"grid {target} ")]
            assert said and "pieces (it was in 2 already)" in said[0], two.warnings
            other = connection.execute(  # a grid of another community
                text("SELECT code FROM grid WHERE plan_id = :p AND community_id <> :c LIMIT 1"),
                {"p": plan, "c": community},
            ).scalar_one()
            with pytest.raises(InvalidInput) as refused:
                move_units(connection, plan, [Move(first, other)], expected_revision=3, author="t")
            assert str(refused.value) == (
                f"moves[0]: unit {first} lies in another community than grid {other}; "
                "a grid stays inside its community"
            )
            with pytest.raises(InvalidInput) as twice:
                move_units(
                    connection,
                    plan,
                    [Move(first, target), Move(second, target), Move(first, other)],
                    expected_revision=3,
                    author="t",
                )
            assert str(twice.value) == (
                f"moves[2].unit: unit {first!r} is moved twice in one edit (also moves[0]); "
                "name each unit once"
            )
        finally:
            transaction.rollback()
