"""gridmap: one map for the whole city, on PostGIS."""

__version__ = "0.1.0"
