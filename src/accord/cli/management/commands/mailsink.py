"""``accord mailsink``: a local SMTP server that keeps every message it receives (demo)."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accord.channels import mailbox


class Command(BaseCommand):
    help = (
        "Run a local SMTP sink: every message sent to it is stored under "
        "ACCORD_DATA_DIR/mailbox/ and shown on the Messages page."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        folder = mailbox.mailbox_folder()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        controller = mailbox.start_sink(host=options["host"], port=options["port"], folder=folder)
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
