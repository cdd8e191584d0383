"""URLs of the agent pages."""

from django.urls import URLPattern, path

from accord.web.agent import records, views

app_name = "agent"
urlpatterns: list[URLPattern] = [
    path("", views.queue, name="queue"),
    path("customers/<int:customer_id>/", views.customer, name="customer"),
    path("customers/<int:customer_id>/policy-check/", views.policy_check, name="policy_check"),
    path("customers/<int:customer_id>/call-form/", views.call_form, name="call_form"),
    path("customers/<int:customer_id>/calls/start/", views.start_call, name="start_call"),
    path("customers/<int:customer_id>/calls/", views.record_call, name="record_call"),
    path(
        "customers/<int:customer_id>/complaints/",
        records.record_complaint,
        name="record_complaint",
    ),
    path(
        "customers/<int:customer_id>/breathing-spaces/",
        records.record_breathing_space,
        name="record_breathing_space",
    ),
]
