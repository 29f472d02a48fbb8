"""What each importable layer must hold, and the checks that find what a file gets wrong.

:data:`LAYERS` describes the layers ``gridmap import`` takes: their geometry type, required and
unique fields, code patterns, counts and allowed values. :func:`validate_layer` checks a frame
read by :func:`gridmap.io.read.read_features` against one of them, gathering every problem
(the feature and the reason: shapely's ``is_valid_reason`` for invalid geometry), and returns
the frame with clean types. With ``fix``, invalid polygons are repaired with ``make_valid`` and
each repair is reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.db.models import GRID_KINDS, REGION_LEVELS
from gridmap.geometry import polygonal_parts
from gridmap.io.problems import Problems
from gridmap.standards import CITY_TIME_ZONE

POLYGON, POINT = "polygon", "point"
_TYPE_IDS = {POLYGON: (3, 6), POINT: (0,)}
_TYPE_WORDS = {POLYGON: "polygons", POINT: "points"}
_TYPE_NAMES = dict(
    enumerate(
        (
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
        )
    )
)


@dataclass(frozen=True)
class LayerSpec:
    """The shape of one importable layer."""

    name: str
    geometry: str
    required: tuple[str, ...] = ()
    unique: tuple[str, ...] = ()
    code_digits: tuple[int, ...] = ()
    counts: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    placeless: bool = False  # a feature without coordinates is kept (and listed), not refused


LAYERS = {
    "regions": LayerSpec(
        "regions",
        POLYGON,
        required=("code", "name"),
        unique=("code",),
        code_digits=(6, 9, 12),
        choices={"level": REGION_LEVELS},
    ),
    "units": LayerSpec(
        "units",
        POLYGON,
        unique=("code",),
        code_digits=(16,),
        counts=("residents", "households", "governance_load"),
    ),
    "buildings": LayerSpec(
        "buildings",
        POLYGON,
        unique=("osm_id",),
        counts=("levels", "residents", "households"),
    ),
    "grids": LayerSpec(
        "grids",
        POLYGON,
        unique=("code",),
        code_digits=(15,),
        choices={"kind": GRID_KINDS},
    ),
    "stations": LayerSpec(
        "stations",
        POINT,
        required=("code", "name"),
        unique=("code",),
        counts=("capacity_residents",),
    ),
    "events": LayerSpec(
        "events",
        POINT,
        required=("kind", "occurred_at"),
        unique=("external_id",),
        times=("occurred_at",),
        placeless=True,
    ),
    "overlays": LayerSpec("overlays", POLYGON, required=("net", "code"), unique=("net", "code")),
}
"""Every layer ``gridmap import`` takes besides OSM."""

CHOICE_ALIASES = {
    "市": "city",
    "区": "district",
    "县": "district",
    "街道": "street",
    "镇": "street",
    "乡": "street",
    "社区": "community",
    "村": "community",
    "城区": "urban",
    "城区型": "urban",
    "城郊": "suburban",
    "城郊型": "suburban",
    "农村": "rural",
    "农村型": "rural",
    "专属": "dedicated",
    "专属网格": "dedicated",
}
"""Chinese words for region levels and grid kinds, as grid centres' files write them."""
TEXT_FIELDS = (
    "code",
    "name",
    "community",
    "net",
    "kind",
    "level",
    "external_id",
    "status",
    "services",
    "building_type",
    "use",
    "address",
    "opening_hours",
    "phone",
)
"""Fields read as text: codes stay strings even when a file stores them as numbers."""


@dataclass(frozen=True)
class Validated:
    """A layer's rows with clean types, and the repairs ``fix`` made."""

    frame: gpd.GeoDataFrame
    repairs: list[str]


