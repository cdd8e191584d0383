"""URLs of the portal pages."""

from django.urls import URLPattern, path  # noqa: F401 - filled in by the portal views

app_name = "portal"
urlpatterns: list[URLPattern] = []
