"""Django app for Accord's web faces (templates, static files)."""

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "accord.web"
    label = "web"
    verbose_name = "Accord web"
