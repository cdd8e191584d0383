"""Journeys: one module per use case, keyword-only, one transaction each."""
