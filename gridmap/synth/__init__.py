"""Synthetic cities for scale: a seeded generator (pure) and the service that stores one."""
