"""Staff who may read messages see the outbox and letters; demo mode adds mailbox and SMS log."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accord.channels import mailbox
from accord.domain.access import Role
from accord.storage import models
from accord.usecases import dispatch
from accord.web.messages import keyset, views
from tests.integration import outbox_data as data
from tests.integration.outbox_data import NOW


@pytest.fixture(autouse=True)
def _folders(settings: Any, tmp_path: Path) -> None:
    Path(django_settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    settings.MEDIA_ROOT = tmp_path / "files"


def _client(role: Role) -> Client:
    user = User.objects.create_user(username=f"user-{role.value}")
    user.groups.set([Group.objects.get(name=role.value)])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def auditor() -> Client:
    return _client(Role.AUDITOR)


def _mode(settings: Any, *, demo: bool = False, debug: bool = False) -> None:
    settings.ENV = dataclasses.replace(settings.ENV, demo=demo, debug=debug)


@pytest.fixture
def demo_mode(settings: Any) -> None:
    _mode(settings, demo=True)


def _sent_letter() -> models.ContactAttempt:
    contact = data.planned(
        data.account_owing(data.customer()), channel=models.Channel.LETTER, key="letter:page"
    )
    dispatch.dispatch_due(now=NOW, actor="test")
    return models.ContactAttempt.objects.get(pk=contact.pk)


class TestWhoMaySee:
    @pytest.mark.parametrize(
        "name", ["messages:index", "messages:mailbox", "messages:sms", "messages:letters"]
    )
    def test_an_agent_is_refused_every_messages_page(self, name: str) -> None:
        assert _client(Role.AGENT).get(reverse(name)).status_code == 403

    def test_a_visitor_is_sent_to_sign_in(self) -> None:
        response = Client().get(reverse("messages:index"))
        assert response.status_code == 302
        assert "/login/" in response["Location"]

    def test_an_agent_cannot_download_a_letter(self) -> None:
        row = _sent_letter()
        url = reverse("messages:letter_pdf", args=[row.pk])
        assert _client(Role.AGENT).get(url).status_code == 403


class TestOutbox:
    def test_the_outbox_lists_messages_with_their_status_and_filters_by_it(
        self, auditor: Client
    ) -> None:
        owner = data.customer(language="en")
        account = data.account_owing(owner)
        data.planned(account, key="sent-one")
        dispatch.dispatch_due(now=NOW, actor="test")
        data.planned(account, channel=models.Channel.SMS, key="planned-one")
        page = auditor.get(reverse("messages:index")).content.decode()
        assert "Your account A-ANA-1: €250.50 is overdue" in page
        assert "msg-status--sent" in page
        assert "msg-status--planned" in page
        only_planned = auditor.get(reverse("messages:index"), {"status": "PLANNED"}).content
        assert b"msg-status--sent" not in only_planned
        assert b"msg-status--planned" in only_planned

    def test_rows_stuck_in_sending_are_counted_in_a_banner(
        self, auditor: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(timezone, "now", lambda: NOW)
        account = data.account_owing(data.customer())
        for key, minutes in (("stuck-1", 16), ("stuck-2", 90), ("just-claimed", 2)):
            row = data.planned(account, key=key)
            models.ContactAttempt.objects.filter(pk=row.pk).update(
                status=models.ContactStatus.SENDING,
                updated_at=NOW - datetime.timedelta(minutes=minutes),
            )
        page = auditor.get(reverse("messages:index")).content.decode()
        assert "2 messages have been SENDING for more than 15 minutes." in page
        assert "accord dispatch --resolve ID --as sent|failed|retry" in page
        assert 'href="/messages/?status=SENDING"' in page

    def test_without_stuck_rows_there_is_no_banner(self, auditor: Client) -> None:
        data.planned(data.account_owing(data.customer()))
        assert b"msg-stuck" not in auditor.get(reverse("messages:index")).content

    def test_an_unknown_filter_value_is_ignored(self, auditor: Client) -> None:
        response = auditor.get(reverse("messages:index"), {"status": "<script>"})
        assert response.status_code == 200
        assert b"<script>" not in response.content

    def test_a_message_page_shows_exactly_what_was_sent(self, auditor: Client) -> None:
        contact = data.planned(data.account_owing(data.customer()))
        dispatch.dispatch_due(now=NOW, actor="test")
        page = auditor.get(reverse("messages:contact", args=[contact.pk])).content.decode()
        assert "Estimado/a Ana García:" in page
        assert "ana@example.com" in page

    def test_times_are_shown_in_the_operators_zone_with_the_zone_named(
        self, auditor: Client, settings: Any
    ) -> None:
        settings.TIME_ZONE = "Europe/Madrid"
        contact = data.planned(data.account_owing(data.customer()))  # 10:00 UTC

        listing = auditor.get(reverse("messages:index")).content.decode()
        page = auditor.get(reverse("messages:contact", args=[contact.pk])).content.decode()

        for shown in (listing, page):
            assert "2026-03-18 11:00&nbsp;CET</time>" in shown
            assert 'title="Europe/Madrid"' in shown

    def test_the_policys_reasons_are_given_in_words(self, auditor: Client) -> None:
        contact = data.planned(data.account_owing(data.customer()))
        contact.policy_reasons = ["REG_F_INCONVENIENT_TIME"]
        contact.save(update_fields=["policy_reasons"])

        listing = auditor.get(reverse("messages:index")).content.decode()
        page = auditor.get(reverse("messages:contact", args=[contact.pk])).content.decode()

        assert "Outside 08:00-21:00 local time" in listing
        assert "Outside 08:00-21:00 local time" in page
        assert "12 CFR 1006.6(b)(1)(i)" in page

    def test_the_pager_links_the_older_window_and_shows_newer_as_disabled_on_the_first(
        self, auditor: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(views, "PAGE_SIZE", 1)
        account = data.account_owing(data.customer())
        older = data.planned(account, key="pager-one")
        newer = data.planned(account, key="pager-two", planned_at=NOW + HOUR)

        first = auditor.get(reverse("messages:index")).content.decode()
        last = auditor.get(reverse("messages:index"), {"before": newer.pk}).content.decode()

        assert f'href="?before={newer.pk}" rel="next"' in first
        assert 'aria-disabled="true"><span aria-hidden="true">←</span> Newer' in first
        assert f'href="?after={older.pk}" rel="prev"' in last
        assert 'aria-disabled="true">Older' in last

    def test_the_pager_keeps_the_filters(
        self, auditor: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(views, "PAGE_SIZE", 1)
        account = data.account_owing(data.customer())
        data.planned(account, key="filtered-one", channel=models.Channel.SMS)
        newest = data.planned(account, key="filtered-two", channel=models.Channel.SMS)
        data.planned(account, key="other-channel", planned_at=NOW + HOUR)

        page = auditor.get(reverse("messages:index"), {"channel": "SMS"}).content.decode()

        assert f'href="?channel=SMS&amp;before={newest.pk}" rel="next"' in page

    def test_a_long_outbox_is_counted_up_to_a_cap(
        self, auditor: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(views, "COUNT_CAP", 2)
        account = data.account_owing(data.customer())
        for n in range(3):
            data.planned(account, key=f"capped-{n}")

        page = auditor.get(reverse("messages:index")).content.decode()
        only_two = auditor.get(reverse("messages:index"), {"channel": "SMS"}).content.decode()

        assert "More than 2 messages, newest first." in page
        assert "0 messages, newest first." in only_two

    def test_a_malformed_position_shows_the_newest_window(self, auditor: Client) -> None:
        data.planned(data.account_owing(data.customer()), key="only-one")
        for value in ("abc", "-1", "1e3", "9" * 40):
            response = auditor.get(reverse("messages:index"), {"before": value})
            assert response.status_code == 200
            assert b"1 message, newest first." in response.content
            assert b"msg-status--planned" in response.content


HOUR = datetime.timedelta(hours=1)


def _walk(rows: Any, *, size: int, older: bool) -> list[list[int]]:
    """Return the ids of every window met walking from the newest to the oldest (or back)."""
    shown = keyset.window(rows, key="planned_at", size=size)
    if not older:
        while shown.older is not None:
            shown = keyset.window(rows, key="planned_at", size=size, before=shown.older)
    windows = [[row.pk for row in shown.rows]]
    while (older and shown.older is not None) or (not older and shown.newer is not None):
        if older:
            shown = keyset.window(rows, key="planned_at", size=size, before=shown.older)
        else:
            shown = keyset.window(rows, key="planned_at", size=size, after=shown.newer)
        windows.append([row.pk for row in shown.rows])
    return windows


class TestWindows:
    """The outbox and letters page by position: "the rows older than this one"."""

    @pytest.fixture
    def ids_newest_first(self) -> list[int]:
        account = data.account_owing(data.customer())
        # Many rows share one planned time (a run plans them all at once): ties by id.
        times = [NOW, NOW + HOUR, NOW, NOW - HOUR, NOW, NOW + HOUR, NOW]
        rows = [data.planned(account, key=f"walk-{n}", planned_at=t) for n, t in enumerate(times)]
        return [row.pk for row in sorted(rows, key=lambda r: (r.planned_at, r.pk), reverse=True)]

    def test_walking_older_meets_every_row_once_newest_first(
        self, ids_newest_first: list[int]
    ) -> None:
        windows = _walk(models.ContactAttempt.objects.all(), size=2, older=True)
        assert [len(w) for w in windows] == [2, 2, 2, 1]
        assert [pk for w in windows for pk in w] == ids_newest_first

    def test_walking_back_newer_ends_on_the_newest_full_window(
        self, ids_newest_first: list[int]
    ) -> None:
        windows = _walk(models.ContactAttempt.objects.all(), size=3, older=False)
        # From the oldest window [7th], back one full window, then the newest three.
        assert windows == [ids_newest_first[6:], ids_newest_first[3:6], ids_newest_first[:3]]

    def test_the_newest_and_oldest_windows_have_no_link_beyond_them(
        self, ids_newest_first: list[int]
    ) -> None:
        everything = keyset.window(models.ContactAttempt.objects.all(), key="planned_at", size=7)
        assert [row.pk for row in everything.rows] == ids_newest_first
        assert (everything.newer, everything.older) == (None, None)
        assert not everything.has_other_pages

    def test_a_row_that_left_the_filter_still_marks_the_position(
        self, ids_newest_first: list[int]
    ) -> None:
        planned = models.ContactAttempt.objects.filter(status=models.ContactStatus.PLANNED)
        first = keyset.window(planned, key="planned_at", size=2)
        models.ContactAttempt.objects.filter(pk=first.older).update(
            status=models.ContactStatus.CANCELLED
        )
        then = keyset.window(planned, key="planned_at", size=2, before=first.older)
        assert [row.pk for row in then.rows] == ids_newest_first[2:4]
        assert then.newer == ids_newest_first[2]  # the newest row still PLANNED is newer

    def test_an_unknown_position_gives_the_newest_window(self, ids_newest_first: list[int]) -> None:
        unknown = max(ids_newest_first) + 1000
        everything = models.ContactAttempt.objects.all()
        for position in ({"before": unknown}, {"after": unknown}):
            shown = keyset.window(everything, key="planned_at", size=2, **position)
            assert [row.pk for row in shown.rows] == ids_newest_first[:2]
            assert (shown.newer, shown.older) == (None, ids_newest_first[1])

    def test_past_the_oldest_row_the_window_is_empty_and_links_back(
        self, ids_newest_first: list[int]
    ) -> None:
        everything = models.ContactAttempt.objects.all()
        oldest = ids_newest_first[-1]
        shown = keyset.window(everything, key="planned_at", size=2, before=oldest)
        assert (shown.rows, shown.newer, shown.older) == ([], oldest, None)
        back = keyset.window(everything, key="planned_at", size=2, after=shown.newer)
        assert [row.pk for row in back.rows] == ids_newest_first[-3:-1]


DEMO_TOOLS = ["messages:mailbox", "messages:sms"]


class TestDemoToolsAreOnlyServedInDemoOrDebugMode:
    """The mailbox and SMS log hold customers' sign-in codes: never in production."""

    @pytest.mark.parametrize("name", DEMO_TOOLS)
    def test_outside_demo_and_debug_mode_they_are_not_found(
        self, auditor: Client, settings: Any, name: str
    ) -> None:
        _mode(settings)
        assert auditor.get(reverse(name)).status_code == 404

    def test_outside_demo_and_debug_mode_a_received_email_is_not_found(
        self, auditor: Client, settings: Any
    ) -> None:
        folder = mailbox.mailbox_folder()
        folder.mkdir(parents=True, exist_ok=True)
        name = "20260318T100000000000-c0de5c0de5c0.eml"
        (folder / name).write_bytes(
            b"From: a@example.com\r\nTo: b@example.com\r\nSubject: Your code 123456\r\n\r\nhi\r\n"
        )
        url = reverse("messages:mail", args=[name])
        try:
            _mode(settings, demo=True)
            assert auditor.get(url).status_code == 200
            _mode(settings)
            assert auditor.get(url).status_code == 404
        finally:
            (folder / name).unlink()

    def test_outside_demo_and_debug_mode_the_outbox_has_no_tabs_for_them(
        self, auditor: Client, settings: Any
    ) -> None:
        _mode(settings)
        page = auditor.get(reverse("messages:index")).content.decode()
        assert reverse("messages:letters") in page
        for name in DEMO_TOOLS:
            assert reverse(name) not in page

    @pytest.mark.parametrize("mode", [{"demo": True}, {"debug": True}])
    @pytest.mark.parametrize("name", DEMO_TOOLS)
    def test_in_demo_or_debug_mode_they_are_served_and_linked(
        self, auditor: Client, settings: Any, mode: dict[str, bool], name: str
    ) -> None:
        _mode(settings, **mode)
        assert auditor.get(reverse(name)).status_code == 200
        assert reverse(name) in auditor.get(reverse("messages:index")).content.decode()


