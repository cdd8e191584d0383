"""Give a consumer the Regulation F validation notice for an account (12 CFR 1006.34).

The notice's facts come from the database when it is printed: the customer's name and
postal address, the account's charges and payments (itemized from the last statement
date, see :func:`itemization_for`), and the collector and creditor from the settings
(``ACCORD_COLLECTOR_*``, ``ACCORD_CREDITOR_NAME``; docs/configuration.md).

:func:`queue_validation_notice` plans the letter in the outbox (channel ``LETTER``,
purpose ``VALIDATION_NOTICE``, one per account); the dispatcher re-checks the contact
policy, calls :func:`render_for_contact` with the day it sends, and the letter sender
prints the PDF under ``MEDIA_ROOT/letters/``, as for every letter. The validation period
therefore runs from the day the notice really leaves. :func:`preview_pdf` prints the
notice without planning or recording anything (``accord letters validation-notice``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accord.audit import events, log
from accord.channels import templates, validation_letter
from accord.domain import money
from accord.domain import validation_notice as vn
from accord.storage import models
from accord.usecases import outbox

TEMPLATE = validation_letter.TEMPLATE
"""The outbox rows' ``template`` for a validation notice."""

_ENTRY_KIND = {
    models.ChargeKind.INSTALMENT: vn.EntryKind.PRINCIPAL,
    models.ChargeKind.INVOICE: vn.EntryKind.PRINCIPAL,
    models.ChargeKind.INTEREST: vn.EntryKind.INTEREST,
    models.ChargeKind.FEE: vn.EntryKind.FEE,
}


class AccountNotFound(LookupError):
    """No account has that reference."""


def idempotency_key(account_id: int) -> str:
    """Return the outbox key of an account's validation notice (one notice per account)."""
    return f"validation-notice:{account_id}"


def collector() -> vn.Collector:
    """Return the debt collector as the settings describe it."""
    env = settings.ENV
    return vn.Collector(
        name=env.collector_name,
        address=tuple(env.collector_address),
        phone=env.collector_phone,
        hours=env.collector_hours,
        email=env.collector_email,
    )


def postal_address(customer: models.Customer) -> tuple[str, ...]:
    """Return the customer's postal address, one line per element (empty when unknown)."""
    if not customer.address_line1.strip():
        return ()
    if customer.country == "US":  # "Chicago, IL 60601", as USPS addresses it
        city = ", ".join(part for part in (customer.city, customer.region) if part.strip())
        lines = [customer.address_line1, customer.address_line2, f"{city} {customer.postcode}"]
    else:
        town = " ".join(part for part in (customer.postcode, customer.city) if part.strip())
        lines = [customer.address_line1, customer.address_line2, town, customer.region]
        lines.append(customer.country)
    return tuple(line.strip() for line in lines if line and line.strip())


def _ledger(account: models.Account) -> list[vn.LedgerEntry]:
    currency = account.currency
    entries = [
        vn.LedgerEntry(
            kind=_ENTRY_KIND[models.ChargeKind(kind)],
            # A charge is billed when issued; one without an issue date when it fell due.
            on=issued or due,
            amount=money.Money.from_minor_units(minor, currency),
        )
        for kind, issued, due, minor in account.charges.values_list(
            "kind", "issued_date", "due_date", "amount_minor"
        )
    ]
    entries += [
        vn.LedgerEntry(
            kind=vn.EntryKind.PAYMENT,
            on=received,
            amount=money.Money.from_minor_units(minor, currency),
        )
        for received, minor in account.payments.values_list("received_date", "amount_minor")
    ]
    return entries


def itemization_for(
    entries: Iterable[vn.LedgerEntry], *, as_of: datetime.date, currency: str
) -> vn.Itemization:
    """Return the itemization of a ledger on ``as_of``, from its last statement date.

    Accord has no statements, so the last statement date (1006.34(b)(3)(i)) is the latest
    day an instalment or invoice was billed on or before ``as_of``: everything billed
    after it is interest or a fee, which the itemization shows. Raises ``vn.InvalidNotice``
    when nothing was billed yet.
    """
    kept = list(entries)
    billed = [e.on for e in kept if e.kind is vn.EntryKind.PRINCIPAL and e.on <= as_of]
    if not billed:
        raise vn.InvalidNotice(f"nothing was billed on the account by {as_of.isoformat()}")
    return vn.itemize(
        entries=kept,
        itemization_date=max(billed),
        kind=vn.ItemizationDateKind.LAST_STATEMENT,
        as_of=as_of,
        currency=currency,
    )


