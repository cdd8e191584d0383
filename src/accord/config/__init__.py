"""Settings, URLs, WSGI/ASGI and the composition root."""
