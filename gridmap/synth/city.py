"""A seeded, Chinese-style synthetic city, generated with numpy and shapely, for scale.

The city is a grid of blocks (街坊) of 180–240 m between streets; arterials (主干路) every third
street, residential streets between. Blocks hold compounds of walk-up slabs (5–7 storeys),
towers (11–26) and low-rise houses (2–3). Six blocks make a community (社区), sixteen communities
a street (街道), sixteen streets a district (区), all coded per GB/T 2260 and the statistical
division codes. Some blocks are parks with ponds or schools; each community has a community
centre (a candidate station site), about half of them already a party-mass service station;
12345 hotline tickets and patrol findings are scattered over it. The same seed gives the same
city. Pure: geometry in EPSG:4326 out, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

ORIGIN = (104.00, 30.60)  # lon, lat: a Chengdu-like plain
BUILDINGS_PER_BLOCK = (6, 6)  # columns, rows of a compound
BLOCKS_PER_COMMUNITY = (3, 2)
COMMUNITIES_PER_STREET = (4, 4)
STREETS_PER_DISTRICT = (4, 4)
SPECIAL_BLOCK_SHARE = 0.05  # parks and schools
EVENTS_PER_COMMUNITY = 20
EVENT_KINDS = ("12345热线", "矛盾纠纷", "巡查发现", "安全隐患")


@dataclass(frozen=True)
class SyntheticCity:
    """The layers of a synthetic city, each a GeoDataFrame in EPSG:4326."""

    regions: gpd.GeoDataFrame  # code, name, level, geometry
    streets: gpd.GeoDataFrame  # kind, name, geometry (one segment between crossings)
    buildings: gpd.GeoDataFrame  # building_type, levels, geometry
    water: gpd.GeoDataFrame  # kind, name, geometry
    amenities: gpd.GeoDataFrame  # kind, name, geometry (Point)
    stations: gpd.GeoDataFrame  # code, name, geometry (Point)
    events: gpd.GeoDataFrame  # kind, occurred_at, status, geometry (Point)
    walk_nodes: gpd.GeoDataFrame  # id, geometry
    walk_edges: gpd.GeoDataFrame  # source, target, length_m, highway, geometry


def synthesize(buildings: int, *, seed: int = 0, county_code: str = "990101") -> SyntheticCity:
    """Generate a city of exactly ``buildings`` buildings."""
    if not 1 <= buildings <= 2_000_000:
        raise ValueError("buildings must be between 1 and 2,000,000")
    rng = np.random.default_rng(seed)
    per_block = BUILDINGS_PER_BLOCK[0] * BUILDINGS_PER_BLOCK[1]
    n_blocks = int(np.ceil(buildings / per_block / (1 - SPECIAL_BLOCK_SHARE))) + 1
    wide, tall = BLOCKS_PER_COMMUNITY
    cols = int(np.ceil(np.sqrt(n_blocks) / wide)) * wide  # whole communities across
    rows = int(np.ceil(n_blocks / cols / tall)) * tall
    xs = np.r_[0.0, np.cumsum(rng.uniform(180.0, 240.0, cols))]
    ys = np.r_[0.0, np.cumsum(rng.uniform(180.0, 240.0, rows))]
    to_wgs84 = _projector()
    special = rng.random((rows, cols)) < SPECIAL_BLOCK_SHARE
    footprints, levels, kinds = _buildings(rng, xs, ys, special, buildings)
    regions = _regions(xs, ys, county_code)
    nodes, edges, streets = _streets(xs, ys)
    schools, water = _special_blocks(rng, xs, ys, special)
    centres = _community_centres(rng, regions)
    stations = centres.iloc[np.flatnonzero(rng.random(len(centres)) < 0.5)]
    return SyntheticCity(
        regions=_frame(regions, to_wgs84),
        streets=_frame(streets, to_wgs84),
        buildings=_frame(
            pd.DataFrame({"building_type": kinds, "levels": levels, "geometry": footprints}),
            to_wgs84,
        ),
        water=_frame(water, to_wgs84),
        amenities=_frame(pd.concat([centres, schools], ignore_index=True), to_wgs84),
        stations=_frame(
            pd.DataFrame(
                {
                    "code": stations["community"].to_numpy() + "-01",
                    "name": stations["name"].str.replace("服务中心", "党群服务站").to_numpy(),
                    "geometry": stations.geometry.to_numpy(),
                }
            ),
            to_wgs84,
        ),
        events=_frame(_events(rng, regions), to_wgs84),
        walk_nodes=_frame(nodes, to_wgs84),
        walk_edges=_frame(edges, to_wgs84),
    )


def _projector() -> pyproj.Transformer:
    """Return the transform from the city's local metres (origin at ORIGIN) to WGS 84."""
    local = pyproj.CRS.from_proj4(
        f"+proj=tmerc +lon_0={ORIGIN[0]} +lat_0={ORIGIN[1]} +k=1 +x_0=0 +y_0=0 +ellps=GRS80"
    )
    return pyproj.Transformer.from_crs(local, 4326, always_xy=True)


