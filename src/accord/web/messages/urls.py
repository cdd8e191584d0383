"""URLs of the messages pages."""

from django.urls import URLPattern, path  # noqa: F401 - filled in by the messages views

app_name = "messages"
urlpatterns: list[URLPattern] = []
