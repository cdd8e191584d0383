"""URLs of the messages pages."""

from django.urls import URLPattern, path

from accord.web.messages import views

app_name = "messages"
urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("outbox/<int:contact_id>/", views.contact, name="contact"),
    path("mailbox/", views.mailbox_index, name="mailbox"),
    path("mailbox/<str:name>/", views.mail, name="mail"),
    path("sms/", views.sms_log, name="sms"),
    path("letters/", views.letters, name="letters"),
    path("letters/<int:contact_id>.pdf", views.letter_pdf, name="letter_pdf"),
]