def _frame(frame: pd.DataFrame, to_wgs84: pyproj.Transformer) -> gpd.GeoDataFrame:
    geoms = np.asarray(frame["geometry"].to_numpy(), dtype=object)
    moved = shapely.transform(geoms, lambda xy: np.column_stack(to_wgs84.transform(*xy.T)))
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=moved, crs=4326)


def _buildings(
    rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray, special: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lay out compounds in every ordinary block; keep exactly ``n`` buildings."""
    bx, by = BUILDINGS_PER_BLOCK
    row, col = np.nonzero(~special)
    # one slot per building: block (row, col) and slot (i, j) in the block's lattice
    slot_i = np.tile(np.repeat(np.arange(bx), by), len(row))
    slot_j = np.tile(np.tile(np.arange(by), bx), len(row))
    row, col = np.repeat(row, bx * by), np.repeat(col, bx * by)
    keep = np.sort(rng.choice(len(row), size=min(n, len(row)), replace=False))
    row, col, slot_i, slot_j = row[keep], col[keep], slot_i[keep], slot_j[keep]
    margin = 18.0
    x0, x1 = xs[col] + margin, xs[col + 1] - margin
    y0, y1 = ys[row] + margin, ys[row + 1] - margin
    cell_w, cell_h = (x1 - x0) / bx, (y1 - y0) / by
    kind = rng.choice(3, size=len(row), p=[0.52, 0.08, 0.40])  # walk-up, tower, low-rise
    width = np.choose(
        kind,
        [
            rng.uniform(16, 22, len(row)),
            rng.uniform(14, 18, len(row)),
            rng.uniform(8, 12, len(row)),
        ],
    )
    depth = np.choose(
        kind,
        [
            rng.uniform(10, 13, len(row)),
            rng.uniform(14, 18, len(row)),
            rng.uniform(8, 12, len(row)),
        ],
    )
    width, depth = np.minimum(width, cell_w * 0.8), np.minimum(depth, cell_h * 0.8)
    cx = x0 + (slot_i + 0.5) * cell_w + rng.uniform(-1, 1, len(row)) * (cell_w - width) * 0.3
    cy = y0 + (slot_j + 0.5) * cell_h + rng.uniform(-1, 1, len(row)) * (cell_h - depth) * 0.3
    levels = np.choose(
        kind,
        [
            rng.integers(5, 8, len(row)),
            rng.integers(11, 27, len(row)),
            rng.integers(2, 4, len(row)),
        ],
    )
    types = np.array(["apartments", "apartments", "residential"], dtype=object)[kind]
    footprints = shapely.box(cx - width / 2, cy - depth / 2, cx + width / 2, cy + depth / 2)
    return footprints, levels, types


def _regions(xs: np.ndarray, ys: np.ndarray, county_code: str) -> pd.DataFrame:
    """Code communities, streets and districts as rectangles of whole blocks."""
    levels = [
        ("community", BLOCKS_PER_COMMUNITY),
        ("street", COMMUNITIES_PER_STREET),
        ("district", STREETS_PER_DISTRICT),
    ]
    frames, span = [], np.array([1, 1])
    cols, rows = len(xs) - 1, len(ys) - 1
    prefix = county_code[:4]
    for level, size in levels:
        span = span * np.array(size)
        nx, ny = int(np.ceil(cols / span[0])), int(np.ceil(rows / span[1]))
        columns, rows_ = np.meshgrid(np.arange(nx), np.arange(ny), indexing="xy")
        i, j = columns.ravel(), rows_.ravel()
        a, b = i * span[0], np.minimum((i + 1) * span[0], cols)
        c, d = j * span[1], np.minimum((j + 1) * span[1], rows)
        reading = np.lexsort((i, -j))  # north to south, then west to east
        geoms = [_grid_box(xs, ys, *k) for k in zip(a, b, c, d, strict=True)]
        frames.append(
            pd.DataFrame(
                {
                    "level": level,
                    "i": i[reading],
                    "j": j[reading],
                    "span_x": span[0],
                    "span_y": span[1],
                    "geometry": np.asarray(geoms, dtype=object)[reading],
                }
            )
        )
    communities, streets, districts = frames
    districts["code"] = [f"{prefix}{k + 1:02d}" for k in range(len(districts))]
    districts["name"] = [f"第{k + 1}区" for k in range(len(districts))]
    _code_children(streets, districts, "街道")
    _code_children(communities, streets, "社区")
    city = pd.DataFrame(
        {
            "level": ["city"],
            "code": [f"{prefix}00"],
            "name": ["合成市"],
            "geometry": [_grid_box(xs, ys, 0, cols, 0, rows)],
        }
    )
    frame = pd.concat([city, districts, streets, communities], ignore_index=True)
    return frame[["code", "name", "level", "geometry"]]


def _with_lanes(edges: np.ndarray) -> np.ndarray:
    """Return street positions with a lane halfway between each pair: 2n - 1 lines."""
    return np.sort(np.r_[edges, (edges[:-1] + edges[1:]) / 2])


def _grid_box(xs: np.ndarray, ys: np.ndarray, a: int, b: int, c: int, d: int) -> shapely.Polygon:
    """Return the rectangle of blocks [a, b) × [c, d) with a vertex at every street crossing.

    The vertices (at streets and lanes) make region edges follow the street segments exactly
    once projected.
    """
    xs, ys = _with_lanes(xs), _with_lanes(ys)
    a, b, c, d = 2 * a, 2 * b, 2 * c, 2 * d
    ring = np.concatenate(
        [
            np.column_stack([xs[a : b + 1], np.full(b - a + 1, ys[c])]),
            np.column_stack([np.full(d - c, xs[b]), ys[c + 1 : d + 1]]),
            np.column_stack([xs[a:b][::-1], np.full(b - a, ys[d])]),
            np.column_stack([np.full(d - c, xs[a]), ys[c:d][::-1]]),
        ]
    )
    return shapely.Polygon(ring)


def _code_children(children: pd.DataFrame, parents: pd.DataFrame, suffix: str) -> None:
    """Give each child its parent's code plus a 3-digit serial in reading order."""
    ratio_x = parents["span_x"].iloc[0] // children["span_x"].iloc[0]
    ratio_y = parents["span_y"].iloc[0] // children["span_y"].iloc[0]
    key = pd.Series(
        parents["code"].to_numpy(), index=pd.MultiIndex.from_arrays([parents["i"], parents["j"]])
    )
    parent = key.loc[
        pd.MultiIndex.from_arrays([children["i"] // ratio_x, children["j"] // ratio_y])
    ].to_numpy()
    serial = pd.Series(1, index=children.index).groupby(parent).cumsum().to_numpy()
    children["code"] = [f"{p}{s:03d}" for p, s in zip(parent, serial, strict=True)]
    children["name"] = [f"{c[-3:].lstrip('0')}号{suffix}" for c in children["code"]]


def _streets(xs: np.ndarray, ys: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return the street grid as segments between crossings: walk nodes, edges, street lines.

    Every block has two lanes (service roads) crossing at its middle, as compounds do.
    """
    xs, ys = _with_lanes(xs), _with_lanes(ys)
    nx, ny = len(xs), len(ys)
    gx, gy = np.meshgrid(xs, ys, indexing="xy")
    node_id = np.arange(nx * ny).reshape(ny, nx)
    nodes = pd.DataFrame(
        {"id": node_id.ravel(), "geometry": shapely.points(gx.ravel(), gy.ravel())}
    )
    horizontal = (node_id[:, :-1].ravel(), node_id[:, 1:].ravel(), np.repeat(np.arange(ny), nx - 1))
    vertical = (node_id[:-1, :].ravel(), node_id[1:, :].ravel(), np.tile(np.arange(nx), ny - 1))
    source = np.r_[horizontal[0], vertical[0]]
    target = np.r_[horizontal[1], vertical[1]]
    line_no = np.r_[horizontal[2], vertical[2]]
    lane = line_no % 2 == 1
    kind = np.select([lane, line_no // 2 % 3 == 0], ["service", "primary"], "residential")
    kind = kind.astype(object)
    names = np.r_[
        [f"{k // 2 + 1}路" for k in horizontal[2]], [f"{k // 2 + 1}街" for k in vertical[2]]
    ].astype(object)
    names[lane] = None
    xy = np.column_stack([gx.ravel(), gy.ravel()])
    lines = shapely.linestrings(
        np.stack([xy[source], xy[target]], axis=1).reshape(-1, 2),
        indices=np.repeat(np.arange(len(source)), 2),
    )
    length = shapely.length(lines)
    edges = pd.DataFrame(
        {"source": source, "target": target, "length_m": length, "highway": kind, "geometry": lines}
    )
    streets = pd.DataFrame({"kind": kind, "name": names, "geometry": lines})
    return nodes, edges, streets


def _special_blocks(
    rng: np.random.Generator, xs: np.ndarray, ys: np.ndarray, special: np.ndarray
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parks (with a pond) and schools in the blocks left without housing."""
    row, col = np.nonzero(special)
    school = rng.random(len(row)) < 0.5
    cx, cy = (xs[col] + xs[col + 1]) / 2, (ys[row] + ys[row + 1]) / 2
    ponds = shapely.buffer(shapely.points(cx[~school], cy[~school]), 45.0, quad_segs=8)
    water = pd.DataFrame({"kind": "pond", "name": "湖", "geometry": ponds})
    names = [f"第{k + 1}小学" for k in range(school.sum())]
    schools = pd.DataFrame(
        {"kind": "school", "name": names, "geometry": shapely.points(cx[school], cy[school])}
    )
    return schools, water


def _community_centres(rng: np.random.Generator, regions: pd.DataFrame) -> pd.DataFrame:
    """One community centre per community, on a street corner of it: a candidate site."""
    communities = regions.loc[regions["level"] == "community"]
    bounds = shapely.bounds(np.asarray(communities["geometry"].to_numpy(), dtype=object))
    corner = rng.random((len(communities), 2))
    x = bounds[:, 0] + (0.2 + 0.6 * corner[:, 0]) * (bounds[:, 2] - bounds[:, 0])
    y = bounds[:, 1] + (0.2 + 0.6 * corner[:, 1]) * (bounds[:, 3] - bounds[:, 1])
    return pd.DataFrame(
        {
            "kind": "community_centre",
            "community": communities["code"].to_numpy(),
            "name": communities["name"].to_numpy() + "服务中心",
            "geometry": shapely.points(x, y),
        }
    )


def _events(rng: np.random.Generator, regions: pd.DataFrame) -> pd.DataFrame:
    """Hotline tickets and patrol findings, a Poisson number per community, over a year."""
    communities = regions.loc[regions["level"] == "community"]
    counts = rng.poisson(EVENTS_PER_COMMUNITY, len(communities))
    bounds = np.repeat(
        shapely.bounds(np.asarray(communities["geometry"].to_numpy(), dtype=object)), counts, axis=0
    )
    n = len(bounds)
    u = rng.random((n, 2))
    x = bounds[:, 0] + u[:, 0] * (bounds[:, 2] - bounds[:, 0])
    y = bounds[:, 1] + u[:, 1] * (bounds[:, 3] - bounds[:, 1])
    start = pd.Timestamp("2025-11-01", tz="Asia/Shanghai")
    return pd.DataFrame(
        {
            "kind": np.array(EVENT_KINDS, dtype=object)[rng.integers(0, len(EVENT_KINDS), n)],
            "occurred_at": start + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="min"),
            "status": np.where(rng.random(n) < 0.8, "closed", "open").astype(object),
            "geometry": shapely.points(x, y),
        }
    )
