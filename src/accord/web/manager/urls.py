"""URLs of the manager pages."""

from django.urls import URLPattern, path

from accord.web.manager import views

app_name = "manager"
urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
]
