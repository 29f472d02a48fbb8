"""Plans of grids (网格方案) and their one lifecycle: draft → current → archived."""
