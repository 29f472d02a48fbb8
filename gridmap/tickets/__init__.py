"""Hotline (12345) tickets by grid and unit, month and kind: rates, hotspots, before and after."""
