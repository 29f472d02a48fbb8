"""Grid duty cards (扫码便知), one HTML page per grid, printable on A5.

A card holds the grid's code, map, staff and duties, station and coverage, and a QR code that
leads back to the card.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import jinja2
import numpy as np
import segno
import shapely
from markupsafe import Markup
from sqlalchemy import Connection

from gridmap.config import get_settings
from gridmap.crs import wgs84_to_gcj02
from gridmap.db import plans as plan_rows
from gridmap.db import reports as reports_db
from gridmap.errors import NotFound
from gridmap.features.collections import COLLECTIONS
from gridmap.features.query import FeatureQuery, feature, features
from gridmap.reports.svg import Shape, map_svg

TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("gridmap.reports", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
ROLE_NAMES = {"worker": "专职网格员", "part_time": "兼职网格员"}


@dataclass(frozen=True)
class Card:
    """What a grid's duty card shows."""

    grid: dict[str, Any]  # the grids collection's properties
    geometry: Any  # shapely, WGS 84
    units: list[Any]  # shapely geometries of its units
    staff: dict[str, Any]
    station: dict[str, Any] | None  # the stations collection's properties and point
    station_point: Any | None
    streets: Any = None  # GeoDataFrame: kind, name and line of the streets in and around it


def load_card(connection: Connection, code: str) -> Card:
    """Read the card of grid ``code`` of the current plan.

    Raises
    ------
    NotFound
        When the current plan has no such grid.
    """
    plan = plan_rows.current_plan_id(connection)
    if plan is None:
        raise NotFound("there is no current plan, so no grid has a card yet")
    grid = json.loads(feature(connection, COLLECTIONS["grids"], code, FeatureQuery()))
    units = features(
        connection, COLLECTIONS["units"], FeatureQuery(properties={"grid": code}, limit=10_000)
    )
    station = station_point = None
    if grid["properties"]["station"]:
        found = json.loads(
            feature(
                connection, COLLECTIONS["stations"], grid["properties"]["station"], FeatureQuery()
            )
        )
        station, station_point = found["properties"], shapely.geometry.shape(found["geometry"])
    geometry = shapely.geometry.shape(grid["geometry"])
    return Card(
        grid=grid["properties"],
        geometry=geometry,
        units=[shapely.geometry.shape(json.loads(f)["geometry"]) for f in units.features],
        staff=plan_rows.grid_staff(connection, plan, [code]).get(code, {}),
        station=station,
        station_point=station_point,
        streets=reports_db.streets_near(connection, shapely.to_wkb(geometry), CARD_MARGIN_M),
    )


def qr_svg(url: str) -> str:
    """Return the QR code of ``url`` as inline SVG (error correction M, quiet zone 4)."""
    return segno.make(url, error="m").svg_inline(border=4, dark="#111111", omitsize=True)


def card_map(card: Card) -> str:
    """Draw the grid's boundary over its units, with its station when it has one."""
    shapes = [
        Shape(
            card.geometry,
            fill="#e5f5e0",
            stroke="#08519c",
            stroke_width=2.5,
            title=card.grid["code"],
        )
    ]
    shapes += [Shape(u, stroke="#d1d5db", stroke_width=0.6) for u in card.units]
    shapes += _streets(card)
    if card.station_point is not None and card.station is not None:
        shapes.append(
            Shape(
                card.station_point,
                fill="#d7301f",
                stroke="#ffffff",
                stroke_width=2,
                radius=6,
                title=card.station["name"],
            )
        )
    return map_svg(shapes, label=f"网格 {card.grid['code']} 范围图")


def is_loopback(url: str) -> bool:
    """Say whether ``url`` points at this machine only (a phone scanning it reaches nothing).

    >>> is_loopback("http://127.0.0.1:8000/cards/1"), is_loopback("https://grid.example.cn/c")
    (True, False)
    """
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tel(phone: object) -> str:
    """Return a phone number as a ``tel:`` link takes it: digits and a leading +.

    >>> tel("028-8888 6666"), tel("+86 138 0013 8000")
    ('02888886666', '+8613800138000')
    """
    text = str(phone).strip()
    digits = re.sub(r"[^0-9]", "", text)
    return ("+" + digits) if text.startswith("+") else digits


TEMPLATES.filters["tel"] = tel


