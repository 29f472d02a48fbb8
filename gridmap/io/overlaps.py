"""Units and buildings that would lie on top of others: found before anything is written.

Units cut a city wall to wall, and partitioning and coverage count on it: a unit file without
codes would otherwise add a second copy of every unit, each in no grid. A file's polygon that
covers a stored one (or another of the file's) by more than :data:`OVERLAP_TOLERANCE` of the
smaller is a problem naming both, unless the import was asked to ``--replace`` what it covers.
Slivers along shared edges (units digitised from another source) stay under the tolerance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection

from gridmap.db import imports as import_rows
from gridmap.io.problems import Problems

OVERLAP_TOLERANCE = 0.05
"""How much of the smaller polygon another may cover before the two count as overlapping."""


def stored_overlaps(
    connection: Connection,
    table: str,
    frame: pd.DataFrame,
    keys: pd.Series,
    *,
    key_column: str,
    problems: Problems,
    replace: bool,
) -> list[int]:
    """Report the file's polygons that overlap stored rows of ``table``, or list those to replace.

    Returns the ids of the stored rows to replace (``replace``), else an empty list after
    adding one problem per overlapping polygon of the file.
    """
    labels = frame["label"].to_numpy()
    geoms = np.asarray(frame.geometry.values, dtype=object)
    usable = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    present = geoms.copy()
    present[~usable] = None
    wkb = shapely.to_wkb(present).tolist()  # None stays None
    text_keys = [None if pd.isna(k) else str(k) for k in keys]
    found = import_rows.overlaps_with_stored(
        connection, table, wkb, text_keys, key_column=key_column, tolerance=OVERLAP_TOLERANCE
    )
    if replace or found.empty:
        return sorted(set(found["stored_id"].astype(int)))
    word = {"unit": "unit", "building": "building"}[table]
    for position, rows in found.groupby("position", sort=True):
        first = rows.iloc[0]
        more = f" and {len(rows) - 1} more" if len(rows) > 1 else ""
        problems.add(
            labels[int(position)],
            f"overlaps the stored {word} {first['stored']} by {first['overlap_m2']:,.0f} m² "
            f"({100 * first['share']:.0f}% of the smaller){more}: give the stored "
            f"{word}'s {key_column.replace('_', ' ')} to update it, or import with --replace "
            f"to replace the {word}s the file covers",
        )
    return []


def overlaps_within(frame: pd.DataFrame, problems: Problems, word: str) -> None:
    """Report pairs of the file's own polygons that overlap beyond the tolerance."""
    labels = frame["label"].to_numpy()
    geoms = np.asarray(frame.geometry.values, dtype=object)
    usable = np.flatnonzero(~shapely.is_missing(geoms) & ~shapely.is_empty(geoms))
    if len(usable) < 2:
        return
    polygons = geoms[usable]
    left, right = shapely.STRtree(polygons).query(polygons, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    shared = shapely.area(shapely.intersection(polygons[left], polygons[right]))
    smaller = np.minimum(shapely.area(polygons[left]), shapely.area(polygons[right]))
    over = shared > OVERLAP_TOLERANCE * smaller
    for a, b, share in zip(left[over], right[over], (shared / smaller)[over], strict=True):
        problems.add(
            labels[usable[b]],
            f"overlaps {labels[usable[a]]} of the same file ({100 * share:.0f}% of the "
            f"smaller); {word}s must not lie on top of each other",
        )
