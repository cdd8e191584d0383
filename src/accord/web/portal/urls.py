"""URLs of the customer portal."""

from django.urls import URLPattern, path

from accord.web.portal import views

app_name = "portal"
urlpatterns: list[URLPattern] = [
    path("", views.overview, name="overview"),
    path("sign-in/", views.sign_in, name="sign_in"),
    path("sign-in/code/", views.enter_code, name="enter_code"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("accounts/<int:account_id>/", views.account, name="account"),
    path("accounts/<int:account_id>/promise/", views.promise, name="promise"),
    path("accounts/<int:account_id>/plan/", views.plan, name="plan"),
    path("payments/", views.payments, name="payments"),
    path("messages/", views.messages, name="messages"),
    path("messages/<int:contact_id>/letter.pdf", views.letter, name="letter"),
    path("preferences/", views.contact_preferences, name="preferences"),
    path("preferences/opt-out/", views.opt_out, name="opt_out"),
    path("preferences/pause/", views.pause, name="pause"),
    path("preferences/resume/", views.resume, name="resume"),
]
