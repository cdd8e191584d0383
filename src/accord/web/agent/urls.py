"""URLs of the agent pages."""

from django.urls import URLPattern, path

from accord.web.agent import views

app_name = "agent"
urlpatterns: list[URLPattern] = [
    path("", views.queue, name="queue"),
    path("customers/<int:customer_id>/", views.customer, name="customer"),
    path("customers/<int:customer_id>/policy-check/", views.policy_check, name="policy_check"),
    path("customers/<int:customer_id>/call-form/", views.call_form, name="call_form"),
    path("customers/<int:customer_id>/calls/start/", views.start_call, name="start_call"),
    path("customers/<int:customer_id>/calls/", views.record_call, name="record_call"),
]
