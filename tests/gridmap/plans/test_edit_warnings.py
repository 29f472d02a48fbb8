"""What an edit warns about, from the touched grids' figures: emptied, in pieces, out of bounds."""

from __future__ import annotations

from typing import Any

from gridmap.plans.lifecycle import edit_warnings


def grid(code: str, households: int, pieces: int | None = 1, kind: str = "urban") -> dict[str, Any]:
    return {"code": code, "kind": kind, "households": households, "pieces": pieces}


def test_households_exactly_at_either_bound_raise_no_warning_and_one_beyond_do() -> None:
    grids = [
        grid("A", 300),
        grid("B", 500),
        grid("C", 299),
        grid("D", 501),
        grid("E", 200, kind="rural"),
        grid("F", 401, kind="rural"),
        grid("G", 5, kind="dedicated"),  # no bounds for a dedicated grid
    ]
    assert edit_warnings(grids, []) == [
        "grid C holds 299 households, outside 300–500",
        "grid D holds 501 households, outside 300–500",
        "grid F holds 401 households, outside 200–400",
    ]


def test_a_grid_in_pieces_is_told_apart_from_one_that_already_was() -> None:
    grids = [grid("A", 400, 2), grid("B", 400, 3), grid("C", 400, None), grid("D", 400, 2)]
    said = edit_warnings(grids, ["X"], {"A": 1, "B": 2, "C": 4, "D": None})
    assert said == [
        "grid X has no unit left and was removed",
        "grid A is now in 2 pieces",
        "grid B is in 3 pieces (it was in 2 already)",
        "grid D is now in 2 pieces",
    ]
    assert edit_warnings([grid("A", 400, 2)], []) == ["grid A is now in 2 pieces"]
    assert edit_warnings([grid("A", 400, 1)], [], {"A": 3}) == []  # whole again: nothing to say
