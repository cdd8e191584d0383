"""``accord dispatch``: send the outbox's due messages now, or settle rows stuck in SENDING."""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accord.cli.actors import cli_actor
from accord.storage import models
from accord.usecases import dispatch


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Send the due email, SMS and letters of the outbox (each one at most once); "
        "--stuck lists rows left SENDING, --resolve settles one; --parked lists rows the "
        "dispatcher gave up on, --retry or --cancel releases one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=_positive, help="send at most this many messages")
        parser.add_argument("--json", action="store_true", help="print the result as JSON")
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--stuck",
            action="store_true",
            help="list the rows SENDING for longer than --older-than minutes (send nothing)",
        )
        action.add_argument(
            "--resolve", type=int, metavar="ID", help="settle the stuck row ID (needs --as)"
        )
        action.add_argument(
            "--parked",
            action="store_true",
            help="list the rows parked after a refusal or too many attempts (send nothing)",
        )
        action.add_argument(
            "--retry", type=int, metavar="ID", help="plan the parked row ID again, now"
        )
        action.add_argument("--cancel", type=int, metavar="ID", help="cancel the parked row ID")
        parser.add_argument(
            "--older-than",
            type=_positive,
            default=int(dispatch.STUCK_AFTER.total_seconds() // 60),
            metavar="MINUTES",
            help="with --stuck: how long a row must have been SENDING (default 15)",
        )
        parser.add_argument(
            "--as",
            dest="resolution",
            choices=[resolution.value for resolution in dispatch.Resolution],
            help="with --resolve: sent (it left), failed (give up) or retry (send again)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["resolve"] is not None:
            self._resolve(options["resolve"], options["resolution"])
        elif options["resolution"]:
            raise CommandError("--as goes with --resolve ID")
        elif options["parked"]:
            self._list_parked(as_json=options["json"])
        elif options["retry"] is not None:
            self._release(options["retry"], dispatch.Release.RETRY)
        elif options["cancel"] is not None:
            self._release(options["cancel"], dispatch.Release.CANCEL)
        elif options["stuck"]:
            self._list_stuck(options["older_than"], as_json=options["json"])
        else:
            self._dispatch(options["limit"], as_json=options["json"])

    def _dispatch(self, limit: int | None, *, as_json: bool) -> None:
        report = dispatch.dispatch_due(clock=timezone.now, limit=limit, actor=cli_actor())
        if as_json:
            self.stdout.write(json.dumps(report.as_dict()))
            return
        self.stdout.write(
            f"Dispatched {report.picked} due message(s): {report.sent} sent, "
            f"{report.failed} failed, {report.blocked} blocked, {report.deferred} deferred "
            f"by the contact policy, {report.cancelled} cancelled (nothing due any more), "
            f"{report.skipped} taken by another dispatcher, {report.retrying} to be retried "
            f"(provider away), {report.parked} parked for review."
        )

    def _list_parked(self, *, as_json: bool) -> None:
        rows = list(dispatch.parked_rows().select_related("customer"))
        if as_json:
            self.stdout.write(json.dumps([_parked_row(row) for row in rows]))
            return
        if not rows:
            self.stdout.write("No message is parked.")
            return
        self.stdout.write(f"{len(rows)} parked message(s):")
        for row in rows:
            self.stdout.write(
                f"  {row.pk}  {row.channel:<6}  {row.template:<20}  "
                f"{row.customer.external_ref:<12}  {row.attempts} attempt(s)  "
                f"since {row.updated_at.isoformat()}  key {row.idempotency_key}\n"
                f"      {row.failure_reason}"
            )
        self.stdout.write(
            "Fix the cause (the number, the address, the provider), then run "
            "`accord dispatch --retry ID` or `accord dispatch --cancel ID`."
        )

    def _release(self, contact_id: int, release: dispatch.Release) -> None:
        try:
            row = dispatch.release_parked(
                contact_id=contact_id, release=release, actor=cli_actor(), now=timezone.now()
            )
        except dispatch.NotParked as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Contact attempt {row.pk} ({row.channel}) is now {row.status}.")

    def _list_stuck(self, minutes: int, *, as_json: bool) -> None:
        rows = list(
            dispatch.stuck_rows(
                now=timezone.now(), older_than=datetime.timedelta(minutes=minutes)
            ).select_related("customer")
        )
        if as_json:
            self.stdout.write(json.dumps([_stuck_row(row) for row in rows]))
            return
        if not rows:
            self.stdout.write(f"No message has been SENDING for more than {minutes} minute(s).")
            return
        self.stdout.write(f"{len(rows)} message(s) SENDING for more than {minutes} minute(s):")
        for row in rows:
            self.stdout.write(
                f"  {row.pk}  {row.channel:<6}  {row.template:<20}  "
                f"{row.customer.external_ref:<12}  since {row.updated_at.isoformat()}  "
                f"key {row.idempotency_key}"
            )
        self.stdout.write(
            "Check the mail sink or SMS provider log for the key, then run "
            "`accord dispatch --resolve ID --as sent|failed|retry`."
        )

    def _resolve(self, contact_id: int, resolution: str | None) -> None:
        if resolution is None:
            raise CommandError("--resolve ID needs --as sent, --as failed or --as retry")
        try:
            row = dispatch.resolve_stuck(
                contact_id=contact_id,
                resolution=dispatch.Resolution(resolution),
                actor=cli_actor(),
                now=timezone.now(),
            )
        except dispatch.NotStuck as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Contact attempt {row.pk} ({row.channel}) is now {row.status}.")
        if resolution == dispatch.Resolution.RETRY:
            if row.channel == models.Channel.EMAIL:
                self.stdout.write(
                    "Warning: if the first attempt did leave, the customer may get this email "
                    "twice (their mail program may drop the copy by its Message-ID)."
                )
            else:
                self.stdout.write(
                    "The next dispatch sends it again under the same idempotency key, "
                    "which the SMS provider and the letter printer de-duplicate by."
                )


def _stuck_row(row: models.ContactAttempt) -> dict[str, Any]:
    return {
        "id": row.pk,
        "channel": row.channel,
        "template": row.template,
        "customer": row.customer.external_ref,
        "sending_since": row.updated_at.isoformat(),
        "idempotency_key": row.idempotency_key,
    }


def _parked_row(row: models.ContactAttempt) -> dict[str, Any]:
    return {
        "id": row.pk,
        "channel": row.channel,
        "template": row.template,
        "customer": row.customer.external_ref,
        "attempts": row.attempts,
        "reason": row.failure_reason,
        "parked_since": row.updated_at.isoformat(),
        "idempotency_key": row.idempotency_key,
    }
