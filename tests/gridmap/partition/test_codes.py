"""Grid codes: kept where a grid is the same, fresh and never reused where it is not."""

from __future__ import annotations

import numpy as np

from gridmap.partition.codes import inherit_codes

C = "510107001001"


def test_a_grid_that_did_not_change_keeps_its_code_and_a_split_one_retires() -> None:
    old = np.array([f"{C}001"] * 4 + [f"{C}002"] * 4, dtype=object)
    new = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    xy = np.array([[0.0, 0.0], [10.0, 5.0], [10.0, 0.0]])  # grid 1 lies north of grid 2

    codes = inherit_codes(new, old, np.full(8, 50), np.array([C] * 3, dtype=object), xy, {C: 2})

    assert codes.tolist() == [f"{C}001", f"{C}003", f"{C}004"]  # 002 retired, never reused


def test_the_same_grid_needs_more_than_half_of_both() -> None:
    old = np.array([f"{C}001"] * 6 + [f"{C}002"] * 2, dtype=object)
    new = np.array([0, 0, 0, 1, 1, 1, 1, 1])  # grid 1: half of 001 and all of 002
    codes = inherit_codes(
        new,
        old,
        np.full(8, 10),
        np.array([C, C], dtype=object),
        np.array([[0.0, 0.0], [5.0, 0.0]]),
        {C: 2},
    )
    # grid 0 holds exactly half of 001 (not more); grid 1 is 3/5 001 (but only half of it)
    # and 2/5 002: neither is "the same" as an old grid, so both get fresh codes
    assert codes.tolist() == [f"{C}003", f"{C}004"]


def test_the_same_grid_needs_more_than_half_of_the_new_grid_too() -> None:
    old = np.array([f"{C}001"] * 2 + [None] * 2 + [f"{C}002"] * 3, dtype=object)
    new = np.array([0, 0, 0, 0, 1, 1, 1])  # grid 0: all of 001, but 001 is half of grid 0
    codes = inherit_codes(
        new,
        old,
        np.full(7, 10),
        np.array([C, C], dtype=object),
        np.array([[0.0, 0.0], [5.0, 0.0]]),
        {C: 2},
    )
    assert codes.tolist() == [f"{C}003", f"{C}002"]  # grid 1 is 002 (all of it, all of 002)


def test_new_codes_read_west_to_east_then_north_to_south() -> None:
    new = np.array([0, 1, 2, 3])
    xy = np.array([[100.0, 0.0], [0.0, 0.0], [100.0, 100.0], [0.0, 100.0]])
    codes = inherit_codes(
        new, np.full(4, None, dtype=object), np.full(4, 1), np.array([C] * 4, dtype=object), xy, {}
    )
    assert codes.tolist() == [f"{C}004", f"{C}003", f"{C}002", f"{C}001"]


def test_units_without_households_weigh_one() -> None:
    # new grid 0: three units of old 001 without households (weighing 1 each: 3) and one unit
    # of old 002 with 5: of its 8, 5 are 002's (all of 002): it is 002. Were the empty units to
    # weigh 2, 001's 6 of 11 would make it 001.
    old = np.array([f"{C}001"] * 3 + [f"{C}002"], dtype=object)
    codes = inherit_codes(
        np.zeros(4, dtype=np.int64),
        old,
        np.array([0, 0, 0, 5]),
        np.array([C], dtype=object),
        np.array([[0.0, 0.0]]),
        {C: 2},
    )
    assert codes.tolist() == [f"{C}002"]


def test_no_units_no_codes() -> None:
    codes = inherit_codes(
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=object),
        np.zeros(0, dtype=np.int64),
        np.zeros(0, dtype=object),
        np.zeros((0, 2)),
        {},
    )
    assert codes.tolist() == []
