"""URL map: health, the API, the web app and the admin."""

from django.contrib import admin
from django.urls import include, path

from accord.web import health
from accord.web.api import api

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("api/v1/", api.api.urls),
    path("admin/", admin.site.urls),
    path("", include("accord.web.urls")),
]
