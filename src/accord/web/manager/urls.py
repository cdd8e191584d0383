"""URLs of the manager pages."""

from django.urls import URLPattern, path  # noqa: F401 - filled in by the manager views

app_name = "manager"
urlpatterns: list[URLPattern] = []
