"""URLs of the agent pages."""

from django.urls import URLPattern, path  # noqa: F401 - filled in by the agent views

app_name = "agent"
urlpatterns: list[URLPattern] = []
