"""The demo mailbox and SMS log page through a journal: one seek per page, not a folder scan."""

from __future__ import annotations

import asyncio
import re
import types
from pathlib import Path

from django.core.paginator import Paginator

from accord.channels import journal, mailbox
from accord.channels.sms import fake

THREE = re.compile(r"n\d\d")


def _journal_of(tmp_path: Path, names: list[str]) -> Path:
    path = tmp_path / journal.NAME
    for name in names:
        journal.append(path, name, existing=list)
    return path


class TestJournal:
    def test_it_lists_names_newest_first_a_page_at_a_time(self, tmp_path: Path) -> None:
        path = _journal_of(tmp_path, [f"n{n:02d}" for n in range(7)])
        names = journal.Journal(path, width=3, valid=THREE)
        pages = Paginator(names, 3)

        assert len(names) == 7
        assert list(pages.page(1)) == ["n06", "n05", "n04"]
        assert list(pages.page(3)) == ["n00"]
        assert (names[0], names[-1]) == ("n06", "n00")

    def test_names_added_after_it_was_opened_do_not_shift_its_pages(self, tmp_path: Path) -> None:
        path = _journal_of(tmp_path, ["n00", "n01"])
        names = journal.Journal(path, width=3, valid=THREE)
        journal.append(path, "n02", existing=list)
        assert names[:5] == ["n01", "n00"]

    def test_a_new_journal_starts_with_what_the_folder_already_held(self, tmp_path: Path) -> None:
        path = tmp_path / journal.NAME
        journal.append(path, "n09", existing=lambda: ["n01", "n02", "n09"])
        journal.append(path, "n10", existing=lambda: ["never", "asked"])
        assert path.read_text() == "n01\nn02\nn09\nn10\n"

    def test_a_torn_record_is_left_out(self, tmp_path: Path) -> None:
        path = tmp_path / journal.NAME
        path.write_text("n00\nn\x001\nn02\n")
        assert journal.Journal(path, width=3, valid=THREE)[:3] == ["n02", "n00"]

    def test_a_folder_without_a_journal_has_none(self, tmp_path: Path) -> None:
        assert journal.names(tmp_path / journal.NAME, width=3, valid=THREE) is None


class TestFakeSmsLog:
    def test_it_lists_the_refs_newest_first_and_a_repeated_key_once(self, tmp_path: Path) -> None:
        provider = fake.FakeSmsProvider(folder=tmp_path)
        first = provider.send_sms(to="+1", text="one", idempotency_key="key:1")
        second = provider.send_sms(to="+1", text="two", idempotency_key="key:2")
        provider.send_sms(to="+1", text="one", idempotency_key="key:1")

        refs = fake.sent_refs(tmp_path)

        assert list(refs) == [second, first]
        assert fake.stored_message(tmp_path, refs[0]) is not None

    def test_texts_kept_before_the_journal_existed_stay_listed(self, tmp_path: Path) -> None:
        provider = fake.FakeSmsProvider(folder=tmp_path)
        old = provider.send_sms(to="+1", text="old", idempotency_key="key:old")
        (tmp_path / journal.NAME).unlink()  # a folder from before journals

        assert list(fake.sent_refs(tmp_path)) == [old]  # read from the files
        new = provider.send_sms(to="+1", text="new", idempotency_key="key:new")
        assert list(fake.sent_refs(tmp_path)) == [new, old]


def _deliver(folder: Path, subject: str) -> None:
    raw = f"From: a@example.com\r\nTo: b@example.com\r\nSubject: {subject}\r\n\r\nhi\r\n"
    envelope = types.SimpleNamespace(
        original_content=raw.encode(), content=raw.encode(), rcpt_tos=["b@example.com"]
    )
    asyncio.run(mailbox.MailboxHandler(folder).handle_DATA(None, None, envelope))


class TestMailbox:
    def test_the_sink_journals_each_mail_and_the_list_reads_only_its_headers(
        self, tmp_path: Path
    ) -> None:
        _deliver(tmp_path, "=?utf-8?q?Su_cuenta_est=C3=A1_vencida?=")
        _deliver(tmp_path, "Second")

        names = mailbox.received(tmp_path)
        newest = mailbox.read_summary(tmp_path, names[0])
        oldest = mailbox.read_summary(tmp_path, names[1])

        assert len(names) == 2
        assert newest is not None
        assert oldest is not None
        assert newest.subject == "Second"
        assert oldest.subject == "Su cuenta está vencida"
        assert oldest.to == "b@example.com"
        assert newest.received_at >= oldest.received_at

    def test_a_folder_filled_by_hand_is_listed_from_its_files(self, tmp_path: Path) -> None:
        name = "20260318T100000000000-c0de5c0de5c0.eml"
        (tmp_path / name).write_bytes(b"Subject: by hand\r\n\r\nhi\r\n")
        assert list(mailbox.received(tmp_path)) == [name]
