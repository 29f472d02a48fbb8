"""Grids made by hand in a draft: a new grid, a split previewed then applied, a draft's export,
and what an accept would leave behind (staff without a grid), over the API on the demo city.

Expected values come from the database directly (unit households, grid codes, ST_Union of the
units), never from the answer under test.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from gridmap.standards import community_kind
from tests.api.conftest import Served
from tests.api.test_plans import assignment, draft


def query(served: Served, sql: str, **params: Any) -> list[Any]:
    with served.engine.connect() as connection:
        return list(connection.execute(text(sql), params).all())


def largest_serial(served: Served, community: str) -> int:
    """The largest grid serial of a community over every plan, read from the codes."""
    codes = [r[0] for r in query(served, "SELECT code FROM grid")]
    mine = [int(c[len(community) :]) for c in codes if c.startswith(community) and len(c) == 15]
    return max(mine, default=0)


def revision(api: TestClient, served: Served, plan: int) -> int:
    return int(api.get(f"/plans/{plan}", headers=served.headers("viewer")).json()["revision"])


def one_piece_grid(served: Served, plan: int, least_units: int = 4) -> tuple[str, list[str], str]:
    """A grid of the plan in one piece with several units: its code, units and community."""
    return one_piece_grids(served, plan, least_units)[0]


def one_piece_grids(
    served: Served, plan: int, least_units: int
) -> list[tuple[str, list[str], str]]:
    """The grids of the plan in one piece with several units, the most units first."""
    rows = query(
        served,
        """
        SELECT g.code, array_agg(u.code ORDER BY u.code), r.code
        FROM grid g JOIN assignment a ON a.grid_id = g.id JOIN unit u ON u.id = a.unit_id
        JOIN region r ON r.id = g.community_id
        WHERE g.plan_id = :p AND ST_NumGeometries(g.geom) = 1 AND g.kind <> 'dedicated'
        GROUP BY g.code, r.code HAVING count(*) >= :n ORDER BY count(*) DESC, g.code
    """,
        p=plan,
        n=least_units,
    )
    assert rows, "the demo city has a grid of several units in one piece"
    return [(r[0], list(r[1]), r[2]) for r in rows]


def households_of(served: Served, units: list[str]) -> int:
    return int(
        query(
            served, "SELECT coalesce(sum(households), 0) FROM unit WHERE code = ANY(:u)", u=units
        )[0][0]
    )


def test_a_new_grid_takes_the_next_serial_and_its_units(api: TestClient, served: Served) -> None:
    plan, etag = draft(api, served, "新网格")
    grid, units, community = one_piece_grid(served, plan)
    planner = served.headers("planner")
    was = households_of(served, units)
    assert (
        api.post(f"/plans/{plan}/grids", json={"units": units[:1]}, headers=planner).status_code
        == 428
    )
    expected = f"{community}{largest_serial(served, community) + 1:03d}"
    made = api.post(
        f"/plans/{plan}/grids", json={"units": units[:1]}, headers={**planner, "If-Match": etag}
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["code"] == expected and body["revision"] == 2 and made.headers["etag"] == '"2"'
    figures = {g["code"]: g for g in body["grids"]}
    assert figures[expected]["households"] == households_of(served, units[:1])
    assert figures[grid]["households"] == was - households_of(served, units[:1])
    assert figures[grid]["pieces_before"] == 1 and figures[expected]["pieces_before"] is None
    assert assignment(served, plan)[units[0]] == expected
    kind = query(served, "SELECT kind FROM grid WHERE plan_id = :p AND code = :c", p=plan, c=grid)
    made_kind = query(
        served, "SELECT kind FROM grid WHERE plan_id = :p AND code = :c", p=plan, c=expected
    )
    assert made_kind == kind  # the kind of the grid its units left
    again = api.post(
        f"/plans/{plan}/grids", json={"units": units[1:2]}, headers={**planner, "If-Match": '"2"'}
    )
    assert (
        again.status_code == 201
        and again.json()["code"] == f"{expected[:-3]}{int(expected[-3:]) + 1:03d}"
    )


@pytest.mark.parametrize(
    ("units", "status", "words"),
    [
        (["NO-SUCH-UNIT"], 400, "NO-SUCH-UNIT"),
        ("twice", 400, "twice"),
        ("two communities", 400, "another community"),
        ([], 400, "units"),
    ],
)
def test_a_new_grid_of_bad_units_is_refused_and_writes_nothing(
    api: TestClient, served: Served, units: Any, status: int, words: str
) -> None:
    plan, etag = draft(api, served, "坏网格")
    _, mine, community = one_piece_grid(served, plan)
    if units == "twice":
        units = [mine[0], mine[0]]
    elif units == "two communities":
        other = query(
            served,
            "SELECT u.code FROM unit u JOIN region r ON r.id = u.community_id "
            "WHERE r.code <> :c ORDER BY u.code LIMIT 1",
            c=community,
        )[0][0]
        units = [mine[0], other]
    before = assignment(served, plan)
    refused = api.post(
        f"/plans/{plan}/grids",
        json={"units": units},
        headers={**served.headers("planner"), "If-Match": etag},
    )
    assert refused.status_code == status and words in refused.text
    assert revision(api, served, plan) == 1 and assignment(served, plan) == before


def test_a_new_grid_needs_the_revision_a_planner_and_unlocked_units(
    api: TestClient, served: Served
) -> None:
    plan, etag = draft(api, served, "锁")
    grid, units, _ = one_piece_grid(served, plan)
    body = {"units": units[:1]}
    viewer = api.post(
        f"/plans/{plan}/grids", json=body, headers={**served.headers("viewer"), "If-Match": etag}
    )
    assert viewer.status_code == 403
    planner = served.headers("planner")
    stale = api.post(f"/plans/{plan}/grids", json=body, headers={**planner, "If-Match": '"7"'})
    assert stale.status_code == 412
    locked = api.post(
        f"/plans/{plan}/locks", json={"grids": [grid]}, headers={**planner, "If-Match": etag}
    )
    assert locked.status_code == 200
    refused = api.post(f"/plans/{plan}/grids", json=body, headers={**planner, "If-Match": '"2"'})
    assert refused.status_code == 409 and "locked" in refused.json()["detail"]
    assert revision(api, served, plan) == 2 and assignment(served, plan)[units[0]] == grid


def test_a_split_is_previewed_then_applied_as_previewed(api: TestClient, served: Served) -> None:
    plan, etag = draft(api, served, "拆分")
    planner = served.headers("planner")

    def cut(grid: str, seed: int) -> list[dict[str, Any]]:
        answer = api.post(
            f"/plans/{plan}/grids/{grid}/split", json={"k": 3, "seed": seed}, headers=planner
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["parts"]

    # the seed is a parameter that matters: a grid and a seed whose cut differs from seed 0's
    grid, units, community, seed = next(
        (g, u, c, s)
        for g, u, c in one_piece_grids(served, plan, 4)
        for s in range(1, 6)
        if cut(g, s) != cut(g, 0)
    )
    preview = api.post(
        f"/plans/{plan}/grids/{grid}/split", json={"k": 3, "seed": seed}, headers=planner
    )
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["applied"] is False and body["revision"] == 1
    parts = body["parts"]
    assert len(parts) == 3 and sorted(u for p in parts for u in p["units"]) == sorted(units)
    assert [p["code"] for p in parts] == [grid, None, None]
    assert parts[0]["households"] >= max(p["households"] for p in parts[1:])
    for part in parts:  # the figures and contiguity, from the units themselves
        assert part["households"] == households_of(served, part["units"])
        pieces = query(
            served,
            "SELECT ST_NumGeometries(ST_Union(geom)) FROM unit WHERE code = ANY(:u)",
            u=part["units"],
        )[0][0]
        assert pieces == 1, part
    assert revision(api, served, plan) == 1  # a preview writes nothing
    assert (
        api.post(
            f"/plans/{plan}/grids/{grid}/split",
            json={"k": 3, "seed": seed, "apply": True},
            headers=planner,
        ).status_code
        == 428
    )
    serial = largest_serial(served, community)
    new_codes = [f"{community}{serial + i:03d}" for i in (1, 2)]
    applied = api.post(
        f"/plans/{plan}/grids/{grid}/split",
        json={"k": 3, "seed": seed, "apply": True},
        headers={**planner, "If-Match": etag},
    )
    assert applied.status_code == 200, applied.text
    done = applied.json()
    assert done["applied"] is True and done["revision"] == 2
    assert [p["units"] for p in done["parts"]] == [p["units"] for p in parts]
    assert [p["code"] for p in done["parts"]] == [grid, *new_codes]
    now = assignment(served, plan)
    for part, code in zip(parts, (grid, *new_codes), strict=True):
        assert {now[u] for u in part["units"]} == {code}
    stored = dict(query(served, "SELECT code, households FROM grid WHERE plan_id = :p", p=plan))
    assert [stored[c] for c in (grid, *new_codes)] == [p["households"] for p in parts]
    stale = api.post(
        f"/plans/{plan}/grids/{grid}/split",
        json={"k": 3, "apply": True},
        headers={**planner, "If-Match": etag},
    )
    assert stale.status_code == 412


def test_a_split_s_parts_follow_its_k_and_seed(api: TestClient, served: Served) -> None:
    plan, _ = draft(api, served, "拆三")
    grid, units, _ = one_piece_grid(served, plan, least_units=6)
    planner = served.headers("planner")
    three = api.post(f"/plans/{plan}/grids/{grid}/split", json={"k": 3}, headers=planner).json()
    assert len(three["parts"]) == 3 and sorted(
        u for p in three["parts"] for u in p["units"]
    ) == sorted(units)
    same = api.post(f"/plans/{plan}/grids/{grid}/split", json={"k": 3}, headers=planner).json()
    assert same["parts"] == three["parts"]
    for k in (1, 9, len(units) + 1):
        answer = api.post(f"/plans/{plan}/grids/{grid}/split", json={"k": k}, headers=planner)
        assert answer.status_code == 400 and "k" in answer.text, (k, answer.text)
    unknown = api.post(f"/plans/{plan}/grids/NOPE/split", json={"k": 2}, headers=planner)
    assert unknown.status_code == 400 and "NOPE" in unknown.json()["detail"]


def test_a_draft_exports_as_geojson_gpkg_and_csv(api: TestClient, served: Served) -> None:
    plan, _ = draft(api, served, "导出")
    viewer = served.headers("viewer")
    grids = dict(query(served, "SELECT code, households FROM grid WHERE plan_id = :p", p=plan))
    geojson = api.get(f"/plans/{plan}/export?format=geojson", headers=viewer)
    assert geojson.status_code == 200 and geojson.headers["content-type"].startswith(
        "application/geo+json"
    )
    assert f"plan-{plan}.geojson" in geojson.headers["content-disposition"]
    features = json.loads(geojson.content)["features"]
    assert {f["properties"]["code"]: f["properties"]["households"] for f in features} == grids
    gpkg = api.get(f"/plans/{plan}/export?format=gpkg", headers=viewer)
    assert gpkg.status_code == 200 and gpkg.content[:16] == b"SQLite format 3\x00"
    table = api.get(f"/plans/{plan}/export?format=csv", headers=viewer)
    rows = list(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"))))
    assert {r["unit"]: r["grid"] for r in rows} == assignment(served, plan)
    assert api.get(f"/plans/{plan}/export?format=shp", headers=viewer).status_code == 400


def test_a_diff_names_the_staff_a_merge_leaves_without_a_grid(
    api: TestClient, served: Served
) -> None:
    plan, etag = draft(api, served, "合并")
    staffed = query(
        served,
        """
        SELECT g.code, g.staff -> 'leader' ->> 'name', r.code FROM grid g
        JOIN plan p ON p.id = g.plan_id AND p.status = 'current'
        JOIN region r ON r.id = g.community_id
        WHERE g.staff -> 'leader' ->> 'name' IS NOT NULL AND g.kind <> 'dedicated'
          AND EXISTS (SELECT 1 FROM grid o WHERE o.plan_id = g.plan_id
                      AND o.community_id = g.community_id AND o.code <> g.code)
        ORDER BY g.code LIMIT 1
    """,
    )
    assert staffed, "the demo's sample roster gives grids a leader"
    gone, leader, community = staffed[0]
    into = query(
        served,
        "SELECT g.code FROM grid g JOIN region r ON r.id = g.community_id "
        "WHERE g.plan_id = :p AND r.code = :c AND g.code <> :g ORDER BY g.code LIMIT 1",
        p=plan,
        c=community,
        g=gone,
    )[0][0]
    moves = [{"unit": u, "grid": into} for u, g in assignment(served, plan).items() if g == gone]
    merged = api.patch(
        f"/plans/{plan}",
        json={"moves": moves},
        headers={**served.headers("planner"), "If-Match": etag},
    )
    assert merged.status_code == 200 and any(gone in w for w in merged.json()["warnings"])
    diff = api.get(f"/plans/{plan}/diff", headers=served.headers("viewer")).json()
    assert gone in diff["retired"] and into in diff["merged"]
    left = {s["grid"]: s for s in diff["staff_without_grid"]}
    assert set(left) == set(diff["retired"]) and left[gone]["leader"] == leader


def test_grid_edits_refuse_held_keys_locked_grids_and_plans_not_drafts(
    api: TestClient, served: Served
) -> None:
    plan, etag = draft(api, served, "攻击")
    grid, units, _ = one_piece_grid(served, plan)
    embed = {**served.headers("embed"), "If-Match": etag}
    for method, path, body in (
        ("post", f"/plans/{plan}/grids", {"units": units[:1]}),
        ("post", f"/plans/{plan}/grids/{grid}/split", {"k": 2}),
        ("get", f"/plans/{plan}/export?format=csv", None),
    ):
        answer = getattr(api, method)(path, headers=embed, **({"json": body} if body else {}))
        assert answer.status_code == 403, (path, answer.text)
    planner = served.headers("planner")
    locked = api.post(
        f"/plans/{plan}/locks", json={"grids": [grid]}, headers={**planner, "If-Match": etag}
    )
    assert locked.status_code == 200
    refused = api.post(
        f"/plans/{plan}/grids/{grid}/split",
        json={"k": 2, "apply": True},
        headers={**planner, "If-Match": '"2"'},
    )
    assert refused.status_code == 409 and "locked" in refused.json()["detail"]
    assert revision(api, served, plan) == 2
    current = query(served, "SELECT id FROM plan WHERE status = 'current'")[0][0]
    theirs, their_units, _ = one_piece_grid(served, current)
    now = revision(api, served, current)
    for path, body in (
        (f"/plans/{current}/grids", {"units": their_units[:1]}),
        (f"/plans/{current}/grids/{theirs}/split", {"k": 2, "apply": True}),
    ):
        answer = api.post(path, json=body, headers={**planner, "If-Match": f'"{now}"'})
        assert answer.status_code == 409 and "draft" in answer.json()["detail"], answer.text
    assert revision(api, served, current) == now


def test_an_edit_counts_pieces_as_the_check_does(api: TestClient, served: Served) -> None:
    plan, _ = draft(api, served, "块数")
    planner = served.headers("planner")
    # units of one community in two grids, moved one by one from the larger grid to the other,
    # in code order, until a grid breaks (or ten moves): each answer agrees with the check
    rows = query(
        served,
        """
        SELECT r.code, g.code, array_agg(u.code ORDER BY u.code) FROM grid g
        JOIN region r ON r.id = g.community_id JOIN assignment a ON a.grid_id = g.id
        JOIN unit u ON u.id = a.unit_id WHERE g.plan_id = :p AND g.kind <> 'dedicated'
        GROUP BY r.code, g.code ORDER BY r.code, count(*) DESC
    """,
        p=plan,
    )
    by_community: dict[str, list[tuple[str, list[str]]]] = {}
    for community, grid, units in rows:
        by_community.setdefault(community, []).append((grid, list(units)))
    (_, units), (other, _) = next(v for v in by_community.values() if len(v) > 1)[:2]
    revision_now, broke = 1, False
    for unit in units[1:11]:
        answer = api.patch(
            f"/plans/{plan}",
            json={"moves": [{"unit": unit, "grid": other}]},
            headers={**planner, "If-Match": f'"{revision_now}"'},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        revision_now = body["revision"]
        check = api.get(f"/plans/{plan}/check", headers=planner).json()
        pieces = {
            f["grid"]: f["detail"]["pieces"]
            for f in check["findings"]
            if f["kind"] == "grid in pieces"
        }
        for g in body["grids"]:
            assert g["pieces"] == pieces.get(g["code"], 1), (unit, g)
        broke = broke or any(g["pieces"] > 1 for g in body["grids"])
        if broke:
            break
    assert broke  # the count was seen above one, not only at one


def test_grids_are_locked_and_unlocked_by_code_each_step_recorded(
    api: TestClient, served: Served
) -> None:
    plan, etag = draft(api, served, "锁定")
    planner = {**served.headers("planner")}
    codes = [
        r[0]
        for r in query(
            served, "SELECT code FROM grid WHERE plan_id = :p ORDER BY code LIMIT 3", p=plan
        )
    ]

    def locks(body: dict[str, Any], tag: str | None) -> Any:
        headers = planner if tag is None else {**planner, "If-Match": tag}
        return api.post(f"/plans/{plan}/locks", json=body, headers=headers)

    def locked() -> set[str]:
        rows = query(served, "SELECT code FROM grid WHERE plan_id = :p AND locked", p=plan)
        return {r[0] for r in rows}

    def audit() -> list[tuple[str, dict[str, Any]]]:
        rows = query(
            served,
            "SELECT action, payload FROM audit WHERE target_table = 'plan' AND target_id = :p "
            "AND action IN ('lock', 'unlock') ORDER BY id",
            p=plan,
        )
        return [(r[0], r[1]) for r in rows]

    first = locks({"grids": codes[:2]}, etag)  # locked by default
    assert first.status_code == 200, first.text
    assert first.json() == {"changed": 2, "revision": 2} and first.headers["etag"] == '"2"'
    assert locked() == set(codes[:2])
    again = locks({"grids": [codes[1], codes[2], codes[1]], "locked": True}, '"2"')
    assert again.json() == {"changed": 1, "revision": 3}  # codes[1] was locked already
    stale = locks({"grids": [codes[0]], "locked": False}, '"2"')
    assert stale.status_code == 412 and locked() == set(codes)
    unlocked = locks({"grids": [codes[0]], "locked": False}, '"3"')
    assert unlocked.json() == {"changed": 1, "revision": 4} and locked() == set(codes[1:])
    assert audit() == [
        ("lock", {"revision": 2, "grids": codes[:2], "changed": 2}),
        ("lock", {"revision": 3, "grids": [codes[1], codes[2]], "changed": 1}),
        ("unlock", {"revision": 4, "grids": [codes[0]], "changed": 1}),
    ]
    one = locks({"grids": [codes[0], "NOPE1"]}, '"4"')
    assert one.status_code == 400
    assert one.json()["detail"] == f"grids: plan {plan} has no grid 'NOPE1'"
    three = locks({"grids": ["NOPE2", codes[0], "NOPE3", "NOPE4"]}, None)
    assert three.status_code == 400
    assert three.json()["detail"] == f"grids: plan {plan} has no grid 'NOPE2' (and 2 more)"
    two = locks({"grids": ["NOPE5", "NOPE6"]}, None)  # the first of two named, one more
    assert two.json()["detail"] == f"grids: plan {plan} has no grid 'NOPE5' (and 1 more)"
    assert revision(api, served, plan) == 4 and locked() == set(codes[1:])  # nothing written


def test_carving_takes_each_part_in_order_with_its_kind_and_refuses_at_the_limits(
    served: Served,
) -> None:
    """The library call behind new grids and splits, in a transaction rolled back."""
    from gridmap.db.plans import current_plan_id
    from gridmap.errors import InvalidInput
    from gridmap.plans.grid_edits import MAX_NEW_GRIDS, carve_grids
    from gridmap.plans.lifecycle import MAX_MOVES, new_plan

    with served.engine.connect() as connection:
        transaction = connection.begin()
        try:
            plan = new_plan(
                connection, name="切分", source=current_plan_id(connection), author="test"
            )

            def run(sql: str, **params: Any) -> list[Any]:
                return list(connection.execute(text(sql), params).all())

            # three grids of one community (the second with four units or more): kinds set by hand
            grids = run(
                """
                SELECT g.id, g.code, array_agg(u.code ORDER BY u.code), r.code
                FROM grid g JOIN assignment a ON a.grid_id = g.id JOIN unit u ON u.id = a.unit_id
                JOIN region r ON r.id = g.community_id WHERE g.plan_id = :p
                GROUP BY g.id, g.code, r.code HAVING count(*) >= 2
                ORDER BY count(*) DESC, g.code
                """,
                p=plan,
            )
            b = next(g for g in grids if len(g[2]) >= 4 and sum(h[3] == g[3] for h in grids) >= 3)
            community = b[3]
            a, c = [g for g in grids if g[3] == community and g[0] != b[0]][:2]
            for grid, kind in ((a, "dedicated"), (b, "suburban"), (c, "rural")):
                connection.execute(
                    text("UPDATE grid SET kind = :k WHERE id = :g"), {"k": kind, "g": grid[0]}
                )
            serial = largest_serial(served, community)  # over every plan, retired codes too
            parts = [
                [a[2][0]],  # a dedicated grid's unit only: the community's kind
                [b[2][0], c[2][0], c[2][1]],  # one unit of a suburban grid, two of a rural one
                [b[2][1], b[2][2]],
            ]

            codes, result = carve_grids(connection, plan, parts, expected_revision=1, author="test")

            assert codes == [f"{community}{serial + i:03d}" for i in (1, 2, 3)]
            made = run(
                """
                SELECT g.code, g.kind, array_agg(u.code ORDER BY u.code) FROM grid g
                JOIN assignment a ON a.grid_id = g.id JOIN unit u ON u.id = a.unit_id
                WHERE g.plan_id = :p AND g.code = ANY(:c) GROUP BY g.code, g.kind ORDER BY g.code
                """,
                p=plan,
                c=codes,
            )
            kinds = [community_kind(community), "rural", "suburban"]
            assert [(m[0], m[1], sorted(m[2])) for m in made] == [
                (code, kind, sorted(part))
                for code, kind, part in zip(codes, kinds, parts, strict=True)
            ]
            assert result.revision == 2
            audit = run(
                "SELECT action, payload FROM audit WHERE target_table = 'plan' AND target_id = :p "
                "ORDER BY id DESC LIMIT 1",
                p=plan,
            )[0]
            assert audit[0] == "new grid"
            assert audit[1]["grids"] == codes and audit[1]["units"] == parts

            def refused(parts: list[list[str]]) -> str:
                savepoint = connection.begin_nested()
                try:
                    carve_grids(connection, plan, parts, expected_revision=2, author="test")
                except InvalidInput as error:
                    return str(error)
                finally:
                    savepoint.rollback()
                return ""

            assert (
                refused([])
                == refused([[b[2][3]], []])
                == ("units: give at least one unit for each new grid")
            )
            fake = [[f"X{i}"] for i in range(MAX_NEW_GRIDS + 1)]
            assert refused(fake) == f"at most {MAX_NEW_GRIDS} new grids in one edit (got 21)"
            assert refused(fake[:MAX_NEW_GRIDS]) == "units: no unit 'X0'"  # 20 parts: counted in
            many = [f"Y{i}" for i in range(MAX_MOVES)]
            assert refused([many]) == "units: no unit 'Y0'"  # exactly the most units: counted in
            assert (
                refused([[*many, "Y-last"]]) == f"units: at most {MAX_MOVES} in one edit (got 5001)"
            )
            other = run(
                "SELECT u.code FROM unit u JOIN region r ON r.id = u.community_id "
                "WHERE r.code <> :c ORDER BY u.code LIMIT 1",
                c=community,
            )[0][0]
            assert refused([[b[2][3], other]]) == (
                f"units: unit {other} lies in another community than unit {b[2][3]}; "
                "a grid stays inside its community"
            )
        finally:
            transaction.rollback()
