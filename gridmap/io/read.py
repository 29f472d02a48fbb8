"""Read a user's file into a GeoDataFrame in EPSG:4326, gathering what is wrong with it.

Takes GeoJSON, GeoPackage, Shapefile (``.shp`` or a ``.zip`` holding one), and CSV or XLSX
tables with longitude/latitude columns or a WKT column. The file must be what its name says
(checked by its first bytes). Columns are renamed by ``--map target=source`` and by the usual
Chinese headers (编码, 名称, 户数 ...). Coordinates come in any EPSG CRS (CGCS2000, 4490, and its
Gauss-Krüger zones included), GCJ-02 or BD-09, and leave in WGS 84; coordinates out of range,
and latitude and longitude swapped, are found per feature. Every problem found goes to the
caller's :class:`~gridmap.io.problems.Problems`; a file that cannot be read at all raises at once.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from gridmap.crs import parse_crs, to_wgs84_function
from gridmap.errors import InvalidInput
from gridmap.io.problems import Problems
from gridmap.io.sheets import check_number_codes, read_xlsx
from gridmap.io.text import dbf_encoding, decode_file_text

WGS84 = pyproj.CRS.from_epsg(4326)
FORMATS = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".zip": "zipped Shapefile",
    ".csv": "CSV",
    ".xlsx": "XLSX",
}
HEADER_ALIASES = {
    "编码": "code",
    "代码": "code",
    "名称": "name",
    "级别": "level",
    "类型": "kind",
    "户数": "households",
    "人口": "residents",
    "人数": "residents",
    "层数": "levels",
    "经度": "lon",
    "纬度": "lat",
    "社区": "community",
    "社区编码": "community",
    "网格编码": "code",
    "网格名称": "name",
    "时间": "occurred_at",
    "状态": "status",
    "服务": "services",
    "容量": "capacity_residents",
    "网别": "net",
    "网格": "grid",
    "职务": "role",
    "岗位": "role",
    "姓名": "name",
    "电话": "phone",
    "联系电话": "phone",
    "职责": "duties",
    "地址": "address",
    "诉求地址": "address",
    "事发地址": "address",
    "工单编号": "external_id",
    "工单号": "external_id",
    "诉求类型": "kind",
    "诉求分类": "kind",
    "事件类型": "kind",
    "受理时间": "occurred_at",
    "来电时间": "occurred_at",
    "登记时间": "occurred_at",
    "工单状态": "status",
    "办理状态": "status",
    "开放时间": "opening_hours",
    "服务时间": "opening_hours",
    "办公时间": "opening_hours",
}
"""Chinese headers that grid centres' spreadsheets use, and gridmap's field for each."""
LON_COLUMNS = ("lon", "lng", "longitude", "x")
LAT_COLUMNS = ("lat", "latitude", "y")
WKT_COLUMNS = ("wkt", "geometry", "geom", "the_geom")
CITY_MARGIN_DEG = 1.0
"""How far (degrees, about 100 km) a feature may lie outside the city's extent."""

Extent = tuple[float, float, float, float]


def parse_field_map(pairs: Sequence[str]) -> dict[str, str]:
    """Read ``--map target=source`` options into ``{target: source}``.

    >>> parse_field_map(["households=HH_2024", "code=GRID_ID"])
    {'households': 'hh_2024', 'code': 'grid_id'}
    """
    mapping = {}
    for pair in pairs:
        target, sep, source = pair.partition("=")
        if not sep or not target.strip() or not source.strip():
            raise InvalidInput(f"--map {pair!r}: write it as target=source, e.g. households=HH")
        mapping[_column_key(target)] = _column_key(source)
    return mapping


def read_features(
    path: Path,
    *,
    problems: Problems,
    crs: str | None = None,
    field_map: Mapping[str, str] | None = None,
    extent: Extent | None = None,
    encoding: str | None = None,
) -> gpd.GeoDataFrame:
    """Read ``path`` into a GeoDataFrame in EPSG:4326 with a ``label`` column per feature.

    Features whose coordinates are unusable get an empty geometry and a problem each; what
    the reading decided on its own (the encoding, Z dropped) goes to ``problems.notes``.

    Raises
    ------
    InvalidInput
        When the file is missing, empty, of an unknown kind, or not what its name says.
    """
    fmt = _format(path)
    if fmt in ("CSV", "XLSX"):
        frame = _read_table(path, fmt, problems, field_map or {}, encoding)
        word, base = "row", 0
    else:
        frame = _rename(_read_gis(path, fmt, problems, crs, encoding), field_map or {}, problems)
        word, base = "feature", 1
    if frame.empty:
        raise InvalidInput(f"{path.name}: the file has no features")
    labels = np.array([f"{word} {i + base}" for i in frame.index], dtype=object)
    if not isinstance(frame, gpd.GeoDataFrame):
        frame = _table_geometry(frame, labels, problems)
    frame = _flat(frame.reset_index(drop=True), problems)
    frame["label"] = labels
    return _to_wgs84(frame, crs, extent, problems)


