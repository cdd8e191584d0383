from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages import mofile, pofile
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accord.audit import events
from accord.audit import models as audit_models
from accord.storage import models
from accord.web.portal import views
from tests.integration import portal_data

LOCALE = Path(settings.LOCALE_PATHS[0]) / "es" / "LC_MESSAGES"


@pytest.fixture(scope="module", autouse=True)
def _spanish_catalogue() -> None:
    """Compile the Spanish catalogue as `make locale` does, if it is missing or stale."""
    po, mo = LOCALE / "django.po", LOCALE / "django.mo"
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        with po.open("rb") as source:
            catalogue = pofile.read_po(source, locale="es")
        with mo.open("wb") as target:
            mofile.write_mo(target, catalogue)


def signed_in(customer: models.Customer) -> Client:
    """Return a client whose session holds the customer, as a code sign-in leaves it."""
    client = Client()
    session = client.session
    session[views.CUSTOMER_KEY] = customer.pk
    session[views.SEEN_KEY] = timezone.now().timestamp()
    session.save()
    return client


@pytest.fixture
def ana() -> models.Customer:
    return portal_data.customer(name="Ana García", email="ana@example.com")


@pytest.fixture
def ana_account(ana: models.Customer) -> models.Account:
    today = timezone.localdate()
    return portal_data.account(
        ana,
        overdue_minor=12_000,
        paid_minor=3_000,
        not_yet_due_minor=4_000,
        overdue_since=today - datetime.timedelta(days=20),
        not_yet_due_date=today + datetime.timedelta(days=20),
    )


