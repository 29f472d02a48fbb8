"""What-if and siting on the stored city: the services behind ``gridmap coverage whatif|siting``.

Both work on the city this process keeps loaded, snapped and walked (:func:`warm_coverage`,
loaded again when its data changes), take points in WGS 84, and answer in residents and rates;
neither writes anything.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyproj
import shapely
from sqlalchemy import Connection

from gridmap.coverage import siting
from gridmap.coverage.engine import CoverageParameters
from gridmap.coverage.service import City, load_city
from gridmap.coverage.whatif import Rates, WhatIf
from gridmap.coverage.whatif_map import changes_on_map
from gridmap.db import coverage as coverage_rows
from gridmap.errors import Forbidden, InvalidInput, NotFound
from gridmap.network import snap


@dataclass
class LiveCoverage:
    """The city with its stations in a :class:`WhatIf`, ready for changes by station code."""

    city: City
    whatif: WhatIf
    keys: dict[str, int]  # station code → what-if key
    communities: pd.Index  # the community code of each group

    def to_metric(self, lon: float, lat: float) -> shapely.Point:
        """Return a WGS 84 point in the city's metric CRS."""
        x, y = pyproj.Transformer.from_crs(4326, self.city.crs, always_xy=True).transform(lon, lat)
        return shapely.Point(x, y)

    def add(self, code: str, lon: float, lat: float) -> None:
        """Add a station called ``code`` at a WGS 84 point."""
        if code in self.keys:
            raise InvalidInput(f"station {code} exists already")
        self.keys[code] = self.whatif.add(self.to_metric(lon, lat))

    def move(self, code: str, lon: float, lat: float) -> None:
        """Move station ``code`` to a WGS 84 point."""
        self.keys[code] = self.whatif.move(self._key(code), self.to_metric(lon, lat))

    def remove(self, code: str) -> None:
        """Remove station ``code``."""
        self.whatif.remove(self._key(code))
        del self.keys[code]

    def fork(self) -> LiveCoverage:
        """Return a what-if of its own over the same loaded city (see :meth:`WhatIf.fork`)."""
        return LiveCoverage(self.city, self.whatif.fork(), dict(self.keys), self.communities)

    def _key(self, code: str) -> int:
        if code not in self.keys:
            raise NotFound(f"no station {code}")
        return self.keys[code]

    def community_rates(self, rates: Rates | None = None) -> pd.DataFrame:
        """Return covered and total residents (and households) per community now.

        ``rates``: the what-if's rates, when the caller has them already.
        """
        rates = rates if rates is not None else self.whatif.rates()
        n = len(self.communities)
        assert rates.group_covered_households is not None and rates.group_households is not None
        return pd.DataFrame(
            {
                "covered_residents": rates.group_covered_residents[:n],
                "residents": rates.group_residents[:n],
                "covered_households": rates.group_covered_households[:n],
                "households": rates.group_households[:n],
            },
            index=self.communities,
        )


@dataclass(frozen=True)
class StationChanges:
    """Stations to add (WGS 84), move (code → WGS 84) and remove (codes)."""

    add: list[tuple[float, float]]
    move: list[tuple[str, float, float]]
    remove: list[str]


