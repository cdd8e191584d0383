"""The HTTP API, ``/api/v1/`` (django-ninja)."""