def notice_for(
    account: models.Account,
    *,
    sent_on: datetime.date,
    validation_period_end: datetime.date | None = None,
) -> vn.ValidationNotice:
    """Return the validation notice of ``account`` as if mailed on ``sent_on``.

    Raises ``vn.InvalidNotice`` (``MissingFact``, ``NothingOwed``...) when the facts do
    not make a lawful notice, e.g. the customer has no postal address or
    ``ACCORD_CREDITOR_NAME`` is not set.
    """
    customer = account.customer
    if not settings.ENV.creditor_name:
        raise vn.MissingFact("the creditor's name is not configured (set ACCORD_CREDITOR_NAME)")
    return vn.build(
        collector=collector(),
        consumer=vn.Party(name=customer.name, address=postal_address(customer)),
        creditor_on_itemization_date=settings.ENV.creditor_name,
        account_number=account.external_ref,
        reference=customer.external_ref,
        itemization=itemization_for(_ledger(account), as_of=sent_on, currency=account.currency),
        sent_on=sent_on,
        validation_period_end=validation_period_end,
    )


def render_for_contact(
    contact: models.ContactAttempt, *, language: str, sent_on: datetime.date
) -> templates.RenderedMessage:
    """Return the letter of the outbox row ``contact``, mailed today (``sent_on``).

    Called by the dispatcher; raises ``vn.InvalidNotice`` when no notice can be built.
    """
    if contact.account is None:
        raise vn.MissingFact("a validation notice is about an account")
    return validation_letter.render(notice_for(contact.account, sent_on=sent_on), language)


def _account(account_ref: str) -> models.Account:
    account = (
        models.Account.objects.select_related("customer").filter(external_ref=account_ref).first()
    )
    if account is None:
        raise AccountNotFound(f"There is no account {account_ref!r}.")
    return account


def preview_pdf(*, account_ref: str, now: datetime.datetime, language: str | None = None) -> bytes:
    """Return the validation notice of ``account_ref`` as a PDF, as if mailed today.

    Records nothing and sends nothing. ``language`` defaults to the customer's. Raises
    ``AccountNotFound`` and ``vn.InvalidNotice``.
    """
    account = _account(account_ref)
    notice = notice_for(account, sent_on=timezone.localdate(now))
    return validation_letter.render_pdf(notice, language or account.customer.language)


def queue_validation_notice(
    *,
    account_ref: str,
    now: datetime.datetime,
    actor: str,
    origin: models.ContactOrigin = models.ContactOrigin.AGENT,
) -> tuple[models.ContactAttempt, bool]:
    """Plan the account's validation notice in the outbox for ``now``; return it and if new.

    One notice per account: a second call returns the row already planned (or sent) and
    ``False``. The notice is built once now, so that facts that cannot make one (no postal
    address, nothing owed, no creditor configured) are refused here rather than at
    dispatch; the dispatcher builds it again with the figures of the day it is sent.
    Writes ``VALIDATION_NOTICE_QUEUED`` in the same transaction. Raises
    ``AccountNotFound`` and ``vn.InvalidNotice``.
    """
    with transaction.atomic():
        account = _account(account_ref)
        models.Account.objects.select_for_update().filter(pk=account.pk).first()
        key = idempotency_key(account.pk)
        existing = models.ContactAttempt.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing, False
        notice = notice_for(account, sent_on=timezone.localdate(now))
        contact = models.ContactAttempt.objects.create(
            customer=account.customer,
            account=account,
            channel=models.Channel.LETTER,
            template=TEMPLATE,
            language=account.customer.language,
            purpose=models.ContactPurpose.VALIDATION_NOTICE,
            origin=origin,
            direction=models.ContactDirection.OUTBOUND,
            planned_at=now,
            status=models.ContactStatus.PLANNED,
            idempotency_key=key,
            created_at=now,
            updated_at=now,
        )
        log.record(
            actor=actor,
            event_type=events.EventType.VALIDATION_NOTICE_QUEUED,
            subject_type="contact_attempt",
            subject_id=contact.pk,
            parameters={
                "account": account.external_ref,
                "current_amount": str(notice.itemization.current_amount),
                "itemization_date": notice.itemization.itemization_date.isoformat(),
                "validation_period_end_if_sent_today": notice.validation_period_end.isoformat(),
            },
            now=now,
        )
        outbox.announce_queued()
    return contact, True