def validate_layer(
    frame: gpd.GeoDataFrame, spec: LayerSpec, *, problems: Problems, fix: bool = False
) -> Validated:
    """Check ``frame`` against ``spec``; add every problem to ``problems``; clean the types."""
    labels = frame["label"].to_numpy()
    out = frame.copy()
    for name in spec.required:
        if name not in out.columns:
            present = ", ".join(c for c in out.columns if c not in ("geometry", "label"))
            problems.add("file", f"no {name!r} column (it has: {present}); use --map {name}=...")
    for name in TEXT_FIELDS:
        if name in out.columns:
            out[name] = _as_text(out[name])
    for name in spec.required:
        if name in out.columns:
            problems.add_where(labels, out[name].isna().to_numpy(), f"{name} is missing")
    if spec.code_digits and "code" in out.columns:
        _check_code(out["code"], labels, spec, problems)
    _check_unique(out, labels, spec, problems)
    for name in spec.counts:
        if name in out.columns:
            out[name] = _as_count(out[name], name, labels, problems)
    for name in spec.times:
        if name in out.columns:
            out[name] = _as_time(out[name], name, labels, problems)
    for name, allowed in spec.choices.items():
        if name in out.columns:
            out[name] = _as_choice(out[name], name, allowed, labels, problems)
    geoms, repairs = _check_geometry(out.geometry.values, labels, spec, problems, fix=fix)
    return Validated(out.set_geometry(geoms, crs=frame.crs), repairs)


def _as_text(series: pd.Series) -> pd.Series:
    """Return codes and names as stripped strings (whole numbers without a trailing .0)."""
    if pd.api.types.is_float_dtype(series):
        whole = series.dropna()
        if (whole == np.round(whole)).all():
            series = series.astype("Int64")
    text = series.astype("string").str.strip()
    return text.astype(object).where(text.notna() & (text != ""), None)


def _check_code(codes: pd.Series, labels: np.ndarray, spec: LayerSpec, problems: Problems) -> None:
    text = codes.astype("string")
    ok = codes.isna() | (text.str.fullmatch(r"[0-9]+") & text.str.len().isin(spec.code_digits))
    ok = ok.fillna(False).astype(bool)
    words = " or ".join(str(n) for n in spec.code_digits)
    problems.add_where(
        labels,
        ~ok.to_numpy(dtype=bool),
        [f"code {c!r} is not a {words}-digit {spec.name[:-1]} code" for c in codes[~ok]],
    )


def _check_unique(
    frame: pd.DataFrame, labels: np.ndarray, spec: LayerSpec, problems: Problems
) -> None:
    if not spec.unique or not all(c in frame.columns for c in spec.unique):
        return
    keys = frame[list(spec.unique)]
    filled = keys.notna().all(axis=1)
    repeat = keys.duplicated(keep="first") & filled
    first = keys[filled].drop_duplicates(keep="first")
    first_label = {tuple(k): labels[i] for i, k in zip(first.index, first.to_numpy(), strict=True)}
    name = "/".join(spec.unique)
    problems.add_where(
        labels,
        repeat.to_numpy(),
        [
            f"duplicate {name} {'/'.join(map(str, k))!r} (first at {first_label[tuple(k)]})"
            for k in keys[repeat].to_numpy()
        ],
    )


def _as_count(series: pd.Series, name: str, labels: np.ndarray, problems: Problems) -> pd.Series:
    values = pd.to_numeric(series, errors="coerce")
    given = series.notna() & (series.astype(str).str.strip() != "")
    not_number = given & values.isna()
    problems.add_where(
        labels, not_number.to_numpy(), [f"{name} {v!r} is not a number" for v in series[not_number]]
    )
    negative = values < 0
    problems.add_where(
        labels, negative.to_numpy(), [f"{name} is negative ({v:g})" for v in values[negative]]
    )
    return values


_ZONED = r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
"""A time of day with its offset from UTC at the end (``10:30+08:00``, ``10:30:00Z``)."""


