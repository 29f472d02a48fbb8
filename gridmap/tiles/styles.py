"""MapLibre styles: the city's own basemap (water, streets, buildings) under gridmap's layers.

No glyphs or sprites are needed (no text or icon layers), so the style works on an intranet
with nothing but this service; labels come with the web map.
"""

from __future__ import annotations

from typing import Any

from gridmap.errors import NotFound
from gridmap.standards import GRID_BOUNDS

STYLES = ("gridmap",)
URBAN = GRID_BOUNDS["urban"]

NAMES = {
    "zh": {"title": "全市一张图", "grids": "网格", "units": "单元", "stations": "党群服务站"},
    "en": {
        "title": "One map for the whole city",
        "grids": "Grids",
        "units": "Units",
        "stations": "Stations",
    },
}


def _households_colour() -> list[Any]:
    """Grids coloured by households against the urban bounds: under, within, over."""
    return [
        "step",
        ["get", "households"],
        "#9ecae1",
        URBAN.min_households,
        "#74c476",
        URBAN.max_households + 1,
        "#fb6a4a",
    ]


def style(name: str, sources: dict[str, str], *, lang: str = "zh") -> dict[str, Any]:
    """Return the style ``name`` whose sources are the TileJSON URLs in ``sources``.

    Raises
    ------
    NotFound
        When there is no such style.
    """
    if name not in STYLES:
        raise NotFound(f"no style {name!r}; there are {', '.join(STYLES)}")
    words = NAMES[lang]
    basemap, city = "basemap", "gridmap"
    minor = [
        "!",
        ["in", ["get", "kind"], ["literal", ["motorway", "trunk", "primary", "secondary", "rail"]]],
    ]
    layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": "#f4f1ea"}},
        {
            "id": "water",
            "type": "fill",
            "source": basemap,
            "source-layer": "water",
            "paint": {"fill-color": "#a8cbe8"},
        },
        {
            "id": "streets-minor",
            "type": "line",
            "source": basemap,
            "source-layer": "streets",
            "filter": minor,
            "minzoom": 14,
            "paint": {
                "line-color": "#ffffff",
                "line-width": ["interpolate", ["linear"], ["zoom"], 14, 1, 18, 6],
            },
        },
        {
            "id": "streets-major",
            "type": "line",
            "source": basemap,
            "source-layer": "streets",
            "filter": ["!", minor],
            "paint": {
                "line-color": "#fcd6a4",
                "line-width": ["interpolate", ["linear"], ["zoom"], 11, 1, 18, 12],
            },
        },
        {
            "id": "buildings-base",
            "type": "fill",
            "source": basemap,
            "source-layer": "buildings",
            "paint": {"fill-color": "#d9d0c9", "fill-outline-color": "#c2b8ae"},
        },
        {
            "id": "grids-fill",
            "type": "fill",
            "source": city,
            "source-layer": "grids",
            "metadata": {"title": words["grids"]},
            "paint": {"fill-color": _households_colour(), "fill-opacity": 0.35},
        },
        {
            "id": "units-line",
            "type": "line",
            "source": city,
            "source-layer": "units",
            "metadata": {"title": words["units"]},
            "paint": {"line-color": "#6b6b6b", "line-width": 0.5, "line-dasharray": [2, 2]},
        },
        {
            "id": "circles-fill",
            "type": "fill",
            "source": city,
            "source-layer": "circles",
            "filter": ["==", ["get", "method"], "network"],
            "paint": {"fill-color": "#6baed6", "fill-opacity": 0.3},
        },
        {
            "id": "circles-line",
            "type": "line",
            "source": city,
            "source-layer": "circles",
            "filter": ["==", ["get", "method"], "network"],
            "paint": {"line-color": "#2171b5", "line-width": 1.5},
        },
        {
            "id": "gaps-fill",
            "type": "fill",
            "source": city,
            "source-layer": "gaps",
            "paint": {"fill-color": "#de2d26", "fill-opacity": 0.3},
        },
        {
            "id": "buildings-coverage",
            "type": "fill",
            "source": city,
            "source-layer": "buildings",
            "filter": [">", ["get", "residents"], 0],
            "paint": {
                "fill-color": ["case", ["==", ["get", "covered"], True], "#3182bd", "#de2d26"],
                "fill-opacity": 0.85,
            },
        },
        {
            "id": "grids-line",
            "type": "line",
            "source": city,
            "source-layer": "grids",
            "paint": {
                "line-color": "#08519c",
                "line-width": ["interpolate", ["linear"], ["zoom"], 11, 0.5, 17, 2.5],
            },
        },
        {
            "id": "regions-line",
            "type": "line",
            "source": city,
            "source-layer": "regions",
            "filter": ["==", ["get", "level"], "community"],
            "paint": {"line-color": "#54278f", "line-width": 2.5},
        },
        {
            "id": "stations",
            "type": "circle",
            "source": city,
            "source-layer": "stations",
            "metadata": {"title": words["stations"]},
            "paint": {
                "circle-color": "#d7301f",
                "circle-radius": 6,
                "circle-stroke-color": "#ffffff",
                "circle-stroke-width": 2,
            },
        },
    ]
    return {
        "version": 8,
        "name": words["title"],
        "metadata": {"gridmap:lang": lang},
        "sources": {key: {"type": "vector", "url": url} for key, url in sources.items()},
        "layers": layers,
    }
