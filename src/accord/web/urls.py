"""URLs of the staff web app."""

from django.contrib.auth.views import LogoutView
from django.urls import URLPattern, path

from accord.web import views

app_name = "web"
urlpatterns: list[URLPattern] = [
    path("", views.home, name="home"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("audit/", views.audit_log, name="audit"),
]
