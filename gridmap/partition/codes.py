"""Grid codes that survive a re-partition (docs/architecture.md, Codes).

A new grid keeps the code of the old grid it is "the same" as: the old grid it shares the most
households with, when that overlap is more than half of both. Every other grid gets the next
free serial of its community, numbered west to east, then north to south; serials ever used
(retired grids included) are never given again.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gridmap.units.regions import serial_codes

GRID_SERIAL_DIGITS = 3


def inherit_codes(
    new_labels: NDArray[np.int64],
    old_codes_of_units: NDArray[np.object_],
    households: NDArray[np.int64],
    community_codes: NDArray[np.object_],
    xy: NDArray[np.float64],
    used_serials: dict[str, int],
) -> NDArray[np.object_]:
    """Return a code for every new grid.

    Parameters
    ----------
    new_labels
        Each unit's new grid (0..k-1).
    old_codes_of_units
        Each unit's grid code in the old plan (None where it had none).
    households
        Each unit's households (units without households weigh 1, so they still count).
    community_codes
        Each new grid's community code.
    xy
        Each new grid's centre, for reading order.
    used_serials
        The highest serial ever used per community code, across every plan.
    """
    weight = np.maximum(np.asarray(households, dtype=float), 1.0)
    k = int(new_labels.max(initial=-1)) + 1
    frame = pd.DataFrame({"new": new_labels, "old": old_codes_of_units, "w": weight})
    new_total = frame.groupby("new")["w"].sum()
    old_total = frame.dropna(subset=["old"]).groupby("old")["w"].sum()
    overlap = frame.dropna(subset=["old"]).groupby(["new", "old"], as_index=False)["w"].sum()
    overlap = overlap.sort_values("w", ascending=False)
    same = overlap.loc[
        (overlap["w"] > 0.5 * overlap["new"].map(new_total))
        & (overlap["w"] > 0.5 * overlap["old"].map(old_total))
    ]
    same = same.drop_duplicates("new").drop_duplicates("old")
    codes = np.full(k, None, dtype=object)
    codes[same["new"].to_numpy()] = same["old"].to_numpy()
    fresh = np.flatnonzero(pd.isna(codes))
    community_codes = np.asarray(community_codes, dtype=object)
    for community in pd.unique(community_codes[fresh]):
        mine = fresh[community_codes[fresh] == community]
        start = used_serials.get(community, 0) + 1
        codes[mine] = serial_codes(community, xy[mine], digits=GRID_SERIAL_DIGITS, start=start)
    return codes