def _flat(frame: gpd.GeoDataFrame, problems: Problems) -> gpd.GeoDataFrame:
    """Drop heights (Z): gridmap's layers are 2D, and a note says how many had them."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    has_z = np.asarray(shapely.has_z(geoms), dtype=bool) & ~shapely.is_missing(geoms)
    if not has_z.any():
        return frame
    geoms = geoms.copy()
    geoms[has_z] = shapely.force_2d(geoms[has_z])
    problems.notes.append(f"heights (Z) dropped from {int(has_z.sum()):,} features")
    return frame.set_geometry(geoms, crs=frame.crs)


def read_rows(
    path: Path,
    *,
    problems: Problems,
    field_map: Mapping[str, str] | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Read a CSV or XLSX table without geometry (a roster, say), with a ``label`` per row.

    Raises
    ------
    InvalidInput
        When the file is missing, empty, not a table, or not what its name says.
    """
    fmt = _format(path)
    if fmt not in ("CSV", "XLSX"):
        raise InvalidInput(f"{path.name}: give a CSV or XLSX table (got a {fmt} file)")
    frame = _read_table(path, fmt, problems, field_map or {}, encoding)
    if frame.empty:
        raise InvalidInput(f"{path.name}: the table has no rows")
    labels = [f"row {i}" for i in frame.index]
    frame = frame.reset_index(drop=True)
    frame["label"] = labels
    return frame


def _format(path: Path) -> str:
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise InvalidInput(f"{path.name}: unknown kind of file; gridmap reads {known}")
    if path.stat().st_size == 0:
        raise InvalidInput(f"{path.name}: the file is empty")
    head = path.read_bytes()[:16]
    expected = {
        "GeoJSON": head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{",
        "GeoPackage": head.startswith(b"SQLite format 3\x00"),
        "Shapefile": head[:4] == b"\x00\x00\x27\x0a",
        "zipped Shapefile": zipfile.is_zipfile(path),
        "XLSX": zipfile.is_zipfile(path),
        "CSV": b"\x00" not in path.read_bytes()[:4096],
    }[fmt]
    if not expected:
        raise InvalidInput(f"{path.name}: the file is not a {fmt} file, as its name says")
    return fmt


def _read_gis(
    path: Path, fmt: str, problems: Problems, crs: str | None, encoding: str | None
) -> gpd.GeoDataFrame:
    source = str(path)
    options: dict[str, object] = {}
    if fmt in ("Shapefile", "zipped Shapefile"):
        parts = shapefile_parts(path)
        source = parts.source
        if parts.dbf is None or parts.shx is None:
            missing = " and ".join(
                f"{parts.stem}{ext}"
                for ext, part in ((".dbf", parts.dbf), (".shx", parts.shx))
                if part is None
            )
            raise InvalidInput(
                f"{path.name}: the shapefile has no {missing}; a shapefile is several files "
                "(.shp shapes, .shx index, .dbf attributes: codes, names, counts): "
                "give them all, side by side or in one zip"
            )
        if parts.prj is None and crs is None:
            raise InvalidInput(
                f"{path.name}: the shapefile has no {parts.stem}.prj, so its coordinate system "
                "is unknown: add the .prj, or name the system with --crs (e.g. --crs 4490)"
            )
        if encoding is None:
            encoding, why = dbf_encoding(parts.dbf, parts.cpg)
        else:
            why = "as --encoding says"
        options["encoding"] = encoding
        problems.notes.append(f"text read as {encoding} ({why})")
    if fmt == "GeoJSON":
        _check_json(path)
    try:
        frame = pyogrio.read_dataframe(source, **options)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        raise InvalidInput(f"{path.name}: not a readable {fmt} file ({error})") from None
    except (UnicodeDecodeError, LookupError) as error:
        raise InvalidInput(
            f"{path.name}: the attributes are not {encoding} ({error}); name the encoding "
            "with --encoding"
        ) from None
    frame.columns = [c if c == "geometry" else _column_key(c) for c in frame.columns]
    return frame


@dataclass(frozen=True)
class ShapefileParts:
    """Where a shapefile's parts are: GDAL's source path, and the sidecar files' bytes."""

    source: str
    stem: str
    dbf: bytes | None
    shx: bytes | None
    prj: bytes | None
    cpg: bytes | None


def shapefile_parts(path: Path) -> ShapefileParts:
    """Find a shapefile's .dbf, .shx, .prj and .cpg beside it, or in its zip.

    Raises
    ------
    InvalidInput
        When a zip holds no .shp or more than one.
    """
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            inner = [n for n in names if n.lower().endswith(".shp")]
            if len(inner) != 1:
                raise InvalidInput(
                    f"{path.name}: a zip must hold exactly one .shp (with its .dbf, .shx, .prj); "
                    f"it holds {len(inner)}"
                )
            stem = inner[0][:-4]
            by_suffix = {n[len(stem) :].lower(): n for n in names if n[: len(stem)] == stem}
            part = {
                s: archive.read(by_suffix[s]) if s in by_suffix else None
                for s in (".dbf", ".shx", ".prj", ".cpg")
            }
        return ShapefileParts(
            f"/vsizip/{path}/{inner[0]}", Path(stem).name, **{k[1:]: v for k, v in part.items()}
        )
    siblings = {p.suffix.lower(): p for p in path.parent.glob(path.stem + ".*") if p.is_file()}
    siblings = {s: p for s, p in siblings.items() if p.stem == path.stem}
    found = {
        s[1:]: siblings[s].read_bytes() if s in siblings else None
        for s in (".dbf", ".shx", ".prj", ".cpg")
    }
    return ShapefileParts(str(path), path.stem, **found)


def _check_json(path: Path) -> None:
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"{path.name}: not valid JSON ({error})") from None
    if not isinstance(document, dict) or document.get("type") not in (
        "FeatureCollection",
        "Feature",
    ):
        raise InvalidInput(f"{path.name}: not a GeoJSON FeatureCollection")
    if document.get("type") == "FeatureCollection" and not document.get("features"):
        raise InvalidInput(f"{path.name}: the file has no features")