@pytest.fixture
def ana_letter(ana: models.Customer, ana_account: models.Account) -> models.ContactAttempt:
    relative = "letters/ana-late-notice.pdf"
    path = Path(settings.MEDIA_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 Ana's letter")
    now = timezone.now()
    return models.ContactAttempt.objects.create(
        customer=ana,
        account=ana_account,
        channel=models.Channel.LETTER,
        template="late_notice",
        origin=models.ContactOrigin.STRATEGY,
        planned_at=now,
        status=models.ContactStatus.SENT,
        sent_at=now,
        idempotency_key=f"test-letter-{ana.pk}",
        subject="About your account PA-ANA",
        body="Dear Ana, a payment is overdue.",
        document=relative,
        created_at=now,
        updated_at=now,
    )


@pytest.fixture
def bob() -> models.Customer:
    bob = portal_data.customer(name="Bob Smith", email="bob@example.com")
    portal_data.account(bob, overdue_minor=500)
    return bob


def ana_urls(account: models.Account, letter: models.ContactAttempt) -> list[str]:
    return [
        f"/portal/accounts/{account.pk}/",
        f"/portal/accounts/{account.pk}/promise/",
        f"/portal/accounts/{account.pk}/plan/",
        f"/portal/messages/{letter.pk}/letter.pdf",
    ]


class TestPages:
    def test_overview_shows_balance_and_overdue_payments_kindly(
        self, ana: models.Customer, ana_account: models.Account
    ) -> None:
        page = signed_in(ana).get("/portal/").text
        assert "Hello, Ana García" in page
        # 150.00 billed and overdue, 30.00 of it paid, and 40.00 not yet due.
        assert "£160.00" in page
        assert "1 payment is overdue: £120.00." in page
        assert "Spread the cost" in page

    def test_every_page_has_one_h1_and_a_language_switch(
        self,
        ana: models.Customer,
        ana_account: models.Account,
        ana_letter: models.ContactAttempt,
    ) -> None:
        client = signed_in(ana)
        pages = [
            "/portal/",
            "/portal/payments/",
            "/portal/messages/",
            "/portal/preferences/",
            f"/portal/accounts/{ana_account.pk}/",
            f"/portal/accounts/{ana_account.pk}/promise/",
            f"/portal/accounts/{ana_account.pk}/plan/",
        ]
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            assert response.text.count("<h1") == 1, url
            assert 'href="' + url + '?lang=es"' in response.text, url
            assert "no-store" in response["Cache-Control"], url
        for url in ("/portal/sign-in/",):
            assert Client().get(url).text.count("<h1") == 1

    def test_messages_page_lists_what_was_sent_and_the_letter_downloads(
        self, ana: models.Customer, ana_letter: models.ContactAttempt
    ) -> None:
        client = signed_in(ana)
        page = client.get("/portal/messages/").text
        assert "About your account PA-ANA" in page
        assert "Dear Ana, a payment is overdue." in page
        response = client.get(f"/portal/messages/{ana_letter.pk}/letter.pdf")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert b"".join(response.streaming_content).startswith(b"%PDF")

    def test_a_planned_message_is_not_shown_until_sent(
        self, ana: models.Customer, ana_account: models.Account
    ) -> None:
        now = timezone.now()
        models.ContactAttempt.objects.create(
            customer=ana,
            account=ana_account,
            channel=models.Channel.EMAIL,
            origin=models.ContactOrigin.STRATEGY,
            planned_at=now,
            status=models.ContactStatus.PLANNED,
            idempotency_key="test-planned",
            subject="Not sent yet",
            created_at=now,
            updated_at=now,
        )
        assert "Not sent yet" not in signed_in(ana).get("/portal/messages/").text

    def test_payments_page_lists_payments_received(
        self, ana: models.Customer, ana_account: models.Account
    ) -> None:
        page = signed_in(ana).get("/portal/payments/").text
        assert "£30.00" in page
        assert ana_account.external_ref in page

    def test_plan_shows_the_schedule_before_agreeing_then_agrees_it(
        self, ana: models.Customer, ana_account: models.Account
    ) -> None:
        client = signed_in(ana)
        start = timezone.localdate() + datetime.timedelta(days=3)
        url = f"/portal/accounts/{ana_account.pk}/plan/"
        preview = client.post(
            url, {"instalment_count": "3", "start_date": start.isoformat(), "step": "preview"}
        )
        assert preview.status_code == 200
        assert "Check your plan" in preview.text
        assert preview.text.count("£40.00") >= 3
        assert not models.RepaymentPlan.objects.filter(account=ana_account).exists()

        assert 'name="expected_total" value="120.00"' in preview.text

        confirmed = client.post(
            url,
            {
                "instalment_count": "3",
                "start_date": start.isoformat(),
                "expected_total": "120.00",
                "step": "confirm",
            },
        )
        assert confirmed.status_code == 302
        plan = models.RepaymentPlan.objects.get(account=ana_account)
        assert plan.total_minor == 12_000
        assert plan.source == models.Source.PORTAL
        assert plan.created_by == f"customer:{ana.pk}"
        assert "Your plan is set up" in client.get(confirmed["Location"]).text
        confirmation = models.ContactAttempt.objects.get(idempotency_key=f"plan:{plan.pk}")
        assert (confirmation.template, confirmation.origin) == (
            "plan_confirmation",
            models.ContactOrigin.PORTAL,
        )

    def test_plan_is_not_agreed_when_the_arrears_changed_after_the_schedule_was_shown(
        self, ana: models.Customer, ana_account: models.Account
    ) -> None:
        client = signed_in(ana)
        start = timezone.localdate() + datetime.timedelta(days=3)
        url = f"/portal/accounts/{ana_account.pk}/plan/"
        chosen = {"instalment_count": "3", "start_date": start.isoformat()}
        client.post(url, {**chosen, "step": "preview"})
        # A payment of 30.00 arrives while the customer reads the 120.00 schedule.
        models.Payment.objects.create(
            external_ref="PAID-MEANWHILE",
            account=ana_account,
            amount_minor=3_000,
            currency="GBP",
            received_date=timezone.localdate(),
            method=models.PaymentMethod.CARD,
            created_at=timezone.now(),
            updated_at=timezone.now(),
        )

        response = client.post(url, {**chosen, "expected_total": "120.00", "step": "confirm"})

        assert response.status_code == 200
        assert not models.RepaymentPlan.objects.filter(account=ana_account).exists()
        assert "The amount overdue has changed" in response.text
        assert "Check your plan" in response.text
        assert response.text.count("£30.00") >= 3
        assert 'name="expected_total" value="90.00"' in response.text

        agreed = client.post(url, {**chosen, "expected_total": "90.00", "step": "confirm"})
        assert agreed.status_code == 302
        assert models.RepaymentPlan.objects.get(account=ana_account).total_minor == 9_000

    def test_a_confirmation_without_the_total_shown_only_shows_the_schedule(
        self, ana: models.Customer, ana_account: models.Account
    ) -> None:
        start = timezone.localdate() + datetime.timedelta(days=3)
        response = signed_in(ana).post(
            f"/portal/accounts/{ana_account.pk}/plan/",
            {"instalment_count": "3", "start_date": start.isoformat(), "step": "confirm"},
        )
        assert response.status_code == 200
        assert "Check your plan" in response.text
        assert not models.RepaymentPlan.objects.filter(account=ana_account).exists()

    def test_plan_refusal_is_explained_kindly(self, ana: models.Customer) -> None:
        up_to_date = portal_data.account(
            ana,
            not_yet_due_minor=5_000,
            not_yet_due_date=timezone.localdate() + datetime.timedelta(days=9),
        )
        response = signed_in(ana).post(
            f"/portal/accounts/{up_to_date.pk}/plan/",
            {
                "instalment_count": "3",
                "start_date": timezone.localdate().isoformat(),
                "step": "preview",
            },
        )
        assert response.status_code == 400
        assert "nothing overdue on this account" in response.text
        assert 'role="alert" id="form-errors"' in response.text

    def test_an_invalid_date_is_linked_to_its_input(
        self, ana: models.Customer, ana_account: models.Account
    ) -> None:
        response = signed_in(ana).post(
            f"/portal/accounts/{ana_account.pk}/plan/",
            {"instalment_count": "3", "start_date": "soon", "step": "preview"},
        )
        assert response.status_code == 400
        assert re.search(
            r'<input[^>]*aria-describedby="id_start_date_hint id_start_date_error"', response.text
        )
        assert 'id="id_start_date_error"' in response.text

    def test_promise_is_recorded_from_the_portal(
        self, ana: models.Customer, ana_account: models.Account
    ) -> None:
        client = signed_in(ana)
        day = timezone.localdate() + datetime.timedelta(days=10)
        response = client.post(
            f"/portal/accounts/{ana_account.pk}/promise/",
            {"amount": "50.00", "promised_date": day.isoformat()},
        )
        assert response.status_code == 302
        promise = models.Promise.objects.get(account=ana_account)
        assert promise.amount_minor == 5_000
        assert promise.source == models.Source.PORTAL

    def test_promise_too_far_ahead_is_refused_with_a_suggestion(
        self, ana: models.Customer, ana_account: models.Account
    ) -> None:
        day = timezone.localdate() + datetime.timedelta(days=45)
        response = signed_in(ana).post(
            f"/portal/accounts/{ana_account.pk}/promise/",
            {"amount": "50.00", "promised_date": day.isoformat()},
        )
        assert response.status_code == 400
        assert "a payment plan may suit you better" in response.text

    def test_preferences_are_saved_and_audited(self, ana: models.Customer) -> None:
        client = signed_in(ana)
        response = client.post(
            "/portal/preferences/",
            {
                "preferred_channel": "SMS",
                "hours_from": "10:00",
                "hours_to": "18:00",
                "language": "es",
            },
        )
        assert response.status_code == 302
        ana.refresh_from_db()
        assert ana.preferred_channel == models.Channel.SMS
        assert ana.contact_hours_start == datetime.time(10)
        assert ana.contact_hours_end == datetime.time(18)
        assert ana.language == "es"
        event = audit_models.AuditEvent.objects.get(
            event_type=events.EventType.CONTACT_PREFERENCES_CHANGED, subject_id=str(ana.pk)
        )
        assert event.parameters["changes"]["language"] == {"from": "en", "to": "es"}
        # The page now speaks the chosen language.
        assert "Sus preferencias se han guardado." in client.get(response["Location"]).text

    def test_contact_hours_need_a_start_before_the_end(self, ana: models.Customer) -> None:
        response = signed_in(ana).post(
            "/portal/preferences/",
            {"preferred_channel": "", "hours_from": "18:00", "hours_to": "10:00", "language": "en"},
        )
        assert response.status_code == 400
        assert "The end time must be after the start time." in response.text
        ana.refresh_from_db()
        assert ana.contact_hours_start is None

    def test_opting_out_of_a_channel_records_it(self, ana: models.Customer) -> None:
        client = signed_in(ana)
        response = client.post("/portal/preferences/opt-out/", {"channel": "CALL"})
        assert response.status_code == 302
        opt_out = models.ChannelOptOut.objects.get(customer=ana, withdrawn_at__isnull=True)
        assert opt_out.channel == models.Channel.CALL
        assert opt_out.recorded_by == f"customer:{ana.pk}"
        assert "Stopped" in client.get("/portal/preferences/").text
        # Asking twice is harmless.
        assert client.post("/portal/preferences/opt-out/", {"channel": "CALL"}).status_code == 302


class TestSpanish:
    def test_a_spanish_customer_sees_the_portal_in_spanish(
        self, ana_account: models.Account
    ) -> None:
        ana = ana_account.customer
        ana.language = "es"
        ana.save()
        client = signed_in(ana)
        client.session  # noqa: B018 - the session exists before the first request
        session = client.session
        session[views.LANGUAGE_KEY] = "es"
        session.save()
        page = client.get("/portal/").text
        assert '<html lang="es">' in page
        assert "Hola, Ana García" in page
        assert "Tiene 1 pago pendiente" in page
        assert "Pagar a plazos" in page
        assert "¿Está pasando por un momento difícil?" in page

    def test_the_sign_in_page_follows_accept_language(self) -> None:
        page = Client().get("/portal/sign-in/", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9").text
        assert "Inicie sesión para ver su cuenta" in page

    def test_the_language_switch_sticks_before_sign_in(self) -> None:
        client = Client()
        assert "Enviarme un código" in client.get("/portal/sign-in/?lang=es").text
        assert "Enviarme un código" in client.get("/portal/sign-in/").text
        assert "Send me a code" in client.get("/portal/sign-in/?lang=en").text

    def test_signing_in_switches_to_the_customers_language(self) -> None:
        from django.core import mail

        maria = portal_data.customer(name="María", email="maria@example.com", language="es")
        client = Client()
        with portal_data.codes_delivered():
            client.post("/portal/sign-in/?lang=en", {"destination": "maria@example.com"})
        code = re.search(r"\b([0-9]{6})\b", mail.outbox[-1].body)
        assert code is not None
        client.post("/portal/sign-in/code/", {"code": code.group(1)})
        assert "Hola, María" in client.get("/portal/").text
        assert maria.pk == client.session[views.CUSTOMER_KEY]

    def test_the_catalogue_translates_every_portal_string(self) -> None:
        with (LOCALE / "django.po").open("rb") as source:
            catalogue = pofile.read_po(source, locale="es")
        untranslated = [
            message.id
            for message in catalogue
            if message.id
            and (
                not message.string
                or (isinstance(message.string, tuple) and not all(message.string))
            )
        ]
        assert untranslated == []
        assert not catalogue.fuzzy


class TestAnotherCustomer:
    def test_gets_404_for_every_url_of_the_first_customer(
        self,
        bob: models.Customer,
        ana_account: models.Account,
        ana_letter: models.ContactAttempt,
    ) -> None:
        client = signed_in(bob)
        for url in ana_urls(ana_account, ana_letter):
            assert client.get(url).status_code == 404, url

    def test_cannot_post_a_promise_or_plan_on_the_first_customers_account(
        self, bob: models.Customer, ana_account: models.Account
    ) -> None:
        client = signed_in(bob)
        day = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
        promise = client.post(
            f"/portal/accounts/{ana_account.pk}/promise/",
            {"amount": "10.00", "promised_date": day},
        )
        plan = client.post(
            f"/portal/accounts/{ana_account.pk}/plan/",
            {"instalment_count": "3", "start_date": day, "step": "confirm"},
        )
        assert (promise.status_code, plan.status_code) == (404, 404)
        assert not models.Promise.objects.filter(account=ana_account).exists()
        assert not models.RepaymentPlan.objects.filter(account=ana_account).exists()

    def test_sees_none_of_the_first_customers_data_on_their_own_pages(
        self,
        bob: models.Customer,
        ana_account: models.Account,
        ana_letter: models.ContactAttempt,
    ) -> None:
        client = signed_in(bob)
        for url in ("/portal/", "/portal/payments/", "/portal/messages/", "/portal/preferences/"):
            page = client.get(url).text
            assert "Ana" not in page, url
            assert ana_account.external_ref not in page, url
            assert "ana@example.com" not in page, url

    def test_signed_out_visitors_are_sent_to_sign_in(
        self, ana_account: models.Account, ana_letter: models.ContactAttempt
    ) -> None:
        client = Client()
        for url in [*ana_urls(ana_account, ana_letter), "/portal/", "/portal/messages/"]:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"] == "/portal/sign-in/", url


@pytest.fixture(autouse=True)
def _no_floor(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(views, "CODE_REQUEST_MIN_SECONDS", 0.0)
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


class TestDemoSignIn:
    def test_offers_an_email_on_file_for_exactly_one_customer_in_arrears(
        self, ana_account: models.Account
    ) -> None:
        portal_data.customer(name="Shared one", email="shared@example.com")
        portal_data.customer(name="Shared two", email="shared@example.com")
        from accord.analytics import customer_portal

        assert customer_portal.sample_sign_in_email(as_of=timezone.localdate()) == "ana@example.com"
