// Pointing a vector tile source at new tile URLs (a new data version), every tile fetched anew.
//
// MapLibre GL JS (6.17) does not always fetch a tile again when `setTiles` is called; two ways
// it keeps a tile's old data for good, with the map showing the grids before an accept:
// - a tile still loading: its reload is kept for later, and once the old request answers the
//   tile is "reloaded" by parsing those same bytes again (VectorTileSource.loadTile keeps a
//   loading tile's reload, and the worker's reloadTile re-parses what it has);
// - a source whose layer was restyled in the same frame (a layout property, a filter, a
//   data-driven paint property: Style._updateLayer pauses its tile manager until the next
//   frame): the reload is put off to the resume, which reloads every tile with the old bytes
//   (TileManager.reload without `sourceDataChanged`) and keeps its out-of-view cache.
// So the URLs are set once more when the map is idle (no restyle pending, no tile loading):
// each tile is then fetched from the new URL with its ETag, and one that has not changed costs
// a 304.

/** Point the vector source `id` of `map` at `tiles`, no tile left with the data before. */
export function setTileUrls(map, id, tiles) {
  const source = map.getSource(id);
  source.setTiles(tiles);
  map.once('idle', () => {
    const still = map.getSource(id);
    if (still === source && source.tiles.join() === tiles.join()) source.setTiles(tiles);
  });
}