def _read_table(
    path: Path,
    fmt: str,
    problems: Problems,
    field_map: Mapping[str, str],
    encoding: str | None,
) -> pd.DataFrame:
    """Read a CSV or the first sheet of an XLSX as text; index: the row number in the file."""
    if fmt == "XLSX":
        sheet = read_xlsx(path, problems)
        frame = _rename(sheet.text, field_map, problems)
        renames = dict(zip(sheet.text.columns, frame.columns, strict=True))
        check_number_codes(
            frame,
            sheet.numbers.rename(columns=renames),
            {renames[k]: v for k, v in sheet.letters.items()},
            problems,
        )
        return frame
    text, used = decode_file_text(path.read_bytes(), path.name, encoding)
    problems.notes.append(f"text read as {used}")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (ValueError, pd.errors.ParserError) as error:
        raise InvalidInput(f"{path.name}: not a readable table ({error})") from None
    frame.columns = [_column_key(c) for c in frame.columns]
    frame.index = frame.index + 2  # the header is row 1
    return _rename(frame.dropna(how="all"), field_map, problems)


def _column_key(name: object) -> str:
    return str(name).strip().lower()


def _rename(frame: pd.DataFrame, field_map: Mapping[str, str], problems: Problems) -> pd.DataFrame:
    missing = [s for s in field_map.values() if s not in frame.columns]
    for source in missing:
        available = ", ".join(c for c in frame.columns if c != "geometry")
        problems.add("--map", f"the file has no column {source!r} (it has: {available})")
    renames = {s: t for t, s in field_map.items() if s in frame.columns}
    aliases = {
        c: HEADER_ALIASES[c]
        for c in frame.columns
        if c in HEADER_ALIASES and HEADER_ALIASES[c] not in frame.columns and c not in renames
    }
    return frame.rename(columns={**aliases, **renames})


