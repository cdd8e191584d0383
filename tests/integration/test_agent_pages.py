"""The agent workspace pages: who may open them, the queue's order, the 360 and the call form."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accord.analytics import customer_360, work_queue
from accord.domain.access import Role
from accord.storage import models, queue_rank
from accord.usecases import circumstances
from tests.integration import workspace_data as data

PASSWORD = "correct horse battery staple"
# The pages read the clock, which every test freezes at NOW (15:00 in Madrid, inside
# calling hours); data is laid out around it, so the tests pass at any hour.
TODAY = data.TODAY
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _frozen_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: data.NOW)


@pytest.fixture(autouse=True)
def _static_root() -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def signed_in(role: Role, *, csrf: bool = False) -> Client:
    user = User.objects.create_user(username=f"user-{role.value}", password=PASSWORD)
    user.groups.set([Group.objects.get(name=role.value)])
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def completed_run(as_of: datetime.date = TODAY) -> models.StrategyRun:
    now = timezone.now()
    return models.StrategyRun.objects.create(
        as_of_date=as_of,
        strategy_name="default",
        strategy_version="test",
        status=models.RunStatus.COMPLETED,
        started_at=now,
        finished_at=now,
        started_by="cli:test",
    )


def decide(
    run: models.StrategyRun,
    account: models.Account,
    *,
    stage: str,
    arrears_minor: int,
    dpd: int,
    treatment: str = models.Treatment.NONE,
    reason_codes: list[str] | None = None,
) -> models.Decision:
    return models.Decision.objects.create(
        run=run,
        account=account,
        as_of_date=run.as_of_date,
        days_past_due=dpd,
        bucket="DPD_31_60",
        stage=stage,
        arrears_minor=arrears_minor,
        balance_minor=arrears_minor,
        currency=account.currency,
        treatment=treatment,
        reason_codes=reason_codes or [f"STAGE_{stage}"],
        strategy_version="test",
        created_at=timezone.now(),
    )


def call_task(account: models.Account) -> models.ContactAttempt:
    return models.ContactAttempt.objects.create(
        customer=account.customer,
        account=account,
        channel=models.Channel.CALL,
        template="call_task",
        origin=models.ContactOrigin.STRATEGY,
        planned_at=timezone.now(),
        status=models.ContactStatus.PLANNED,
        idempotency_key=f"task:{account.pk}",
        **data.stamp(timezone.now()),
    )


@pytest.fixture
def ana() -> models.Customer:
    return data.customer("C-ANA", name="Ana García")


@pytest.fixture
def ana_account(ana: models.Customer) -> models.Account:
    account = data.account(ana, "A-ANA-1")
    data.charge(account, "250.00", TODAY - datetime.timedelta(days=40))
    data.charge(account, "100.00", TODAY + datetime.timedelta(days=20))
    data.payment(account, "20.00", TODAY - datetime.timedelta(days=10))
    return account


# --- Who may open what ---------------------------------------------------------------

WORKERS = {Role.AGENT, Role.TEAM_LEAD, Role.ADMIN}


def agent_urls(customer_id: int) -> list[str]:
    return [
        "/agent/",
        f"/agent/customers/{customer_id}/",
        f"/agent/customers/{customer_id}/policy-check/",
        f"/agent/customers/{customer_id}/call-form/",
    ]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_the_agent_pages_only_if_it_works_accounts(
    role: Role, ana: models.Customer, ana_account: models.Account
) -> None:
    client = signed_in(role)

    for url in agent_urls(ana.pk):
        response = client.get(url)
        expected = 200 if role in WORKERS else 403
        assert response.status_code == expected, url


@pytest.mark.parametrize("role", list(Role))
def test_each_role_may_start_and_record_a_call_only_if_it_works_accounts(
    role: Role, ana: models.Customer, ana_account: models.Account
) -> None:
    client = signed_in(role)

    started = client.post(f"/agent/customers/{ana.pk}/calls/start/", {"account": ana_account.pk})

    if role not in WORKERS:
        assert started.status_code == 403
        assert client.post(f"/agent/customers/{ana.pk}/calls/", {}).status_code == 403
        assert not models.ContactAttempt.objects.exists()
        return
    call = models.ContactAttempt.objects.get()
    assert started.status_code == 302
    assert started["Location"] == f"/agent/customers/{ana.pk}/?call={call.pk}"
    recorded = client.post(
        f"/agent/customers/{ana.pk}/calls/",
        {
            "account": ana_account.pk,
            "direction": "OUTBOUND",
            "call": call.pk,
            "outcome": "NO_ANSWER",
        },
    )
    assert recorded.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.outcome) == (models.ContactStatus.COMPLETED, "NO_ANSWER")


def test_anonymous_visitors_are_sent_to_sign_in(
    client: Client, ana: models.Customer, ana_account: models.Account
) -> None:
    posts = [f"/agent/customers/{ana.pk}/calls/", f"/agent/customers/{ana.pk}/calls/start/"]
    for url in [*agent_urls(ana.pk), *posts]:
        response = client.post(url, {}) if url in posts else client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/login/?next=")
    assert not models.ContactAttempt.objects.exists()


def test_starting_a_call_needs_the_csrf_token(
    ana: models.Customer, ana_account: models.Account
) -> None:
    client = signed_in(Role.AGENT, csrf=True)
    url = f"/agent/customers/{ana.pk}/calls/start/"

    assert client.post(url, {"account": ana_account.pk}).status_code == 403
    assert not models.ContactAttempt.objects.exists()

    client.get(f"/agent/customers/{ana.pk}/")
    token = client.cookies["csrftoken"].value
    accepted = client.post(url, {"account": ana_account.pk}, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 302


@pytest.mark.parametrize("action", ["calls/", "calls/start/"])
def test_calls_refuse_get(ana: models.Customer, action: str) -> None:
    assert signed_in(Role.AGENT).get(f"/agent/customers/{ana.pk}/{action}").status_code == 405


def test_an_unknown_customer_is_not_found() -> None:
    client = signed_in(Role.AGENT)

    assert client.get("/agent/customers/987654/").status_code == 404
    assert client.get("/agent/customers/987654/policy-check/").status_code == 404
    assert client.post("/agent/customers/987654/calls/start/", {"account": 1}).status_code == 404
    assert client.post("/agent/customers/987654/calls/", {}).status_code == 404


def test_the_navigation_links_the_queue_for_agents_only(ana_account: models.Account) -> None:
    agent_page = signed_in(Role.AGENT).get("/agent/").content.decode()
    auditor_home = signed_in(Role.AUDITOR).get("/").content.decode()

    assert 'href="/agent/" aria-current="page"' in agent_page
    assert 'href="/agent/"' not in auditor_home


# --- The queue -------------------------------------------------------------------------


@pytest.fixture
def book() -> dict[str, models.Account]:
    """Six accounts, one per reason to be worked, named for why they are where they are."""
    run = completed_run()
    accounts: dict[str, models.Account] = {}

    def add(name: str, **decision: Any) -> models.Account:
        owner = data.customer(f"C-{name}", name=name.replace("_", " ").title())
        account = data.account(owner, f"A-{name}")
        decide(run, account, **decision)
        accounts[name] = account
        return account

    add("small_early", stage="EARLY", arrears_minor=5_000, dpd=10)
    add("big_late", stage="LATE", arrears_minor=900_000, dpd=120)
    add("small_recovery", stage="RECOVERY", arrears_minor=1_000, dpd=200)
    call_task(add("called_early", stage="EARLY", arrears_minor=2_000, dpd=5))
    data.promise(
        add("promise_today", stage="MID", arrears_minor=3_000, dpd=40), promised_date=TODAY
    )
    data.promise(
        add("promise_broke", stage="EARLY", arrears_minor=4_000, dpd=20),
        promised_date=TODAY - datetime.timedelta(days=1),
    )
    add("paid_up", stage="CURRENT", arrears_minor=0, dpd=0)
    queue_rank.rank_decisions(as_of=TODAY)  # as the strategy run does when it loads them
    return accounts


def refs(page: work_queue.QueuePage) -> list[str]:
    return [item.account_ref for item in page.items]


def test_the_queue_puts_call_tasks_then_promises_then_stage_then_arrears(
    book: dict[str, models.Account],
) -> None:
    page = work_queue.work_queue(today=TODAY)

    assert refs(page) == [
        "A-called_early",
        "A-promise_today",
        "A-promise_broke",
        "A-small_recovery",
        "A-big_late",
        "A-small_early",
    ]
    assert page.total == 6
    assert page.items[0].reasons == (work_queue.Reason.CALL_TASK, work_queue.Reason.IN_ARREARS)
    assert work_queue.Reason.PROMISE_BROKEN in page.items[2].reasons


def test_the_queue_leaves_out_accounts_with_nothing_to_do(
    book: dict[str, models.Account],
) -> None:
    assert "A-paid_up" not in refs(work_queue.work_queue(today=TODAY))


def test_the_queue_reads_only_the_latest_completed_run(
    book: dict[str, models.Account],
) -> None:
    older = completed_run(TODAY - datetime.timedelta(days=1))
    decide(older, book["paid_up"], stage="RECOVERY", arrears_minor=1, dpd=300)

    assert "A-paid_up" not in refs(work_queue.work_queue(today=TODAY))


def test_the_queue_filters_by_stage_and_by_kind_of_work(
    book: dict[str, models.Account],
) -> None:
    early = work_queue.work_queue(today=TODAY, stages=["EARLY"])
    calls = work_queue.work_queue(today=TODAY, focus=work_queue.Focus.CALL_TASKS)
    promised = work_queue.work_queue(today=TODAY, focus=work_queue.Focus.PROMISES)

    assert refs(early) == ["A-called_early", "A-promise_broke", "A-small_early"]
    assert refs(calls) == ["A-called_early"]
    assert refs(promised) == ["A-promise_today", "A-promise_broke"]


def test_the_queue_pages_through_the_book(book: dict[str, models.Account]) -> None:
    first = work_queue.work_queue(today=TODAY, page_size=4)
    second = work_queue.work_queue(today=TODAY, page=2, page_size=4)

    assert (first.pages, first.has_next, second.has_previous) == (2, True, True)
    assert refs(second) == ["A-big_late", "A-small_early"]
    assert second.items[0].position == 5


def test_the_queue_page_shows_who_why_and_how_much(book: dict[str, models.Account]) -> None:
    page = signed_in(Role.AGENT).get("/agent/").content.decode()

    assert "Big Late" in page
    assert "A-big_late" in page
    assert "9,000.00 EUR" in page
    assert "Call task" in page
    assert "Promise due today" in page
    assert "Promise broken yesterday" in page
    assert f'href="/agent/customers/{book["big_late"].customer_id}/?account=' in page


def test_the_queue_filter_answers_htmx_with_just_the_results(
    book: dict[str, models.Account],
) -> None:
    response = signed_in(Role.AGENT).get("/agent/", {"stage": "LATE"}, **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert 'id="queue-results"' in html
    assert "A-big_late" in html
    assert "A-small_early" not in html


def test_the_queue_says_so_before_any_run() -> None:
    page = signed_in(Role.AGENT).get("/agent/").content.decode()

    assert "No strategy run has completed yet" in page


def test_the_queue_page_costs_the_same_few_queries_for_a_bigger_book(
    book: dict[str, models.Account], django_assert_max_num_queries: Any
) -> None:
    client = signed_in(Role.AGENT)
    run = models.StrategyRun.objects.get()
    for n in range(40):
        owner = data.customer(f"C-more-{n}", name=f"More {n}", email=None, phone=None)
        decide(run, data.account(owner, f"A-more-{n}"), stage="MID", arrears_minor=n + 1, dpd=45)
    queue_rank.rank_decisions(as_of=TODAY)

    with django_assert_max_num_queries(12):
        client.get("/agent/")


# --- The customer 360 --------------------------------------------------------------------


@pytest.fixture
def ana_with_history(ana: models.Customer, ana_account: models.Account) -> models.Customer:
    now = timezone.now()
    run = completed_run()
    decide(
        run,
        ana_account,
        stage="MID",
        arrears_minor=23_000,
        dpd=40,
        treatment=models.Treatment.PROMISE_REQUEST,
        reason_codes=["STAGE_MID", "DPD_40", "REG_F_INCONVENIENT_TIME"],
    )
    models.ContactAttempt.objects.create(
        customer=ana,
        account=ana_account,
        channel=models.Channel.EMAIL,
        template="late_notice",
        origin=models.ContactOrigin.STRATEGY,
        planned_at=now - datetime.timedelta(days=3),
        sent_at=now - datetime.timedelta(days=3),
        status=models.ContactStatus.SENT,
        idempotency_key="late-notice-1",
        destination="ana@example.com",
        subject="Your payment is overdue",
        body="Dear Ana, 230.00 EUR is overdue.",
        **data.stamp(now),
    )
    data.promise(ana_account, amount="40.00", promised_date=TODAY, status=models.PromiseStatus.KEPT)
    circumstances.record_vulnerability(
        customer_id=ana.pk,
        category=models.VulnerabilityCategory.HEALTH,
        consent_to_record=False,
        detail="",
        review_date=TODAY + datetime.timedelta(days=60),
        recorded_by="agent-bo",
        now=now,
    )
    circumstances.record_opt_out(
        customer_id=ana.pk, channel=models.Channel.SMS, source="sms reply", recorded_by="x", now=now
    )
    return ana


def test_the_customer_360_shows_everything_on_one_screen(
    ana_with_history: models.Customer,
) -> None:
    page = signed_in(Role.AGENT).get(f"/agent/customers/{ana_with_history.pk}/").content.decode()

    # Who, how to reach them, and their preferences.
    assert "Ana García" in page
    assert "ana@example.com" in page
    assert "+34612345678" in page
    assert "Europe/Madrid" in page
    # The account: balance, arrears, days past due and bucket computed today.
    assert "330.00 EUR" in page  # balance: 350 billed - 20 paid
    assert "230.00 EUR" in page  # arrears: 250 overdue - 20 paid
    assert "31\N{EN DASH}60" in page
    assert "20.00 EUR" in page  # the payment
    # The latest decision with its reasons in words, codes beside them.
    assert "Promise-to-pay request" in page
    assert "Mid-stage arrears" in page
    assert "STAGE_MID" in page
    assert "40 days past due" in page
    assert "Outside 08:00-21:00 local time" in page
    # The contact timeline, including exactly what was sent.
    assert "Your payment is overdue" in page
    assert "Dear Ana, 230.00 EUR is overdue." in page
    # Promises, vulnerability (no detail without consent), opt-outs.
    assert "Kept" in page
    assert "Vulnerable: Health" in page
    assert "Details not recorded: no consent." in page
    assert "Opted out: SMS" in page


def test_the_customer_360_shows_a_detail_only_when_consented(
    ana: models.Customer, ana_account: models.Account
) -> None:
    circumstances.record_vulnerability(
        customer_id=ana.pk,
        category=models.VulnerabilityCategory.LIFE_EVENT,
        consent_to_record=True,
        detail="Recently bereaved",
        review_date=TODAY + datetime.timedelta(days=60),
        recorded_by="agent-bo",
        now=timezone.now(),
    )

    page = signed_in(Role.AGENT).get(f"/agent/customers/{ana.pk}/").content.decode()

    assert "Recently bereaved" in page


def test_the_customer_360_shows_disputes_and_cease_requests(
    ana: models.Customer, ana_account: models.Account
) -> None:
    now = timezone.now()
    circumstances.raise_dispute(
        account_id=ana_account.pk, reason="Not my card", recorded_by="agent-bo", now=now
    )
    circumstances.record_cease_request(customer_id=ana.pk, recorded_by="agent-bo", now=now)

    page = signed_in(Role.AGENT).get(f"/agent/customers/{ana.pk}/").content.decode()

    assert "Not my card" in page
    assert "Open: collection paused" in page
    assert "Asked us to stop contact" in page


def test_the_customer_360_costs_a_bounded_number_of_queries(
    ana_with_history: models.Customer,
    ana_account: models.Account,
    django_assert_max_num_queries: Any,
) -> None:
    client = signed_in(Role.AGENT)
    for n in range(30):
        data.outbound_call(
            ana_account, at=timezone.now() - datetime.timedelta(days=20 + n), key=f"old-{n}"
        )
        data.payment(ana_account, "1.00", TODAY - datetime.timedelta(days=50 + n))

    with django_assert_max_num_queries(30):
        response = client.get(f"/agent/customers/{ana_with_history.pk}/")
    assert response.status_code == 200


# --- The pre-call policy check ---------------------------------------------------------


def test_the_policy_check_says_ok_to_call(
    ana: models.Customer, ana_account: models.Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(timezone, "now", lambda: data.NOW)  # 15:00 in Madrid

    html = signed_in(Role.AGENT).get(f"/agent/customers/{ana.pk}/policy-check/", **HTMX)

    assert "OK to call" in html.content.decode()


def test_the_policy_check_gives_every_reason_and_the_next_local_time(
    ana: models.Customer, ana_account: models.Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    late_evening = datetime.datetime(2026, 3, 18, 21, 30, tzinfo=datetime.UTC)  # 22:30 Madrid
    monkeypatch.setattr(timezone, "now", lambda: late_evening)

    html = signed_in(Role.AGENT).get(f"/agent/customers/{ana.pk}/policy-check/").content.decode()

    assert "Do not call now" in html
    assert "REG_F_INCONVENIENT_TIME" in html
    assert "Thu 19 Mar, 08:00" in html
    assert "Europe/Madrid" in html


def test_the_policy_check_says_never_after_a_cease_request(
    ana: models.Customer, ana_account: models.Account
) -> None:
    circumstances.record_cease_request(customer_id=ana.pk, recorded_by="x", now=timezone.now())

    html = signed_in(Role.AGENT).get(f"/agent/customers/{ana.pk}/policy-check/").content.decode()

    assert "Do not call now" in html
    assert "REG_F_CEASE_COMMUNICATION" in html
    assert "No end date" in html


# --- Starting a call, then recording its outcome -----------------------------------------


def start_call(client: Client, customer: models.Customer, account: models.Account) -> Any:
    return client.post(
        f"/agent/customers/{customer.pk}/calls/start/", {"account": account.pk}, **HTMX
    )


def started(agent: str = "user-agent") -> models.ContactAttempt:
    return models.ContactAttempt.objects.get(
        channel=models.Channel.CALL, status=models.ContactStatus.SENDING, agent=agent
    )


def call_form(
    account: models.Account, call: models.ContactAttempt, **fields: object
) -> dict[str, object]:
    return {
        "account": account.pk,
        "direction": "OUTBOUND",
        "call": call.pk,
        "outcome": "PROMISE_MADE",
        "promise_amount": "75.50",
        "promise_date": (TODAY + datetime.timedelta(days=7)).isoformat(),
        "notes": "Will pay on payday.",
        **fields,
    }


def inbound_form(account: models.Account, **fields: object) -> dict[str, object]:
    return {
        "account": account.pk,
        "direction": "INBOUND",
        "outcome": "RIGHT_PARTY_CONTACT",
        "notes": "Rang to ask about the balance.",
        **fields,
    }


def test_the_policy_check_offers_start_call_only_when_a_call_is_allowed(
    ana: models.Customer, ana_account: models.Account
) -> None:
    client = signed_in(Role.AGENT)
    url = f"/agent/customers/{ana.pk}/policy-check/"

    allowed = client.get(url).content.decode()
    circumstances.record_cease_request(customer_id=ana.pk, recorded_by="x", now=data.NOW)
    refused = client.get(url).content.decode()

    assert f'action="/agent/customers/{ana.pk}/calls/start/"' in allowed
    assert f'name="account" value="{ana_account.pk}"' in allowed
    assert "disabled" not in allowed
    assert "calls/start/" not in refused
    assert 'disabled aria-disabled="true">Start call' in refused


def test_starting_a_call_with_htmx_shows_it_in_progress_with_its_outcome_form(
    ana: models.Customer, ana_account: models.Account
) -> None:
    response = start_call(signed_in(Role.AGENT), ana, ana_account)

    html = response.content.decode()
    call = started()
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#customer-360"
    assert "Call in progress" in html
    assert f'name="call" value="{call.pk}"' in html
    assert "Record outcome" in html
    assert call.sent_at == data.NOW


def test_a_refused_start_shows_every_reason_and_places_no_call(
    ana: models.Customer, ana_account: models.Account
) -> None:
    circumstances.record_cease_request(customer_id=ana.pk, recorded_by="x", now=data.NOW)
    circumstances.raise_dispute(
        account_id=ana_account.pk, reason="Not mine", recorded_by="x", now=data.NOW
    )
    client = signed_in(Role.AGENT)

    with_htmx = start_call(client, ana, ana_account)
    without = client.post(f"/agent/customers/{ana.pk}/calls/start/", {"account": ana_account.pk})

    for response in (with_htmx, without):
        html = response.content.decode()
        assert "was not started: the contact policy does not allow it now." in html
        assert "REG_F_CEASE_COMMUNICATION" in html
        assert "REG_F_DISPUTE_PAUSE" in html
    assert without.status_code == 422
    assert not models.ContactAttempt.objects.exists()


def test_a_started_call_not_yet_recorded_shows_as_in_progress(
    ana: models.Customer, ana_account: models.Account
) -> None:
    start_call(signed_in(Role.AGENT), ana, ana_account)

    page = signed_in(Role.TEAM_LEAD).get(f"/agent/customers/{ana.pk}/").content.decode()

    assert 'badge badge--sending">In progress</span>' in page
    assert "Record its outcome" in page  # a team lead may complete another agent's call


def test_a_promise_recorded_with_htmx_updates_the_page(
    ana: models.Customer, ana_account: models.Account
) -> None:
    client = signed_in(Role.AGENT)
    start_call(client, ana, ana_account)

    response = client.post(
        f"/agent/customers/{ana.pk}/calls/", call_form(ana_account, started()), **HTMX
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#customer-360"
    assert "Call recorded." in html
    assert "75.50 EUR" in html
    assert "Promise made" in html
    assert "Call in progress" not in html
    promise = models.Promise.objects.get(account=ana_account)
    assert promise.amount_minor == 7550
    assert promise.contact.notes == "Will pay on payday."  # type: ignore[union-attr]
    assert promise.contact.status == models.ContactStatus.COMPLETED  # type: ignore[union-attr]


def test_posting_the_same_outcome_twice_on_a_call_task_records_one_call(
    ana: models.Customer, ana_account: models.Account
) -> None:
    # Regression (C3): the second post used to record a second call beside the task.
    task = call_task(ana_account)
    client = signed_in(Role.AGENT)
    start_call(client, ana, ana_account)
    form = call_form(ana_account, started())

    first = client.post(f"/agent/customers/{ana.pk}/calls/", form)
    again = client.post(f"/agent/customers/{ana.pk}/calls/", form)

    assert first.status_code == again.status_code == 302
    assert (
        first["Location"] == again["Location"] == f"/agent/customers/{ana.pk}/?recorded={task.pk}"
    )
    assert models.ContactAttempt.objects.filter(channel=models.Channel.CALL).count() == 1
    assert models.Promise.objects.count() == 1


def test_only_the_agent_who_started_the_call_or_a_team_lead_records_it(
    ana: models.Customer, ana_account: models.Account
) -> None:
    start_call(signed_in(Role.AGENT), ana, ana_account)
    call = started()
    other_agent = User.objects.create_user(username="agent-bo", password=PASSWORD)
    other_agent.groups.set([Group.objects.get(name=Role.AGENT.value)])
    bo = Client()
    bo.force_login(other_agent)
    form = call_form(ana_account, call, outcome="NO_ANSWER")

    refused = bo.post(f"/agent/customers/{ana.pk}/calls/", form, **HTMX)
    accepted = signed_in(Role.TEAM_LEAD).post(f"/agent/customers/{ana.pk}/calls/", form)

    assert "only they or a team lead may record it" in refused.content.decode()
    assert accepted.status_code == 302
    call.refresh_from_db()
    assert (call.status, call.agent) == (models.ContactStatus.COMPLETED, "user-agent")


def test_an_outcome_without_a_started_call_is_refused(
    ana: models.Customer, ana_account: models.Account
) -> None:
    form = call_form(ana_account, started_call := call_task(ana_account))
    form.pop("call")

    response = signed_in(Role.AGENT).post(f"/agent/customers/{ana.pk}/calls/", form)

    assert response.status_code == 422
    assert "Start the call before recording its outcome." in response.content.decode()
    started_call.refresh_from_db()
    assert started_call.status == models.ContactStatus.PLANNED


def test_a_refused_promise_comes_back_inline_keeping_the_input_and_the_call(
    ana: models.Customer, ana_account: models.Account
) -> None:
    client = signed_in(Role.AGENT)
    start_call(client, ana, ana_account)

    response = client.post(
        f"/agent/customers/{ana.pk}/calls/",
        call_form(ana_account, started(), promise_amount="5000.00"),
        **HTMX,
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#call-form"
    assert "more than the balance of 330.00 EUR" in html
    assert 'value="5000.00"' in html
    assert "Will pay on payday." in html
    assert started().outcome == ""  # still in progress, to be completed once corrected


def test_a_promise_needs_its_amount_and_date(
    ana: models.Customer, ana_account: models.Account
) -> None:
    client = signed_in(Role.AGENT)
    start_call(client, ana, ana_account)

    response = client.post(
        f"/agent/customers/{ana.pk}/calls/",
        call_form(ana_account, started(), promise_amount="", promise_date=""),
        **HTMX,
    )

    html = response.content.decode()
    assert "Enter the amount the customer promised." in html
    assert "Enter the date the customer will pay by." in html


def test_without_htmx_the_outcome_is_recorded_and_confirmed_after_a_redirect(
    ana: models.Customer, ana_account: models.Account
) -> None:
    client = signed_in(Role.AGENT)
    start_call(client, ana, ana_account)
    call = started()

    response = client.post(f"/agent/customers/{ana.pk}/calls/", call_form(ana_account, call))

    assert response.status_code == 302
    assert response["Location"] == f"/agent/customers/{ana.pk}/?recorded={call.pk}"
    page = client.get(response["Location"]).content.decode()
    assert "Call recorded." in page


def test_a_call_the_customer_made_is_recorded_once_with_the_key_its_form_carried(
    ana: models.Customer, ana_account: models.Account
) -> None:
    circumstances.record_cease_request(customer_id=ana.pk, recorded_by="x", now=data.NOW)
    client = signed_in(Role.AGENT)
    page = client.get(f"/agent/customers/{ana.pk}/").content.decode()
    key = page.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]

    first = client.post(
        f"/agent/customers/{ana.pk}/calls/", inbound_form(ana_account, idempotency_key=key)
    )
    again = client.post(
        f"/agent/customers/{ana.pk}/calls/", inbound_form(ana_account, idempotency_key=key)
    )

    assert key.startswith(f"call:{ana.pk}:")
    assert first.status_code == again.status_code == 302
    call = models.ContactAttempt.objects.get(channel=models.Channel.CALL)
    assert (call.direction, call.idempotency_key) == (models.ContactDirection.INBOUND, key)


def test_a_forged_key_cannot_claim_a_strategy_message(
    ana: models.Customer, ana_account: models.Account
) -> None:
    strategy_key = f"strategy:{TODAY.isoformat()}:{ana_account.pk}:late_notice:EMAIL"

    response = signed_in(Role.AGENT).post(
        f"/agent/customers/{ana.pk}/calls/",
        inbound_form(ana_account, idempotency_key=strategy_key),
        **HTMX,
    )

    assert response["HX-Retarget"] == "#inbound-form"
    assert "This form is out of date" in response.content.decode()
    assert not models.ContactAttempt.objects.filter(idempotency_key=strategy_key).exists()


def test_missing_accounts_and_calls_are_not_found(
    ana: models.Customer, ana_account: models.Account
) -> None:
    bo = data.customer("C-BO", name="Bo Lind")
    bo_account = data.account_in_arrears(bo, "A-BO-1")
    client = signed_in(Role.AGENT)
    client.post(f"/agent/customers/{bo.pk}/calls/start/", {"account": bo_account.pk})
    bos_call = started()

    another_customers_account = client.post(
        f"/agent/customers/{ana.pk}/calls/start/", {"account": bo_account.pk}
    )
    another_customers_call = client.post(
        f"/agent/customers/{ana.pk}/calls/", call_form(ana_account, bos_call)
    )

    assert another_customers_account.status_code == 404
    assert another_customers_call.status_code == 404
    assert models.ContactAttempt.objects.count() == 1


def test_a_customer_gone_during_the_policy_check_is_not_found(
    ana: models.Customer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The customer is deleted between reading the subjects and checking the policy.
    vanished = customer_360.PolicySubjects(
        customer_id=987654,
        time_zones=(),
        accounts=(customer_360.LabelledCode(code="1", label="A"),),
    )
    monkeypatch.setattr(customer_360, "policy_subjects", lambda **_: vanished)

    response = signed_in(Role.AGENT).get(f"/agent/customers/{ana.pk}/policy-check/")

    assert response.status_code == 404


def test_the_promise_form_shows_the_arrears_and_currency(
    ana: models.Customer, ana_account: models.Account
) -> None:
    usd = data.account(ana, "A-ANA-USD", currency="USD")
    data.charge(usd, "80.00", TODAY - datetime.timedelta(days=15))

    html = (
        signed_in(Role.AGENT)
        .get(f"/agent/customers/{ana.pk}/call-form/", {"account": usd.pk, "notes": "kept"}, **HTMX)
        .content.decode()
    )

    assert "Arrears <strong>80.00 USD</strong>" in html
    assert '<span aria-hidden="true">USD</span>' in html
    assert "kept" in html
