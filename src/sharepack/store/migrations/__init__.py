"""Alembic migrations of the `deltashare` schema, shipped inside the package."""
