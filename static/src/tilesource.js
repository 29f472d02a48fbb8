// Pointing a vector tile source at new tile URLs (a new data version), every tile fetched anew.
//
// MapLibre GL JS (6.17) keeps the old data of a tile that is still loading when `setTiles` is
// called: once the old request answers, the tile is "reloaded" by parsing those same bytes
// again, never fetched from the new URL (VectorTileSource.loadTile keeps a loading tile's
// reload for later, and the worker's reloadTile re-parses what it has). A planner who pans or
// opens the map while a plan is accepted would go on seeing the grids before it, in just the
// tiles that were on their way. So when a tile was loading, the URLs are set once more when
// the map is idle: each tile is then fetched from the new URL with its ETag, and one that has
// not changed costs a 304.

/** Point the vector source `id` of `map` at `tiles`, no tile left with the data before. */
export function setTileUrls(map, id, tiles) {
  const source = map.getSource(id);
  const loading = !map.isSourceLoaded(id);
  source.setTiles(tiles);
  if (!loading) return;
  map.once('idle', () => {
    const still = map.getSource(id);
    if (still === source && source.tiles.join() === tiles.join()) source.setTiles(tiles);
  });
}
