"""The portal's Messages page says why each message went, and customers can pause contact."""

from __future__ import annotations

import datetime
import itertools
from pathlib import Path

import pytest
from babel.messages import mofile, pofile
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accord.audit import events
from accord.audit import models as audit_models
from accord.domain.compliance import OperatorRuleCode, RuleCode
from accord.storage import models
from accord.usecases import preferences
from accord.web.portal import views
from tests.integration import portal_data

LOCALE = Path(settings.LOCALE_PATHS[0]) / "es" / "LC_MESSAGES"
_keys = itertools.count(1)


@pytest.fixture(scope="module", autouse=True)
def _spanish_catalogue() -> None:
    """Compile the Spanish catalogue as `make locale` does, if it is missing or stale."""
    po, mo = LOCALE / "django.po", LOCALE / "django.mo"
    if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
        with po.open("rb") as source:
            catalogue = pofile.read_po(source, locale="es")
        with mo.open("wb") as target:
            mofile.write_mo(target, catalogue)


def signed_in(customer: models.Customer, *, csrf_checks: bool = False) -> Client:
    """Return a client whose session holds the customer, as a code sign-in leaves it."""
    client = Client(enforce_csrf_checks=csrf_checks)
    session = client.session
    session[views.CUSTOMER_KEY] = customer.pk
    session[views.SEEN_KEY] = timezone.now().timestamp()
    session.save()
    return client


def decision(
    account: models.Account, *, days_past_due: int, arrears_minor: int, codes: list[str]
) -> models.Decision:
    now = timezone.now()
    run = models.StrategyRun.objects.create(
        as_of_date=now.date() - datetime.timedelta(days=next(_keys)),
        strategy_name="default",
        strategy_version="v1",
        status=models.RunStatus.COMPLETED,
        started_at=now,
        started_by="test",
    )
    return models.Decision.objects.create(
        run=run,
        account=account,
        as_of_date=run.as_of_date,
        days_past_due=days_past_due,
        bucket="1-30",
        stage="EARLY",
        arrears_minor=arrears_minor,
        balance_minor=arrears_minor,
        currency=account.currency,
        treatment=models.Treatment.LATE_NOTICE,
        channel=models.Channel.EMAIL,
        reason_codes=codes,
        strategy_version="v1",
        created_at=now,
    )


def sent(
    customer: models.Customer,
    *,
    subject: str,
    channel: models.Channel = models.Channel.EMAIL,
    status: models.ContactStatus = models.ContactStatus.SENT,
    provider_status: str = "",
    made: models.Decision | None = None,
    policy_reasons: list[object] | None = None,
    at: datetime.datetime | None = None,
) -> models.ContactAttempt:
    at = at or timezone.now()
    return models.ContactAttempt.objects.create(
        customer=customer,
        account=made.account if made else None,
        channel=channel,
        template="late_notice",
        origin=models.ContactOrigin.STRATEGY,
        planned_at=at,
        status=status,
        sent_at=at if status == models.ContactStatus.SENT else None,
        provider_status=provider_status,
        idempotency_key=f"portal-messages-{next(_keys)}",
        subject=subject,
        body=f"Body of {subject}",
        decision=made,
        policy_reasons=policy_reasons or [],
        created_at=at,
        updated_at=at,
    )


@pytest.fixture
def ana() -> models.Customer:
    return portal_data.customer(name="Ana García", email="ana@example.com")


@pytest.fixture
def ana_account(ana: models.Customer) -> models.Account:
    return portal_data.account(ana, overdue_minor=2_500)


@pytest.fixture
def bob() -> models.Customer:
    return portal_data.customer(name="Bob Smith", email="bob@example.com")


