"""URLs of the providers' webhooks (no sign-in: each request is verified by its signature)."""

from django.urls import URLPattern, path

from accord.web.webhooks import twilio

app_name = "webhooks"
urlpatterns: list[URLPattern] = [
    path("twilio/status", twilio.status_callback, name="twilio_status"),
    path("twilio/inbound", twilio.inbound_message, name="twilio_inbound"),
]
