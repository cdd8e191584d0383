"""``accord mailsink``: a local SMTP server that keeps every message it receives (demo)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accord.channels import mailbox


def _port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError(text)
    return port


class Command(BaseCommand):
    help = (
        "Run a local SMTP sink: every message sent to it is stored under "
        "ACCORD_DATA_DIR/mailbox/ and shown on the Messages page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=_port, default=8025)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = mailbox.mailbox_folder()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            controller = mailbox.start_sink(
                host=options["host"], port=options["port"], folder=folder
            )
        except OSError as error:
            raise CommandError(
                f"Cannot listen on {options['host']}:{options['port']}: {error.strerror or error}"
            ) from None
        self.stdout.write(
            f"Mail sink listening on {options['host']}:{options['port']}, storing in {folder} "
            "(Ctrl+C to stop)"
        )
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            controller.stop()
            self.stdout.write("Mail sink stopped.")
