"""Thin Django models, database constraints, migrations and bulk load helpers."""
