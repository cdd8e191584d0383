"""``accord serve``: serve the web app on 127.0.0.1 (port from ACCORD_PORT or --port)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve Accord's web app (development server, for the demo and local use)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=settings.ENV.port)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: Any, **options: Any) -> None:
        address = f"{options['host']}:{options['port']}"
        self.stdout.write(f"Accord is at http://{address}/ (Ctrl+C to stop)")
        call_command("runserver", address, use_reloader=False)
