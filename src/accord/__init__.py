"""Accord: a customer-centric collections platform."""

__version__ = "0.1.0"
