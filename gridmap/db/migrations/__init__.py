"""Alembic migrations of the gridmap schema."""
