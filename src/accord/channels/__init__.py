"""Outbound channels: a small port per channel with the real adapter and a fake beside it."""
