"""The batch strategy engine: frames in, decisions out; no Django (ADR 0008)."""
