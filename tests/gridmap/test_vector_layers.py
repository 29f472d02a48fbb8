"""TileJSON's vector layers: one entry per layer id, the union of the parts drawn under it."""

from __future__ import annotations

import pytest

from gridmap.tiles.tilesets import TILESETS, Layer, Tileset, vector_layers


@pytest.mark.parametrize("name", sorted(TILESETS))
def test_each_layer_id_is_listed_once_with_the_zooms_and_fields_of_all_its_parts(
    name: str,
) -> None:
    tiles = TILESETS[name]
    listed = vector_layers(tiles)

    ids = [entry["id"] for entry in listed]
    assert len(ids) == len(set(ids)) and set(ids) == {layer.name for layer in tiles.layers}
    for entry in listed:
        parts = [layer for layer in tiles.layers if layer.name == entry["id"]]
        assert entry["minzoom"] == min(p.minzoom for p in parts)
        assert entry["maxzoom"] == max(p.maxzoom for p in parts)
        assert entry["fields"] == {k: v for p in parts for k, v in p.fields.items()}


def test_the_buildings_layer_spans_its_blocks_and_footprints() -> None:
    parts = [layer for layer in TILESETS["buildings"].layers if layer.name == "buildings"]
    assert len(parts) >= 2 and len({(p.minzoom, p.maxzoom) for p in parts}) == len(parts)
    (entry,) = [e for e in vector_layers(TILESETS["buildings"]) if e["id"] == "buildings"]
    assert (entry["minzoom"], entry["maxzoom"]) == (
        min(p.minzoom for p in parts),
        max(p.maxzoom for p in parts),
    )
    assert (entry["minzoom"], entry["maxzoom"]) != (parts[0].minzoom, parts[0].maxzoom)


def test_parts_in_any_order_give_the_widest_zooms() -> None:
    deep = Layer("roads", "street", "", {"name": "String"}, minzoom=10, maxzoom=16)
    wide = Layer("roads", "street", "", {"class": "String"}, minzoom=4, maxzoom=9)
    for parts in ((deep, wide), (wide, deep)):
        (entry,) = vector_layers(Tileset("t", "", parts))
        assert (entry["minzoom"], entry["maxzoom"]) == (4, 16)
        assert entry["fields"] == {"name": "String", "class": "String"}


def test_what_a_stored_tile_follows_is_what_it_draws() -> None:
    """A tile that draws grids' figures follows each grid's whole row and its units; one that
    draws grids by their full shape alone follows where the shape changed; a simplified shape
    (below zoom 14) follows the whole row again (migration 0016)."""
    figures, shapes = TILESETS["gridmap"], TILESETS["plan"]
    assert {"grid", "assignment", "assignment/grid"} <= set(figures.follows_at(15))
    assert "grid/shape" not in figures.follows_at(15)
    assert {"grid/shape", "assignment"} <= set(shapes.follows_at(15))
    assert not {"grid", "assignment/grid"} & set(shapes.follows_at(15))
    assert "grid" in shapes.follows_at(13) and "grid/shape" not in shapes.follows_at(13)
    assert set(shapes.follows_at(13)) >= {"unit", "assignment"}  # the units from zoom 13
    assert figures.follows_at(8) == ("region",)
