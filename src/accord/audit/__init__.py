"""Append-only, hash-chained audit events, written in the same transaction as the change."""