def _table_geometry(frame: pd.DataFrame, labels: np.ndarray, problems: Problems) -> pd.DataFrame:
    """Build point or WKT geometries for a CSV/XLSX table."""
    wkt = next((c for c in WKT_COLUMNS if c in frame.columns), None)
    lon = next((c for c in LON_COLUMNS if c in frame.columns), None)
    lat = next((c for c in LAT_COLUMNS if c in frame.columns), None)
    if wkt is not None:
        text = frame[wkt].fillna("").astype(str).to_numpy()
        geoms = shapely.from_wkt(text, on_invalid="ignore")
        problems.add_where(labels, shapely.is_missing(geoms), f"{wkt} is not WKT")
        rest = frame.drop(columns=[wkt])
    elif lon is not None and lat is not None:
        x = pd.to_numeric(frame[lon], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(frame[lat], errors="coerce").to_numpy(dtype=float)
        blank = _blank(frame[lon]) & _blank(frame[lat])  # no place given: the layer decides
        bad = np.isnan(x) | np.isnan(y)
        problems.add_where(labels, bad & ~blank, f"{lon}/{lat} are not numbers")
        geoms = shapely.points(np.where(bad, 0.0, x), np.where(bad, 0.0, y))
        geoms[bad] = None
        rest = frame.drop(columns=[lon, lat])
    else:
        raise InvalidInput(
            "the table has no geometry: give lon and lat columns (or 经度/纬度), or a WKT "
            "column, or name yours with --map lon=X --map lat=Y"
        )
    return gpd.GeoDataFrame(rest, geometry=geoms, crs=None)


def _blank(cells: pd.Series) -> np.ndarray:
    """Say which cells are empty (nothing, or only spaces)."""
    text = cells.astype("string").str.strip()
    return (text.isna() | (text == "")).to_numpy(dtype=bool)


def _to_wgs84(
    frame: gpd.GeoDataFrame, crs: str | None, extent: Extent | None, problems: Problems
) -> gpd.GeoDataFrame:
    source = parse_crs(crs) if crs else (frame.crs or WGS84)
    geographic = isinstance(source, str) or pyproj.CRS(source).is_geographic
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if geographic:
        geoms = _check_lon_lat(geoms, frame["label"].to_numpy(), extent, problems)
    if isinstance(source, str):  # gcj02 or bd09: shift every coordinate back to WGS 84
        to_wgs84 = to_wgs84_function(source)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(to_wgs84(xy[:, 0], xy[:, 1])))
        return frame.set_geometry(geoms, crs=WGS84)
    out = gpd.GeoSeries(geoms, crs=source).to_crs(WGS84)
    bounds = shapely.bounds(np.asarray(out.values, dtype=object))
    blank = shapely.is_missing(out.values) | shapely.is_empty(out.values)
    unusable = ~np.isfinite(bounds).all(axis=1) & ~blank
    problems.add_where(
        frame["label"].to_numpy(), unusable, f"coordinates lie outside the area of {crs}"
    )
    out[unusable] = None
    return frame.set_geometry(out.values, crs=WGS84)


def _check_lon_lat(
    geoms: np.ndarray, labels: np.ndarray, extent: Extent | None, problems: Problems
) -> np.ndarray:
    """Report features out of range, swapped, or far from the city; blank their geometry."""
    present = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    b = np.full((len(geoms), 4), np.nan)
    b[present] = shapely.bounds(geoms[present])
    in_range = (b[:, 0] >= -180) & (b[:, 2] <= 180) & (b[:, 1] >= -90) & (b[:, 3] <= 90)
    swapped_in_range = (b[:, 1] >= -180) & (b[:, 3] <= 180) & (b[:, 0] >= -90) & (b[:, 2] <= 90)
    if extent is not None:
        near = _overlaps(b, extent)
        near_swapped = _overlaps(b[:, [1, 0, 3, 2]], extent)
    else:
        near, near_swapped = in_range, swapped_in_range & ~in_range
    swapped = present & ~near & near_swapped
    out_of_range = present & ~in_range & ~swapped
    far = present & in_range & ~near & ~swapped
    where = [f"({x:.6g}, {y:.6g})" for x, y in b[:, :2][swapped | out_of_range | far]]
    reasons = np.select(
        [swapped, out_of_range],
        [
            "latitude and longitude look swapped: first corner {}; give lon before lat",
            "coordinates out of range {}: longitude must be within ±180, latitude within ±90",
        ],
        "lies far outside the city's extent, first corner {}: check the CRS (--crs)",
    )[swapped | out_of_range | far]
    messages = [r.format(w) for r, w in zip(reasons, where, strict=True)]
    problems.add_where(labels, swapped | out_of_range | far, messages)
    geoms = geoms.copy()
    geoms[swapped | out_of_range | far] = None
    return geoms


def _overlaps(b: np.ndarray, extent: Extent) -> np.ndarray:
    m = CITY_MARGIN_DEG
    return (
        (b[:, 0] <= extent[2] + m)
        & (b[:, 2] >= extent[0] - m)
        & (b[:, 1] <= extent[3] + m)
        & (b[:, 3] >= extent[1] - m)
    )
