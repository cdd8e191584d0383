"""URLs of the staff web app."""

from django.urls import path

app_name = "web"
urlpatterns: list = []
