"""Feature collections served as OGC API - Features (GeoJSON)."""