def navigation_url(point: Any, name: str) -> str:
    """Return an Amap link that opens a walking route to ``point`` (WGS 84), named ``name``.

    Amap's URI API (uri.amap.com/navigation) takes GCJ-02 coordinates, so the point is
    shifted first (points outside China stay as they are); on a phone with the Amap app the
    link opens it (``callnative=1``), elsewhere Amap's web page.

    >>> navigation_url(shapely.Point(24.94, 60.17), "站")
    'https://uri.amap.com/navigation?to=24.940000%2C60.170000%2C%E7%AB%99&mode=walk&src=gridmap&callnative=1'
    """
    lon, lat = wgs84_to_gcj02(point.x, point.y)
    to = f"{float(lon):.6f},{float(lat):.6f},{name.replace(',', '，')}"
    return "https://uri.amap.com/navigation?" + urlencode(
        {"to": to, "mode": "walk", "src": "gridmap", "callnative": 1}
    )


def geo_uri(point: Any, name: str) -> str:
    """Return an RFC 5870 ``geo:`` link to ``point`` (WGS 84) that any map app on a phone opens.

    >>> geo_uri(shapely.Point(24.94, 60.17), "站 A")
    'geo:60.170000,24.940000?q=60.170000,24.940000(%E7%AB%99%20A)'
    """
    at = f"{point.y:.6f},{point.x:.6f}"
    return f"geo:{at}?q={at}({quote(name)})"


def css_string(text: object) -> Markup:
    """Quote ``text`` as a CSS string for a <style> (the @page margin boxes).

    Quotes and backslashes are escaped for CSS, and ``<`` too, so that nothing closes the
    style element; the result is marked safe, as HTML escaping would break it there.

    >>> str(css_string("某区网格中心"))
    '"某区网格中心"'
    """
    body = str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return Markup('"' + body.replace("<", "\\3c ") + '"')


TEMPLATES.filters["css_string"] = css_string
TEMPLATES.globals["issuer_name"] = lambda: get_settings().issuer


def render_missing(connection: Connection, code: str) -> str:
    """Return the page a resident sees for a code that is no grid of the current plan.

    When the code was a grid of an archived plan, the page lists the grids of the current plan
    its units went to (split, merged or renamed), each a link to its card.
    """
    went = plan_rows.grid_lineage(connection, code) if re.fullmatch(r"[0-9]{15}", code) else []
    return TEMPLATES.get_template("card_missing.html").render(code=code, went=went)


CARD_MARGIN_M = 60.0
"""How far around its grid a card's map shows the streets."""
NAMED_STREETS = 4
"""How many street names a card's map carries (the longest named streets in the grid)."""


def _streets(card: Card) -> list[Shape]:
    """Return the streets in and around the grid to draw, the longest named ones labelled."""
    if card.streets is None or card.streets.empty:
        return []
    lines = [Shape(g, stroke="#9ca3af", stroke_width=1.4) for g in card.streets.geometry]
    named = card.streets.loc[card.streets["name"].notna()].copy()
    inside = shapely.intersection(np.asarray(named.geometry.values, dtype=object), card.geometry)
    named["inside"], named["clipped"] = shapely.length(inside), inside
    longest = (
        named.loc[named["inside"] > 0]
        .sort_values("inside", ascending=False)
        .drop_duplicates("name")
        .head(NAMED_STREETS)
    )
    labels = []
    for clipped, name in zip(longest["clipped"], longest["name"], strict=True):
        parts = shapely.get_parts(clipped)
        part = parts[np.argmax(shapely.length(parts))]
        at = shapely.line_interpolate_point(part, 0.5, normalized=True)
        labels.append(Shape(at, stroke="#4b5563", text=str(name)))
    return lines + labels


def render_card(card: Card, url: str, *, printed: date | None = None) -> str:
    """Return the card as one self-contained HTML page (A5 when printed).

    A card whose QR address is loopback (no public address set) says so on its face.
    """
    workers = [
        {**w, "role_name": ROLE_NAMES.get(w.get("role", "worker"), "网格员")}
        for w in card.staff.get("workers", [])
    ]
    links = {}
    if card.station is not None and card.station_point is not None:
        links = {
            "navigate": navigation_url(card.station_point, str(card.station["name"])),
            "geo": geo_uri(card.station_point, str(card.station["name"])),
        }
    return TEMPLATES.get_template("card.html").render(
        grid=card.grid,
        staff=card.staff,
        workers=workers,
        station=card.station,
        links=links,
        map_svg=card_map(card),
        qr_svg=qr_svg(url),
        url=url,
        loopback=is_loopback(url),
        printed=(printed or date.today()).isoformat(),
    )
