"""URL map: health, the API and the web app.

Django's admin is deliberately not mounted: its sign-in has no lockout and its
changes would bypass the use cases and the audit log.
"""

from django.urls import include, path

from accord.web import health
from accord.web.api import api

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("api/v1/", api.api.urls),
    path("agent/", include("accord.web.agent.urls")),
    path("portal/", include("accord.web.portal.urls")),
    path("manager/", include("accord.web.manager.urls")),
    path("messages/", include("accord.web.messages.urls")),
    path("webhooks/", include("accord.web.webhooks.urls")),
    path("", include("accord.web.urls")),
]
