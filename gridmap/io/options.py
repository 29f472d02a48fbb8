"""What ``gridmap import`` is asked for besides the file, shared by every layer's importer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection

from gridmap.units.residents import ResidentModel


@dataclass(frozen=True)
class ImportOptions:
    """Options of one import: input CRS, field names, repairs, and where grids go."""

    crs: str | None = None
    field_map: Mapping[str, str] = field(default_factory=dict)
    fix: bool = False
    encoding: str | None = None
    replace: bool = False
    """Units and buildings: replace the stored ones the file's polygons overlap."""
    plan_name: str | None = None
    make_current: bool = False
    resident_model: ResidentModel = field(default_factory=ResidentModel)


Prepared = tuple[Callable[[Connection], int], list[str]]
"""The function that writes a checked layer (returning rows written), and notes for the user."""


def column(frame: pd.DataFrame, name: str, default: object = None) -> pd.Series:
    """Return ``frame[name]``, or a column of ``default`` when the file has none."""
    if name in frame.columns:
        return frame[name]
    return pd.Series([default] * len(frame), index=frame.index, dtype=object)