@pytest.mark.usefixtures("demo_mode")
class TestMailbox:
    def test_a_received_email_shows_its_headers_text_and_sandboxed_html(
        self, auditor: Client, settings: Any
    ) -> None:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        folder = mailbox.mailbox_folder()
        before = set(mailbox.mail_names(folder))
        with data.running_sink(folder) as port:
            settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
            data.planned(data.account_owing(data.customer(name="Zoë <b>Bold</b>")))
            dispatch.dispatch_due(now=NOW, actor="test")
        (name,) = set(mailbox.mail_names(folder)) - before
        listing = auditor.get(reverse("messages:mailbox")).content.decode()
        assert reverse("messages:mail", args=[name]) in listing
        page = auditor.get(reverse("messages:mail", args=[name])).content.decode()
        assert "Su cuenta A-ANA-1" in page
        assert 'sandbox=""' in page
        # The customer's name is markup-looking text: escaped in the page, never markup.
        assert "<b>Bold</b>" not in page
        assert "Zoë &lt;b&gt;Bold&lt;/b&gt;" in page

    @pytest.mark.parametrize(
        "name", ["..%2F..%2Fetc%2Fpasswd", "x.eml", "20260101T000000000000.eml"]
    )
    def test_a_name_the_sink_did_not_make_is_not_found(self, auditor: Client, name: str) -> None:
        assert auditor.get(f"/messages/mailbox/{name}/").status_code == 404


