"""Interactive maps for reports and exports: folium, with Leaflet inlined.

Leaflet comes from the local npm package, so the HTML opens with no network at all (no CDN,
no tile service).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

import folium
from branca.element import MacroElement
from jinja2 import Template

LEAFLET = Path(__file__).resolve().parents[2] / "static" / "node_modules" / "leaflet" / "dist"


def self_contained(m: folium.Map, leaflet: Path = LEAFLET) -> str:
    """Return the page of ``m`` with Leaflet's script and style inlined and nothing fetched.

    Raises
    ------
    FileNotFoundError
        When Leaflet is not installed (the set-up runs ``npm ci`` in ``static/``).
    """
    script = (leaflet / "leaflet.js").read_text(encoding="utf-8")
    style = re.sub(
        r"url\((images/[\w.-]+\.png)\)",
        lambda hit: _data_uri(leaflet / hit[1]),
        (leaflet / "leaflet.css").read_text(encoding="utf-8"),
    )
    m.default_js = [("leaflet", "gridmap-leaflet.js")]
    m.default_css = [("leaflet_css", "gridmap-leaflet.css")]
    page = m.get_root().render()
    page = page.replace('<script src="gridmap-leaflet.js"></script>', f"<script>{script}</script>")
    return page.replace(
        '<link rel="stylesheet" href="gridmap-leaflet.css"/>', f"<style>{style}</style>"
    )


def _data_uri(png: Path) -> str:
    """Return a CSS ``url(...)`` holding the picture itself, so the page fetches nothing."""
    return f"url(data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()})"


def blank_map(bounds: tuple[float, float, float, float]) -> folium.Map:
    """Return a folium map with no tile layer, fitted to ``(west, south, east, north)``.

    No attribution control (there is no third-party data to credit, and Leaflet's own line
    carries a flag), and a metric scale bar only.
    """
    west, south, east, north = bounds
    m = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        tiles=None,
        control_scale=False,
        zoom_control=True,
        attribution_control=False,
    )
    m.fit_bounds([[south, west], [north, east]])
    m.add_child(MetricScale())
    return m


class MetricScale(MacroElement):
    """Leaflet's scale control in metres only, added after its map is made."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        L.control.scale({metric: true, imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)