def _as_time(series: pd.Series, name: str, labels: np.ndarray, problems: Problems) -> pd.Series:
    """Return the times in UTC: those without an offset are Beijing time, as hotlines write."""
    text = series.astype("string").str.strip()
    zoned = text.str.contains(_ZONED, regex=True).fillna(False).to_numpy(dtype=bool)
    values = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
    if zoned.any():
        values[zoned] = pd.to_datetime(text[zoned], errors="coerce", utc=True, format="mixed")
    local = ~zoned & series.notna().to_numpy(dtype=bool)
    if local.any():
        naive = pd.to_datetime(text[local], errors="coerce", format="mixed")
        values[local] = naive.dt.tz_localize(
            CITY_TIME_ZONE, ambiguous="NaT", nonexistent="NaT"
        ).dt.tz_convert("UTC")
    bad = series.notna() & values.isna()
    problems.add_where(
        labels, bad.to_numpy(), [f"{name} {v!r} is not a date and time" for v in series[bad]]
    )
    return values


def _as_choice(
    series: pd.Series, name: str, allowed: tuple[str, ...], labels: np.ndarray, problems: Problems
) -> pd.Series:
    values = series.map(lambda v: CHOICE_ALIASES.get(v, v) if isinstance(v, str) else v)
    values = values.where(values.isna(), values.astype(str).str.lower())
    bad = values.notna() & ~values.isin(allowed)
    problems.add_where(
        labels,
        bad.to_numpy(),
        [f"{name} {v!r} is not one of {', '.join(allowed)}" for v in series[bad]],
    )
    return values


def _check_geometry(
    geoms: np.ndarray, labels: np.ndarray, spec: LayerSpec, problems: Problems, *, fix: bool
) -> tuple[np.ndarray, list[str]]:
    """Check presence, type and validity; return polygons as MultiPolygons."""
    geoms = np.asarray(geoms, dtype=object).copy()
    empty = ~shapely.is_missing(geoms) & shapely.is_empty(geoms)
    missing = shapely.is_missing(geoms) | empty
    unreported = ~problems.reported(labels)
    problems.add_where(labels, empty & unreported, "has an empty geometry (no coordinates)")
    placeless = missing & ~empty & unreported if spec.placeless else np.zeros(len(geoms), bool)
    problems.add_where(labels, missing & ~empty & unreported & ~placeless, "has no geometry")
    type_ids = shapely.get_type_id(geoms)
    wrong = ~missing & ~np.isin(type_ids, _TYPE_IDS[spec.geometry])
    problems.add_where(
        labels,
        wrong,
        [
            f"is a {_TYPE_NAMES[t]}; {spec.name} must be {_TYPE_WORDS[spec.geometry]}"
            for t in type_ids[wrong]
        ],
    )
    checkable = ~missing & ~wrong
    invalid = checkable & ~shapely.is_valid(geoms)
    reasons = shapely.is_valid_reason(geoms[invalid])
    repairs: list[str] = []
    if invalid.any() and fix:
        fixed, kept = polygonal_parts(geoms[invalid])
        repaired = np.zeros(int(invalid.sum()), dtype=bool)
        repaired[kept] = True
        before = shapely.area(geoms[invalid][kept])
        after = shapely.area(fixed)
        for label, reason, b, a, g in zip(
            labels[invalid][kept], reasons[kept], before, after, fixed, strict=True
        ):
            change = f"area {100 * (a - b) / b:+.1f}%" if b > 0 else "area restored"
            repairs.append(f"{label}: repaired {reason} → {len(g.geoms)} polygon(s), {change}")
        positions = np.flatnonzero(invalid)
        geoms[positions[kept]] = fixed
        geoms[positions[~repaired]] = None
        problems.add_where(
            labels[invalid],
            ~repaired,
            [f"invalid geometry ({r}); make_valid leaves no polygon" for r in reasons[~repaired]],
        )
    elif invalid.any():
        problems.add_where(
            labels, invalid, [f"invalid geometry: {r} (use --fix to repair)" for r in reasons]
        )
    if invalid.any() and not fix:
        geoms[invalid] = None  # reported: later checks (overlaps, placing) skip it
    if spec.geometry == POLYGON:
        polygons = checkable & (shapely.get_type_id(geoms) == 3)
        geoms[polygons] = shapely.multipolygons(geoms[polygons].reshape(-1, 1))
    return geoms, repairs
