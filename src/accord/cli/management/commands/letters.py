"""``accord letters validation-notice ACCOUNT_REF``: preview or plan a validation notice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accord.cli.actors import cli_actor
from accord.domain import validation_notice
from accord.usecases import validation_notices


class Command(BaseCommand):
    help = (
        "Print an account's Regulation F validation notice to a PDF (--out), as if mailed "
        "today, or plan it in the outbox (--queue) to be sent as a letter."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("letter", choices=["validation-notice"], help="which letter")
        parser.add_argument("account", metavar="ACCOUNT_REF", help="the account's reference")
        parser.add_argument("--out", type=Path, metavar="FILE", help="write the PDF here")
        parser.add_argument("--language", help="language of the preview (default: the customer's)")
        parser.add_argument(
            "--queue",
            action="store_true",
            help="plan the notice in the outbox (once per account); the dispatcher sends it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["out"] and not options["queue"]:
            raise CommandError("say what to do: --out FILE.pdf to preview, --queue to send")
        now = timezone.now()
        try:
            if options["out"]:
                pdf = validation_notices.preview_pdf(
                    account_ref=options["account"], now=now, language=options["language"]
                )
                options["out"].write_bytes(pdf)
                self.stdout.write(f"Wrote the validation notice to {options['out']}.")
            if options["queue"]:
                contact, created = validation_notices.queue_validation_notice(
                    account_ref=options["account"], now=now, actor=cli_actor()
                )
                state = "Planned" if created else "Already planned"
                self.stdout.write(
                    f"{state}: validation notice, outbox row {contact.pk} ({contact.status})."
                )
        except validation_notices.AccountNotFound as error:
            raise CommandError(str(error)) from None
        except validation_notice.InvalidNotice as error:
            raise CommandError(f"No validation notice: {error.reason}.") from None
        except OSError as error:
            raise CommandError(f"Could not write {options['out']}: {error}") from None
