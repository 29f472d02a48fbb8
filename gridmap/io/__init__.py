"""Importers and exporters: OSM, user files, coordinate systems, validation."""
