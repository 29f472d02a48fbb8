"""Why a grid stays outside the household bounds, in terms a planner can act on.

A partition or an adjustment that leaves a grid out of bounds reports it as a case; these are the
reasons that no re-cut can help, checked in this order:

- ``unit_too_big`` (``unit_too_crowded``): over the maximum households (residents), and one of
  its units alone is (divide that unit);
- ``community_too_small``: under the minimum, and its whole community is (merge communities, or
  accept a dedicated grid);
- ``kept``: a planner locked it, or it is a dedicated grid, and an adjustment keeps it as it is
  (unlock it, or change it by hand);
- ``no_neighbour``: under the minimum, and no grid of its community that may change borders it
  (nothing to merge it with without breaking contiguity; kept grids, and in a whole new plan
  the locked and dedicated grids left out of it, take no units).

Otherwise no reason is given: the search found no contiguous cut within the bounds.
Pure: units and labels in, reasons out.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from gridmap.partition.engine import Bounds, Case, Units


@dataclass(frozen=True)
class Reason:
    """Why one grid stays out of bounds: a key, words for the message, and its figures."""

    key: str | None = None
    words: str = ""
    detail: dict[str, int] = field(default_factory=dict)


def out_of_bounds_reason(
    units: Units,
    labels: NDArray[np.int64],
    grid: int,
    bounds: Bounds,
    *,
    kept: Collection[int] = (),
) -> Reason:
    """Return why ``grid`` (a label of ``labels``) cannot be brought within ``bounds``."""
    members = np.flatnonzero(labels == grid)
    households = int(units.households[members].sum())
    residents = int(units.residents[members].sum())
    cap = bounds.max_residents
    if households > bounds.max_households or (cap and residents > cap):
        biggest = int(units.households[members].max())
        crowded = int(units.residents[members].max())
        if biggest > bounds.max_households:
            words = f"one of its units alone holds {biggest} households"
            return Reason("unit_too_big", words, {"largest": biggest})
        if cap and crowded > cap:
            words = f"one of its units alone holds {crowded} residents"
            return Reason("unit_too_crowded", words, {"largest": crowded})
    community = units.community[members[0]]
    mine = units.community == community
    if households < bounds.min_households:
        whole = int(units.households[mine].sum())
        if whole < bounds.min_households:
            words = f"its whole community holds {whole} households"
            return Reason("community_too_small", words, {"community_households": whole})
    if grid in kept:
        return Reason("kept", "it is kept as it is (locked, or a dedicated grid)")
    if households < bounds.min_households:
        around = np.unique(units.adjacency[members].indices)
        others = around[(labels[around] != grid) & mine[around]]
        others = others[~np.isin(labels[others], list(kept))]  # a kept grid takes no units
        if not others.size:
            return Reason("no_neighbour", "no grid of its community that may change borders it")
    return Reason()


def explained(
    units: Units,
    labels: NDArray[np.int64],
    cases: list[Case],
    bounds: Bounds,
    *,
    kept: Collection[int] = (),
) -> list[Case]:
    """Return ``cases`` with the reason of each grid out of bounds added, where there is one."""
    told = []
    for case in cases:
        if case.kind == "out_of_bounds" and case.grid is not None:
            why = out_of_bounds_reason(units, labels, case.grid, bounds, kept=kept)
            if why.key is not None:
                case = replace(
                    case,
                    message=f"{case.message}; {why.words}",
                    template=f"{case.template}; {why.words}",
                    reason=why.key,
                    detail=why.detail,
                )
        told.append(case)
    return told