def whatif_answer(
    connection: Connection,
    parameters: CoverageParameters,
    changes: StationChanges,
    *,
    within: int | None = None,
) -> dict[str, Any]:
    """Return the coverage rates now and with the stations changed, per community too.

    With ``within`` (a region id: a key held to it), every station added, moved or removed
    must lie in the region, and the rates and communities are the region's only.

    Raises
    ------
    Forbidden
        When ``within`` is given and a change reaches outside the region.
    NotFound
        When a station to move or remove does not exist.
    """
    prefix = region = None
    if within is not None:
        region = coverage_rows.region_code(connection, within)
        prefix = coverage_rows.region_prefix(connection, within)
        places = [(f"add[{i}]", lon, lat) for i, (lon, lat) in enumerate(changes.add)]
        places += [(f"move[{i}]", lon, lat) for i, (_, lon, lat) in enumerate(changes.move)]
        outside = coverage_rows.points_outside(
            connection, within, [(lon, lat) for _, lon, lat in places]
        )
        if outside:
            where, lon, lat = places[outside[0]]
            raise Forbidden(
                f"{where}: ({lon}, {lat}) lies outside region {region}, the only "
                "one this key may change"
            )
        named = [(f"move[{i}].code", c) for i, (c, _, _) in enumerate(changes.move)]
        named += [(f"remove[{i}]", c) for i, c in enumerate(changes.remove)]
        away = coverage_rows.stations_outside(connection, within, [code for _, code in named])
        if away:
            where, code = named[away[0]]
            raise Forbidden(
                f"{where}: station {code} lies outside region {region}, the only "
                "one this key may change"
            )
    live = warm_coverage(connection, parameters)
    whole_before = live.whatif.rates()
    before = live.community_rates(whole_before)
    was_covered = live.whatif.covered.copy()
    for k, (lon, lat) in enumerate(changes.add):
        live.add(f"new-{k + 1}", lon, lat)
    for code, lon, lat in changes.move:
        live.move(code, lon, lat)
    for code in changes.remove:
        live.remove(code)
    whole_after = live.whatif.rates()
    after = live.community_rates(whole_after)
    if prefix is not None:
        keep = after.index.astype(str).str.startswith(prefix)
        before, after = before.loc[keep], after.loc[keep]
    else:
        before, after = before.loc[after.index.astype(str) != ""], after.loc[after.index != ""]
    communities = [  # before and after hold the same communities, in the same order
        {"community": code, "residents": residents, "covered_before": was, "covered_after": now}
        for code, residents, was, now in zip(
            after.index.astype(str).tolist(),
            after["residents"].astype(int).tolist(),
            before["covered_residents"].astype(int).tolist(),
            after["covered_residents"].astype(int).tolist(),
            strict=True,
        )
    ]
    city = prefix is None  # the city's own totals count buildings in no unit too
    placed = [(f"new-{k + 1}", lon, lat) for k, (lon, lat) in enumerate(changes.add)]
    placed += list(changes.move)
    return {
        "before": _totals(before, whole_before if city else None),
        "after": _totals(after, whole_after if city else None),
        "communities": communities,
        "region": region,
        **changes_on_map(
            live.city,
            live.whatif,
            live.communities,
            placed,
            was_covered,
            prefix,
            clip=None if within is None else coverage_rows.region_shape(connection, within),
        ),
    }


def _totals(frame: pd.DataFrame, whole: Any) -> dict[str, Any]:
    """Sum per-community figures (the city's own totals when given: buildings in no unit)."""
    if whole is not None:
        covered, residents = whole.covered_residents, whole.residents
        covered_h, households = whole.covered_households, whole.households
    else:
        covered, residents = frame["covered_residents"].sum(), frame["residents"].sum()
        covered_h, households = frame["covered_households"].sum(), frame["households"].sum()
    return {
        "covered_residents": int(covered),
        "residents": int(residents),
        "covered_households": int(covered_h),
        "households": int(households),
        "rate": float(covered / residents) if residents else 0.0,
    }


WARM_TABLES = ("region", "unit", "building", "station", "walk_edge")
"""The tables a what-if reads: a write to any of them makes the warm city stale."""
_warm: dict[tuple[object, ...], LiveCoverage] = {}
_warm_lock = threading.Lock()


def warm_coverage(connection: Connection, parameters: CoverageParameters) -> LiveCoverage:
    """Return a what-if of the city as it is now, forked from the one this process keeps warm.

    Loading and snapping a city of a million buildings and walking from its stations takes
    half a minute; a what-if on it, milliseconds. The loaded city is kept (one, the latest) and
    loaded again only when a table it reads has been written since (their data revisions),
    for another database, or for other walking parameters. A transaction that has written
    (an import about to commit) gets a city of its own, loaded from what it sees.
    """
    version = coverage_rows.data_version(connection, WARM_TABLES)
    if version is None:  # a transaction that has written: its own city, not kept
        return live_coverage(connection, parameters)
    key = (version, parameters)
    with _warm_lock:
        base = _warm.get(key)
    if base is None:
        base = live_coverage(connection, parameters)
        with _warm_lock:
            _warm.clear()
            _warm[key] = base
    return base.fork()


def live_coverage(connection: Connection, parameters: CoverageParameters) -> LiveCoverage:
    """Load the city and its stations into a what-if."""
    city = load_city(connection)
    buildings = snap(city.network, city.points, max_snap_m=parameters.max_snap_m)
    community = (
        coverage_rows.building_communities(connection).reindex(city.buildings["id"]).fillna("")
    )
    codes, groups = np.unique(community.to_numpy().astype(str), return_inverse=True)
    whatif = WhatIf(
        city.network,
        buildings,
        city.buildings["residents"].to_numpy(),
        city.buildings["households"].to_numpy(),
        budget_m=parameters.budget_m,
        max_snap_m=parameters.max_snap_m,
        groups=groups,
    )
    keys = whatif.add_many(np.asarray(city.stations.geometry.values, dtype=object))
    return LiveCoverage(
        city,
        whatif,
        dict(zip(city.stations["code"], keys, strict=True)),
        pd.Index(codes, name="community"),
    )


