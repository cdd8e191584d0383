"""Shared fixtures and facts for every test layer (environment set in tests/bootstrap.py)."""

from __future__ import annotations

from tests.bootstrap import IN_CI

__all__ = ["IN_CI"]