class TestMessages:
    def test_a_late_notice_says_how_much_was_due_and_how_long_ago(
        self, ana: models.Customer, ana_account: models.Account
    ) -> None:
        late = decision(ana_account, days_past_due=12, arrears_minor=2_500, codes=["DPD_12"])
        sent(ana, subject="Your payment is late", made=late)
        page = signed_in(ana).get("/portal/messages/").text
        assert "Why did I get this?" in page
        assert "Your payment of £25.00 was due 12 days ago." in page

    def test_a_deferred_message_says_what_it_waited_for(
        self, ana: models.Customer, ana_account: models.Account
    ) -> None:
        """A message held by REG_F_INCONVENIENT_TIME (12 CFR 1006.6(b)(1)(i)) says it waited."""
        late = decision(ana_account, days_past_due=3, arrears_minor=2_500, codes=["DPD_3"])
        sent(
            ana,
            subject="Held overnight",
            made=late,
            policy_reasons=[
                {
                    "code": RuleCode.INCONVENIENT_TIME,
                    "rule": "12 CFR 1006.6(b)(1)(i)",
                    "message": "",
                },
                {"code": OperatorRuleCode.QUIET_DAYS, "rule": "", "message": ""},
            ],
        )
        page = signed_in(ana).get("/portal/messages/").text
        assert "We waited until 8 a.m. your time" in page
        assert "We waited until after the Sunday or public holiday." in page

    def test_status_is_in_customer_words_and_calls_are_listed(self, ana: models.Customer) -> None:
        sent(ana, subject="Reached you", provider_status=models.ProviderStatus.DELIVERED)
        sent(ana, subject="Bounced", provider_status=models.ProviderStatus.BOUNCED)
        sent(ana, subject="", channel=models.Channel.CALL, status=models.ContactStatus.COMPLETED)
        page = signed_in(ana).get("/portal/messages/").text
        assert "Delivered" in page
        assert "Not delivered" in page
        assert "Call made" in page

    def test_only_the_customers_own_messages_are_listed(
        self, ana: models.Customer, bob: models.Customer
    ) -> None:
        sent(ana, subject="For Ana")
        theirs = sent(bob, subject="For Bob", channel=models.Channel.LETTER)
        client = signed_in(ana)
        page = client.get("/portal/messages/").text
        assert "For Ana" in page
        assert "For Bob" not in page
        assert client.get(f"/portal/messages/{theirs.pk}/letter.pdf").status_code == 404

    def test_messages_are_paged_newest_first(self, ana: models.Customer) -> None:
        start = timezone.now() - datetime.timedelta(days=60)
        for day in range(views.MESSAGES_PER_PAGE + 1):
            sent(ana, subject=f"Message number {day:02d}", at=start + datetime.timedelta(days=day))
        client = signed_in(ana)
        first = client.get("/portal/messages/").text
        assert first.index("Message number 20") < first.index("Message number 19")
        assert "Message number 00" not in first
        assert "Message number 00" in client.get("/portal/messages/?page=2").text
        assert client.get("/portal/messages/?page=3").status_code == 404

    def test_the_why_is_in_spanish(self, ana: models.Customer, ana_account: models.Account) -> None:
        late = decision(ana_account, days_past_due=12, arrears_minor=2_500, codes=["DPD_12"])
        sent(ana, subject="Pago atrasado", made=late, policy_reasons=[RuleCode.INCONVENIENT_TIME])
        page = signed_in(ana).get("/portal/messages/?lang=es").text
        assert "¿Por qué he recibido esto?" in page
        assert "venció hace 12 días." in page
        assert "Esperamos hasta las 8 de la mañana" in page


class TestPause:
    def test_pause_is_saved_audited_and_shown(self, ana: models.Customer) -> None:
        client = signed_in(ana)
        response = client.post("/portal/preferences/pause/", {"days": "14", "reason": "Hospital"})
        assert response.status_code == 302
        pause = preferences.contact_pause(customer_id=ana.pk, now=timezone.now())
        assert pause is not None
        assert pause.end is not None
        assert pause.end - pause.start == datetime.timedelta(days=14)
        ana.refresh_from_db()
        assert (ana.contact_paused_until, ana.contact_pause_reason) == (pause.end, "Hospital")
        event = audit_models.AuditEvent.objects.get(
            event_type=events.EventType.CONTACT_PAUSED, subject_id=str(ana.pk)
        )
        assert event.actor == f"customer:{ana.pk}"
        assert event.parameters["days"] == 14
        assert event.parameters["reason"] == "Hospital"
        assert "Contact is paused." in client.get("/portal/preferences/").text

    def test_a_pause_longer_than_thirty_days_is_refused(self, ana: models.Customer) -> None:
        response = signed_in(ana).post("/portal/preferences/pause/", {"days": "90"})
        assert response.status_code == 400
        assert preferences.contact_pause(customer_id=ana.pk, now=timezone.now()) is None

    def test_pause_ends_when_resumed_or_after_its_days(self, ana: models.Customer) -> None:
        now = timezone.now()
        preferences.pause_contact(customer_id=ana.pk, days=7, reason="", actor="test", now=now)
        later = now + datetime.timedelta(days=7)
        assert preferences.contact_pause(customer_id=ana.pk, now=later) is None
        client = signed_in(ana)
        assert client.post("/portal/preferences/resume/").status_code == 302
        assert preferences.contact_pause(customer_id=ana.pk, now=timezone.now()) is None
        assert audit_models.AuditEvent.objects.filter(
            event_type=events.EventType.CONTACT_RESUMED, subject_id=str(ana.pk)
        ).exists()

    def test_preference_forms_need_the_csrf_token(self, ana: models.Customer) -> None:
        client = signed_in(ana, csrf_checks=True)
        assert client.post("/portal/preferences/pause/", {"days": "7"}).status_code == 403
        assert client.post("/portal/preferences/", {"language": "en"}).status_code == 403
        assert preferences.contact_pause(customer_id=ana.pk, now=timezone.now()) is None

    def test_pause_page_is_in_spanish(self, ana: models.Customer) -> None:
        page = signed_in(ana).get("/portal/preferences/?lang=es").text
        assert "Pausar el contacto" in page
        assert "30 días" in page