@dataclass(frozen=True)
class SitingReport:
    """Suggested new stations, in the order chosen, and the rates they bring."""

    sites: pd.DataFrame  # label, name, lon, lat, gain (residents)
    before_rate: float
    greedy: siting.Siting
    exact: siting.Siting | None
    target_rate: float | None = None
    candidates: str = "amenities"
    candidate_count: int = 0

    @property
    def note(self) -> str | None:
        """Say why no site was suggested, and what to try instead; None when some were."""
        if len(self.sites):
            return None
        hint = (
            ' Try the units as candidates (--candidates units; "candidates": "units"):'
            " every unit's inner point is a possible site."
            if self.candidates == "amenities"
            else ""
        )
        among = f"{self.candidate_count} candidate sites among the {self.candidates}"
        return f"None of the {among} would bring an uncovered resident within the walk.{hint}"

    @property
    def target_reached(self) -> bool:
        """Whether the greedy sites reach the target rate (True when there is none)."""
        return self.target_rate is None or self.greedy.rate >= self.target_rate - 1e-12


def suggest_sites(
    connection: Connection,
    parameters: CoverageParameters,
    *,
    k: int | None = None,
    target_rate: float | None = None,
    candidates: str = "amenities",
    capacity: int | None = None,
    solve_exactly: bool = False,
    within: int | None = None,
    residents_within: int | None = None,
) -> SitingReport:
    """Choose new stations among candidates: ``k`` of them, or as few as reach ``target_rate``.

    With ``within`` (a region id), only candidates inside that region are considered; with
    ``residents_within``, only the residents of that region count (gains and rates are its).

    Raises
    ------
    InvalidInput
        On a bad ``k``, target or candidate source, or when there are no candidates.
    """
    if target_rate is not None and not 0 < target_rate <= 1:
        raise InvalidInput(f"target rate must be above 0 and at most 1 (got {target_rate})")
    if candidates not in ("amenities", "units"):
        raise InvalidInput("candidates must be 'amenities' or 'units'")
    sites_frame = coverage_rows.load_candidates(connection, source=candidates, within=within)
    if sites_frame.empty:
        hint = ": try candidates 'units' (--candidates units)" if candidates == "amenities" else ""
        raise InvalidInput(f"there are no candidate sites among the {candidates}{hint}")
    live = warm_coverage(connection, parameters)  # the city loaded, snapped and walked once
    city, buildings, covered_now = live.city, live.whatif.buildings, live.whatif.covered
    budget = parameters.budget_m
    network = city.network
    residents = city.buildings["residents"].to_numpy()
    if residents_within is not None:  # the region's residents only: buildings of its communities
        prefix = coverage_rows.region_prefix(connection, residents_within)
        community = coverage_rows.building_communities(connection).reindex(city.buildings["id"])
        residents = np.where(
            community.fillna("").astype(str).str.startswith(prefix).to_numpy(), residents, 0
        )
    total, covered = int(residents.sum()), int(residents[covered_now].sum())
    metric_sites = sites_frame.to_crs(city.crs)
    candidate_snaps = snap(
        network,
        np.asarray(metric_sites.geometry.values, dtype=object),
        max_snap_m=parameters.max_snap_m,
    )
    sets = siting.coverage_sets(
        network, candidate_snaps, buildings, residents, covered_now, budget_m=budget
    )
    goal = None if target_rate is None else target_rate * total
    found = siting.greedy(
        sets, already_covered=covered, total=total, k=k, target_residents=goal, capacity=capacity
    )
    reachable = goal is None or found.covered_residents >= goal
    best = (
        siting.exact(sets, already_covered=covered, total=total, k=k, target_residents=goal)
        if solve_exactly and reachable
        else None
    )
    chosen = sites_frame.iloc[found.chosen]
    table = pd.DataFrame(
        {
            "label": chosen["label"].to_numpy(),
            "name": chosen["name"].to_numpy(),
            "lon": chosen.geometry.x.to_numpy(),
            "lat": chosen.geometry.y.to_numpy(),
            "gain": found.gains,
        }
    )
    return SitingReport(
        table,
        covered / total if total else 0.0,
        found,
        best,
        target_rate,
        candidates,
        len(sites_frame),
    )
