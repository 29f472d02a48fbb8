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