class TestSmsAndLetters:
    @pytest.mark.usefixtures("demo_mode")
    def test_the_sms_log_shows_the_text_the_fake_provider_kept(self, auditor: Client) -> None:
        data.planned(
            data.account_owing(data.customer(phone="+34600111222")),
            channel=models.Channel.SMS,
            key="sms:messages-page",  # the fake provider's folder is shared by the session
        )
        dispatch.dispatch_due(now=NOW, actor="test")
        page = auditor.get(reverse("messages:sms")).content.decode()
        assert "+34600111222" in page

    def test_a_letter_is_listed_and_downloads_as_a_pdf(self, auditor: Client) -> None:
        row = _sent_letter()
        assert (
            reverse("messages:letter_pdf", args=[row.pk])
            in auditor.get(reverse("messages:letters")).content.decode()
        )
        response = auditor.get(reverse("messages:letter_pdf", args=[row.pk]))
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF")

    def test_letters_are_paged_newest_printed_first(
        self, auditor: Client, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(views, "PAGE_SIZE", 1)
        account = data.account_owing(data.customer())
        printed = []
        for n, hours in enumerate((2, 1)):  # the first planned is printed later
            row = data.planned(account, channel=models.Channel.LETTER, key=f"letter:{n}")
            models.ContactAttempt.objects.filter(pk=row.pk).update(
                status=models.ContactStatus.SENT,
                sent_at=NOW + datetime.timedelta(hours=hours),
                document=f"letters/{n}.pdf",
            )
            printed.append(row.pk)
        data.planned(account, channel=models.Channel.LETTER, key="letter:not-yet")

        first = auditor.get(reverse("messages:letters")).content.decode()
        then = auditor.get(reverse("messages:letters"), {"before": printed[0]}).content.decode()

        assert reverse("messages:letter_pdf", args=[printed[0]]) in first
        assert f'href="?before={printed[0]}" rel="next"' in first
        assert reverse("messages:letter_pdf", args=[printed[1]]) in then
        assert 'aria-disabled="true">Older' in then

    def test_a_row_that_is_not_a_printed_letter_has_no_pdf(self, auditor: Client) -> None:
        contact = data.planned(data.account_owing(data.customer()))
        assert auditor.get(reverse("messages:letter_pdf", args=[contact.pk])).status_code == 404
